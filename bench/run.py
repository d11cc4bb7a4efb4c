#!/usr/bin/env python3
"""Overhead of leaktrace next to LeakSanitizer, heaptrack and valgrind.

    make bench                      # installs what is missing, builds, runs this
    python3 bench/run.py            # the same, once build/ exists

Environment:
    BENCH_QUICK=1          1-1.5 minutes: inputs x0.25, fewer rounds
    BENCH_ONLY=a,b         only these workloads (names as in the table;
                           "exitreport" for the exit-report section)
    BENCH_TOOLS=a,b        only these tools: leaktrace, leaktrace-rec, lsan,
                           lsan-dwarf, heaptrack, valgrind
    BENCH_ROUNDS=N         rounds of the fast tools (default 5, quick 2)
    BENCH_TIMEOUT=S        limit per run in seconds (default 120)
    BENCH_BUILD=DIR        build directory (default build)

Each workload runs untraced and under every tool round-robin: one run of
each per round, in an order that rotates from round to round, so drift in
the machine's load reaches every column alike. A ratio is the median over
rounds of (tool run / untraced run of the same round), with the min and max
of those paired ratios beside it. bench/README.md says how to read them.

Writes the Markdown tables to stdout and to BUILD/bench/results.md;
progress goes to stderr.
"""
import datetime
import glob
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


def env_int(name, default):
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        sys.exit("bench: %s=%r is not a number" % (name, value))


ROOT = Path(__file__).resolve().parent.parent
WORKLOAD_DIR = ROOT / "bench" / "workloads"
BUILD = (ROOT / os.environ.get("BENCH_BUILD", "build")).resolve()
OUT = BUILD / "bench"
# The leaktrace under test: copies of BUILD/libleaktrace.so and of the
# BUILD/leaktrace reporter beside it (the library runs the leaktrace that
# sits next to it), taken at start so that a rebuild during the run cannot
# mix versions.
LT_DIR = OUT / "leaktrace"
LT_LIB = LT_DIR / "libleaktrace.so"

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
SCALE = 0.25 if QUICK else 1.0          # every input is multiplied by this
ROUNDS = max(1, env_int("BENCH_ROUNDS", 2 if QUICK else 5))
SLOW_ROUNDS = min(ROUNDS, 1 if QUICK else 3)       # heaptrack, LSan DWARF
VALGRIND_ROUNDS = min(ROUNDS, 1 if QUICK else 2)
TIMEOUT = max(1, env_int("BENCH_TIMEOUT", 120))
EXIT_BLOCKS = 1000000                    # the exit report's target is for 1M blocks

PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else shutil.which("python3")
CFLAGS = ["-O2", "-fomit-frame-pointer", "-g", "-pthread", "-Wall"]
RESULT_PREFIX = ("bench-result:", "bench-result|")
NO_CHECK = object()      # run_once(expect=NO_CHECK): any result line will do
NOISE_LIMIT = 0.15       # flag cells where the two ways of taking a ratio disagree


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- running

@dataclass
class Run:
    """One run: wall seconds and peak RSS in KiB, or why it failed."""
    wall: float = 0.0
    rss_kb: int = 0
    error: str = ""
    detail: str = ""
    result: str = None    # the program's "bench-result" line
    pid: int = 0          # of the command timeit started

    @property
    def ok(self):
        return not self.error


def result_line(stdout):
    for line in stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return line.strip()
    return None


def run_once(argv, env, stdin_path=None, expect=NO_CHECK, child_env=None):
    """Runs argv to completion under timeit (bench/timeit.c), in a session
    of its own, in a fresh temporary directory ("{tmp}" in argv names it).
    Wall time is from fork to reap; peak RSS comes from wait4(), the
    largest resident set among the process and the children it waited
    for, so a tool's helper processes count. child_env is set for the
    program only, never for timeit. The run fails on a signal, a non-zero
    exit status, a timeout (the whole session is killed), or a result line
    other than `expect`."""
    with tempfile.TemporaryDirectory(prefix="ltbench-") as tmp:
        out_path, err_path, res_path = Path(tmp, "stdout"), Path(tmp, "stderr"), Path(tmp, "timeit")
        cmd = [str(OUT / "timeit"), str(res_path)] + \
            ["%s=%s" % kv for kv in (child_env or {}).items()] + \
            ["--"] + [a.replace("{tmp}", tmp) for a in argv]
        timed_out = False
        with open(out_path, "wb") as out, open(err_path, "wb") as err, \
                open(stdin_path or os.devnull, "rb") as stdin:
            try:
                proc = subprocess.Popen(cmd, env=env, stdin=stdin, stdout=out, stderr=err,
                                        cwd=tmp, start_new_session=True)
            except OSError as e:
                return Run(error="cannot start", detail=str(e))
            try:
                proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                timed_out = True
                stop_session(proc)
        stdout = out_path.read_bytes().decode("utf-8", "replace")
        stderr = err_path.read_bytes()[-4000:].decode("utf-8", "replace").strip()
        run = Run(result=result_line(stdout))
        status = None
        try:
            lines = res_path.read_text().splitlines()
        except OSError:
            lines = []
        for line in lines:
            words = line.split()
            if len(words) == 2 and words[0] == "pid":
                run.pid = int(words[1])
            elif len(words) == 3:
                run.wall, run.rss_kb, status = int(words[0]) / 1e9, int(words[1]), int(words[2])
        if timed_out:
            run.error, run.wall = "timeout %ds" % TIMEOUT, float(TIMEOUT)
        elif status is None:
            run.error = "cannot start"
        elif os.WIFSIGNALED(status):
            try:
                run.error = signal.Signals(os.WTERMSIG(status)).name
            except ValueError:
                run.error = "signal %d" % os.WTERMSIG(status)
        elif os.WEXITSTATUS(status) != 0:
            run.error = "exit %d" % os.WEXITSTATUS(status)
        elif expect is not NO_CHECK and run.result != expect:
            run.error = "wrong output"
            run.detail = "expected %r, got %r" % (expect, run.result)
        if run.error and not run.detail and stderr:
            run.detail = stderr.splitlines()[-1][:300]
        return run


def stop_session(proc):
    """Ends a run that outlived its limit: SIGTERM to its whole process
    group (so a tool can clean up, heaptrack its fifo), SIGKILL 3 s later.
    timeit, the group's leader, is not reaped until then, so the group id
    still names only processes this run started."""
    for sig, grace in ((signal.SIGTERM, 3), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def base_env():
    """What every run starts from: our environment without anything that
    would trace, sanitize or tune allocation behind our back, and without
    debuginfod (no network look-ups while timing)."""
    drop = ("LD_", "LEAKTRACE", "LSAN_", "ASAN_", "MALLOC_", "GLIBC_TUNABLES", "PYTHON",
            "DEBUGINFOD", "VALGRIND", "HEAPTRACK", "BENCH_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["LC_ALL"] = "C"
    return env


def reproduce(argv, env_extra, stdin):
    """A shell command that repeats a run by hand, from the top of the
    source tree (paths inside it are given relative to it)."""
    def rel(word):
        word = str(word).replace("{tmp}", "/tmp")
        return word.replace(str(ROOT) + "/", "")
    words = ["%s=%s" % (k, shlex.quote(rel(v))) for k, v in env_extra.items()]
    words += [shlex.quote(rel(a)) for a in argv]
    cmd = " ".join(words)
    if stdin:
        cmd += " < " + shlex.quote(rel(stdin))
    return cmd


# ---------------------------------------------------------------- tools

@dataclass
class Tool:
    key: str
    label: str
    env: dict = field(default_factory=dict)      # set for the program
    prefix: list = field(default_factory=list)   # command put before the program
    reduced: bool = False     # runs the reduced input (Workload.reduce)
    rounds: int = ROUNDS
    missing: str = ""         # why the tool cannot run here
    leftover: str = ""        # file a killed run leaves behind; {pid}: the tool's pid


def remove_leftovers(tool, run):
    """heaptrack's script removes its fifo on exit, but not when a timeout
    kills it: remove it for it."""
    if tool.leftover and run.pid:
        path = Path(tool.leftover.format(pid=run.pid))
        if path.is_fifo():
            path.unlink()


def find_liblsan():
    candidates = ["/usr/lib/x86_64-linux-gnu/liblsan.so.0"] + sorted(glob.glob("/usr/lib/*/liblsan.so.0"))
    for path in candidates:
        if os.path.exists(path):
            return path
    return None


def make_tools():
    lsan = find_liblsan()
    tools = [
        Tool("leaktrace", "leaktrace",
             env={"LD_PRELOAD": str(LT_LIB), "LEAKTRACE_OPTIONS": "log_file=/dev/null"}),
        Tool("leaktrace-rec", "leaktrace leak_check=no",
             env={"LD_PRELOAD": str(LT_LIB), "LEAKTRACE_OPTIONS": "log_file=/dev/null:leak_check=no"}),
        Tool("lsan", "LSan",
             env={"LD_PRELOAD": lsan or "", "LSAN_OPTIONS": "exitcode=0"}),
        Tool("lsan-dwarf", "LSan DWARF",
             env={"LD_PRELOAD": lsan or "", "LSAN_OPTIONS": "exitcode=0:fast_unwind_on_malloc=0"},
             reduced=True, rounds=SLOW_ROUNDS),
        Tool("heaptrack", "heaptrack", prefix=["heaptrack", "-o", "{tmp}/heaptrack"],
             rounds=SLOW_ROUNDS, leftover="/tmp/heaptrack_fifo{pid}"),
        Tool("valgrind", "valgrind", prefix=["valgrind", "--leak-check=full", "--log-file=/dev/null"],
             reduced=True, rounds=VALGRIND_ROUNDS),
    ]
    for t in tools:
        if t.key.startswith("lsan") and not lsan:
            t.missing = "liblsan.so.0 not found (apt-get install liblsan0)"
        if t.prefix and not shutil.which(t.prefix[0]):
            t.missing = "%s not installed" % t.prefix[0]
    only = os.environ.get("BENCH_TOOLS")
    if only:
        keys = {k.strip() for k in only.split(",") if k.strip()}
        unknown = keys - {t.key for t in tools}
        if unknown:
            sys.exit("bench: unknown tool in BENCH_TOOLS: %s" % ", ".join(sorted(unknown)))
        tools = [t for t in tools if t.key in keys]
    return tools


# ---------------------------------------------------------------- workloads

def compile_helpers():
    """The C workloads, libcountcalls.so and timeit, into BUILD/bench."""
    # Inputs are generated afresh by every run, from the generators as they are now.
    shutil.rmtree(OUT / "inputs", ignore_errors=True)
    (OUT / "inputs").mkdir(parents=True, exist_ok=True)
    gcc = shutil.which("gcc") or sys.exit("bench: gcc not found")
    jobs = [
        ("workloads/churn.c", "churn", []),
        ("workloads/live5m.c", "live5m", []),
        ("workloads/threads.c", "threads", []),
        ("workloads/realloc.c", "realloc", []),
        ("workloads/exitreport.c", "exitreport", []),
        ("workloads/countcalls.c", "libcountcalls.so", ["-shared", "-fPIC"]),
        ("timeit.c", "timeit", []),
    ]
    for source, out, extra in jobs:
        cmd = [gcc] + CFLAGS + extra + ["-o", str(OUT / out), str(ROOT / "bench" / source)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("bench: cannot compile %s:\n%s" % (source, r.stderr))


def generated(kind, scale):
    """The input of sqlite3 or cc1 for this scale, generated once."""
    script, ext = {"sqlite": ("gensql.py", "sql"), "cc1": ("gencc.py", "c")}[kind]
    path = OUT / "inputs" / ("%s-%g.%s" % (kind, scale, ext))
    if not path.exists():
        subprocess.run([sys.executable, str(WORKLOAD_DIR / script), str(scale), str(path)], check=True)
    return path


@dataclass
class Workload:
    name: str
    what: str
    argv: object            # scale -> argv
    reduce: float           # the reduced input is the full one divided by this
    env: dict = field(default_factory=dict)
    stdin: object = None    # scale -> path of the program's stdin
    missing: str = ""

    def stdin_for(self, scale):
        return self.stdin(scale) if self.stdin else None


def make_workloads():
    cc1 = subprocess.run(["gcc", "-print-prog-name=cc1"], capture_output=True, text=True).stdout.strip()
    sqlite = shutil.which("sqlite3")
    b = str(OUT)
    w = [
        Workload("churn", "1 thread, malloc/free of 16-256 B blocks, stacks 5-40 frames deep "
                 "(~2300 distinct), no frame pointers",
                 lambda s: [b + "/churn", str(s)], 10),
        Workload("live5m", "5M blocks of 16-47 B allocated and kept, then freed",
                 lambda s: [b + "/live5m", str(s)], 10),
        Workload("threads2", "2 threads, 6M blocks in batches, each freed by the next thread",
                 lambda s: [b + "/threads", str(s), "2"], 10),
        Workload("threads8", "8 threads, same total work as threads2",
                 lambda s: [b + "/threads", str(s), "8"], 10),
        Workload("realloc", "3M reallocs growing 2000 interleaved buffers up to 8 KiB",
                 lambda s: [b + "/realloc", str(s)], 10),
        Workload("python3", "Debian's python3, PYTHONMALLOC=malloc: json, re, csv, decimal, difflib...",
                 lambda s: [PYTHON or "python3", str(WORKLOAD_DIR / "pystdlib.py"), str(s)], 10,
                 env={"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}),
        Workload("sqlite3", "sqlite3 shell, in-memory database, generated 2.8 MB SQL script",
                 lambda s: [sqlite or "sqlite3", ":memory:"], 10,
                 stdin=lambda s: generated("sqlite", s)),
        Workload("cc1", "gcc's cc1 -O2 on a generated 1600-line C file",
                 lambda s: [cc1, "-quiet", "-O2", str(generated("cc1", s)), "-o", "/dev/null"], 8),
    ]
    for wl in w:
        if wl.name == "sqlite3" and not sqlite:
            wl.missing = "sqlite3 not installed (apt-get install sqlite3)"
        if wl.name == "cc1" and not os.path.isabs(cc1):
            wl.missing = "cc1 not found (gcc -print-prog-name=cc1)"
        if wl.name == "python3" and not PYTHON:
            wl.missing = "python3 not found"
    return w


def selected(name):
    only = os.environ.get("BENCH_ONLY")
    return not only or name in {n.strip() for n in only.split(",")}


def check_selection(workloads):
    only = os.environ.get("BENCH_ONLY")
    if not only:
        return
    known = [w.name for w in workloads] + ["exitreport"]
    unknown = {n.strip() for n in only.split(",") if n.strip()} - set(known)
    if unknown:
        sys.exit("bench: unknown workload in BENCH_ONLY: %s (known: %s)" % (
            ", ".join(sorted(unknown)), ", ".join(known)))


# ---------------------------------------------------------------- measuring

@dataclass
class Series:
    """The runs of one tool (or of the untraced program) on one workload.
    Run i comes from round i, so two series pair up by index."""
    runs: list = field(default_factory=list)
    failed: Run = None
    command: str = ""


@dataclass
class Result:
    wl: Workload
    scales: dict                 # "full" / "reduced" -> scale factor
    calls: dict                  # same keys -> malloc-family calls, or None
    base: dict                   # same keys -> untraced Series
    tools: dict                  # tool key -> Series
    error: str = ""              # the workload itself could not be measured


def count_calls(wl, scale, env):
    """malloc-family calls of one run, counted by libcountcalls.so."""
    with tempfile.TemporaryDirectory(prefix="ltbench-count-") as tmp:
        count_file = Path(tmp, "count")
        extra = {"LD_PRELOAD": str(OUT / "libcountcalls.so"), "BENCH_COUNT_FILE": str(count_file)}
        r = run_once(wl.argv(scale), env, wl.stdin_for(scale), child_env=extra)
        if not r.ok or not count_file.exists():
            return None
        return sum(int(line.split()[1]) for line in count_file.read_text().splitlines()
                   if line.startswith("calls "))


def measure_workload(wl, tools):
    env = base_env()
    env.update(wl.env)
    scales = {"full": SCALE}
    if any(t.reduced and not t.missing for t in tools):
        scales["reduced"] = SCALE / wl.reduce
    res = Result(wl, scales, {}, {k: Series() for k in scales}, {t.key: Series() for t in tools})
    expect = {}
    for key, s in scales.items():
        warm = run_once(wl.argv(s), env, wl.stdin_for(s))   # warm-up, and the reference result
        if not warm.ok:
            res.error = "untraced run fails: %s %s" % (warm.error, warm.detail)
            return res
        expect[key] = warm.result
        res.calls[key] = count_calls(wl, s, env)

    for rnd in range(max([ROUNDS] + [t.rounds for t in tools])):
        # This round: every tool with rounds left that has not failed, and
        # the untraced program at each input size they need.
        active = [t for t in tools if not t.missing and not res.tools[t.key].failed and rnd < t.rounds]
        if not active and rnd >= ROUNDS:
            break
        order = []
        if rnd < ROUNDS or any(not t.reduced for t in active):
            order.append(("full", None))
        if any(t.reduced for t in active):
            order.append(("reduced", None))
        order += [("reduced" if t.reduced else "full", t) for t in active]
        shift = rnd % len(order)
        t_round = time.monotonic()
        for key, tool in order[shift:] + order[:shift]:
            s = scales[key]
            stdin = wl.stdin_for(s)
            if tool is None:
                r = run_once(wl.argv(s), env, stdin, expect[key])
                if not r.ok:
                    res.error = "untraced run fails: %s %s" % (r.error, r.detail)
                    return res
                res.base[key].runs.append(r)
                continue
            argv = tool.prefix + wl.argv(s)
            r = run_once(argv, env, stdin, expect[key], child_env=tool.env)
            series = res.tools[tool.key]
            if r.ok:
                series.runs.append(r)
                continue
            series.failed = r
            series.command = reproduce(argv, {**wl.env, **tool.env}, stdin)
            remove_leftovers(tool, r)
            log("  %s fails on %s: %s %s" % (tool.label, wl.name, r.error, r.detail))
        log("  round %d: %.0f s" % (rnd + 1, time.monotonic() - t_round))
    return res


def measure_exit_report(have_lsan):
    """The exit report's cost (target: under 2 s): the time the exit report takes for 1M reachable
    and for 1M leaked blocks, as (run with the report) - (run with
    leak_check=no), paired per round. LeakSanitizer's exit check,
    (detect_leaks=1) - (detect_leaks=0), is measured beside it."""
    lsan = find_liblsan()
    lt = {"LD_PRELOAD": str(LT_LIB)}
    variants = [
        ("untraced", {}),
        ("lt-full", {**lt, "LEAKTRACE_OPTIONS": "log_file=/dev/null"}),
        ("lt-no", {**lt, "LEAKTRACE_OPTIONS": "log_file=/dev/null:leak_check=no"}),
    ]
    if lsan and have_lsan:
        variants += [
            ("lsan-on", {"LD_PRELOAD": lsan, "LSAN_OPTIONS": "exitcode=0:detect_leaks=1"}),
            ("lsan-off", {"LD_PRELOAD": lsan, "LSAN_OPTIONS": "exitcode=0:detect_leaks=0"}),
        ]
    blocks = int(EXIT_BLOCKS * SCALE)
    env = base_env()
    out = {}
    for mode in ("reachable", "leaked"):
        log("exitreport %s" % mode)
        argv = [str(OUT / "exitreport"), mode, str(SCALE)]
        expect = "bench-result: exitreport mode=%s blocks=%d" % (mode, blocks)
        series = {k: Series() for k, _ in variants}
        for rnd in range(ROUNDS):
            t_round = time.monotonic()
            shift = rnd % len(variants)
            for key, extra in variants[shift:] + variants[:shift]:
                if series[key].failed:
                    continue
                r = run_once(argv, env, None, expect, child_env=extra)
                if r.ok:
                    series[key].runs.append(r)
                else:
                    series[key].failed = r
                    series[key].command = reproduce(argv, extra, None)
                    log("  %s fails: %s %s" % (key, r.error, r.detail))
            log("  round %d: %.0f s" % (rnd + 1, time.monotonic() - t_round))
        # One more run, untimed, keeping the report: what did it find?
        with tempfile.TemporaryDirectory(prefix="ltbench-report-") as tmp:
            extra = {**lt, "LEAKTRACE_OPTIONS": "log_file=%s/report.txt" % tmp}
            run_once(argv, env, None, expect, child_env=extra)
            try:
                text = Path(tmp, "report.txt").read_text(errors="replace")
            except OSError:
                text = ""
        found = {}
        for kind in ("definitely lost", "indirectly lost", "possibly lost", "still reachable"):
            m = re.search(r"%s: ([\d,]+) bytes in ([\d,]+) blocks" % kind, text)
            if m and m.group(2) != "0":
                found[kind] = m.group(2)
        out[mode] = {"series": series, "found": found, "blocks": blocks}
    return out


# ---------------------------------------------------------------- statistics

def median(xs):
    return statistics.median(xs) if xs else None


def paired(base, tool, f):
    return [f(b, t) for b, t in zip(base, tool)]


def fmt_x(x, suffix="x"):
    return ("%.2f" % x if x < 10 else "%.1f" % x if x < 100 else "%.0f" % x) + suffix


def ratio_cell(base_runs, tool_runs, value):
    """median of the paired ratios (min-max); marked with † when the ratio
    of the medians of the same runs differs from it by more than
    NOISE_LIMIT, a sign of a noisy machine."""
    ratios = paired(base_runs, tool_runs, lambda b, t: value(t) / max(value(b), 1e-9))
    if not ratios:
        return "-"
    m = median(ratios)
    of_medians = median([value(t) for t in tool_runs]) / max(median([value(b) for b in base_runs[:len(tool_runs)]]), 1e-9)
    mark = " †" if abs(of_medians / m - 1) > NOISE_LIMIT else ""
    if len(ratios) == 1:
        return "%s (1 run)%s" % (fmt_x(m), mark)
    return "%s (%s-%s)%s" % (fmt_x(m), fmt_x(min(ratios), ""), fmt_x(max(ratios)), mark)


def fmt_ns(x):
    if x is None:
        return "-"
    if abs(x) >= 10000:
        return "%.1f µs" % (x / 1000)
    return "%.0f" % x


def md_table(header, rows, text_columns=1):
    """A Markdown table: the first text_columns columns are text, the rest figures."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i < text_columns else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- report

def git_commit():
    try:
        h = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
                           capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return (h or "unknown") + (" + uncommitted changes" if dirty else "")
    except OSError:
        return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def version_of(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def render_header(started, elapsed, load_at_start):
    return [
        "# leaktrace benchmark",
        "",
        "- date: %s; commit %s" % (started.strftime("%Y-%m-%d %H:%M %Z"), git_commit()),
        "- machine: %s, nproc %d, Linux %s, glibc %s" % (
            cpu_model(), os.cpu_count(), platform.release(), platform.libc_ver()[1]),
        "- load average at start / end: %s / %s" % (
            load_at_start, " ".join("%.2f" % x for x in os.getloadavg())),
        "- tools: %s (%s); liblsan0 %s; %s; %s" % (
            version_of([str(LT_DIR / "leaktrace"), "--version"]), LT_LIB.relative_to(ROOT) if LT_LIB.is_relative_to(ROOT) else LT_LIB,
            version_of(["dpkg-query", "-W", "-f=${Version}", "liblsan0"]),
            version_of(["heaptrack", "--version"]), version_of(["valgrind", "--version"])),
        "- programs: %s; sqlite3 %s; gcc %s" % (
            version_of([PYTHON or "python3", "--version"]),
            version_of(["sqlite3", "--version"]).split(" ")[0], version_of(["gcc", "-dumpfullversion"])),
        "- %s; rounds: %d (heaptrack and LSan DWARF %d, valgrind %d); limit %d s per run; "
        "this run took %.0f s" % ("QUICK mode, inputs x%g" % SCALE if QUICK else "full inputs",
                                   ROUNDS, SLOW_ROUNDS, VALGRIND_ROUNDS, TIMEOUT, elapsed),
        "",
    ]


def reduced_cell(r):
    runs = r.base["reduced"].runs
    calls = r.calls.get("reduced")
    return "÷%g: %.3f s, %.1f MiB, %s calls" % (
        r.wl.reduce, median([x.wall for x in runs]), median([x.rss_kb for x in runs]) / 1024,
        "{:,}".format(calls) if calls else "?")


def render_workloads(tools, results):
    labels = [t.label + (" *" if t.reduced else "") for t in tools]
    measured = [r for r in results if not r.error]

    def cell(r, t, kind):
        if t.missing:
            return "n/a"
        s = r.tools[t.key]
        key = "reduced" if t.reduced else "full"
        base = r.base[key].runs
        if s.failed:
            return "fails (%s)" % s.failed.error
        if not s.runs:
            return "-"
        if kind == "time":
            return ratio_cell(base, s.runs, lambda x: x.wall)
        if kind == "rss":
            return ratio_cell(base, s.runs, lambda x: x.rss_kb)
        calls = r.calls.get(key)
        if not calls:
            return "-"
        return fmt_ns(median(paired(base, s.runs, lambda b, x: (x.wall - b.wall) / calls * 1e9)))

    star = ("Columns marked * ran the reduced input (baseline table, last column), "
            "paired with untraced runs of that same reduced input.")
    dagger = ("† the ratio of the medians differs from the median of the ratios by more "
              "than %d%%: the machine was noisy during those runs." % (NOISE_LIMIT * 100))
    sections = [
        ("time", "Wall time, traced / untraced",
         "Median over rounds of (tool run / untraced run of the same round); min-max in brackets."),
        ("rss", "Peak RSS, traced / untraced",
         "Largest resident set among the run's processes (wait4), a tool's helper "
         "processes included; median of the per-round ratios, min-max in brackets."),
        ("ns", "Time added per malloc-family call, ns",
         "Median over rounds of (tool run - untraced run) / calls; calls counts malloc, "
         "calloc, realloc, free, memalign and friends (baseline table)."),
    ]
    L = []
    for kind, title, note in sections:
        L += ["## " + title, "", note + " " + star + (" " + dagger if kind != "ns" else ""), ""]
        rows = [[r.wl.name] + [cell(r, t, kind) for t in tools] for r in measured]
        L += [md_table(["workload"] + labels, rows), ""]

    rows = []
    for r in results:
        if r.error:
            rows.append([r.wl.name, r.wl.what, r.error, "", "", ""])
            continue
        b = r.base["full"].runs
        red = r.base.get("reduced")
        rows.append([
            r.wl.name, r.wl.what,
            "%.3f" % median([x.wall for x in b]),
            "%.1f" % (median([x.rss_kb for x in b]) / 1024),
            "{:,}".format(r.calls["full"]) if r.calls.get("full") else "?",
            reduced_cell(r) if red and red.runs else "-",
        ])
    L += ["## Untraced baselines", "",
          "Medians of the untraced runs of this same run, which every ratio above is paired with.", "",
          md_table(["workload", "what", "untraced s", "peak RSS MiB", "malloc-family calls",
                    "reduced input"], rows, text_columns=2), ""]
    return L


def render_exit(exitres):
    L = ["## Exit report cost (target: under 2 s for 1M blocks)", "",
         "What the exit report adds: a leaktrace run with the report (stop the world, scan, "
         "classify, write the snapshot, then symbolize and format in the reporter) minus the "
         "same run with leak_check=no (heap summary only), paired per round; median (min-max), "
         "seconds. LeakSanitizer's exit check (detect_leaks=1 minus detect_leaks=0) beside it. "
         "Target: under 2 s each for 1M blocks.", ""]
    rows = []
    for mode, d in exitres.items():
        series = d["series"]

        def med(k):
            s = series.get(k)
            if s is None:
                return "-"
            if s.failed:
                return "fails (%s)" % s.failed.error
            return "%.2f" % median([r.wall for r in s.runs]) if s.runs else "-"

        def cost(full, without):
            if full not in series:
                return "-"
            if series[full].failed or series[without].failed:
                return "fails"
            xs = paired(series[without].runs, series[full].runs, lambda b, x: x.wall - b.wall)
            if not xs:
                return "-"
            return "%.2f (%.2f-%.2f)" % (median(xs), min(xs), max(xs))

        lt_cost = cost("lt-full", "lt-no")
        if d["blocks"] != EXIT_BLOCKS or lt_cost in ("-", "fails"):
            verdict = "n/a"
        else:
            verdict = "yes" if float(lt_cost.split()[0]) < 2.0 else "no"
        found = ", ".join("%s %s" % kv for kv in d["found"].items()) or "no report"
        rows.append(["{:,} {}".format(d["blocks"], mode), med("untraced"), med("lt-no"), med("lt-full"),
                     lt_cost, verdict, cost("lsan-on", "lsan-off"), found])
    L += [md_table(["blocks at exit", "untraced s", "leaktrace leak_check=no s", "leaktrace s",
                    "report cost s", "< 2 s", "LSan check cost s", "leaktrace found (blocks)"], rows), ""]
    return L


def render_failures(tools, results, exitres):
    lines = ["- %s: %s" % (t.label, t.missing) for t in tools if t.missing]
    for r in results:
        if r.error:
            lines.append("- %s: %s" % (r.wl.name, r.error))
            continue
        for t in tools:
            s = r.tools[t.key]
            if s.failed:
                lines.append("- %s on %s: %s%s after %.1f s. Reproduce: `%s`" % (
                    t.label, r.wl.name, s.failed.error,
                    " (%s)" % s.failed.detail if s.failed.detail else "", s.failed.wall, s.command))
    for mode, d in (exitres or {}).items():
        for key, s in d["series"].items():
            if s.failed:
                lines.append("- exitreport %s, %s: %s%s. Reproduce: `%s`" % (
                    mode, key, s.failed.error, " (%s)" % s.failed.detail if s.failed.detail else "", s.command))
    return ["## Failures", ""] + lines + [""] if lines else []


def main():
    started = datetime.datetime.now().astimezone()
    load_at_start = " ".join("%.2f" % x for x in os.getloadavg())
    t0 = time.monotonic()
    for f in ("libleaktrace.so", "leaktrace"):
        if not (BUILD / f).exists():
            sys.exit("bench: %s is missing: run `make` (or `make bench`) first" % (BUILD / f))
    workloads = make_workloads()
    check_selection(workloads)
    log("bench: compiling workloads into %s" % OUT)
    compile_helpers()
    LT_DIR.mkdir(parents=True, exist_ok=True)
    for f in ("libleaktrace.so", "leaktrace"):
        shutil.copy2(BUILD / f, LT_DIR / f)

    tools = make_tools()
    for t in tools:
        if t.missing:
            log("bench: %s skipped: %s" % (t.label, t.missing))
    results = []
    for wl in workloads:
        if not selected(wl.name):
            continue
        if wl.missing:
            results.append(Result(wl, {}, {}, {}, {}, error=wl.missing))
            continue
        log("%s" % wl.name)
        results.append(measure_workload(wl, tools))
    exitres = None
    if selected("exitreport"):
        exitres = measure_exit_report(any(t.key == "lsan" and not t.missing for t in tools))

    lines = render_header(started, time.monotonic() - t0, load_at_start)
    if results:
        lines += render_workloads(tools, results)
    if exitres:
        lines += render_exit(exitres)
    lines += render_failures(tools, results, exitres)
    text = "\n".join(lines).rstrip("\n") + "\n"
    (OUT / "results.md").write_text(text)
    print(text, end="")
    log("bench: written to %s" % (OUT / "results.md"))


if __name__ == "__main__":
    main()
