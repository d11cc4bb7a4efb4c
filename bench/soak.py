#!/usr/bin/env python3
"""Soak test of reports while the program runs: THREADS threads allocate
and free without pause while leaktrace takes a report every 100 ms
(interval_ms=100), for SOAK_SECONDS (default 180). Passes when the program
ends on its own (no deadlock: it must finish within SOAK_SECONDS + 120 s;
no crash: exit status 0), every report was written (one per sequence
number, each complete), and the exit report's "total heap usage" equals
the program's own count of its malloc and free calls plus what the C
library allocates itself (measured by a short run without reports):
nothing lost.

    make soak                        # SOAK_SECONDS=180 by default
    SOAK_SECONDS=20 python3 bench/soak.py

Environment: SOAK_SECONDS, SOAK_THREADS (4), SOAK_INTERVAL_MS (100),
BENCH_BUILD (build). Files go to BUILD/bench/soak/. Not part of make check.
"""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = (ROOT / os.environ.get("BENCH_BUILD", "build")).resolve()
OUT = BUILD / "bench" / "soak"
SECONDS = float(os.environ.get("SOAK_SECONDS", "180"))
THREADS = int(os.environ.get("SOAK_THREADS", "4"))
INTERVAL_MS = int(os.environ.get("SOAK_INTERVAL_MS", "100"))


def run_traced(prog, log, seconds, extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LD_", "LEAKTRACE_", "MALLOC_"))}
    start = time.monotonic()
    p = subprocess.run([str(BUILD / "leaktrace"), "--log-file=" + str(log)] + extra +
                       [str(prog), str(seconds), str(THREADS)], env=env,
                       capture_output=True, text=True, timeout=seconds + 120)
    took = time.monotonic() - start
    m = re.match(r"soak: (\d+) allocs, (\d+) frees", p.stdout)
    own = (int(m.group(1)), int(m.group(2))) if m else None
    return p, own, took


def reports(log):
    """{sequence: (reason, report text)} of every complete report in log."""
    text = log.read_text() if log.exists() else ""
    out = {}
    parts = re.split(r"(?m)^==\d+== leaktrace report (\d+) of this process, ([a-z ]+),.*\n", text)
    for i in range(1, len(parts) - 2, 3):
        out[int(parts[i])] = (parts[i + 1], parts[i + 2])
    first = text.split("leaktrace report 2 of this process")[0]
    if "ERROR SUMMARY" in first and 1 not in out:
        out[1] = ("first", first)   # the first report has no header line
    return out


def heap_usage(report):
    m = re.search(r"total heap usage: ([\d,]+) allocs, ([\d,]+) frees", report)
    return (int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))) if m else None


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    prog = OUT / "soak"
    subprocess.run(["gcc", "-O2", "-g", "-pthread", str(ROOT / "bench" / "soak.c"), "-o",
                    str(prog)], check=True)
    failures = []

    def expect(what, ok, detail=""):
        print("[%s] %s%s" % ("PASS" if ok else "FAIL", what,
                             (": " + str(detail)) if detail and not ok else ""), flush=True)
        if not ok:
            failures.append(what)

    # What the C library allocates itself (stdio, threads): a short run
    # with no report but the one at exit.
    base_log = OUT / "baseline.log"
    base_log.unlink(missing_ok=True)
    p, own, _ = run_traced(prog, base_log, 0.5, [])
    base = heap_usage(base_log.read_text()) if base_log.exists() else None
    if p.returncode or not own or not base:
        sys.exit("soak: the baseline run failed (status %d): %s" % (p.returncode, p.stderr[-500:]))
    libc = (base[0] - own[0], base[1] - own[1])

    log = OUT / "soak.log"
    log.unlink(missing_ok=True)
    print("soak: %d threads, a report every %d ms, %g s (libc's own: %d allocs, %d frees)"
          % (THREADS, INTERVAL_MS, SECONDS, libc[0], libc[1]), flush=True)
    p, own, took = run_traced(prog, log, SECONDS, ["--interval-ms=%d" % INTERVAL_MS])
    expect("the program ended on its own, status 0, in %.1f s" % took,
           p.returncode == 0 and own is not None, p.stderr[-500:])
    # Reporters of mid-run reports run on after the program (they are not
    # its children): wait until every report is in the log.
    deadline = time.monotonic() + 120
    while True:
        reps = reports(log)
        last = max((s for s, (why, _) in reps.items() if why == "at exit"), default=0)
        if (last and len(reps) >= last) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    periodic = sum(1 for why, _ in reps.values() if why == "on the interval timer")
    expect("every report written: %d, %d of them periodic (%.1f per second)"
           % (len(reps), periodic, periodic / max(SECONDS, 0.001)),
           last and sorted(reps) == list(range(1, last + 1)) and
           all("ERROR SUMMARY" in r for _, r in reps.values()),
           "missing %s" % sorted(set(range(1, last + 1)) - set(reps)))
    final = heap_usage(reps[last][1]) if last else None
    want = (own[0] + libc[0], own[1] + libc[1]) if own else None
    expect("the exit report's total heap usage equals the program's own count "
           "(%s allocs, %s frees)" % (want or ("?", "?")), final == want,
           "report says %s" % (final,))
    print("soak: %s" % ("FAILED (%d)" % len(failures) if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
