#!/usr/bin/env python3
"""How long a report on demand pauses the program: 1M live blocks of 1 KiB
(a 1 GiB heap), five reports, each measured from inside the program
(bench/pause.c): the thread that asked (kill to itself; the handler runs on
it) and another thread spinning on clock_gettime. Run twice: as the
program is, and with glibc's malloc on transparent huge pages
(GLIBC_TUNABLES=glibc.malloc.hugetlb=1), which makes fork's page-table
copy, the bulk of the pause, about 512 times smaller.

    make pause-bench
    PAUSE_BLOCKS=262144 python3 bench/pause.py

Environment: PAUSE_BLOCKS (1048576), PAUSE_SIZE (1024), PAUSE_REPORTS (5),
BENCH_BUILD (build). Also measures a plain fork of the same heap without
leaktrace, the floor of any fork-based report. Not part of make check.
"""
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = (ROOT / os.environ.get("BENCH_BUILD", "build")).resolve()
OUT = BUILD / "bench" / "pause"
BLOCKS = int(os.environ.get("PAUSE_BLOCKS", str(1 << 20)))
SIZE = int(os.environ.get("PAUSE_SIZE", "1024"))
REPORTS = int(os.environ.get("PAUSE_REPORTS", "5"))


def clean_env(extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LD_", "LEAKTRACE_", "MALLOC_", "GLIBC_TUNABLES"))}
    env.update(extra)
    return env


def run(prog, extra_env):
    """[(asking thread ms, other thread ms)] per report."""
    p = subprocess.run([str(BUILD / "leaktrace"), "--log-file=/dev/null", "--leak-check=summary",
                        str(prog), str(BLOCKS), str(SIZE), str(REPORTS), "4"],
                       env=clean_env(extra_env), capture_output=True, text=True, timeout=600)
    if p.returncode:
        sys.exit("pause: the program failed (status %d): %s" % (p.returncode, p.stderr[-500:]))
    return [(float(a), float(b)) for a, b in
            re.findall(r"asking thread paused ([\d.]+) ms, other thread ([\d.]+) ms", p.stdout)]


def fork_floor(prog, extra_env):
    p = subprocess.run([str(prog), str(BLOCKS), str(SIZE), "fork"], env=clean_env(extra_env),
                       capture_output=True, text=True, timeout=600)
    return [float(x) for x in re.findall(r"fork ([\d.]+) ms", p.stdout)]


def line(name, pauses, floor):
    ask = [a for a, _ in pauses]
    other = [b for _, b in pauses]
    return ("| %s | %.0f ms (%.0f-%.0f) | %.0f ms (%.0f-%.0f) | %.0f ms |"
            % (name, statistics.median(ask), min(ask), max(ask),
               statistics.median(other), min(other), max(other),
               statistics.median(floor) if floor else float("nan")))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    prog = OUT / "pause"
    subprocess.run(["gcc", "-O2", "-g", "-pthread", str(ROOT / "bench" / "pause.c"), "-o",
                    str(prog)], check=True)
    rows = []
    for name, env in (("as is (4 KiB pages)", {}),
                      ("GLIBC_TUNABLES=glibc.malloc.hugetlb=1",
                       {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"})):
        pauses = run(prog, env)
        rows.append(line(name, pauses, fork_floor(prog, env)))
        print(rows[-1], file=sys.stderr, flush=True)
    load = os.getloadavg()
    print("Pause per report on demand, %d live blocks of %d bytes (%.2f GiB), median of %d "
          "reports (min-max); load average %.2f:" % (BLOCKS, SIZE, BLOCKS * SIZE / 2**30,
                                                     REPORTS, load[0]))
    print()
    print("| heap | thread that asked | other thread | plain fork, no leaktrace |")
    print("|---|---:|---:|---:|")
    for r in rows:
        print(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
