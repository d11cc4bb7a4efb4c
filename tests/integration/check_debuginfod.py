#!/usr/bin/env python3
"""The reporter and libdebuginfod: libdw opens the debuginfod client, and
the twenty libraries it needs, the first time a module has no local debug
file. With DEBUGINFOD_URLS unset the client asks no server, so the
leaktrace command declines to load it; with servers named it is loaded
as before. The report is the same either way.

The snapshot is /bin/ls's (stripped, its debug file not installed), kept
with --raw-file and rendered three times: without DEBUGINFOD_URLS, with
it empty, and with it naming a port where nothing listens (the client
then fails at once; its cache goes to the output directory).

    check_debuginfod.py --leaktrace build/leaktrace --outdir DIR

Exit status 0 pass, 1 fail, 77 skipped (no libdebuginfod here: nothing
to decline).
"""

import argparse
import ctypes
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_valgrind import clean_env  # noqa: E402
from ltcheck import Checker  # noqa: E402

SKIP = 77
TIMEOUT = 60
PROGRAM = '/bin/ls'


def have_client():
    try:
        ctypes.CDLL('libdebuginfod.so.1')
        return True
    except OSError:
        return False


def render(lt, snap, outdir, name, urls):
    env = clean_env()
    env.pop('DEBUGINFOD_URLS', None)
    if urls is not None:
        env['DEBUGINFOD_URLS'] = urls
    env['DEBUGINFOD_CACHE_PATH'] = os.path.join(outdir, 'client-cache')
    env['DEBUGINFOD_TIMEOUT'] = '5'
    env['LD_DEBUG'] = 'files'
    log = os.path.join(outdir, name + '.txt')
    r = subprocess.run([lt, 'report', '--log-file=' + log, '--symbol-cache=no', snap],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, timeout=TIMEOUT)
    loaded = sorted(set(re.findall(r'file=(\S*debuginfod\S*)', r.stderr)))
    with open(log) as f:
        report = re.sub(r'^==\d+==', '==PID==', f.read(), flags=re.M)
    return r.returncode, loaded, report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--leaktrace', required=True)
    ap.add_argument('--outdir', required=True)
    args = ap.parse_args()
    if not have_client():
        print('skipped: no libdebuginfod.so.1 on this machine')
        return SKIP
    shutil.rmtree(args.outdir, ignore_errors=True)
    os.makedirs(args.outdir)
    snap = os.path.join(args.outdir, 'ls.snap')
    env = clean_env()
    env.pop('DEBUGINFOD_URLS', None)
    subprocess.run([args.leaktrace, '--raw-file=' + snap, '--log-file=/dev/null', '--',
                    PROGRAM, '/'], env=env, stdout=subprocess.DEVNULL, timeout=TIMEOUT,
                   check=True)
    c = Checker()
    unset = render(args.leaktrace, snap, args.outdir, 'unset', None)
    empty = render(args.leaktrace, snap, args.outdir, 'empty', '')
    named = render(args.leaktrace, snap, args.outdir, 'named', 'http://127.0.0.1:9/')
    for name, (rc, loaded, _) in (('unset', unset), ('empty', empty)):
        c.expect('DEBUGINFOD_URLS %s: rendered, libdebuginfod not loaded' % name,
                 rc == 0 and not loaded, 'status %d' % rc, *loaded)
    c.expect('DEBUGINFOD_URLS naming a server: libdebuginfod loaded',
             named[0] == 0 and any('libdebuginfod' in f for f in named[1]),
             'status %d' % named[0], 'loaded: %s' % (named[1] or 'nothing'))
    c.expect('the same report all three ways',
             unset[2] == empty[2] == named[2] and 'HEAP SUMMARY' in unset[2])
    return 1 if c.failed else 0


if __name__ == '__main__':
    sys.exit(main())
