#!/usr/bin/env python3
"""Behaviour of the leaktrace command and the preloaded library that no
valgrind comparison covers. One subcommand per meson test:

  report-errors   'leaktrace report' on garbage and on truncated snapshots
                  fails cleanly, naming the file; on the full one it works
  exit-status     exit status, stdout and stderr of the program unchanged
  closed-stderr   the report reaches the user after the program closes fd 2
                  (and not the file that then took descriptor 2)
  bad-option      unknown or invalid options: exit 2, one line naming the
                  option, the program never runs
  overhead        the benchmark program: exact heap counts, and the timing

    check_cli.py SUBCOMMAND --leaktrace build/leaktrace \\
        --preload build/libleaktrace.so --outdir DIR -- PROGRAM [ARGS]

The exit-status, closed-stderr and bad-option tests expect examples/
exit-code (writes "exit-code: main started" first, leaks 20 bytes in
remember(), exits 3). Exit status 0 pass, 1 fail.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ltcompare as lc  # noqa: E402
from compare_valgrind import clean_env  # noqa: E402
from ltcheck import Checker as _Checker  # noqa: E402


def Checker():
    """The command line's checks also show what a passing check saw."""
    return _Checker(show_passing=True)

MAIN_STARTED = b'exit-code: main started'
TIMEOUT = 60


def run(argv, env=None, stdin=subprocess.DEVNULL):
    """Returns (exit status, stdout bytes, stderr bytes); a timeout is
    exit status None."""
    try:
        p = subprocess.run(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env or clean_env(), timeout=TIMEOUT)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or b'', e.stderr or b''


def status_text(rc):
    if rc is None:
        return 'timed out after %ds' % TIMEOUT
    if rc < 0:
        return 'killed by signal %d' % -rc
    return 'exit %d' % rc


def show(b, limit=1200):
    s = b.decode('utf-8', 'replace')
    return s if len(s) <= limit else s[:limit] + '... (%d bytes)' % len(s)


def preload_env(preload, options=None):
    env = clean_env()
    env['LD_PRELOAD'] = os.path.abspath(preload)
    if options is not None:
        env['LEAKTRACE_OPTIONS'] = options
    return env


def report_of(text, label):
    """Parses a text report; returns (TextReport or None, error)."""
    try:
        return lc.parse_text(label, text=text.decode('utf-8', 'replace')), None
    except lc.ReportError as e:
        return None, str(e)


def has_remember_leak(rep):
    """The 20-byte block exit-code leaks in remember()."""
    for r in rep.records:
        if r.direct_bytes == 20 and r.blocks == 1 and any(
                f.fn == 'remember' for f in r.frames):
            return True
    return False


def check_report(ck, label, text):
    rep, err = report_of(text, label)
    if not ck.expect('%s: a report with a HEAP SUMMARY' % label, rep is not None and
                     rep.heap is not None, err or '', show(text)):
        return
    ck.expect('%s: the 20-byte leak at remember() is reported' % label, has_remember_leak(rep),
              '\n'.join(r.text for r in rep.records) or 'no loss records')


# ------------------------------------------------------------ report --

def cmd_report_errors(a, ck):
    d = a.outdir

    def bad(label, path):
        rc, out, err = run([a.leaktrace, 'report', path])
        ck.expect('report %s: fails with an error naming the file' % label,
                  rc is not None and 0 < rc < 128 and path.encode() in err,
                  '%s; stderr: %s' % (status_text(rc), show(err, 400) or '(empty)'))

    rnd = random.Random(20240611)
    garbage = os.path.join(d, 'garbage.raw')
    with open(garbage, 'wb') as f:
        f.write(bytes(rnd.getrandbits(8) for _ in range(4096)))
    bad('on 4 KiB of random bytes', garbage)
    empty = os.path.join(d, 'empty.raw')
    open(empty, 'wb').close()
    bad('on an empty file', empty)
    text = os.path.join(d, 'text.raw')
    with open(text, 'w') as f:
        f.write('==1== HEAP SUMMARY:\n==1==     in use at exit: 0 bytes in 0 blocks\n')
    bad('on a text report', text)
    bad('on a missing file', os.path.join(d, 'does-not-exist.raw'))

    raw = os.path.join(d, 'snapshot.raw')
    rc, out, err = run([a.leaktrace, '--raw-file=' + raw] + a.prog)
    ok = ck.expect('--raw-file keeps the snapshot', rc == a.expect_exit and os.path.isfile(raw)
                   and os.path.getsize(raw) >= 32,
                   '%s (want exit %d); %s' % (status_text(rc), a.expect_exit,
                                              '%d bytes' % os.path.getsize(raw)
                                              if os.path.exists(raw) else 'no file'))
    if not ok:
        return
    rc, out, err = run([a.leaktrace, 'report', raw])
    rep, perr = report_of(out + err, 'leaktrace report ' + raw)
    ck.expect('report on the full snapshot works', rc == 0 and rep is not None and
              rep.heap is not None, status_text(rc), perr or '', show(err, 600))
    data = open(raw, 'rb').read()
    n = len(data)
    cuts = sorted({c for c in (1, 7, 8, 16, 31, 32, 33, 40, 48, 64, n // 4, n // 2,
                               n - 16, n - 8, n - 1) if 0 < c < n})
    for c in cuts:
        path = os.path.join(d, 'truncated-%d-of-%d.raw' % (c, n))
        with open(path, 'wb') as f:
            f.write(data[:c])
        bad('on the snapshot cut to %d of %d bytes' % (c, n), path)
    # Hostile values: 0xffffffff written over each 32-bit word in turn. A
    # field that is only data (an address) may still render; a length or
    # count must be caught. Either way: no crash, no hang, and an error
    # names the file.
    # Every word of the first 256 bytes (file, section and process headers),
    # then every fifth word, which alternates between the halves of 64-bit
    # fields: about 110 runs for a small snapshot.
    offsets = [o for o in range(0, n - 3, 4) if o < 256 or o % 20 == 0]
    crashes = []
    rejected = 0
    for off in offsets:
        path = os.path.join(d, 'hostile-%d.raw' % off)
        with open(path, 'wb') as f:
            f.write(data[:off] + b'\xff\xff\xff\xff' + data[off + 4:])
        rc, out, err = run([a.leaktrace, 'report', path])
        if rc is None or rc < 0 or rc >= 128 or (rc != 0 and path.encode() not in err):
            crashes.append('offset %d: %s; stderr: %s' % (off, status_text(rc), show(err, 200)))
        else:
            rejected += rc != 0
            os.unlink(path)
    ck.expect('report on %d snapshots with one word set to 0xffffffff: no crash, errors'
              ' name the file' % len(offsets), not crashes,
              '%d rejected with an error, the rest rendered' % rejected, *crashes[:20])
    # Right size, wrong contents: every length field is checked, so a
    # snapshot whose bytes past the header are zeroed must fail too.
    zero = os.path.join(d, 'zeroed-body.raw')
    with open(zero, 'wb') as f:
        f.write(data[:32] + bytes(n - 32))
    bad('on a snapshot with its sections zeroed', zero)


# ------------------------------------------------------ exit status --

def cmd_exit_status(a, ck):
    rc0, out0, err0 = run(a.prog)
    ck.expect('untraced: the program runs as expected', rc0 == a.expect_exit and
              MAIN_STARTED in out0, status_text(rc0), show(out0, 300))
    forms = [('leaktrace command', [a.leaktrace] + a.prog, None)]
    if a.preload:
        forms.append(('LD_PRELOAD', a.prog, preload_env(a.preload)))
    for label, argv, env in forms:
        rc, out, err = run(argv, env)
        ck.expect('%s: exit status unchanged (%d)' % (label, a.expect_exit), rc == rc0,
                  'untraced %s, traced %s' % (status_text(rc0), status_text(rc)))
        ck.expect('%s: stdout unchanged' % label, out == out0,
                  'untraced:', show(out0, 400), 'traced:', show(out, 400))
        report_lines = [l for l in err.splitlines() if l.startswith(b'==')]
        rest = b'\n'.join(l for l in err.splitlines() if not l.startswith(b'=='))
        ck.expect('%s: stderr is the program\'s own plus report lines' % label,
                  rest.strip() == err0.strip(),
                  'untraced stderr: %r' % err0[:300], 'traced, report lines removed: %r'
                  % rest[:300])
        ck.expect('%s: the report is on stderr' % label, bool(report_lines))
        check_report(ck, label, err)


# ---------------------------------------------------- closed stderr --

def cmd_closed_stderr(a, ck):
    d = a.outdir
    prog = a.prog + ['--close-stderr']
    rc, out, err = run([a.leaktrace] + prog)
    ck.expect('command, program closes fd 2: exit status kept', rc == a.expect_exit,
              status_text(rc))
    check_report(ck, 'command, program closes fd 2: report still on stderr', err)

    forms = [('command', lambda extra: ([a.leaktrace] + prog + extra, None))]
    if a.preload:
        forms.append(('LD_PRELOAD', lambda extra: (prog + extra, preload_env(a.preload))))
    for label, make in forms:
        fd2 = os.path.join(d, 'fd2-%s.txt' % label.replace(' ', '-'))
        argv, env = make([fd2])
        rc, out, err = run(argv, env)
        content = open(fd2, 'rb').read() if os.path.exists(fd2) else b'(missing)'
        ck.expect('%s: the file that took fd 2 holds the program\'s line only' % label,
                  content == b'exit-code: program data\n', show(content, 600))
        check_report(ck, '%s, fd 2 reused by the program: report on the original stderr'
                     % label, err)

    log = os.path.join(d, 'log-file.txt')
    rc, out, err = run([a.leaktrace, '--log-file=' + log] + prog)
    ck.expect('--log-file: nothing of the report on stderr',
              not any(l.startswith(b'==') for l in err.splitlines()), show(err, 400))
    check_report(ck, '--log-file with fd 2 closed: report in the file',
                 open(log, 'rb').read() if os.path.exists(log) else b'')


# ------------------------------------------------------- bad options --

def one_line_naming(err, names):
    lines = [l for l in err.decode('utf-8', 'replace').splitlines() if l.strip()]
    return len(lines) == 1 and any(n in lines[0] for n in names), lines


def cmd_bad_option(a, ck):
    cases = [
        ('--bogus=1', ['bogus']),
        ('--num-callers=0', ['num-callers', 'num_callers']),
        ('--num-callers=lots', ['num-callers', 'num_callers']),
    ]
    for opt, names in cases:
        rc, out, err = run([a.leaktrace, opt] + a.prog)
        ok, lines = one_line_naming(err, names)
        ck.expect('leaktrace %s: exit 2, one line naming the option, program not run' % opt,
                  rc == 2 and ok and MAIN_STARTED not in out,
                  status_text(rc), 'stderr: %r' % lines,
                  'program ran' if MAIN_STARTED in out else 'program did not run')
    if not a.preload:
        return
    for value, names in [('bogus=1', ['bogus']), ('num_callers=lots', ['num_callers',
                                                                        'num-callers']),
                         ('xml_file=/x:bogus=1', ['bogus'])]:
        rc, out, err = run(a.prog, preload_env(a.preload, value))
        ok, lines = one_line_naming(err, names)
        ck.expect('LEAKTRACE_OPTIONS=%s: exit 2, one line naming the option, main not run'
                  % value, rc == 2 and ok and MAIN_STARTED not in out,
                  status_text(rc), 'stderr: %r' % lines,
                  'main ran' if MAIN_STARTED in out else 'main did not run')


# ---------------------------------------------------------- overhead --

def cmd_overhead(a, ck):
    n = int(a.prog[1]) if len(a.prog) > 1 else 1000000
    leaks = n // 100000
    sizes = sum(1 + (i * 7919) % 1024 for i in range(n) if i % 100000 != 99999)

    def timed(argv, env=None):
        best = None
        for _ in range(3):
            t0 = time.monotonic()
            rc, out, err = run(argv, env)
            dt = time.monotonic() - t0
            best = dt if best is None else min(best, dt)
        return best, rc, out, err

    t_native, rc0, _, _ = timed(a.prog)
    ck.expect('untraced run', rc0 == 0, status_text(rc0))
    t_traced, rc, out, err = timed([a.leaktrace] + a.prog)
    ck.expect('traced run', rc == 0, status_text(rc))
    rep, perr = report_of(err, 'leaktrace stderr')
    if not ck.expect('report with HEAP SUMMARY', rep is not None and rep.heap is not None,
                     perr or '', show(err, 600)):
        return
    h = rep.heap
    ck.expect('allocs == %d' % n, h.allocs == n, 'got %d' % h.allocs)
    ck.expect('frees == %d' % (n - leaks), h.frees == n - leaks, 'got %d' % h.frees)
    ck.expect('bytes allocated == %d' % (sizes + 333 * leaks),
              h.bytes_allocated == sizes + 333 * leaks, 'got %d' % h.bytes_allocated)
    ck.expect('in use at exit: %d bytes in %d blocks' % (333 * leaks, leaks),
              (h.inuse_bytes, h.inuse_blocks) == (333 * leaks, leaks),
              'got %d bytes in %d blocks' % (h.inuse_bytes, h.inuse_blocks))
    recs = [r for r in rep.records if any(f.fn == 'leak_one' for f in r.frames)]
    ck.expect('one loss record at leak_one: %d blocks of 333 bytes' % leaks,
              len(recs) == 1 and recs[0].blocks == leaks and
              recs[0].direct_bytes == 333 * leaks,
              '\n'.join(r.text for r in rep.records))
    pairs = n - leaks
    print('overhead: %d calls: untraced %.3fs, traced %.3fs: x%.1f, %.0f ns per malloc/free'
          ' pair added (best of 3, includes start-up and report)'
          % (n, t_native, t_traced, t_traced / max(t_native, 1e-6),
             (t_traced - t_native) * 1e9 / max(pairs, 1)))


COMMANDS = {
    'report-errors': cmd_report_errors,
    'exit-status': cmd_exit_status,
    'closed-stderr': cmd_closed_stderr,
    'bad-option': cmd_bad_option,
    'overhead': cmd_overhead,
}


SKIP = 77


def command_main(commands, doc):
    """The command line shared by the check scripts:
    SCRIPT COMMAND --leaktrace L [--preload P] --outdir D [--expect-exit N] -- PROGRAM [ARGS].
    A command returns SKIP (77, meson's "skipped") when it cannot run here."""
    ap = argparse.ArgumentParser(description=doc.split('\n')[0],
                                 usage='%(prog)s COMMAND [options] -- PROGRAM [ARGS...]')
    ap.add_argument('command', choices=sorted(commands))
    ap.add_argument('--leaktrace', required=True)
    ap.add_argument('--preload')
    ap.add_argument('--outdir', required=True)
    ap.add_argument('--expect-exit', type=int, default=0)
    argv = sys.argv[1:]
    cut = argv.index('--') if '--' in argv else len(argv)
    a = ap.parse_args(argv[:cut])
    a.prog = argv[cut + 1:]
    if not a.prog:
        ap.error('no program given (put it after --)')
    a.prog[0] = os.path.abspath(a.prog[0])
    a.leaktrace = os.path.abspath(a.leaktrace)
    a.outdir = os.path.abspath(a.outdir)
    shutil.rmtree(a.outdir, ignore_errors=True)
    os.makedirs(a.outdir)
    print('== %s (%s)' % (a.command, ' '.join(a.prog)))
    missing = [p for p in [a.leaktrace, a.preload] if p and not os.path.exists(p)]
    if missing:
        print('FAIL: not built: %s' % ', '.join(missing))
        return 1
    ck = Checker()
    if commands[a.command](a, ck) == SKIP:
        return SKIP
    print('%s: %s' % (a.command, 'FAILED (%d)' % ck.failed if ck.failed else 'ok'))
    return 1 if ck.failed else 0


def main():
    return command_main(COMMANDS, __doc__)


if __name__ == '__main__':
    sys.exit(main())
