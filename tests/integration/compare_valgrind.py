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
by the program's own frames (function, file, line), frame 0 by name.
Blocks only libc's exit-time clean-up frees (valgrind runs __libc_freeres,
an in-process tracer does not) are explained by a third valgrind run with
--run-libc-freeres=no --run-cxx-freeres=no, and listed, not asserted.

Every run's files stay in --outdir for a look after a failure.
Exit status: 0 all checks pass, 1 a check failed, 77 valgrind is missing
(meson: skipped), 99 the test itself could not run.
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
    'valgrind runs with --default-suppressions=no: its default.supp hides '
    'some ld.so TLS blocks, and leaktrace has no default suppressions.',
    'valgrind 3.19 names the allocating frame of aligned_alloc() and valloc() '
    '"memalign"; leaktrace\'s name is mapped before comparing.',
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
                p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                                   env=env or clean_env(), timeout=self.timeout)
                rc = p.returncode
            except subprocess.TimeoutExpired:
                rc = None
            except OSError as e:
                print('ERROR: %s: cannot run %s: %s' % (tag, argv[0], e.strerror))
                sys.exit(ERROR)
        dt = time.monotonic() - t0
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


def valgrind_argv(vg, num_callers, extra):
    return [vg, '--tool=memcheck', '--leak-check=full', '--show-leak-kinds=all',
            '--keep-debuginfo=yes', '--default-suppressions=no',
            '--num-callers=%d' % num_callers, '--child-silent-after-fork=yes'] + extra


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


def run_valgrind(r, args, prog, tag, extra=()):
    txt = os.path.join(r.outdir, tag + '.txt')
    xml = os.path.join(r.outdir, tag + '.xml')
    rc1, out1, _ = r.run(tag + '-text', valgrind_argv(
        args.valgrind, args.num_callers, list(extra) + ['--log-file=' + txt]) + prog)
    rc2, out2, _ = r.run(tag + '-xml', valgrind_argv(
        args.valgrind, args.num_callers, list(extra) + ['--xml=yes', '--xml-file=' + xml]) + prog)
    notes = []
    if rc1 != rc2 or out1 != out2:
        notes.append('%s: the text and XML runs differ (exit %s vs %s, stdout %d vs %d bytes):'
                     ' the program is not deterministic' % (tag, rc1, rc2, len(out1), len(out2)))
    run = read_run('valgrind' if tag == 'vg' else tag, rc2, out2, txt, xml, notes)
    return run, notes


def run_leaktrace(r, args, prog):
    xml = os.path.join(r.outdir, 'lt.xml')
    if args.launcher == 'cli':
        argv = [args.leaktrace, '--leak-check=full', '--show-leak-kinds=all',
                '--xml-file=' + xml, '--num-callers=%d' % args.num_callers] + prog
        env = None
    else:
        env = clean_env()
        env['LD_PRELOAD'] = os.path.abspath(args.preload)
        env['LEAKTRACE_OPTIONS'] = ('leak_check=full:show_leak_kinds=all:xml_file=%s:'
                                    'num_callers=%d' % (xml, args.num_callers))
        argv = prog
    rc, out, err = r.run('lt', argv, env)
    notes = []
    return read_run('leaktrace', rc, out, err, xml, notes), notes


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
    ap.add_argument('--timeout', type=float, default=120, help='seconds per run')
    ap.add_argument('--valgrind-only', action='store_true',
                    help='run valgrind only; check its own text and XML agree')
    argv = sys.argv[1:]
    cut = argv.index('--') if '--' in argv else len(argv)
    args = ap.parse_args(argv[:cut])
    prog = argv[cut + 1:]
    if not prog:
        ap.error('no program given (put it after --)')
    name = args.name or os.path.basename(prog[0])
    print('== %s: leaktrace vs valgrind memcheck' % name)

    if shutil.which(args.valgrind) is None:
        print('valgrind not found (%s): skipped' % args.valgrind)
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

    preload = args.preload or os.path.join(
        os.path.dirname(os.path.abspath(shutil.which(args.leaktrace) or args.leaktrace)),
        'libleaktrace.so')
    tls = tracer_tls_modules(preload, [prog[0]] + args.own)
    dtv_extra = lc.DTV_ENTRY_SIZE * len(tls)

    vg, notes = run_valgrind(r, args, prog, 'vg')
    if args.valgrind_only:
        checks = []
        if vg.text and vg.xml:
            checks.append(lc.text_xml_agree(vg, owner))
            c = lc.numbering_check(vg)
            if c:
                checks.append(c)
        lt = None
    else:
        lt, lnotes = run_leaktrace(r, args, prog)
        notes += lnotes
        checks = lc.compare(vg, lt, owner, None, args.expect_exit, dtv_extra)
        # Records only leaktrace has: would valgrind have them too without
        # glibc's exit-time clean-up? Ask it, only when needed.
        unexplained = [c for c in checks
                       if not c.ok and c.name.startswith('loss records: same stacks')]
        if unexplained and vg.xml and lt.xml:
            nf, nnotes = run_valgrind(r, args, prog, 'vg-nofreeres',
                                      ['--run-libc-freeres=no', '--run-cxx-freeres=no'])
            notes += nnotes
            checks = lc.compare(vg, lt, owner, nf, args.expect_exit, dtv_extra)

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
    if args.valgrind_only and vg.xml is not None:
        print('valgrind loss records:')
        for rec in vg.xml.records:
            print('  ' + rec.text + ' [%s]' % rec.kind)
            for line in lc.render_stack(rec, owner, '    '):
                print(line)
    failed = print_checks(checks)
    if notes:
        failed += len(notes)
    if vg.text and vg.text.heap:
        h = vg.text.heap
        print('valgrind HEAP SUMMARY: %d allocs, %d frees, %d bytes allocated; in use %d'
              ' bytes in %d blocks' % (h.allocs, h.frees, h.bytes_allocated,
                                       h.inuse_bytes, h.inuse_blocks))
    print('%s: %s' % (name, 'FAILED (%d)' % failed if failed else 'ok'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
