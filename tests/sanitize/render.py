#!/usr/bin/env python3
"""The report side under the sanitizers: every example is traced with the
plain build, and its raw snapshot rendered by another build of the
leaktrace command (make check-sanitize: AddressSanitizer and
UndefinedBehaviorSanitizer) into every format at once, with suppression
files of both syntaxes, then against the baseline it wrote. The renderer
must exit 0 with the exact figures of the plain build's own report, and
no sanitizer may say a word.

    render.py --plain build/leaktrace --reporter build-asan/leaktrace \\
        --examples build/examples --supp-dir tests/fuzz/corpus/suppressions \\
        --outdir DIR
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

SANITIZER = re.compile(r'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:|'
                       r'SUMMARY: (Address|UndefinedBehavior)Sanitizer')
SUMMARY = re.compile(r'^==\d+== +((?:definitely lost|indirectly lost|possibly lost|'
                     r'still reachable|suppressed|in use at exit|total heap usage): .*|'
                     r'All heap blocks were freed .*)$', re.M)


def env():
    e = dict(os.environ)
    for k in ('LD_PRELOAD', 'LEAKTRACE_OPTIONS'):
        e.pop(k, None)
    e['LC_ALL'] = 'C'
    return e


def run(argv):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env(), timeout=120)
    return p.returncode, p.stderr.decode('utf-8', 'replace')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--plain', required=True)
    ap.add_argument('--reporter', required=True)
    ap.add_argument('--examples', required=True)
    ap.add_argument('--supp-dir', required=True)
    ap.add_argument('--outdir', required=True)
    a = ap.parse_args()
    shutil.rmtree(a.outdir, ignore_errors=True)
    os.makedirs(a.outdir)
    supps = sorted(os.path.join(a.supp_dir, f) for f in os.listdir(a.supp_dir))
    failed = 0
    names = sorted(f for f in os.listdir(a.examples)
                   if os.access(os.path.join(a.examples, f), os.X_OK) and
                   not f.endswith('.so') and not f.startswith('many-allocs') and
                   os.path.isfile(os.path.join(a.examples, f)))
    for name in names:
        prog = [os.path.join(a.examples, name)]
        if name.startswith('dlopen-leak'):
            prog.append(os.path.join(a.examples, 'leakplugin%s.so' % name[len('dlopen-leak'):]))
        d = os.path.join(a.outdir, name)
        os.makedirs(d)
        raw = os.path.join(d, 'raw.snap')
        rc, traced = run([a.plain, '--show-leak-kinds=all', '--raw-file=' + raw] + prog)
        want = SUMMARY.findall(traced)
        outs = ['--xml=yes', '--xml-file=' + os.path.join(d, 'r.xml'),
                '--json-file=' + os.path.join(d, 'r.json'),
                '--sarif-file=' + os.path.join(d, 'r.sarif'),
                '--write-baseline=' + os.path.join(d, 'b.json'),
                '--log-file=' + os.path.join(d, 'r.txt')]
        rc1, err1 = run([a.reporter, 'report', '--show-leak-kinds=all',
                         '--gen-suppressions=all'] + outs + [raw])
        text = open(os.path.join(d, 'r.txt')).read() if os.path.exists(
            os.path.join(d, 'r.txt')) else ''
        rc2, err2 = run([a.reporter, 'report', '--show-leak-kinds=all',
                         '--baseline=' + os.path.join(d, 'b.json')] +
                        ['--suppressions=' + s for s in supps] + [raw])
        problems = []
        if not os.path.exists(raw):
            problems.append('no raw snapshot (exit %s): %s' % (rc, traced[-500:]))
        if rc1 != 0 or rc2 != 0:
            problems.append('renderer exit %d, %d' % (rc1, rc2))
        if SUMMARY.findall(text) != want or not want:
            problems.append('figures differ: %r vs %r' % (SUMMARY.findall(text), want))
        for err in (err1, err2):
            if SANITIZER.search(err):
                problems.append(err[-3000:])
        print('[%s] %s: rendered in every format, again with baseline and suppressions'
              % ('FAIL' if problems else 'PASS', name))
        for p in problems:
            print('       ' + p.replace('\n', '\n       '))
        failed += bool(problems)
    print('%d example(s) failed' % failed if failed else 'all %d examples passed' % len(names))
    return 1 if failed or not names else 0


if __name__ == '__main__':
    sys.exit(main())
