#!/usr/bin/env python3
"""The symbolizer degrades, never dies: binaries without symbols, with
corrupt DWARF, deleted from disk, with a separate debug file missing or
corrupt. Each case traces a program that leaks one 20-byte block from
remember() <- main, and checks the exact figures, the frames (names and
lines where still valid, "??? (in MODULE)" where not, and the module and
offset in the JSON report), the exit status of the reporter rendering the
raw snapshot, and every line it writes besides the report.

  stripped    strip --strip-debug (ELF names) and --strip-all (none)
  corrupt     .debug_info, .debug_abbrev, .debug_line and all debug
              sections overwritten with three byte patterns; .eh_frame
              zeroed; 24 seeded sets of random byte changes
  deleted     a program that unlinks its own executable: resolved through
              /proc while it lives, "??? (in ...)" when rendered later
  debugfile   stripped, with its DWARF in a separate file found by
              .gnu_debuglink and by build-id (/usr/lib/debug/.build-id, in
              a private mount namespace): present, missing, corrupt

    check_degrade.py CASE --leaktrace build/leaktrace --outdir DIR
        [--reporter OTHER/leaktrace] -- EXIT_CODE SELFDELETE

EXIT_CODE is examples/exit-code-O2-nofp (exits 3), SELFDELETE
tests/integration/selfdelete.c (exits 0). --reporter renders the
snapshots with another build of the command (the sanitizer build).
Exit status 0 pass, 1 fail, 77 skipped.
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_valgrind import clean_env  # noqa: E402
from ltcheck import Checker  # noqa: E402

SKIP = 77
TIMEOUT = 60
DEBUG_SECTIONS = ('.debug_info', '.debug_abbrev', '.debug_line')
PATTERNS = {
    'zeros': lambda i: 0,
    'ones': lambda i: 0xff,
    'sequence': lambda i: (i * 167 + 13) & 0xff,
}


def run(argv, cwd=None):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=clean_env(), timeout=TIMEOUT, cwd=cwd)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def sections(path):
    """name -> (file offset, size) of every section with contents."""
    out = subprocess.run(['readelf', '-SW', path], capture_output=True, text=True,
                         check=True).stdout
    res = {}
    for line in out.splitlines():
        m = re.match(r'\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)',
                     line)
        if m and m.group(2) != 'NOBITS':
            res[m.group(1)] = (int(m.group(4), 16), int(m.group(5), 16))
    return res


def rewrite(src, dst, edit):
    data = bytearray(open(src, 'rb').read())
    edit(data, sections(src))
    with open(dst, 'wb') as f:
        f.write(data)
    os.chmod(dst, 0o755)


def fill(names, pattern):
    def edit(data, secs):
        for name in names:
            off, size = secs[name]
            for i in range(size):
                data[off + i] = pattern(i)
    return edit


def loss_record(text, nbytes=20):
    """Frames of the definitely lost record of nbytes, addresses and pids
    removed: ['malloc (interpose.c:116)', 'remember (11-exit-code.c:27)']."""
    lines = [re.sub(r'^==\d+== ?', '', l) for l in text.splitlines()]
    for i, l in enumerate(lines):
        if re.match(r'%d bytes in 1 blocks are definitely lost in loss record' % nbytes, l):
            frames = []
            for f in lines[i + 1:]:
                m = re.match(r'\s+(?:at|by) 0x[0-9A-F]+: (.*)$', f)
                if not m:
                    break
                frames.append(m.group(1))
            return frames
    return None


def figures(text):
    return ('definitely lost: 20 bytes in 1 blocks' in text and
            'ERROR SUMMARY: 1 errors from 1 contexts' in text)


def diagnostics(text):
    return [l for l in text.splitlines() if l.startswith('leaktrace:')]


class Case:
    """Traces prog (keeping the raw snapshot and a JSON report), renders
    the snapshot again with the reporter, and checks both."""

    def __init__(self, a, ck):
        self.a, self.ck = a, ck

    def trace(self, label, prog, expect_exit=3, cwd=None):
        raw, js = prog + '.snap', prog + '.json'
        rc, out, err = run([self.a.leaktrace, '--raw-file=' + raw, '--json-file=' + js, prog],
                           cwd=cwd)
        self.ck.expect('%s: the program\'s exit status (%d) and the exact figures'
                       % (label, expect_exit), rc == expect_exit and figures(err), rc, err)
        return raw, js, err

    def render(self, label, raw, argv_prefix=()):
        rc, out, err = run(list(argv_prefix) + [self.a.reporter, 'report', raw])
        self.ck.expect('%s: the reporter renders the snapshot again: exit 0, exact figures'
                       % label, rc == 0 and figures(err), rc, err[-3000:])
        return err

    def frames(self, label, text, want, diag=()):
        got = loss_record(text)
        self.ck.expect('%s: frames %s' % (label, want), got is not None and
                       len(got) >= len(want) and got[0].startswith('malloc (') and
                       got[1:len(want)] == want[1:], got, text[-3000:])
        self.ck.expect('%s: no other message than %s' % (label, list(diag) or 'none'),
                       diagnostics(text) == list(diag), diagnostics(text))

    def json_offsets(self, label, js, module, offsets):
        """The module-relative offsets of frames 1.. in the JSON report."""
        try:
            doc = json.load(open(js))
            rec = [r for r in doc['records'] if r['bytes'] == 20][0]
            got = [(f['object'], f.get('offset')) for f in rec['stack'][1:1 + len(offsets)]]
        except (OSError, ValueError, KeyError, IndexError) as e:
            got = repr(e)
        self.ck.expect('%s: JSON frames give module and offset %s' % (label, offsets),
                       got == [(module, o) for o in offsets], got)


def cmd_stripped(a, ck, c):
    d = a.outdir
    full, _, err = c.trace('unstripped', copy_prog(a.exit_code, d, 'full'))
    want_lines = loss_record(err)
    ck.expect('unstripped: names and lines', want_lines is not None and len(want_lines) >= 3
              and want_lines[1].startswith('remember (11-exit-code.c:')
              and want_lines[2].startswith('main (11-exit-code.c:'), want_lines)
    offs = frame_offsets(full[:-5] + '.json')
    syms = function_ranges(a.exit_code)
    ck.expect('unstripped: the JSON offsets of remember\'s and main\'s frames are return '
              'addresses inside those functions (nm -S)', offs is not None and
              all(o and lo < int(o, 16) <= hi for o, (lo, hi) in
                  zip(offs, (syms.get('remember', (0, 0)), syms.get('main', (0, 0))))),
              offs, syms)
    nodebug = copy_prog(a.exit_code, d, 'nodebug')
    subprocess.run(['strip', '--strip-debug', nodebug], check=True)
    raw, js, err = c.trace('strip --strip-debug', nodebug)
    want = ['malloc', 'remember (in %s)' % nodebug, 'main (in %s)' % nodebug]
    c.frames('strip --strip-debug', err, want)
    c.frames('strip --strip-debug, rendered again', c.render('strip --strip-debug', raw), want)
    c.json_offsets('strip --strip-debug', js, nodebug, offs)
    bare = copy_prog(a.exit_code, d, 'bare')
    subprocess.run(['strip', '--strip-all', bare], check=True)
    raw, js, err = c.trace('strip --strip-all', bare)
    want = ['malloc', '??? (in %s)' % bare, '??? (in %s)' % bare]
    c.frames('strip --strip-all', err, want)
    c.frames('strip --strip-all, rendered again', c.render('strip --strip-all', raw), want)
    c.json_offsets('strip --strip-all', js, bare, offs)


def function_ranges(prog):
    """name -> (start, end) of the program's functions, from nm -S."""
    out = subprocess.run(['nm', '-S', prog], capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[2] in 'tT':
            res[f[3]] = (int(f[0], 16), int(f[0], 16) + int(f[1], 16))
    return res


def frame_offsets(js):
    try:
        doc = json.load(open(js))
        rec = [r for r in doc['records'] if r['bytes'] == 20][0]
        return [f.get('offset') for f in rec['stack'][1:3]]
    except (OSError, ValueError, KeyError, IndexError):
        return None


def copy_prog(src, d, name):
    dst = os.path.join(d, name)
    shutil.copy(src, dst)
    return dst


def cmd_corrupt(a, ck, c):
    d = a.outdir
    secs = sections(a.exit_code)
    every = sorted(n for n in secs if n.startswith('.debug_'))
    for pname, pattern in PATTERNS.items():
        for names in [[s] for s in DEBUG_SECTIONS] + [every]:
            tag = '%s-%s' % (pname, 'all' if len(names) > 1 else names[0][1:])
            prog = os.path.join(d, tag)
            rewrite(a.exit_code, prog, fill(names, pattern))
            raw, js, err = c.trace(tag, prog)
            # DWARF no longer usable: the ELF symbol table still names
            # the functions, without lines.
            want = ['malloc', 'remember (in %s)' % prog, 'main (in %s)' % prog]
            c.frames(tag, err, want)
            c.frames(tag + ', rendered again', c.render(tag, raw), want)
    # The unwind tables gone: the stack ends early, the figures stay.
    prog = os.path.join(d, 'eh_frame-zeros')
    rewrite(a.exit_code, prog, fill(['.eh_frame'], PATTERNS['zeros']))
    raw, js, err = c.trace('.eh_frame zeroed', prog)
    got = loss_record(err) or []
    ck.expect('.eh_frame zeroed: malloc <- remember, with its line',
              len(got) >= 2 and got[1].startswith('remember (11-exit-code.c:'), got)
    c.render('.eh_frame zeroed', raw)
    # Scattered damage: whatever DWARF is left must never crash the
    # reporter nor change the figures.
    debug = [n for n in every]
    failures = []
    for seed in range(24):
        rnd = random.Random(seed)

        def edit(data, secs, rnd=rnd):
            for _ in range(rnd.randint(1, 24)):
                off, size = secs[rnd.choice(debug)]
                i = off + rnd.randrange(size)
                data[i] = rnd.choice([0, 0xff, 0x80, data[i] ^ (1 << rnd.randrange(8))])
        prog = os.path.join(d, 'random-%02d' % seed)
        rewrite(a.exit_code, prog, edit)
        raw = prog + '.snap'
        rc, out, err = run([a.leaktrace, '--raw-file=' + raw, prog])
        rc2, out2, err2 = run([a.reporter, 'report', raw])
        frames = loss_record(err2) or []
        if not (rc == 3 and figures(err) and rc2 == 0 and figures(err2) and len(frames) >= 3
                and frames[0].startswith('malloc (')):
            failures.append((seed, rc, rc2, err2[-1500:]))
        else:
            os.unlink(prog)
            os.unlink(raw)
    ck.expect('24 seeded sets of random changes to the debug sections: every run and every '
              'rendering exact, no crash', not failures, *failures)


def cmd_deleted(a, ck, c):
    d = a.outdir
    prog = copy_prog(a.selfdelete, d, 'selfdelete-copy')
    raw, js, err = c.trace('deleted by itself', prog, expect_exit=0)
    ck.expect('the program removed its executable', not os.path.exists(prog))
    want = ['malloc', 'remember (selfdelete.c:13)', 'main (selfdelete.c:23)']
    c.frames('deleted, at exit (read through /proc/PID/exe)', err, want)
    text = c.render('deleted, rendered once the process is gone', raw)
    c.frames('deleted, rendered later', text,
             ['malloc', '??? (in %s)' % prog, '??? (in %s)' % prog],
             ['leaktrace: cannot read %s: No such file or directory: its frames are shown '
              'without symbols' % prog])


def in_private_debug_root(a, debug_root, argv):
    """argv run with debug_root mounted on /usr/lib/debug, in a mount
    namespace of its own; None when that cannot be done here."""
    if os.geteuid() != 0 or not shutil.which('unshare') or not os.path.isdir('/usr/lib/debug'):
        return None
    script = 'mount --bind "$0" /usr/lib/debug && exec "$@"'
    p = subprocess.run(['unshare', '-m', 'sh', '-c', script, debug_root] + argv,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=clean_env(), timeout=TIMEOUT)
    if p.returncode != 0 and b'unshare' in p.stderr[:200]:
        return None
    return p.returncode, p.stdout.decode(), p.stderr.decode('utf-8', 'replace')


def build_id(path):
    out = subprocess.run(['readelf', '-nW', path], capture_output=True, text=True).stdout
    m = re.search(r'Build ID: ([0-9a-f]+)', out)
    return m.group(1) if m else None


def cmd_debugfile(a, ck, c):
    d = a.outdir
    prog = copy_prog(a.exit_code, d, 'prog')
    dbg = prog + '.debug'
    subprocess.run(['objcopy', '--only-keep-debug', prog, dbg], check=True)
    subprocess.run(['strip', '--strip-all', prog], check=True)
    subprocess.run(['objcopy', '--add-gnu-debuglink=' + dbg, prog], check=True)
    raw, js, err = c.trace('.gnu_debuglink, debug file present', prog)
    lines = loss_record(err) or []
    ck.expect('.gnu_debuglink, debug file present: names and lines from it',
              len(lines) >= 3 and lines[1].startswith('remember (11-exit-code.c:')
              and lines[2].startswith('main (11-exit-code.c:'), lines)
    bare = ['malloc', '??? (in %s)' % prog, '??? (in %s)' % prog]
    os.rename(dbg, dbg + '.away')
    c.frames('.gnu_debuglink, debug file missing', c.render('debug file missing', raw), bare)
    rewrite(dbg + '.away', dbg, fill(list(DEBUG_SECTIONS), PATTERNS['sequence']))
    # Its symbol table is intact: names, no lines.
    c.frames('.gnu_debuglink, debug file with corrupt DWARF',
             c.render('debug file corrupt', raw),
             ['malloc', 'remember (in %s)' % prog, 'main (in %s)' % prog])
    with open(dbg, 'wb') as f:
        f.write(b'\x7fELF garbage')
    c.frames('.gnu_debuglink, debug file not ELF', c.render('debug file not ELF', raw), bare)
    os.unlink(dbg)

    # By build-id, under /usr/lib/debug/.build-id/xx/yyyy.debug.
    bid = build_id(prog)
    root = os.path.join(d, 'debug-root')
    where = os.path.join(root, '.build-id', bid[:2])
    os.makedirs(where)
    target = os.path.join(where, bid[2:] + '.debug')
    shutil.copy(dbg + '.away', target)
    res = in_private_debug_root(a, root, [a.reporter, 'report', raw])
    if res is None:
        print('no private mount namespace here: the build-id cases are skipped')
        return
    rc, out, err = res
    lines = loss_record(err) or []
    ck.expect('build-id debug file present: exit 0, names and lines from it',
              rc == 0 and figures(err) and len(lines) >= 3
              and lines[1].startswith('remember (11-exit-code.c:'), rc, lines, err[-2000:])
    rewrite(dbg + '.away', target, fill(list(DEBUG_SECTIONS), PATTERNS['zeros']))
    rc, out, err = in_private_debug_root(a, root, [a.reporter, 'report', raw])
    got = loss_record(err) or []
    ck.expect('build-id debug file with zeroed DWARF: exit 0, exact figures, ELF names',
              rc == 0 and figures(err) and got[1:3] ==
              ['remember (in %s)' % prog, 'main (in %s)' % prog], rc, got, err[-2000:])
    with open(target, 'wb') as f:
        f.write(b'\x7fELF garbage')
    rc, out, err = in_private_debug_root(a, root, [a.reporter, 'report', raw])
    ck.expect('build-id debug file that is not ELF: exit 0, exact figures, ??? frames',
              rc == 0 and figures(err) and (loss_record(err) or [])[1:3] == bare[1:],
              rc, err[-2000:])
    os.unlink(target)
    rc, out, err = in_private_debug_root(a, root, [a.reporter, 'report', raw])
    ck.expect('build-id debug file missing: exit 0, exact figures, ??? frames',
              rc == 0 and figures(err) and (loss_record(err) or [])[1:3] == bare[1:],
              rc, err[-2000:])


def main():
    argv = sys.argv[1:]
    cut = argv.index('--')
    ap = argparse.ArgumentParser()
    ap.add_argument('check')
    ap.add_argument('--leaktrace', required=True)
    ap.add_argument('--reporter')
    ap.add_argument('--outdir', required=True)
    a = ap.parse_args(argv[:cut])
    progs = argv[cut + 1:]
    a.exit_code = os.path.abspath(progs[0])
    a.selfdelete = os.path.abspath(progs[1])
    a.leaktrace = os.path.abspath(a.leaktrace)
    a.reporter = os.path.abspath(a.reporter or a.leaktrace)
    a.outdir = os.path.abspath(a.outdir)
    for tool in ('strip', 'objcopy', 'readelf', 'nm'):
        if not shutil.which(tool):
            print('%s is not installed: skipped' % tool)
            return SKIP
    shutil.rmtree(a.outdir, ignore_errors=True)
    os.makedirs(a.outdir)
    ck = Checker()
    {'stripped': cmd_stripped, 'corrupt': cmd_corrupt, 'deleted': cmd_deleted,
     'debugfile': cmd_debugfile}[a.check](a, ck, Case(a, ck))
    print('%d check(s) failed' % ck.failed if ck.failed else 'all checks passed')
    return 1 if ck.failed else 0


if __name__ == '__main__':
    sys.exit(main())
