#!/usr/bin/env python3
"""Reports while the program runs: `leaktrace signal PID` (the report
signal), the interval timer, %n and appended text logs, a program that
handles the report signal itself, and a refusal to signal an untraced
process.

    check_ondemand.py --leaktrace build/leaktrace --outdir DIR -- PROG
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ltcheck  # noqa: E402


def expect(failures, what, ok, detail=''):
    """These checks also show what a passing check saw."""
    ltcheck.expect(failures, what, ok, detail, show_passing=True)


def lost_counts(log):
    """Definitely lost blocks of each report in the log, in order (later
    reports have valgrind's deltas: "1,000 (+500) bytes in 10 (+5)")."""
    return [int(m.group(1).replace(',', '')) for m in
            re.finditer(r'definitely lost: [\d,]+(?: \([+-][\d,]+\))? bytes in ([\d,]+)', log)]


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

    # Two reports on demand, then the one at exit: one log, %n snapshots.
    log = os.path.join(d, 'log.txt')
    p = subprocess.Popen([lt, '--log-file=' + log, '--raw-file=' + os.path.join(d, 'r.%n.snap'),
                          '--json-file=' + os.path.join(d, 'j.%n.json'),
                          prog, '1500'], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    signals = []
    for delay in (0.4, 0.4):
        time.sleep(delay)
        r = subprocess.run([lt, 'signal', str(p.pid)], env=env, capture_output=True, text=True)
        signals.append((r.returncode, r.stderr.strip()))
    out, err = p.communicate(timeout=60)
    text = open(log).read() if os.path.exists(log) else ''
    headers = re.findall(r'leaktrace report (\d+) of this process, ([a-z ]+),', text)
    expect(failures, 'leaktrace signal: exit 0, one line each',
           all(rc == 0 and 'asked process %d' % p.pid in e for rc, e in signals), signals)
    expect(failures, 'the program ran to its end, its status and output its own',
           p.returncode == 4 and out == b'done\n', 'exit %d, stdout %r' % (p.returncode, out))
    expect(failures, 'three reports in one log: two on the signal, then at exit',
           [h[1] for h in headers] == ['on the report signal', 'on the report signal', 'at exit']
           and [h[0] for h in headers] == ['1', '2', '3'], headers)
    counts = lost_counts(text)
    expect(failures, 'lost blocks grow from report to report (the service leaks every 10 ms)',
           len(counts) == 3 and 0 < counts[0] < counts[1] < counts[2] <= 151, counts)
    expect(failures, 'mid-run reports say "in use now", the exit one "in use at exit"',
           text.count('in use now:') == 2 and text.count('in use at exit:') == 1)
    mem = re.findall(r'process memory: VSS ([\d,]+) kB, RSS ([\d,]+) kB, PSS ([\d,]+) kB, '
                     r'USS ([\d,]+) kB, swap ([\d,?]+) kB', text)
    expect(failures, 'each report states the process memory (VSS >= RSS >= PSS >= USS > 0)',
           len(mem) == 3 and all(int(v.replace(',', '')) >= int(r.replace(',', '')) >=
                                 int(p_.replace(',', '')) >= int(u.replace(',', '')) > 0
                                 for v, r, p_, u, _ in mem), mem)
    snaps = sorted(glob.glob(os.path.join(d, 'r.*.snap')))
    expect(failures, 'raw_file with %n: one snapshot per report',
           [os.path.basename(s) for s in snaps] == ['r.1.snap', 'r.2.snap', 'r.3.snap'], snaps)
    r = subprocess.run([lt, 'report', '--log-file=' + os.path.join(d, 'again.txt'), snaps[0]]
                       if snaps else ['false'], env=env, capture_output=True, text=True)
    again = open(os.path.join(d, 'again.txt')).read() if snaps else ''
    expect(failures, 'a mid-run snapshot renders again the same verdicts',
           r.returncode == 0 and lost_counts(again)[:1] == counts[:1], lost_counts(again))

    # What grew: diff of two reports, trend over the three.
    js = [os.path.join(d, 'j.%d.json' % i) for i in (1, 2, 3)]
    leak_line = next(n for n, text in enumerate(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ondemand.c')), 1)
                     if 'sink = malloc(100)' in text)
    leak_site = re.compile(r'^\s+\+([\d,]+)\s+([\d,]+)\s+\+(\d+)\s+lost\s+'
                           r'malloc \(interpose\.c:\d+\) <- main \(ondemand\.c:%d\)' % leak_line, re.M)
    r = subprocess.run([lt, 'diff', js[0], js[2]], env=env, capture_output=True, text=True)
    m = leak_site.search(r.stdout)
    expect(failures, 'leaktrace diff: the leaking site grew, lost, by 100 bytes a block',
           r.returncode == 0 and m is not None and
           int(m.group(1).replace(',', '')) == 100 * int(m.group(3)) > 0 and
           'ondemand.c' in r.stdout and 'churn' not in r.stdout and 'USS' in r.stdout,
           r.stdout + r.stderr)
    r = subprocess.run([lt, 'trend'] + js, env=env, capture_output=True, text=True)
    expect(failures, 'leaktrace trend: the site grew at every report',
           r.returncode == 0 and leak_site.search(r.stdout) is not None and
           'grew or held at each of the 3 reports' in r.stdout, r.stdout + r.stderr)
    r = subprocess.run([lt, 'diff', js[0], log], env=env, capture_output=True, text=True)
    expect(failures, 'leaktrace diff on something else than a JSON report: exit 1, one line',
           r.returncode == 1 and r.stderr.count('\n') == 1 and log in r.stderr, r.stderr)

    # The interval timer.
    log2 = os.path.join(d, 'interval.%n.txt')
    p = subprocess.run([lt, '--interval=1', '--log-file=' + log2, prog, '2500'], env=env,
                       capture_output=True, timeout=60)
    files = sorted(glob.glob(os.path.join(d, 'interval.*.txt')))
    first = open(files[0]).read() if files else ''
    # At least 2.5 s: on a loaded machine the program's 250 sleeps of
    # 10 ms take longer, and the timer has time for a third report.
    expect(failures, 'interval=1 over 2.5 s or more: periodic reports and the exit one, each its own file',
           p.returncode == 4 and 3 <= len(files) <= 5 and 'on the interval timer' in first, files)

    # The program's own handler for the report signal keeps working.
    p = subprocess.run([lt, prog, '0', 'own-handler'], env=env, capture_output=True,
                       text=True, timeout=60)
    expect(failures, 'a program handling SIGUSR2 itself: its handler runs, we say so once',
           p.returncode == 0 and p.stdout == 'own handler ran: yes\n' and
           p.stderr.count('handles signal 12 itself') == 1, p.stderr[-300:])

    # An untraced process is never signalled.
    s = subprocess.Popen(['sleep', '30'])
    r = subprocess.run([lt, 'signal', str(s.pid)], env=env, capture_output=True, text=True)
    alive = s.poll() is None
    s.kill()
    expect(failures, 'leaktrace signal on an untraced process: exit 1, not signalled',
           r.returncode == 1 and 'not traced by leaktrace' in r.stderr and alive, r.stderr)

    print('ondemand: %s' % ('FAILED (%d)' % len(failures) if failures else 'ok'))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
