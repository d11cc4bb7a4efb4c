#!/usr/bin/env python3
"""Run one program under valgrind memcheck and under leaktrace, compare.

    compare_valgrind.py --name linked-list --leaktrace build/leaktrace \\
        -- build/examples/linked-list

Runs, in one test:
  valgrind --leak-check=full --show-leak-kinds=all --log-file=vg.txt PROG
  valgrind --leak-check=full --show-leak-kinds=all --xml=yes --xml-file=vg.xml PROG
      (valgrind's XML has no HEAP SUMMARY, so the text comes from a 2nd run)
  leaktrace --leak-check=full --show-leak-kinds=all --xml-file=lt.xml PROG
      2>lt.stderr   (the text report)
and checks (see ltcompare.compare): exit status and stdout unchanged,
HEAP SUMMARY allocs and bytes allocated equal, the same loss records keyed
by the program's own frames (function, file, line), frame 0 by name, kind
by kind; the LEAK SUMMARY (and its "of which reachable via heuristic"
lines, or "All heap blocks were freed") as valgrind's, and as the sum of
leaktrace's own records.
Blocks only libc's exit-time clean-up frees (valgrind runs __libc_freeres,
an in-process tracer does not) are explained by a third valgrind run with
--run-libc-freeres=no --run-cxx-freeres=no, and listed, not asserted.

What single scenarios need (tests/parity/), each printed with the test's
documented differences when used:
  --cycle FN,FN    an unreferenced cycle: its kind totals, not which block
                   valgrind (by address) calls definitely lost
  --fork           parent and forked child each write a report: each is
                   compared with valgrind's report of the same process
  --wrap strace|gdb  leaktrace runs under strace -f / gdb -batch
  --max-seconds S, --expect-report RX, --reject-report RX
                   the traced run's duration, lines its report must (not)
                   have
  --no-valgrind WHY --expect-from SRC
                   a program valgrind cannot run: compared with the EXPECT
                   lines of its source instead (see expected_run)

Every run's files stay in --outdir for a look after a failure.
Exit status: 0 all checks pass, 1 a check failed, 77 valgrind (or the
--wrap tool) is missing (meson: skipped), 99 the test itself could not run.
"""

import argparse
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ltcompare as lc  # noqa: E402

# Differences from valgrind that are expected, with the reason. Each is
# handled where the code names it (ltcompare.py); the list is printed with
# every test so a reader of a failure log knows why a check is shaped so.
DOCUMENTED = [
    'valgrind runs with --keep-debuginfo=yes: without it, frames of a module '
    'that was dlclose()d before exit show as ??? in valgrind (leaktrace keeps '
    'them by design).',
    'valgrind and leaktrace both run with --default-suppressions=no: '
    'valgrind\'s default.supp hides some ld.so TLS blocks, leaktrace\'s own '
    'defaults what libc and libstdc++ keep to the end; every block is compared.',
    'valgrind 3.19 names the allocating frame of aligned_alloc() and valloc() '
    '"memalign", of realloc(NULL, n) "malloc", and of reallocarray() "malloc" '
    '(NULL pointer) or "realloc" (it has no reallocarray of its own: glibc\'s '
    'calls realloc); leaktrace\'s name is mapped before comparing.',
    'each thread vector (DTV, calloc\'d by ld.so in pthread_create) is 16 bytes '
    'per TLS module the tracer brings (libleaktrace.so, libunwind.so.8) larger '
    'under leaktrace; that exact amount is taken off before comparing.',
    'frees and "in use at exit" differ by exactly the blocks valgrind\'s '
    '__libc_freeres/__gnu_cxx::__freeres release at exit (listed as '
    'explained); allocs never differ, bytes allocated only by the DTV '
    'amount above.',
]

SKIP = 77
ERROR = 99


def clean_env():
    env = dict(os.environ)
    # The traced program must see the same environment in every run; these
    # would change what it allocates or inject a tracer into valgrind.
    for k in ('LD_PRELOAD', 'LEAKTRACE_OPTIONS', 'MALLOC_PERTURB_', 'MALLOC_CHECK_',
              'GLIBC_TUNABLES', 'VALGRIND_OPTS'):
        env.pop(k, None)
    env['LC_ALL'] = 'C'
    return env


class Runner:
    def __init__(self, outdir, timeout):
        self.outdir = outdir
        self.timeout = timeout
        self.log = []

    def run(self, tag, argv, env=None):
        """Runs argv with stdin closed, stdout and stderr to files named
        after tag. Returns (exit status, stdout bytes, stderr path)."""
        out = os.path.join(self.outdir, tag + '.stdout')
        err = os.path.join(self.outdir, tag + '.stderr')
        t0 = time.monotonic()
        with open(out, 'wb') as fo, open(err, 'wb') as fe:
            try:
                p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                                     env=env or clean_env())
            except OSError as e:
                print('ERROR: %s: cannot run %s: %s' % (tag, argv[0], e.strerror))
                sys.exit(ERROR)
            self.last_pid = p.pid
            try:
                rc = p.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                rc = None
        dt = time.monotonic() - t0
        self.last_seconds = dt
        cmd = ' '.join(shlex.quote(a) for a in argv)
        self.log.append('%-16s %6.2fs  exit %s  %s' % (tag, dt, rc, cmd))
        if rc is None:
            self.log.append('%-16s TIMEOUT after %ss' % (tag, self.timeout))
        with open(out, 'rb') as f:
            return rc, f.read(), err


def elf_has_tls(path):
    """True when the ELF file has a PT_TLS program header (64-bit,
    little-endian: what this project builds for)."""
    try:
        with open(path, 'rb') as f:
            hdr = f.read(64)
            if len(hdr) < 64 or hdr[:4] != b'\x7fELF' or hdr[4] != 2 or hdr[5] != 1:
                return False
            phoff = struct.unpack_from('<Q', hdr, 32)[0]
            phentsize, phnum = struct.unpack_from('<HH', hdr, 54)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except OSError:
        return False
    return any(struct.unpack_from('<I', table, i * phentsize)[0] == 7   # PT_TLS
               for i in range(len(table) // max(phentsize, 1)))


def loaded_objects(path):
    """path and what the loader maps with it (ldd), as real paths."""
    objs = {os.path.realpath(path)}
    try:
        out = subprocess.run(['ldd', path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             env=clean_env(), timeout=30).stdout.decode('utf-8', 'replace')
    except (OSError, subprocess.TimeoutExpired):
        return objs
    for line in out.splitlines():
        m = re.search(r'(?:=> )?(/\S+) \(0x', line)
        if m:
            objs.add(os.path.realpath(m.group(1)))
    return objs


def tracer_tls_modules(preload, program_objects):
    """The modules with TLS that tracing adds to the program: the preload
    library and its dependencies the program does not load anyway."""
    if not preload or not os.path.exists(preload):
        return []
    mine = set()
    for p in program_objects:
        mine |= loaded_objects(p)
    return sorted(o for o in loaded_objects(preload) - mine if elf_has_tls(o))


def valgrind_argv(vg, num_callers, extra, children=False):
    """children: forked children write reports of their own (valgrind's
    default; the runner silences them unless --fork)."""
    return [vg, '--tool=memcheck', '--leak-check=full', '--show-leak-kinds=all',
            '--keep-debuginfo=yes', '--default-suppressions=no',
            '--num-callers=%d' % num_callers,
            '--child-silent-after-fork=%s' % ('no' if children else 'yes')] + extra


def read_run(label, rc, stdout, text_path, xml_path, notes):
    text = xml = None
    try:
        text = lc.parse_text(text_path)
    except lc.ReportError as e:
        notes.append('%s: %s' % (label, e))
    try:
        xml = lc.parse_xml(xml_path)
    except lc.ReportError as e:
        notes.append('%s: %s' % (label, e))
    return lc.Run(label, rc, stdout, text, xml)


def split_processes(r, tag, launched, suffix):
    """With --fork every process writes TAG.PID.SUFFIX: returns
    {'parent': path, 'child': path}, the parent being the process the
    runner started (valgrind and leaktrace run the program as that very
    process). Any other number of files is an error (None)."""
    files = {}
    for name in os.listdir(r.outdir):
        m = re.match(r'^%s\.(\d+)\.%s$' % (re.escape(tag), re.escape(suffix)), name)
        if m:
            files[int(m.group(1))] = os.path.join(r.outdir, name)
    others = [pid for pid in files if pid != launched]
    if launched not in files or len(others) != 1:
        return None, sorted(files)
    return {'parent': files[launched], 'child': files[others[0]]}, sorted(files)


def run_valgrind(r, args, prog, tag, extra=()):
    """Returns ({role: Run}, notes): role '' for the program's one process,
    'parent' and 'child' with --fork."""
    fork = getattr(args, 'fork', False)
    pat = '.%p' if fork else ''
    txt = os.path.join(r.outdir, tag + pat + '.txt')
    xml = os.path.join(r.outdir, tag + pat + '.xml')
    rc1, out1, _ = r.run(tag + '-text', valgrind_argv(
        args.valgrind, args.num_callers, list(extra) + ['--log-file=' + txt], fork) + prog)
    pid1 = r.last_pid
    rc2, out2, _ = r.run(tag + '-xml', valgrind_argv(
        args.valgrind, args.num_callers, list(extra) + ['--xml=yes', '--xml-file=' + xml],
        fork) + prog)
    pid2 = r.last_pid
    notes = []
    if rc1 != rc2 or out1 != out2:
        notes.append('%s: the text and XML runs differ (exit %s vs %s, stdout %d vs %d bytes):'
                     ' the program is not deterministic' % (tag, rc1, rc2, len(out1), len(out2)))
    label = 'valgrind' if tag == 'vg' else tag
    if not fork:
        return {'': read_run(label, rc2, out2, txt, xml, notes)}, notes
    texts, tpids = split_processes(r, tag, pid1, 'txt')
    xmls, xpids = split_processes(r, tag, pid2, 'xml')
    if texts is None or xmls is None:
        notes.append('%s: --fork wants one report of the started process and one of its'
                     ' child; text reports of pids %s (started %d), XML of %s (started %d)'
                     % (tag, tpids, pid1, xpids, pid2))
        return {}, notes
    return {role: read_run('%s %s' % (label, role), rc2, out2, texts[role], xmls[role], notes)
            for role in ('parent', 'child')}, notes


def wrapper_argv(args):
    """The command leaktrace runs under (--wrap): it must not change the
    report. gdb's own messages on stdout are taken out (see GDB_NOISE)."""
    if args.wrap == 'strace':
        return [args.strace, '-f', '-o', '/dev/null']
    if args.wrap == 'gdb':
        return [args.gdb, '-q', '-nx', '-batch', '-ex', 'set print thread-events off',
                '-ex', 'set print inferior-events off', '-ex', 'run',
                '-ex', 'quit $_exitcode', '--args']
    return []


# Lines gdb itself writes to stdout while running a program.
GDB_NOISE = re.compile(rb'^(\[Thread debugging using libthread_db enabled\]'
                       rb'|Using host libthread_db library .*'
                       rb'|process \d+ is executing new program: .*'
                       rb'|\[Inferior \d+ \(process \d+\) exited .*\]'
                       rb'|\[(New|Switching to) Thread .*\]'
                       rb'|warning: Error disabling address space randomization: .*)$')


def run_leaktrace(r, args, prog):
    """Returns ({role: Run}, notes), as run_valgrind."""
    fork = getattr(args, 'fork', False)
    xml = os.path.join(r.outdir, 'lt.%p.xml' if fork else 'lt.xml')
    if args.launcher == 'cli':
        # valgrind runs with --default-suppressions=no: so does leaktrace
        argv = [args.leaktrace, '--leak-check=full', '--show-leak-kinds=all',
                '--default-suppressions=no',
                '--xml-file=' + xml, '--num-callers=%d' % args.num_callers] + \
            ['--' + o.replace('_', '-') for o in args.lt_option] + prog
        env = None
    else:
        env = clean_env()
        env['LD_PRELOAD'] = os.path.abspath(args.preload)
        env['LEAKTRACE_OPTIONS'] = ('leak_check=full:show_leak_kinds=all:default_suppressions=no:'
                                    'xml_file=%s:'
                                    'num_callers=%d' % (xml, args.num_callers))
        for o in args.lt_option:
            env['LEAKTRACE_OPTIONS'] += ':' + o
        argv = prog
    argv = wrapper_argv(args) + argv
    rc, out, err = r.run('lt', argv, env)
    r.lt_seconds = r.last_seconds
    if args.wrap == 'gdb':
        out = b''.join(l for l in out.splitlines(True) if not GDB_NOISE.match(l.rstrip(b'\n')))
    notes = []
    if not fork:
        return {'': read_run('leaktrace', rc, out, err, xml, notes)}, notes
    xmls, xpids = split_processes(r, 'lt', r.last_pid, 'xml')
    if xmls is None:
        notes.append('lt: --fork wants the XML report of the started process (%d) and of its'
                     ' child; found pids %s' % (r.last_pid, xpids))
        return {}, notes
    runs = {}
    for role, path in xmls.items():
        pid = int(path.rsplit('.', 2)[-2])
        text = None
        try:
            text = lc.parse_text(err, pid=pid)
        except lc.ReportError as e:
            notes.append('leaktrace %s: %s' % (role, e))
        try:
            x = lc.parse_xml(path)
        except lc.ReportError as e:
            notes.append('leaktrace %s: %s' % (role, e))
            x = None
        runs[role] = lc.Run('leaktrace ' + role, rc, out, text, x)
    return runs, notes


# ------------------------------------------------ expected reports --

_EXPECT = re.compile(r'EXPECT: (?P<kind>Leak_\w+) (?P<bytes>\d+) (?P<blocks>\d+)'
                     r' (?P<entry>\S+)(?P<frames>(?: \S+)+)\s*$')
_EXPECT_HEAP = re.compile(r'EXPECT-HEAP: (\d+) allocs, (\d+) frees, (\d+) bytes allocated')


def expected_run(src, prog, exit_status):
    """The report valgrind would write, from a scenario's own EXPECT lines
    (--expect-from, for a program valgrind cannot run). In the source:

      EXPECT: KIND DIRECT_BYTES BLOCKS ALLOC_FN OWN_FN@TAG OWN_FN@TAG ...
      EXPECT-HEAP: A allocs, F frees, B bytes allocated

    OWN_FN@TAG is one of the program's own frames, innermost first; its
    line is the line of the source that holds the comment "@TAG" (outside
    the EXPECT lines). Returns (Run, problems)."""
    problems = []
    try:
        with open(src, encoding='utf-8') as f:
            lines = f.read().splitlines()
    except OSError as e:
        return None, ['%s: %s' % (src, e.strerror)]
    tags = {}
    for no, line in enumerate(lines, 1):
        if 'EXPECT' in line:
            continue
        for m in re.finditer(r'/\*\s*@(\w+)', line):
            tags.setdefault(m.group(1), no)
    records, heap = [], None
    for line in lines:
        line = line.split('*/')[0]
        m = _EXPECT.search(line)
        if m:
            frames = [lc.Frame(fn=m.group('entry'), obj='vgpreload_expected.so')]
            for spec in m.group('frames').split():
                fn, _, tag = spec.partition('@')
                if tag not in tags:
                    problems.append('%s: EXPECT names @%s, which no line of the source carries'
                                    % (src, tag))
                frames.append(lc.Frame(fn=fn, obj=prog, file=os.path.basename(src),
                                       line=tags.get(tag)))
            n = int(m.group('bytes'))
            records.append(lc.Record(m.group('kind'), n, n, int(m.group('blocks')), frames,
                                     text='%d bytes in %s blocks (expected)'
                                     % (n, m.group('blocks'))))
            continue
        m = _EXPECT_HEAP.search(line)
        if m:
            heap = tuple(int(x) for x in m.groups())
    if heap is None:
        problems.append('%s: no EXPECT-HEAP line' % src)
        heap = (0, 0, 0)
    if not records:
        problems.append('%s: no EXPECT lines' % src)
    inuse = lc.merged(records)
    summary = {k: (0, 0) for k in lc.SUMMARY_ORDER}
    for k, v in lc.by_kind(records).items():
        summary[k] = (v[0], v[2])
    text = lc.TextReport(path=src, pid=None,
                         heap=lc.HeapSummary(inuse[0], inuse[1], heap[0], heap[1], heap[2]),
                         records=records, summary=summary if records else None,
                         no_leaks=not records)
    xml = lc.XmlReport(path=src, protocol='4', tool='memcheck', records=records,
                       other_errors=[])
    return lc.Run('expected', exit_status, b'', text, xml), problems


def print_checks(checks):
    failed = 0
    for c in checks:
        tag = 'INFO' if c.info else ('PASS' if c.ok else 'FAIL')
        if not c.ok and not c.info:
            failed += 1
        print('[%s] %s' % (tag, c.name))
        if c.info or not c.ok or len(c.details) <= 2:
            for d in c.details:
                print('       ' + d if not d.startswith(' ') else '     ' + d)
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                 usage='%(prog)s [options] -- PROGRAM [ARGS...]')
    ap.add_argument('--name', help='test name, for messages and the output directory')
    ap.add_argument('--outdir', help='keep reports here (default: $TMPDIR/leaktrace-compare/NAME)')
    ap.add_argument('--leaktrace', default='leaktrace', help='the leaktrace command')
    ap.add_argument('--preload', help='libleaktrace.so (for --launcher=preload)')
    ap.add_argument('--launcher', choices=('cli', 'preload'), default='cli')
    ap.add_argument('--own', action='append', default=[],
                    help='an object whose frames are the program\'s own (repeatable;'
                    ' the program itself always is)')
    ap.add_argument('--srcdir', help='source directory of the program (frames without'
                    ' an object count as own when their file is under it)')
    ap.add_argument('--expect-exit', type=int, default=0)
    ap.add_argument('--valgrind', default='valgrind')
    ap.add_argument('--num-callers', type=int, default=12)
    ap.add_argument('--lt-option', action='append', default=[], metavar='NAME=VALUE',
                    help='one more leaktrace option (track_mmap=no: mappings are roots, '
                    'as in valgrind)')
    ap.add_argument('--timeout', type=float, default=120, help='seconds per run')
    ap.add_argument('--valgrind-only', action='store_true',
                    help='run valgrind only; check its own text and XML agree')
    # What particular scenarios need (tests/parity/); each is documented
    # where it is used.
    ap.add_argument('--cycle', action='append', default=[], metavar='FN,FN,...',
                    help='the blocks allocated under these functions form one unreferenced'
                    ' cycle: compare their kind totals, not which block is definitely lost'
                    ' (valgrind picks it by address); repeatable')
    ap.add_argument('--fork', action='store_true',
                    help='the program forks a child that writes its own report: compare'
                    ' the parent\'s and the child\'s reports each with valgrind\'s')
    ap.add_argument('--wrap', choices=('strace', 'gdb'),
                    help='run leaktrace under strace -f or gdb -batch (valgrind runs plain)')
    ap.add_argument('--strace', default='strace')
    ap.add_argument('--gdb', default='gdb')
    ap.add_argument('--max-seconds', type=float,
                    help='the traced run must end within this many seconds')
    ap.add_argument('--expect-report', action='append', default=[], metavar='REGEX',
                    help='a line of leaktrace\'s text report must match (repeatable)')
    ap.add_argument('--reject-report', action='append', default=[], metavar='REGEX',
                    help='no line of leaktrace\'s text report may match (repeatable)')
    ap.add_argument('--expect-from', metavar='SOURCE',
                    help='compare with the EXPECT lines of this source instead of valgrind'
                    ' (see expected_run); needs --no-valgrind')
    ap.add_argument('--no-valgrind', metavar='REASON',
                    help='do not run valgrind on this program, for this reason')
    argv = sys.argv[1:]
    cut = argv.index('--') if '--' in argv else len(argv)
    args = ap.parse_args(argv[:cut])
    prog = argv[cut + 1:]
    if not prog:
        ap.error('no program given (put it after --)')
    if bool(args.expect_from) != bool(args.no_valgrind):
        ap.error('--expect-from and --no-valgrind go together')
    name = args.name or os.path.basename(prog[0])
    print('== %s: leaktrace vs %s' % (name, 'the program\'s expected report'
                                       if args.no_valgrind else 'valgrind memcheck'))

    if not args.no_valgrind and shutil.which(args.valgrind) is None:
        print('valgrind not found (%s): skipped' % args.valgrind)
        return SKIP
    if args.wrap and shutil.which(getattr(args, args.wrap)) is None:
        print('%s not found: skipped' % args.wrap)
        return SKIP
    if args.wrap:
        # Tracing needs ptrace, which a container may forbid: then there is
        # nothing to test here.
        try:
            p = subprocess.run(wrapper_argv(args) + ['true'], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=clean_env(), timeout=60)
            ok = p.returncode == 0
            why = p.stdout.decode('utf-8', 'replace').strip().splitlines()[-1:]
        except (OSError, subprocess.TimeoutExpired) as e:
            ok, why = False, [str(e)]
        if not ok:
            print('%s cannot trace a program here (%s): skipped' % (args.wrap, ' '.join(why)))
            return SKIP
    if not args.valgrind_only:
        if args.launcher == 'cli' and shutil.which(args.leaktrace) is None:
            print('FAIL: the leaktrace command %s does not exist (not built?)' % args.leaktrace)
            return 1
        if args.launcher == 'preload' and not (args.preload and os.path.exists(args.preload)):
            print('FAIL: the preload library %s does not exist (not built?)' % args.preload)
            return 1

    outdir = os.path.abspath(args.outdir or os.path.join(tempfile.gettempdir(),
                                                         'leaktrace-compare', name))
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    r = Runner(outdir, args.timeout)
    prog = [os.path.abspath(prog[0]) if os.path.exists(prog[0]) else prog[0]] + prog[1:]
    owner = lc.Owner([prog[0]] + args.own, args.srcdir)
    cycles = [[n for n in c.split(',') if n] for c in args.cycle]

    preload = args.preload or os.path.join(
        os.path.dirname(os.path.abspath(shutil.which(args.leaktrace) or args.leaktrace)),
        'libleaktrace.so')
    tls = tracer_tls_modules(preload, [prog[0]] + args.own)
    dtv_extra = lc.DTV_ENTRY_SIZE * len(tls)

    notes = []
    if args.no_valgrind:
        exp, problems = expected_run(args.expect_from, prog[0], args.expect_exit)
        notes += problems
        vgs = {'': exp} if exp else {}
    else:
        # valgrind cannot turn address randomisation off in every
        # container: then a stray value (ld.so's relocation time in CPU
        # cycles, say) sometimes lands on a heap block and makes it look
        # reachable, in one of its two runs and not the other. Such runs
        # are made again, twice at most, and said.
        for attempt in range(3):
            vgs, vnotes = run_valgrind(r, args, prog, 'vg')
            disagree = [vg.label for vg in vgs.values()
                        if vg.text and vg.xml and not lc.text_xml_agree(vg, owner).ok]
            if not disagree or attempt == 2:
                break
            print('[INFO] valgrind\'s text and XML runs disagreed (%s): a stray value that'
                  ' looked like a pointer in one of them; valgrind run again'
                  % ', '.join(disagree))
        notes += vnotes
    checks = []
    if args.valgrind_only:
        for vg in vgs.values():
            if vg.text and vg.xml:
                checks.append(lc.text_xml_agree(vg, owner))
                c = lc.numbering_check(vg)
                if c:
                    checks.append(c)
        lts = {}
    else:
        lts, lnotes = run_leaktrace(r, args, prog)
        notes += lnotes
        nfs = {}
        for role in [k for k in vgs if k in lts]:
            vg, lt = vgs[role], lts[role]
            cs = lc.compare(vg, lt, owner, None, args.expect_exit, dtv_extra, cycles)
            # Records only leaktrace has: would valgrind have them too
            # without glibc's exit-time clean-up? Ask it, only when needed.
            unexplained = [c for c in cs
                           if not c.ok and c.name.startswith('loss records: same stacks')]
            if unexplained and vg.xml and lt.xml and not args.no_valgrind:
                if not nfs:
                    nfs, nnotes = run_valgrind(r, args, prog, 'vg-nofreeres',
                                               ['--run-libc-freeres=no', '--run-cxx-freeres=no'])
                    notes += nnotes
                if role in nfs:
                    cs = lc.compare(vg, lt, owner, nfs[role], args.expect_exit, dtv_extra,
                                    cycles)
            if args.no_valgrind:
                # No reference run: what only a run can show is not compared.
                cs = [c for c in cs if not c.name.startswith(('valgrind', 'expected'))
                      and c.name != 'stdout identical']
            if role:
                for c in cs:
                    c.name = '%s: %s' % (role, c.name)
            checks += cs
        if args.fork and set(lts) != {'parent', 'child'}:
            checks.append(lc.Check('leaktrace: a report from the parent and one from the child',
                                   False, ['reports of: %s' % (', '.join(sorted(lts)) or 'none')]))
        if args.max_seconds is not None:
            dt = r.lt_seconds
            checks.append(lc.Check('leaktrace: the traced run ended within %gs' % args.max_seconds,
                                   dt <= args.max_seconds, ['it took %.2fs' % dt]))
        lines = [l for run in lts.values() if run.text for l in run.text.lines]
        for rx in args.expect_report:
            hit = [l for l in lines if re.search(rx, l)]
            checks.append(lc.Check('leaktrace report says /%s/' % rx, bool(hit),
                                   hit[:2] or ['no line of its text report matches']))
        for rx in args.reject_report:
            hit = [l for l in lines if re.search(rx, l)]
            checks.append(lc.Check('leaktrace report does not say /%s/' % rx, not hit,
                                   hit[:2] or ['%d lines, none matches' % len(lines)]))

    print('runs (files in %s):' % outdir)
    for line in r.log:
        print('  ' + line)
    print('own objects: %s' % ', '.join(owner.paths))
    print('TLS modules the tracer adds: %s' % (', '.join(tls) or 'none'))
    if owner.used_fallback:
        print('note: some frames had no object; their source path decided (--srcdir)')
    for n in notes:
        print('ERROR: ' + n)
    if not args.valgrind_only:
        print('documented differences from valgrind:')
        for d in DOCUMENTED:
            print('  - ' + d)
        if args.no_valgrind:
            print('  - not run under valgrind (%s): compared with the EXPECT lines of %s;'
                  ' stdout and valgrind\'s own checks are not compared'
                  % (args.no_valgrind, args.expect_from))
        if cycles:
            print('  - for the blocks of the cycle(s) %s only the kind totals are compared:'
                  ' valgrind calls the block of a cycle it meets first (by address)'
                  ' definitely lost, the others indirectly lost'
                  % '; '.join(', '.join(c) for c in cycles))
        if args.wrap == 'gdb':
            print('  - gdb\'s own messages are taken out of stdout before comparing')
    if args.valgrind_only:
        for role, vg in vgs.items():
            if vg.xml is None:
                continue
            print('valgrind loss records%s:' % (' (%s)' % role if role else ''))
            for rec in vg.xml.records:
                print('  ' + rec.text + ' [%s]' % rec.kind)
                for line in lc.render_stack(rec, owner, '    '):
                    print(line)
    failed = print_checks(checks)
    if notes:
        failed += len(notes)
    for role, vg in vgs.items():
        if vg.text and vg.text.heap:
            h = vg.text.heap
            print('%s HEAP SUMMARY%s: %d allocs, %d frees, %d bytes allocated; in use %d'
                  ' bytes in %d blocks' % ('expected' if args.no_valgrind else 'valgrind',
                                           ' (%s)' % role if role else '', h.allocs, h.frees,
                                           h.bytes_allocated, h.inuse_bytes, h.inuse_blocks))
    print('%s: %s' % (name, 'FAILED (%d)' % failed if failed else 'ok'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
