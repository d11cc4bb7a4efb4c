#!/usr/bin/env python3
"""The in-program API (include/leaktrace.h) and LeakSanitizer's interface
as libleaktrace.so exports it.

    check_api.py leaktrace-h --leaktrace L --preload LIB --outdir D --srcdir S -- PROG REGPROG CXXPROG
    check_api.py lsan        --leaktrace L --preload LIB --outdir D [--liblsan SO] -- PROG

leaktrace-h: the program runs without the library (every call a no-op,
exit 0) and under leaktrace, where its reports on request hold exactly
the records its comments list, with their frames. lsan: a program written
for LSan's interface gets, under leaktrace, the return values LSan gives
it (compared with liblsan.so.0 itself when that can run here), the exit
status of __lsan_do_leak_check, and no check when its
__lsan_is_turned_off says so.
"""
import argparse
import ctypes.util
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ltcheck  # noqa: E402

LSAN_LINES = [
    'start: 0',
    'one block lost: 1',
    'lost block freed: 0',
    'lost block ignored: 0',
    'lost blocks allocated while disabled: 0',
    'block held by a root region: 0',
    'root region unregistered: 1',
    'block freed: 0',
]
# Definitely lost bytes of each report the lsan program asks for: its
# eight recoverable checks, then __lsan_do_leak_check.
LSAN_LOST = [0, 40, 0, 0, 0, 0, 56, 0, 72]


expect = ltcheck.expect


def clean_env(**extra):
    env = dict(os.environ)
    for k in ('LD_PRELOAD', 'LEAKTRACE_OPTIONS', 'LSAN_OPTIONS', 'API_LSAN_OFF'):
        env.pop(k, None)
    env.update(extra)
    return env


def run(cmd, env, timeout=120):
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def reports(log):
    """Each report of a log: (reason, text)."""
    parts = re.split(r'^==\d+== leaktrace report \d+ of this process, ([a-z ]+),', log,
                     flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))


# A report after a process's first adds valgrind's delta after each figure.
DELTA = r'(?: \([+-][\d,]+\))?'


def records(text):
    """(bytes, blocks, kind, frames) of each loss record; frames as
    'function (file:line)'."""
    out = []
    for m in re.finditer(r'^==\d+== ([\d,]+)%s bytes in ([\d,]+)%s blocks are ([a-z ]+?) in loss '
                         r'record \d+ of \d+\n((?:==\d+==    (?:at|by) .*\n)*)' % (DELTA, DELTA), text, re.M):
        frames = [re.sub(r'^.*?: ', '', f.strip()) for f in
                  re.findall(r'(?:at|by) 0x[0-9A-F]+: (.*)', m.group(4))]
        out.append((int(m.group(1).replace(',', '')), int(m.group(2).replace(',', '')),
                    m.group(3), frames))
    return out


def summary(text, kind):
    m = re.search(r'%s: ([\d,]+)%s bytes in ([\d,]+)%s blocks' % (kind, DELTA, DELTA), text)
    return (int(m.group(1).replace(',', '')), int(m.group(2).replace(',', ''))) if m else None


def line_of(path, needle):
    for n, line in enumerate(open(path), 1):
        if needle in line:
            return n
    raise SystemExit('%s: no line with %r' % (path, needle))


def check_leaktrace_h(a, progs, failures):
    prog, regs, cxx = progs
    src = os.path.join(a.srcdir, 'api_leaktrace.c')
    hide = os.path.join(a.srcdir, 'api_hide.h')

    r = run([prog], clean_env())
    expect(failures, 'without the library: every call a no-op, exit 0',
           r.returncode == 0 and r.stdout == 'running=0 ignore=0 ignore_bad=0 first=0 second=0\n'
           and r.stderr == '', (r.returncode, r.stdout, r.stderr))
    r = run([cxx], clean_env())
    expect(failures, 'C++ without the library: every call a no-op, exit 0',
           r.returncode == 0 and r.stdout == 'running=0 ignore=0 ignore_bad=0 add=0 add_empty=0 '
           'remove=0 remove_again=0\n', (r.returncode, r.stdout, r.stderr))
    r = run([cxx], clean_env(LD_PRELOAD=os.path.abspath(a.preload),
                             LEAKTRACE_OPTIONS='log_file=' + os.path.join(a.outdir, 'cxx.log')))
    expect(failures, 'C++ with the library: documented return values',
           r.returncode == 0 and r.stdout == 'running=1 ignore=0 ignore_bad=-1 add=0 add_empty=-1 '
           'remove=0 remove_again=-1\n', (r.returncode, r.stdout, r.stderr))
    expect(failures, 'C++: the empty range and the bad removal are said, one line each',
           re.fullmatch(r'leaktrace: root region at 0x[0-9a-f]+ of size 0: ignored, not a range '
                        r'of memory\n'
                        r'leaktrace: unregistering the root region at 0x[0-9a-f]+ of size 64: '
                        r'ignored, no such region is registered\n', r.stderr) is not None,
           r.stderr)

    r = run([a.leaktrace, '--log-file=' + os.path.join(a.outdir, 'registers.log'), regs],
            clean_env())
    expect(failures, 'a block whose only pointer is in a callee-saved register of the caller '
           '(rbx, r12, r15) is reachable; in r10, which the call clobbers, lost',
           r.returncode == 0 and r.stdout == 'rbx=0 r12=0 r15=0 r10=1\n',
           (r.returncode, r.stdout, r.stderr))

    log = os.path.join(a.outdir, 'leaktrace-h.log')
    r = run([a.leaktrace, '--show-leak-kinds=all', '--log-file=' + log, prog], clean_env())
    expect(failures, 'under leaktrace: running, ignore of a block 0, of a non-block -1, '
           'first report finds leaks (1), second none (0)',
           r.returncode == 0 and r.stdout == 'running=1 ignore=0 ignore_bad=-1 first=1 second=0\n',
           (r.returncode, r.stdout, r.stderr))
    reps = reports(open(log).read()) if os.path.exists(log) else []
    expect(failures, 'three reports: two on request, then at exit',
           [x[0] for x in reps] == ['on request', 'on request', 'at exit'], [x[0] for x in reps])
    if len(reps) != 3:
        return
    h = line_of(hide, 'void *p = calloc(1, size);')
    site = {n: '%s (api_leaktrace.c:%d)' % ('make_blocks', line_of(src, needle))
            for n, needle in ((100, 'lost = api_alloc_hidden(100)'),
                              (200, 'ignored = api_alloc_hidden(200)'),
                              (300, 'api_alloc_hidden(300)'),
                              (400, 'disabled = api_alloc_hidden(400)'))}

    def shape(recs):
        return [(b, n, k, f[1:3]) for b, n, k, f in recs]
    helper = 'api_alloc_hidden (api_hide.h:%d)' % h
    want1 = [(100, 1, 'definitely lost', [helper, site[100]]),
             (200, 1, 'still reachable', [helper, site[200]]),
             (300, 1, 'still reachable', [helper, site[300]]),
             (400, 1, 'still reachable', [helper, site[400]])]
    got1 = shape(records(reps[0][1]))
    expect(failures, 'first report: 100 bytes lost; the ignored block, what it points to and '
           'the block allocated while disabled still reachable, with their frames',
           got1 == want1, '%s\n!=\n%s' % (got1, want1))
    expect(failures, 'first report: LEAK SUMMARY 100 bytes in 1 lost, 900 in 3 reachable',
           summary(reps[0][1], 'definitely lost') == (100, 1) and
           summary(reps[0][1], 'still reachable') == (900, 3) and
           summary(reps[0][1], 'possibly lost') == (0, 0))
    got2 = shape(records(reps[1][1]))
    expect(failures, 'second report, the lost block freed: the three ignored blocks alone',
           got2 == want1[1:] and summary(reps[1][1], 'definitely lost') == (0, 0), got2)
    expect(failures, 'report at exit: everything freed, nothing lost',
           summary(reps[2][1], 'definitely lost') == (0, 0) and
           summary(reps[2][1], 'still reachable') == (0, 0), reps[2][1])


def lost_per_report(log):
    """Definitely lost bytes of each report (0 where no block was live)."""
    return [(summary(t, 'definitely lost') or (0, 0))[0] if 'All heap blocks were freed' in t
            else (summary(t, 'definitely lost') or (None,))[0] for _, t in reports(log)]


# LeakSanitizer treats mappings as neither blocks nor roots; leaktrace's
# mapping tracking would make the test's read-only page a reachable block
# whose contents count. With track_mmap=no, mappings are only roots, and
# a read-only one is not scanned: the model this program is written for.
LSAN_MODEL = '--track-mmap=no'


def check_lsan(a, progs, failures):
    prog = progs[0]
    out_all = '\n'.join(LSAN_LINES) + '\n'

    r = run([prog], clean_env())
    expect(failures, 'without a leak checker the program says so (the weak symbols are NULL)',
           r.returncode == 2 and r.stdout == 'no leak checker\n', (r.returncode, r.stdout))

    log = os.path.join(a.outdir, 'lsan-noexit.log')
    r = run([a.leaktrace, LSAN_MODEL, '--log-file=' + log, prog], clean_env())
    text = open(log).read() if os.path.exists(log) else ''
    expect(failures, 'leaktrace, no error_exitcode: LSan\'s return values, and the program goes '
           'on after __lsan_do_leak_check (as LSan with exitcode=0)',
           r.returncode == 0 and r.stdout == out_all + 'survived\n', (r.returncode, r.stdout, r.stderr))
    expect(failures, 'one report per check, the leak of each as planned; none at exit after '
           '__lsan_do_leak_check, none for its second call',
           lost_per_report(text) == LSAN_LOST and
           [x[0] for x in reports(text)] == ['on request'] * 9, lost_per_report(text))

    log = os.path.join(a.outdir, 'lsan-exit.log')
    r = run([a.leaktrace, LSAN_MODEL, '--error-exitcode=23', '--log-file=' + log, prog], clean_env())
    text = open(log).read() if os.path.exists(log) else ''
    ours = (r.returncode, r.stdout)
    expect(failures, 'leaktrace --error-exitcode=23: __lsan_do_leak_check with a leak ends the '
           'process with 23 after its report',
           ours == (23, out_all) and lost_per_report(text) == LSAN_LOST, (r.returncode, r.stdout))

    log = os.path.join(a.outdir, 'lsan-unregister.log')
    r = run([a.leaktrace, LSAN_MODEL, '--log-file=' + log, prog, 'unregister'], clean_env())
    expect(failures, 'unregistering a region never registered: said once, ignored, the program '
           'goes on',
           r.returncode == 0 and r.stdout == out_all + 'never registered, unregistered: 0\n'
           'survived\n' and re.search(r'^leaktrace: unregistering the root region at 0x[0-9a-f]+ '
                                      r'of size 8: ignored, no such region is registered$',
                                      r.stderr, re.M) is not None,
           (r.returncode, r.stdout, r.stderr))

    log = os.path.join(a.outdir, 'lsan-off.log')
    r = run([a.leaktrace, LSAN_MODEL, '--error-exitcode=23', '--log-file=' + log, prog],
            clean_env(API_LSAN_OFF='1'))
    expect(failures, '__lsan_is_turned_off says 1: every check returns 0, no report at all, '
           'not even at exit',
           r.returncode == 0 and r.stdout == out_all.replace(': 1', ': 0') + 'survived\n' and
           not os.path.exists(log), (r.returncode, r.stdout, r.stderr))

    # The reference: LeakSanitizer itself, preloaded into the same program.
    if not a.liblsan:
        print('[SKIP] liblsan not installed: no comparison with LeakSanitizer')
        return
    lsan = run([prog], clean_env(LD_PRELOAD=a.liblsan))
    if 'LeakSanitizer has encountered a fatal error' in lsan.stderr:
        print('[SKIP] LeakSanitizer cannot run here: ' + lsan.stderr.strip().splitlines()[-1])
        return
    expect(failures, 'LeakSanitizer itself gives the same return values and exit status (23)',
           (lsan.returncode, lsan.stdout) == ours, ((lsan.returncode, lsan.stdout), ours))
    lsan = run([prog], clean_env(LD_PRELOAD=a.liblsan, API_LSAN_OFF='1'))
    expect(failures, 'LeakSanitizer itself honours __lsan_is_turned_off the same way',
           lsan.returncode == 0 and lsan.stdout == out_all.replace(': 1', ': 0') + 'survived\n',
           (lsan.returncode, lsan.stdout))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('check', choices=['leaktrace-h', 'lsan'])
    ap.add_argument('--leaktrace', required=True)
    ap.add_argument('--preload', required=True)
    ap.add_argument('--outdir', required=True)
    ap.add_argument('--srcdir', default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument('--liblsan', default=ctypes.util.find_library('lsan'),
                    help='LeakSanitizer\'s runtime to compare with (default: the system\'s)')
    argv = sys.argv[1:]
    cut = argv.index('--')
    a = ap.parse_args(argv[:cut])
    progs = [os.path.abspath(p) for p in argv[cut + 1:]]
    a.leaktrace = os.path.abspath(a.leaktrace)
    a.outdir = os.path.abspath(a.outdir)
    shutil.rmtree(a.outdir, ignore_errors=True)
    os.makedirs(a.outdir)
    failures = []
    if a.check == 'leaktrace-h':
        check_leaktrace_h(a, progs, failures)
    else:
        check_lsan(a, progs, failures)
    print('%d failed' % len(failures) if failures else 'all passed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
