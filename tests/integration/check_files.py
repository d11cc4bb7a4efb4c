#!/usr/bin/env python3
"""Files, privileges and children (README "Files, privileges and
children"). One subcommand per meson test:

  symlink     an output name that is a symbolic link is refused: the file
              it points to is untouched, the message names the link; the
              launcher refuses a fixed name before the program runs
  existing    an existing report is replaced, never truncated in place: a
              hard link to it keeps the old report; a directory is refused
  mode        new files are 0600 under umask 022 and 077, 0400 under 0277,
              also when they replace a 0644 file
  child-env   the reporter (at exit and on demand) runs without this
              library in LD_PRELOAD (the user's entries stay) and without
              any LEAKTRACE_* variable
  signal-uid  a report signal sent by another user is ignored (said once);
              the same signal sent by root makes the report

    check_files.py SUBCOMMAND --leaktrace build/leaktrace \\
        --preload build/libleaktrace.so --outdir DIR -- EXIT_CODE [SERVICE]

EXIT_CODE is examples/exit-code (leaks 20 bytes in remember(), exits 3),
SERVICE tests/integration/ondemand.c (runs for argv[1] ms). Exit status 0
pass, 1 fail, 77 skipped (signal-uid when not root).
"""

import argparse
import os
import re
import shutil
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_valgrind import clean_env  # noqa: E402
from ltcheck import Checker  # noqa: E402

SKIP = 77
TIMEOUT = 60
LOST = 'definitely lost: 20 bytes in 1 blocks'


def run(argv, env=None, umask=None, cwd=None):
    def child():
        if umask is not None:
            os.umask(umask)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env or clean_env(), timeout=TIMEOUT,
                       preexec_fn=child, cwd=cwd)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def read(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


def preload_env(a, options):
    env = clean_env()
    env['LD_PRELOAD'] = a.preload
    env['LEAKTRACE_TOOL'] = a.leaktrace
    env['LEAKTRACE_OPTIONS'] = options
    return env


def cmd_symlink(a, ck):
    d = a.outdir
    victim = os.path.join(d, 'victim.txt')
    with open(victim, 'w') as f:
        f.write('precious\n')
    for opt in ('log-file', 'xml-file', 'json-file', 'sarif-file', 'raw-file', 'write-baseline'):
        link = os.path.join(d, opt + '.link')
        os.symlink(victim, link)
        extra = ['--xml=yes'] if opt == 'xml-file' else []
        rc, out, err = run([a.leaktrace, '--%s=%s' % (opt, link)] + extra + [a.exit_code])
        ck.expect('launcher, --%s naming a symlink: exit 2 before the program runs, '
                  'one line naming the link' % opt,
                  rc == 2 and 'main started' not in out and err ==
                  "leaktrace: option '--%s': '%s' is a symbolic link (not followed; "
                  "name the file it points to)\n" % (opt, link), rc, out, err)
    # The same names reached at exit, where only the report can refuse
    # them: through LEAKTRACE_OPTIONS, which the launcher does not see.
    for opt, what in (('log_file', 'log file'), ('json_file', 'JSON file'),
                      ('xml_file', 'XML file'), ('write_baseline', 'baseline file')):
        link = os.path.join(d, opt + '.link')
        os.symlink(victim, link)
        extra = ':xml=yes' if opt == 'xml_file' else ''
        rc, out, err = run([a.exit_code], env=preload_env(a, '%s=%s%s' % (opt, link, extra)))
        msg = ("leaktrace: cannot create %s '%s': is a symbolic link (not followed; "
               "name the file it points to)" % (what, link))
        ck.expect('at exit, %s naming a symlink: refused with one line, the program\'s '
                  'status kept' % opt, rc == 3 and msg in err.splitlines(), rc, err)
        if opt == 'log_file':
            ck.expect('at exit, log_file refused: the report goes to stderr instead',
                      'leaktrace: writing the report to standard error instead' in err
                      and LOST in err, err)
    link = os.path.join(d, 'raw.link')
    os.symlink(victim, link)
    rc, out, err = run([a.exit_code], env=preload_env(a, 'raw_file=' + link))
    ck.expect('at exit, raw_file naming a symlink: refused (ELOOP), the report still made',
              rc == 3 and 'leaktrace: cannot write raw snapshot %s: ELOOP' % link in err
              and 'leaktrace: %s is a symbolic link (not followed; name the file it '
              'points to)' % link in err and LOST in err, rc, err)
    # A dangling link: nothing may be created where it points.
    ghost = os.path.join(d, 'ghost.txt')
    dangling = os.path.join(d, 'dangling.link')
    os.symlink(ghost, dangling)
    rc, out, err = run([a.exit_code], env=preload_env(a, 'json_file=' + dangling))
    ck.expect('a dangling symlink: nothing created where it points',
              not os.path.exists(ghost) and os.path.islink(dangling), err)
    ck.expect('the file behind every link untouched', read(victim) == 'precious\n',
              read(victim))
    # /dev/stderr and /dev/stdout are links only root can make, to the
    # process's own descriptors: followed, and appended to.
    rc, out, err = run([a.leaktrace, '--log-file=/dev/stderr', a.exit_code])
    ck.expect('--log-file=/dev/stderr: the report on standard error', rc == 3 and LOST in err
              and not [l for l in err.splitlines() if l.startswith('leaktrace:')], rc, err)
    stdout_file = os.path.join(d, 'stdout.txt')
    with open(stdout_file, 'w') as f:
        p = subprocess.run([a.leaktrace, '--log-file=/dev/stdout', a.exit_code], stdout=f,
                           stderr=subprocess.PIPE, env=clean_env(), timeout=TIMEOUT)
    text = read(stdout_file)
    ck.expect('--log-file=/dev/stdout redirected to a file: the program\'s output kept, '
              'the report after it', p.returncode == 3 and
              text.startswith('exit-code: main started\n') and LOST in text, text)


def cmd_existing(a, ck):
    d = a.outdir
    log = os.path.join(d, 'report.log')
    keep = os.path.join(d, 'report.keep')
    with open(log, 'w') as f:
        f.write('an earlier report\n')
    os.link(log, keep)
    rc, out, err = run([a.leaktrace, '--log-file=' + log, a.exit_code])
    text = read(log)
    ck.expect('an existing log file: replaced by the new report', rc == 3 and LOST in text
              and 'an earlier report' not in text, rc, err, text)
    ck.expect('its hard link keeps the earlier report (not truncated in place)',
              read(keep) == 'an earlier report\n', read(keep))
    ck.expect('no replacement file left behind', sorted(os.listdir(d)) ==
              ['report.keep', 'report.log'], os.listdir(d))
    # The same for JSON, and when the report is rendered offline.
    raw = os.path.join(d, 'r.snap')
    js = os.path.join(d, 'r.json')
    with open(js, 'w') as f:
        f.write('old')
    os.link(js, js + '.keep')
    rc, out, err = run([a.leaktrace, '--raw-file=' + raw, '--json-file=' + js, a.exit_code])
    ck.expect('an existing JSON file: replaced, its hard link keeps the old one',
              rc == 3 and read(js).startswith('{') and read(js + '.keep') == 'old', rc, err)
    log2 = os.path.join(d, 'again.log')
    for i in range(2):
        rc, out, err = run([a.leaktrace, 'report', '--log-file=' + log2, raw])
        ck.expect('leaktrace report run %d into the same --log-file: exit 0, one report' % (i + 1),
                  rc == 0 and read(log2).count('LEAK SUMMARY') == 1, rc, err)
    sub = os.path.join(d, 'adir')
    os.mkdir(sub)
    rc, out, err = run([a.exit_code], env=preload_env(a, 'json_file=' + sub))
    ck.expect('a directory named as the output: refused with one line',
              rc == 3 and "leaktrace: cannot create JSON file '%s': is a directory" % sub
              in err.splitlines(), rc, err)


def cmd_mode(a, ck):
    d = a.outdir
    outputs = {'log': '--log-file=%s/log.txt', 'xml': '--xml-file=%s/x.xml',
               'json': '--json-file=%s/j.json', 'sarif': '--sarif-file=%s/s.sarif',
               'raw': '--raw-file=%s/r.snap', 'baseline': '--write-baseline=%s/b.json'}
    for umask, want in ((0o022, 0o600), (0o077, 0o600), (0o277, 0o400)):
        sub = os.path.join(d, 'umask%03o' % umask)
        os.mkdir(sub)
        argv = [a.leaktrace, '--xml=yes'] + [o % sub for o in outputs.values()] + [a.exit_code]
        rc, out, err = run(argv, umask=umask)
        modes = {n: stat.S_IMODE(os.lstat(os.path.join(sub, f)).st_mode)
                 for n, f in (('log', 'log.txt'), ('xml', 'x.xml'), ('json', 'j.json'),
                              ('sarif', 's.sarif'), ('raw', 'r.snap'), ('baseline', 'b.json'))
                 if os.path.exists(os.path.join(sub, f))}
        ck.expect('umask %03o: every output file is %03o' % (umask, want),
                  rc == 3 and len(modes) == 6 and set(modes.values()) == {want},
                  rc, err, {k: '%03o' % v for k, v in modes.items()})
    # Replacing a 0644 file: the new one is 0600 all the same.
    old = os.path.join(d, 'old.json')
    with open(old, 'w') as f:
        f.write('{}')
    os.chmod(old, 0o644)
    rc, out, err = run([a.leaktrace, '--json-file=' + old, a.exit_code], umask=0o022)
    ck.expect('a 0644 file replaced by a report: 0600',
              stat.S_IMODE(os.stat(old).st_mode) == 0o600, oct(os.stat(old).st_mode))


PROBE = '''#!/bin/sh
{ printf 'ARGS:'; for a in "$@"; do printf ' %%s' "$a"; done; echo; env; } > %s.$$
'''


def probe_results(d):
    out = []
    for name in sorted(os.listdir(d)):
        if name.startswith('probe.out.'):
            text = read(os.path.join(d, name))
            args = text.splitlines()[0]
            env = dict(l.split('=', 1) for l in text.splitlines()[1:] if '=' in l)
            out.append((args, env))
    return out


def cmd_child_env(a, ck):
    d = a.outdir
    probe = os.path.join(d, 'probe.sh')
    with open(probe, 'w') as f:
        f.write(PROBE % os.path.join(d, 'probe.out'))
    os.chmod(probe, 0o755)
    env = clean_env()
    # trace_children=yes keeps our variables in the program's environment:
    # the reporter must still not get them.
    env.update({'LD_PRELOAD': 'libm.so.6 %s:libdl.so.2' % a.preload,
                'LEAKTRACE_TOOL': probe, 'LEAKTRACE_OPTIONS': 'trace_children=yes',
                'LEAKTRACE_TREE': '1:/nonexistent/errors', 'LEAKTRACE_EXTRA': 'x',
                'LT_USER_VARIABLE': 'kept'})
    rc, out, err = run([a.exit_code], env=env)
    res = probe_results(d)
    ck.expect('the reporter at exit ran once', rc == 3 and len(res) == 1, rc, err, res)
    if res:
        args, renv = res[0]
        ck.expect('its arguments: report --raw-fd=3 --tree=ROOT:PATH --delta-fd=4',
                  args == 'ARGS: report --raw-fd=3 --tree=1:/nonexistent/errors --delta-fd=4', args)
        ck.expect('its LD_PRELOAD: the user\'s entries, not this library',
                  renv.get('LD_PRELOAD') == 'libm.so.6:libdl.so.2', renv.get('LD_PRELOAD'))
        ck.expect('no LEAKTRACE_* variable, the user\'s variables kept',
                  not [k for k in renv if k.startswith('LEAKTRACE_')]
                  and renv.get('LT_USER_VARIABLE') == 'kept', sorted(renv))
    # Only this library in LD_PRELOAD: the variable goes altogether.
    for f in os.listdir(d):
        if f.startswith('probe.out.'):
            os.unlink(os.path.join(d, f))
    env['LD_PRELOAD'] = a.preload
    if not a.service:
        return
    p = subprocess.Popen([a.service, '1500'], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    time.sleep(0.5)
    os.kill(p.pid, 12)
    p.communicate(timeout=TIMEOUT)
    res = probe_results(d)
    ck.expect('on demand then at exit: two reporters', len(res) == 2, res)
    for args, renv in res:
        ck.expect('reporter %s: no LD_PRELOAD, no LEAKTRACE_*' % args,
                  'LD_PRELOAD' not in renv and not [k for k in renv if k.startswith('LEAKTRACE_')]
                  and args == 'ARGS: report --raw-fd=3 --tree=1:/nonexistent/errors --delta-fd=4',
                  sorted(renv))


def send_as(ruid, euid, pid, sig):
    """kill(pid, sig) from a child whose real uid is ruid, effective euid."""
    child = os.fork()
    if child == 0:
        try:
            os.setgroups([])
            os.setresgid(ruid, euid, euid)
            os.setresuid(ruid, euid, euid)
            os.kill(pid, sig)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status)


def cmd_signal_uid(a, ck):
    if os.geteuid() != 0:
        print('not root: cannot send a signal as another user: skipped')
        return SKIP
    d = a.outdir
    os.chmod(d, 0o777)
    # The service runs as uid 65534. kill(2) lets a sender whose real or
    # effective uid is the target's signal it: a set-user-ID program of
    # 65534's run by user 65533 (real 65533, effective 65534) may. Its
    # si_uid is its real uid, 65533: another user, to be ignored.

    def as_nobody():
        os.setgroups([])
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)
    log = os.path.join(d, 'log.%n.txt')
    env = clean_env()
    env.update({'LD_PRELOAD': a.preload, 'LEAKTRACE_TOOL': a.leaktrace,
                'LEAKTRACE_OPTIONS': 'log_file=' + log})
    p = subprocess.Popen([a.service, '2000'], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, preexec_fn=as_nobody, cwd=d)
    time.sleep(0.5)
    sent = send_as(65533, 65534, p.pid, 12)
    time.sleep(0.5)
    after_foreign = sorted(f for f in os.listdir(d) if f.startswith('log.'))
    sent_same = send_as(65534, 65534, p.pid, 12)     # the service's own user
    time.sleep(0.5)
    os.kill(p.pid, 12)                               # root
    _, err = p.communicate(timeout=TIMEOUT)
    err = err.decode('utf-8', 'replace')
    logs = sorted(f for f in os.listdir(d) if f.startswith('log.'))
    texts = [read(os.path.join(d, f)) for f in logs]
    ck.expect('uid 65533 (effective 65534) could send the signal: the kernel allowed it',
              sent == 0 and sent_same == 0, sent, sent_same)
    ck.expect('the signal from uid 65533 made no report', after_foreign == [], after_foreign)
    ck.expect('said once: "ignored a report signal sent by another user (uid 65533)"',
              err.count('leaktrace: ignored a report signal sent by another user '
                        '(uid 65533)\n') == 1 and err.count('ignored a report signal') == 1,
              err)
    ck.expect('the signals of uid 65534 and of root made reports, then the one at exit: '
              'three logs', logs == ['log.1.txt', 'log.2.txt', 'log.3.txt']
              and [t.count('in use now:') for t in texts] == [1, 1, 0]
              and 'in use at exit:' in texts[2], logs, err)


def main():
    argv = sys.argv[1:]
    cut = argv.index('--')
    ap = argparse.ArgumentParser()
    ap.add_argument('check')
    ap.add_argument('--leaktrace', required=True)
    ap.add_argument('--preload', required=True)
    ap.add_argument('--outdir', required=True)
    a = ap.parse_args(argv[:cut])
    progs = argv[cut + 1:]
    a.exit_code = os.path.abspath(progs[0])
    a.service = os.path.abspath(progs[1]) if len(progs) > 1 else None
    a.leaktrace = os.path.abspath(a.leaktrace)
    a.preload = os.path.abspath(a.preload)
    a.outdir = os.path.abspath(a.outdir)
    shutil.rmtree(a.outdir, ignore_errors=True)
    os.makedirs(a.outdir)
    ck = Checker()
    rc = {'symlink': cmd_symlink, 'existing': cmd_existing, 'mode': cmd_mode,
          'child-env': cmd_child_env, 'signal-uid': cmd_signal_uid}[a.check](a, ck)
    if rc == SKIP:
        return SKIP
    print('%d check(s) failed' % ck.failed if ck.failed else 'all checks passed')
    return 1 if ck.failed else 0


if __name__ == '__main__':
    sys.exit(main())
