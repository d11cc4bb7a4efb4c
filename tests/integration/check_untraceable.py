#!/usr/bin/env python3
"""Programs LD_PRELOAD cannot reach: the leaktrace command says so before
running them (exit 2, one line naming the reason), never runs them
untraced.

    check_untraceable.py --leaktrace build/leaktrace --outdir DIR --source SRC.c
"""
import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ltcheck  # noqa: E402

SKIP = 77


def run(argv):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def expect(failures, what, ok, detail=''):
    """These checks also show what a passing check saw."""
    ltcheck.expect(failures, what, ok, detail, show_passing=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--leaktrace', required=True)
    ap.add_argument('--outdir', required=True)
    ap.add_argument('--source', required=True)
    a = ap.parse_args()
    shutil.rmtree(a.outdir, ignore_errors=True)
    os.makedirs(a.outdir)
    failures = []

    static = os.path.join(a.outdir, 'static-prog')
    rc, out, err = run(['cc', '-static', '-o', static, a.source])
    if rc != 0:
        print('cannot link a static program here (no libc.a): ' + err)
        return SKIP
    rc, out, err = run([a.leaktrace, static])
    expect(failures, 'static executable: exit 2, one line, not run',
           rc == 2 and err.count('\n') == 1 and 'statically linked' in err and
           static in err and out == '', 'exit %d; stderr: %s; stdout: %r' % (rc, err, out))

    if os.geteuid() == 0:
        suid = os.path.join(a.outdir, 'setuid-prog')
        rc, out, err = run(['cc', '-o', suid, a.source])
        os.chown(suid, 65534, 65534)      # nobody: setuid to someone else
        os.chmod(suid, 0o4755)
        rc, out, err = run([a.leaktrace, suid])
        expect(failures, 'setuid executable of another user: exit 2, one line, not run',
               rc == 2 and err.count('\n') == 1 and 'setuid' in err and out == '',
               'exit %d; stderr: %s; stdout: %r' % (rc, err, out))
    else:
        print('[SKIP] setuid check: needs root to give the program to another user')

    print('untraceable: %s' % ('FAILED (%d)' % len(failures) if failures else 'ok'))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
