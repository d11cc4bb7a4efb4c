#!/usr/bin/env python3
"""Deltas between the reports of one process: two reports on demand while
the program runs (at points where its heap is known exactly), then the one
at exit; valgrind's "(+N)" figures, delta=increased, the JSON's previous
figures and `leaktrace diff` of the two mid-run JSON reports.

    check_delta.py --leaktrace build/leaktrace --outdir DIR -- PROG
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ltcheck  # noqa: E402


expect = ltcheck.expect


def wait_for_reports(path, n, timeout=30):
    """Until the log holds n complete reports (n ERROR SUMMARY lines)."""
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and open(path).read().count('ERROR SUMMARY:') >= n:
            return True
        time.sleep(0.05)
    return False


def run(lt, prog, d, name, extra, env):
    """The program in three phases, a report asked for after each of the
    first two. Returns (stdout, exit status, [report texts])."""
    log = os.path.join(d, name + '.log')
    p = subprocess.Popen([lt, '--show-leak-kinds=all', '--log-file=' + log,
                          '--json-file=' + os.path.join(d, name + '.%n.json')] + extra + [prog],
                         env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    out = []
    for n in (1, 2):
        out.append(p.stdout.readline())
        subprocess.run([lt, 'signal', str(p.pid)], env=env, capture_output=True, timeout=30)
        wait_for_reports(log, n)
        p.stdin.write('\n')
        p.stdin.flush()
    rest, _ = p.communicate(timeout=60)
    text = open(log).read() if os.path.exists(log) else ''
    reports = re.split(r'(?m)^==\d+== leaktrace report \d+ of this process.*\n', text)[1:]
    return ''.join(out) + rest, p.returncode, reports


# Record 4 of 4 is stdout's buffer, hidden by the default suppressions.
def records(report):
    """The loss record lines of a text report, without the pid prefix."""
    return [re.sub(r'^==\d+== ', '', l) for l in report.splitlines()
            if ' in loss record ' in l]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--leaktrace', required=True)
    ap.add_argument('--outdir', required=True)
    argv = sys.argv[1:]
    cut = argv.index('--')
    a = ap.parse_args(argv[:cut])
    prog = os.path.abspath(argv[cut + 1])
    lt = os.path.abspath(a.leaktrace)
    d = os.path.abspath(a.outdir)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    failures = []
    env = dict(os.environ)
    for k in ('LD_PRELOAD', 'LEAKTRACE_OPTIONS'):
        env.pop(k, None)

    # delta=any (the default): every record, with its deltas after the first.
    out, status, reps = run(lt, prog, d, 'any', [], env)
    expect(failures, 'the program ran through its phases, its output and status its own',
           out == 'phase 1\nphase 2\ndone\n' and status == 0, (out, status))
    expect(failures, 'three reports: two on demand, one at exit', len(reps) == 3, len(reps))
    reps += [''] * (3 - len(reps))
    first, second, last = (records(r) for r in reps)
    expect(failures, 'the first report has no deltas',
           '(+' not in reps[0] and '(-' not in reps[0] and
           first == ['64 bytes in 1 blocks are still reachable in loss record 1 of 4',
                     '192 bytes in 4 blocks are still reachable in loss record 2 of 4',
                     '300 bytes in 3 blocks are definitely lost in loss record 3 of 4'], first)
    expect(failures, 'the second report: both sites grew, by exact figures; the start-up block did not',
           second == ['64 (+0) bytes in 1 (+0) blocks are still reachable in loss record 1 of 4',
                      '480 (+288) bytes in 10 (+6) blocks are still reachable in loss record 2 of 4',
                      '500 (+200) bytes in 5 (+2) blocks are definitely lost in loss record 3 of 4'],
           second)
    expect(failures, 'its LEAK SUMMARY has the deltas too',
           re.search(r'definitely lost: 500 \(\+200\) bytes in 5 \(\+2\) blocks\n.*'
                     r'indirectly lost: 0 \(\+0\) bytes in 0 \(\+0\) blocks\n.*'
                     r'possibly lost: 0 \(\+0\) bytes in 0 \(\+0\) blocks\n.*'
                     r'still reachable: [\d,]+ \(\+288\) bytes in [\d,]+ \(\+6\) blocks\n.*'
                     r'suppressed: [\d,]+ \(\+0\) bytes in [\d,]+ \(\+0\) blocks', reps[1])
           is not None, reps[1][-900:])
    expect(failures, 'the exit report is complete, with its deltas',
           last == ['64 (+0) bytes in 1 (+0) blocks are still reachable in loss record 1 of 4',
                    '480 (+0) bytes in 10 (+0) blocks are still reachable in loss record 2 of 4',
                    '600 (+100) bytes in 6 (+1) blocks are definitely lost in loss record 3 of 4']
           and 'at exit' in open(os.path.join(d, 'any.log')).read(), last)
    js = [os.path.join(d, 'any.%d.json' % i) for i in (1, 2)]
    try:
        j2 = json.load(open(js[1]))
        prev = {r['kind'] + ' ' + str(r['bytes']): r.get('previous') for r in j2['records']}
    except (OSError, ValueError, KeyError) as e:
        j2, prev = {}, str(e)
    expect(failures, "JSON: each record's previous figures, and the report they come from",
           j2.get('previous_sequence') == 1 and
           prev.get('definitely-lost 500') == {'bytes': 300, 'direct_bytes': 300,
                                                'indirect_bytes': 0, 'blocks': 3} and
           prev.get('still-reachable 480') == {'bytes': 192, 'direct_bytes': 192,
                                               'indirect_bytes': 0, 'blocks': 4}, prev)
    r = subprocess.run([lt, 'diff'] + js, env=env, capture_output=True, text=True)
    expect(failures, 'leaktrace diff of the two mid-run reports names both sites',
           r.returncode == 0 and 'leak_blocks (delta.c:' in r.stdout and
           'grow_list (delta.c:' in r.stdout, r.stdout + r.stderr)

    # delta=increased: mid-run reports show only what is new or grew.
    out, status, reps = run(lt, prog, d, 'increased', ['--delta=increased'], env)
    reps += [''] * (3 - len(reps))
    first, second, last = (records(r) for r in reps)
    expect(failures, 'delta=increased: the first report shows everything',
           len(first) == 3 and '(+' not in reps[0], first)
    expect(failures, 'delta=increased: the second shows the grown records only, and counts them',
           second == ['480 (+288) bytes in 10 (+6) blocks are still reachable in loss record 2 of 4',
                      '500 (+200) bytes in 5 (+2) blocks are definitely lost in loss record 3 of 4']
           and 'ERROR SUMMARY: 1 errors from 1 contexts' in reps[1], second)
    expect(failures, 'delta=increased: the exit report is still complete',
           len(last) == 3 and out == 'phase 1\nphase 2\ndone\n', last)
    out, status, reps = run(lt, prog, d, 'inc-def', ['--delta=increased',
                                                     '--show-leak-kinds=definite'], env)
    reps += [''] * (3 - len(reps))
    expect(failures, 'delta=increased with show-leak-kinds=definite: the grown lost record only',
           records(reps[1]) == ['500 (+200) bytes in 5 (+2) blocks are definitely lost '
                                'in loss record 3 of 4'], records(reps[1]))

    # A forked child starts afresh: no deltas against its parent's figures.
    p = subprocess.run([lt, '--log-file=' + os.path.join(d, 'fork.%p.log'), prog, 'fork'],
                       env=env, capture_output=True, text=True, timeout=60)
    logs = {}
    end = time.time() + 30
    while time.time() < end:
        logs = {f: open(os.path.join(d, f)).read() for f in os.listdir(d)
                if f.startswith('fork.')}
        if len(logs) == 2 and all(t.count('ERROR SUMMARY:') == 2 for t in logs.values()):
            break
        time.sleep(0.1)
    child = [t for t in logs.values() if 'in use now: 400 bytes in 4 blocks' in t]
    parent = [t for t in logs.values() if 'in use now: 300 bytes in 3 blocks' in t]
    split = r'(?m)^==\d+== leaktrace report \d+ of this process.*\n'
    creps = re.split(split, child[0])[1:] if child else []
    preps = re.split(split, parent[0])[1:] if parent else []
    expect(failures, "a forked child's first report has no deltas, its exit report has its own",
           p.returncode == 0 and len(creps) == 2 and '(+' not in creps[0] and
           '(-' not in creps[0] and
           '300 (+0) bytes in 3 (+0) blocks are definitely lost' in creps[1] and
           'definitely lost: 400 (+' in creps[1], creps)
    expect(failures, "the parent's exit report has deltas against its own report only",
           len(preps) == 2 and '(+' not in preps[0] and
           '300 (+0) bytes in 3 (+0) blocks are definitely lost' in preps[1], preps)

    print('delta: %s' % ('FAILED (%d)' % len(failures) if failures else 'ok'))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
