#!/usr/bin/env python3
"""The hostile-program suite: each scenario runs once natively and once
under leaktrace, and the two runs must agree on everything the program
shows: wait status (exit code, or signal and core-dump bit), stdout,
stderr (the tracer's own "leaktrace:" lines and, when the report goes to
stderr, its "==PID==" lines set apart), and the files the program leaves in
its working directory. A run that outlives its timeout is a hang. Then the
tracer's reports (log_file=DIR/report.%p.txt) must hold the exact
"definitely lost" figures the scenario expects, for the program's process
and for the processes it forked.

    run_robust.py --list
    run_robust.py ... selftest     checks that each kind of failure is seen
    run_robust.py --bindir DIR --preload LIB --leaktrace CLI --outdir DIR NAME

Exit status 0 pass, 1 fail.
"""

import argparse
import os
import re
import resource
import shutil
import signal
import sys
import time

# name: (program, arguments, expectations). Expectations:
#   main      (bytes, blocks) definitely lost in the report of the
#             program's own process; None: no report from it
#   others    sorted list of (bytes, blocks) of the other processes'
#             reports (forked children); None: not checked
#   status    the wait status natively, as 'exit N' or 'signal N'
#   options   extra LEAKTRACE_OPTIONS
#   log       substrings the tracer's "leaktrace:" lines must hold
#   stderr_report  no log_file: the report must reach the original stderr
#   core      allow core dumps (RLIMIT_CORE), so the core bit is compared
#   cli       run under the leaktrace command rather than LD_PRELOAD
#   env       extra environment of the traced run ({srcdir}: tests/robust)
#   traced_status  the wait status under the tracer when it differs on
#             purpose (error_exitcode)
#   timeout   seconds per run
A = 'alloc_contract'
E = 'ends'
P = 'procs'
T = 'threads'
S = 'signals'
L = 'limits'
SCENARIOS = {
    # the malloc family's contract
    'malloc-zero': (A, ['malloc-zero'], dict(main=(10, 1))),
    'free-null': (A, ['free-null'], dict(main=(11, 1))),
    'huge-sizes': (A, ['huge-sizes'], dict(main=(12, 1))),
    'calloc-overflow': (A, ['calloc-overflow'], dict(main=(13, 1))),
    'reallocarray-overflow': (A, ['reallocarray-overflow'], dict(main=(14, 1))),
    'posix-memalign-errors': (A, ['posix-memalign-errors'], dict(main=(15, 1))),
    'memalign-rounding': (A, ['memalign-rounding'], dict(main=(16, 1))),
    'valloc-pvalloc': (A, ['valloc-pvalloc'], dict(main=(17, 1))),
    'usable-size': (A, ['usable-size'], dict(main=(18, 1))),
    # blocks whose malloc headers were overwritten: the huge header reads
    # as 0 bytes; the wide one (1 GiB) is cut at the next block, 80 bytes
    # on (the 60-byte block's chunk)
    'overwritten-header': (A, ['overwritten-header'], dict(main=(20 + 0 + 80, 3))),
    'errno-kept': (A, ['errno-kept'], dict(main=(19, 1))),
    # every way out
    'exit-underscore': (E, ['_exit'], dict(main=(21, 1), status='exit 4')),
    'exit-underscore-upper': (E, ['_Exit'], dict(main=(22, 1), status='exit 5')),
    'quick-exit': (E, ['quick_exit'], dict(main=(23, 1), status='exit 6')),
    'abort': (E, ['abort'], dict(main=(24, 1), status='signal 6')),
    'abort-core': (E, ['abort'], dict(main=(24, 1), status='signal 6 (core dumped)',
                                      core=True)),
    'sigterm': (E, ['sigterm'], dict(main=(25, 1), status='signal 15')),
    'sigterm-threads': (E, ['sigterm-threads'], dict(main=(26, 1), status='signal 15')),
    'segv': (E, ['segv'], dict(main=(27, 1), status='signal 11')),
    'segv-core': (E, ['segv'], dict(main=(27, 1), status='signal 11 (core dumped)',
                                    core=True)),
    'segv-corrupt-heap': (E, ['segv-corrupt-heap'], dict(main=(28, 1), status='signal 11')),
    'segv-in-thread': (E, ['segv-in-thread'], dict(main=(29, 1), status='signal 11')),
    'stack-overflow': (E, ['stack-overflow'], dict(main=None, status='signal 11')),
    'own-handler-exit': (E, ['own-handler-exit'], dict(main=(30, 1), status='exit 9')),
    'handler-reraise': (E, ['handler-reraise'], dict(main=(31, 1), status='signal 15')),
    'sigterm-ignored': (E, ['sigterm-ignored'], dict(main=(32, 1))),
    'atexit-alloc': (E, ['atexit-alloc'], dict(main=(33, 1))),
    'late-destructor': (E, ['late-destructor'], dict(main=(34, 1))),
    'sigterm-cli': (E, ['sigterm'], dict(main=(25, 1), status='signal 15', cli=True)),
    'abort-cli': (E, ['abort'], dict(main=(24, 1), status='signal 6', cli=True)),
    'exit-underscore-error-exitcode': (E, ['_exit'], dict(
        main=(21, 1), status='exit 4', options='error_exitcode=42',
        traced_status='exit 42')),
    'sigterm-error-exitcode': (E, ['sigterm'], dict(
        main=(25, 1), status='signal 15', options='error_exitcode=42')),
    'final-report-timeout': (E, ['sigterm'], dict(
        main=None, status='signal 15', options='final_report_timeout=1',
        env={'LEAKTRACE_TOOL': '{srcdir}/stuck_reporter.sh'},
        log=['the final report did not finish within 1 s'])),
    'exit-threads-running': (E, ['exit-threads-running'], dict(main=(35, 1),
                                                               status='exit 7')),
    # processes
    'fork': (P, ['fork'], dict(main=(41, 1), others=[(83, 2)])),
    'fork-in-handler': (P, ['fork-in-handler'], dict(main=(43, 1), others=[(43, 1)])),
    'fork-threads': (P, ['fork-threads'], dict(main=(44, 1), others=None)),
    'vfork': (P, ['vfork'], dict(main=(45, 1))),
    'posix-spawn': (P, ['posix-spawn'], dict(main=(46, 1))),
    'system-popen': (P, ['system-popen'], dict(main=(47, 1))),
    # exec removes the tracer from the environment: no report, unless
    # trace_children, and then the last image's
    'exec-chain': (P, ['exec-chain', '3'], dict(main=None)),
    'exec-chain-traced': (P, ['exec-chain', '3'], dict(main=(50, 1),
                                                      options='trace_children=yes')),
    # threads
    'tls-storm': (T, ['tls-storm'], dict(main=(61, 1))),
    'thread-cancel': (T, ['cancel'], dict(main=(62, 1))),
    'main-pthread-exit': (T, ['main-pthread-exit'], dict(main=(63, 1))),
    'tiny-stacks': (T, ['tiny-stacks'], dict(main=(160, 20))),
    # signals
    'handler-allocates': (S, ['handler-allocates'], dict(main=(71, 1))),
    'own-report-signal': (S, ['own-report-signal'], dict(
        main=(72, 1), log=['the program handles signal 12 itself'])),
    'dispositions': (S, ['dispositions'], dict(
        main=(73, 1), log=['the program handles signal 12 itself'])),
    # limits and a hostile environment
    'rlimit-as': (L, ['rlimit-as'], dict(main=(81, 1))),
    'fds-closed': (L, ['fds-closed'], dict(main=(82, 1))),
    'fd-table-full': (L, ['fd-table-full'], dict(main=(83, 1))),
    'fd2-reused': (L, ['fd2-reused'], dict(main=(84, 1), stderr_report=True)),
    'cwd-removed': (L, ['cwd-removed'], dict(main=(85, 1))),
    'env-cleared': (L, ['env-cleared'], dict(main=(86, 1))),
    # C++
    'cxx-bad-alloc': ('cxx', ['bad-alloc'], dict(main=(100, 1))),
    'cxx-exceptions': ('cxx', ['exceptions'], dict(main=(100, 1))),
    # pointers the tracer never saw
    'preinit-blocks': ('foreign', ['early'], dict(main=(91, 1))),
    'other-allocator': ('foreign', ['other-allocator'], dict(main=(92, 1))),
    # stacks
    'recursion-20000': ('deep', ['recursion'], dict(main=(16, 1))),
    'garbage-frames': ('deep', ['garbage-frames'], dict(main=(93, 1))),
    # modules
    'dlopen-1000': ('dlopen_cycles', ['cycles', '{bindir}/robust-plugin.so'],
                    dict(main=(32, 1))),
    # scale
    'ten-million-blocks': ('many', ['ten-million'], dict(main=(1000, 1000), timeout=120)),
}


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--list', action='store_true', help='print the scenario names')
    ap.add_argument('--bindir')
    ap.add_argument('--preload')
    ap.add_argument('--leaktrace')
    ap.add_argument('--outdir')
    ap.add_argument('name', nargs='?')
    return ap.parse_args(argv)


def clean_env():
    env = dict(os.environ)
    for k in ('LD_PRELOAD', 'LEAKTRACE_OPTIONS', 'MALLOC_PERTURB_', 'MALLOC_CHECK_',
              'GLIBC_TUNABLES'):
        env.pop(k, None)
    env['LC_ALL'] = 'C'
    return env


def describe(status):
    if status is None:
        return 'still running at the timeout (hang)'
    if os.WIFEXITED(status):
        return 'exit %d' % os.WEXITSTATUS(status)
    if os.WIFSIGNALED(status):
        return 'signal %d%s' % (os.WTERMSIG(status),
                                ' (core dumped)' if os.WCOREDUMP(status) else '')
    return 'status 0x%x' % status


def spawn(argv, env, cwd, out, err, core):
    """Runs argv in its own session with stdin from /dev/null; returns
    (raw wait status or None on timeout, seconds). The session's other
    processes (forked children, reporters) are waited for as well."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.chdir(cwd)
            fd = os.open(os.devnull, os.O_RDONLY)
            os.dup2(fd, 0)
            os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 1)
            os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
            os.closerange(3, 1024)
            limit = resource.RLIM_INFINITY if core else 0
            resource.setrlimit(resource.RLIMIT_CORE, (limit, limit))
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    return pid


def wait_for(pid, timeout):
    t0 = time.monotonic()
    status = None
    while time.monotonic() - t0 < timeout:
        r, st = os.waitpid(pid, os.WNOHANG)
        if r == pid:
            status = st
            break
        time.sleep(0.005)
    if status is None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        return None, time.monotonic() - t0
    # What the program forked, and the reporters, end before we look.
    while time.monotonic() - t0 < timeout:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.01)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return None, time.monotonic() - t0
    return status, time.monotonic() - t0


def files_of(cwd):
    found = {}
    for root, _, names in os.walk(cwd):
        for n in names:
            path = os.path.join(root, n)
            rel = os.path.relpath(path, cwd)
            if rel.startswith('core'):
                continue
            try:
                with open(path, 'rb') as f:
                    found[rel] = f.read()
            except OSError as e:
                found[rel] = ('unreadable: %s' % e).encode()
    return found


REPORT_LINE = re.compile(rb'^==\d+==')
LOG_LINE = re.compile(rb'^leaktrace: ')


def split_stderr(data):
    """(the program's stderr, the tracer's log lines, report lines)."""
    prog, log, report = [], [], []
    for line in data.splitlines(keepends=True):
        if LOG_LINE.match(line):
            log.append(line)
        elif REPORT_LINE.match(line):
            report.append(line)
        else:
            prog.append(line)
    return b''.join(prog), b''.join(log), b''.join(report)


DEFINITELY = re.compile(r'definitely lost: ([\d,]+) bytes in ([\d,]+) blocks')


def definitely_lost(text):
    m = DEFINITELY.search(text)
    if not m:
        return (0, 0) if 'HEAP SUMMARY' in text else None
    return tuple(int(g.replace(',', '')) for g in m.groups())


class Check:
    def __init__(self):
        self.failed = 0

    def expect(self, label, ok, detail=''):
        print('[%s] %s' % ('PASS' if ok else 'FAIL', label))
        if not ok:
            self.failed += 1
            for line in str(detail).splitlines()[:40]:
                print('       ' + line)
        return ok


def show(data):
    text = data.decode('utf-8', 'replace')
    return text if len(text) < 3000 else text[:3000] + '\n...'


def run_one(args, mode, prog, pargs, exp):
    """mode: 'native' or 'traced'. Returns a dict of what was seen."""
    base = os.path.join(args.outdir, mode)
    cwd = os.path.join(base, 'cwd')
    reports = os.path.join(base, 'reports')
    os.makedirs(cwd)
    os.makedirs(reports)
    env = clean_env()
    bindir = os.path.abspath(args.bindir)
    argv = [os.path.join(bindir, 'robust-' + prog)] + [a.replace('{bindir}', bindir)
                                                       for a in pargs]
    if mode == 'traced':
        opts = exp.get('options', '')
        if not exp.get('stderr_report'):
            opts = 'log_file=%s/report.%%p.txt' % reports + (':' + opts if opts else '')
        srcdir = os.path.dirname(os.path.abspath(__file__))
        env.update({k: v.replace('{srcdir}', srcdir) for k, v in exp.get('env', {}).items()})
        if exp.get('cli'):
            argv = [os.path.abspath(args.leaktrace)] + (['--' + o.replace('_', '-') for o in opts.split(':')]
                                       if opts else []) + ['--'] + argv
        else:
            env['LD_PRELOAD'] = os.path.abspath(args.preload)
            if opts:
                env['LEAKTRACE_OPTIONS'] = opts
    out, err = os.path.join(base, 'stdout'), os.path.join(base, 'stderr')
    pid = spawn(argv, env, cwd, out, err, exp.get('core', False))
    status, secs = wait_for(pid, exp.get('timeout', 30))
    with open(out, 'rb') as f:
        stdout = f.read()
    with open(err, 'rb') as f:
        stderr = f.read()
    seen = dict(pid=pid, status=status, secs=secs, stdout=stdout, files=files_of(cwd))
    seen['stderr'], seen['log'], seen['report'] = split_stderr(stderr)
    seen['reports'] = {}
    for n in sorted(os.listdir(reports)):
        m = re.match(r'report\.(\d+)\.txt$', n)
        if m:
            with open(os.path.join(reports, n), errors='replace') as f:
                seen['reports'][int(m.group(1))] = f.read()
    if exp.get('stderr_report') and seen['report']:
        seen['reports'][pid] = seen['report'].decode('utf-8', 'replace')
    print('%s: %s in %.2f s, %d report(s)' % (mode, describe(status), secs,
                                               len(seen['reports'])))
    return seen


def check(args, scenario=None):
    prog, pargs, exp = scenario or SCENARIOS[args.name]
    shutil.rmtree(args.outdir, ignore_errors=True)
    os.makedirs(args.outdir)
    c = Check()
    native = run_one(args, 'native', prog, pargs, exp)
    traced = run_one(args, 'traced', prog, pargs, exp)

    want = exp.get('status', 'exit 0')
    c.expect('native run ends by %s' % want, describe(native['status']).startswith(want),
             describe(native['status']))
    if 'traced_status' in exp:
        c.expect('traced run ends by %s' % exp['traced_status'],
                 describe(traced['status']) == exp['traced_status'],
                 describe(traced['status']))
    else:
        c.expect('same wait status natively and traced (%s)' % describe(native['status']),
                 native['status'] is not None and native['status'] == traced['status'],
                 'native: %s\ntraced: %s' % (describe(native['status']),
                                             describe(traced['status'])))
    c.expect('same stdout', native['stdout'] == traced['stdout'],
             'native:\n%s\ntraced:\n%s' % (show(native['stdout']), show(traced['stdout'])))
    c.expect('same stderr (the tracer\'s own lines apart)',
             native['stderr'] == traced['stderr'] and not native['log'],
             'native:\n%s\ntraced:\n%s' % (show(native['stderr'] + native['log']),
                                          show(traced['stderr'])))
    c.expect('same files left in the working directory',
             native['files'] == traced['files'],
             'native: %s\ntraced: %s' % (
                 {k: v[:200] for k, v in native['files'].items()},
                 {k: v[:200] for k, v in traced['files'].items()}))
    logs = traced['log'].decode('utf-8', 'replace')
    wanted_log = exp.get('log', [])
    if wanted_log:
        c.expect('the tracer says: %s' % ' / '.join(wanted_log),
                 all(w in logs for w in wanted_log), logs)
    else:
        c.expect('the tracer logs nothing', not logs, logs)
    if not exp.get('stderr_report'):
        c.expect('no report line in the program\'s stderr', not traced['report'],
                 show(traced['report']))

    reports = traced['reports']
    main = reports.get(traced['pid'])
    if exp.get('main', None) is None:
        c.expect('no report from the program\'s process', main is None, main or '')
    else:
        got = definitely_lost(main) if main else None
        c.expect('report of the program: definitely lost %d bytes in %d blocks' % exp['main'],
                 got == exp['main'], 'got %s\n%s' % (got, main or 'no report'))
    others = exp.get('others', [])
    if others is not None:
        got = sorted(definitely_lost(t) for p, t in reports.items() if p != traced['pid'])
        c.expect('reports of the other processes: %s' % others, got == sorted(others),
                 'got %s' % got)
    print('%s: %s' % (args.name, 'FAIL' if c.failed else 'PASS'))
    return 1 if c.failed else 0


# The runner's own test: each of these breaks one thing the checks look
# at, and must fail.
BROKEN = {
    'no report where one is due': (E, ['sigterm'], dict(
        main=(25, 1), status='signal 15', options='final_report=no')),
    'wrong leak figure': (A, ['malloc-zero'], dict(main=(11, 1))),
    'a status changed by the tracer': (E, ['_exit'], dict(
        main=(21, 1), status='exit 4', options='error_exitcode=42')),
    'a hang': (E, ['sigterm'], dict(
        main=(25, 1), status='signal 15', timeout=2,
        env={'LEAKTRACE_TOOL': '{srcdir}/stuck_reporter.sh'})),
    'a tracer line on stderr': (A, ['malloc-zero'], dict(
        main=(10, 1), options='raw_file=/nonexistent/dir/r.snap')),
}


def selftest(args):
    failed = 0
    base = args.outdir
    for label, scenario in BROKEN.items():
        args.outdir = os.path.join(base, re.sub(r'\W+', '-', label))
        args.name = label
        print('--- must fail: %s' % label)
        rc = check(args, scenario)
        print('[%s] the runner saw %s' % ('PASS' if rc else 'FAIL', label))
        failed += rc == 0
    print('selftest: %s' % ('FAIL' if failed else 'PASS'))
    return 1 if failed else 0


def main(argv):
    args = parse_args(argv)
    if args.list:
        print('\n'.join(list(SCENARIOS) + ['selftest']))
        return 0
    if args.name == 'selftest':
        return selftest(args)
    if not args.name or args.name not in SCENARIOS:
        print('run_robust.py: no scenario %r' % args.name, file=sys.stderr)
        return 2
    return check(args)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
