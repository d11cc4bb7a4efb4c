#!/usr/bin/env python3
"""Self-test of the valgrind comparison: every check must be able to fail.

Needs valgrind and one example program (linked-list: a stack valgrind
splits by kind, strdup frames from libc, a stdout buffer only libc's exit
clean-up frees), not leaktrace. It

  1. runs valgrind on the program (text + XML, with and without
     __libc_freeres) and checks the parsers read both formats alike;
  2. builds the report leaktrace should write, from valgrind's run without
     clean-up: records merged per stack, kind Leak_NotClassified, frame 0 in
     libleaktrace.so, then written back out in both formats;
  3. checks that compare() passes on it (with the stdout buffer explained),
     and fails, on the intended check, for each of a list of doctored copies;
  4. the same for the LEAK SUMMARY and ERROR SUMMARY checks (wrong lines,
     heuristic lines, "All heap blocks were freed"), the --cycle relaxation (passes when
     valgrind and leaktrace head a cycle with different blocks, fails on
     wrong totals), valgrind's names for allocation functions, and the
     EXPECT lines of --expect-from.

    selftest_compare.py --outdir DIR PROGRAM
"""

import argparse
import copy
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ltcompare as lc  # noqa: E402
from compare_valgrind import clean_env, expected_run, valgrind_argv  # noqa: E402

FAKE_LIB = '/nonexistent/build/libleaktrace.so'
WORDS = {v: k for k, v in lc.KIND_WORDS.items()}


# ---------------------------------------------------- report writers --

def text_frame(i, f):
    return '   %s %s: %s' % ('at' if i == 0 else 'by', f.ip or '0x0', f.where())


SUMMARY_WORDS = {v: k for k, v in lc.SUMMARY_WORDS.items()}


def summary_lines(summary, heuristics):
    """valgrind's LEAK SUMMARY block, from kind -> (bytes, blocks)."""
    out = ['LEAK SUMMARY:']
    for k in lc.SUMMARY_ORDER:
        b, n = summary.get(k, (0, 0))
        out.append('%s: {:,} bytes in {:,} blocks'.format(b, n)
                   % SUMMARY_WORDS[k].rjust(18))
        if k == 'Leak_StillReachable' and heuristics:
            out.append('                      of which reachable via heuristic:')
            for name, (hb, hn) in heuristics.items():
                out.append('                        %-19s: {:,} bytes in {:,} blocks'.format(
                    hb, hn) % name)
    return out + ['']


def write_text(path, pid, heap, records, extra_lines=(), summary=None, heuristics=None,
               no_leaks=False, errors=None):
    p = '==%d== ' % pid
    out = ['program output on stderr, not a report line',
           p + 'leaktrace (self-test imitation)', p,
           p + 'HEAP SUMMARY:',
           p + '    in use at exit: {:,} bytes in {:,} blocks'.format(heap.inuse_bytes,
                                                                   heap.inuse_blocks),
           p + '  total heap usage: {:,} allocs, {:,} frees, {:,} bytes allocated'.format(
               heap.allocs, heap.frees, heap.bytes_allocated), p]
    n = len(records)
    for i, r in enumerate(records, 1):
        idx = r.index if r.index is not None else i
        words = WORDS.get(r.kind, 'still allocated at exit (not yet classified)')
        if r.total_bytes != r.direct_bytes:
            amount = '{:,} ({:,} direct, {:,} indirect)'.format(
                r.total_bytes, r.direct_bytes, r.total_bytes - r.direct_bytes)
        else:
            amount = '{:,}'.format(r.total_bytes)
        out.append(p + '%s bytes in %d blocks are %s in loss record %d of %d'
                   % (amount, r.blocks, words, idx, n))
        out += [p + text_frame(j, f) for j, f in enumerate(r.frames)]
        out.append(p)
    if no_leaks:
        out += [p + lc.NO_LEAKS, p]
    if summary is not None:
        out += [p + l for l in summary_lines(summary, heuristics or {})]
    if errors is not None:
        out.append(p + 'ERROR SUMMARY: %d errors from %d contexts (suppressed: %d from %d)'
                   % errors)
    out += [p + l for l in extra_lines]
    out.append('--%d-- a debug line' % pid)
    with open(path, 'w') as fh:
        fh.write('\n'.join(out) + '\n')


def write_xml(path, records, protocol='4', others=()):
    root = ET.Element('valgrindoutput')
    ET.SubElement(root, 'protocolversion').text = protocol
    ET.SubElement(root, 'protocoltool').text = 'memcheck'
    for i, r in enumerate(records):
        e = ET.SubElement(root, 'error')
        ET.SubElement(e, 'unique').text = hex(i)
        ET.SubElement(e, 'kind').text = r.kind
        xw = ET.SubElement(e, 'xwhat')
        ET.SubElement(xw, 'text').text = r.text
        ET.SubElement(xw, 'leakedbytes').text = str(r.total_bytes)
        ET.SubElement(xw, 'leakedblocks').text = str(r.blocks)
        st = ET.SubElement(e, 'stack')
        for f in r.frames:
            fr = ET.SubElement(st, 'frame')
            for tag in ('ip', 'obj', 'fn', 'dir', 'file', 'line'):
                v = getattr(f, tag)
                if v is not None:
                    ET.SubElement(fr, tag).text = str(v)
    for kind, what in others:
        e = ET.SubElement(root, 'error')
        ET.SubElement(e, 'kind').text = kind
        ET.SubElement(e, 'what').text = what
    ET.ElementTree(root).write(path, encoding='utf-8', xml_declaration=True)


# ------------------------------------------------------------ helpers --

def run_vg(outdir, tag, prog, extra=()):
    txt = os.path.join(outdir, tag + '.txt')
    xml = os.path.join(outdir, tag + '.xml')
    outs = []
    for opts in (['--log-file=' + txt], ['--xml=yes', '--xml-file=' + xml]):
        p = subprocess.run(valgrind_argv('valgrind', 12, list(extra) + opts) + prog,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=clean_env(), timeout=300)
        outs.append((p.returncode, p.stdout))
    return lc.Run(tag, outs[1][0], outs[1][1], lc.parse_text(txt), lc.parse_xml(xml))


def imitate_leaktrace(nf):
    """What leaktrace should write for this program, unclassified: one
    record per stack (valgrind splits a stack by kind), frame 0 in our
    library, sorted by bytes then blocks."""
    stacks = {}
    for r in nf.xml.records:
        frames = tuple(lc.Frame(f.ip, FAKE_LIB if lc.is_tool_obj(f.obj) else f.obj,
                                f.fn, f.dir, f.file, f.line) for f in r.frames)
        s = stacks.setdefault(frames, [0, 0])
        s[0] += r.direct_bytes
        s[1] += r.blocks
    recs = []
    for frames, (b, n) in stacks.items():
        recs.append(lc.Record(lc.UNCLASSIFIED, b, b, n, list(frames)))
    recs.sort(key=lambda r: (r.total_bytes, r.blocks))
    for i, r in enumerate(recs, 1):
        r.text = ('%d bytes in %d blocks are still allocated at exit (not yet classified)'
                  ' in loss record %d of %d' % (r.total_bytes, r.blocks, i, len(recs)))
    return recs


class Fake:
    """A leaktrace run to doctor: heap summary, records, exit, stdout."""

    def __init__(self, heap, records, exit_status, stdout):
        self.heap = copy.deepcopy(heap)
        self.records = copy.deepcopy(records)
        self.text_records = None      # when the text must differ from the XML
        self.exit_status = exit_status
        self.stdout = stdout
        self.protocol = '4'
        self.summary = None           # kind -> (bytes, blocks); None: from the records
        self.heuristics = {}
        self.no_leaks = False
        self.extra_errors = 0         # added to the ERROR SUMMARY the records make

    def write(self, outdir, tag):
        txt = os.path.join(outdir, tag + '.txt')
        xml = os.path.join(outdir, tag + '.xml')
        summary = self.summary
        if summary is None and self.records and all(r.classified() for r in self.records):
            summary = {k: (v[0], v[2]) for k, v in lc.by_kind(self.records).items()}
        n = sum(1 for r in self.records if r.kind in lc.ERROR_KINDS) + self.extra_errors
        write_text(txt, 4242, self.heap, self.text_records or self.records,
                   summary=summary, heuristics=self.heuristics, no_leaks=self.no_leaks,
                   errors=(n, n, 0, 0))
        write_xml(xml, self.records, self.protocol)
        return lc.Run('leaktrace', self.exit_status, self.stdout,
                      lc.parse_text(txt), lc.parse_xml(xml))


def own_frame_index(rec, owner, nth=0):
    idx = [i for i, f in enumerate(rec.frames) if owner.is_own(f)]
    return idx[nth]


def failing(checks):
    return [c.name for c in checks if not c.ok and not c.info]


# -------------------------------------------------------------- tests --

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--outdir', required=True)
    ap.add_argument('prog', nargs='+')
    args = ap.parse_args()
    if shutil.which('valgrind') is None:
        print('valgrind not found: skipped')
        return 77
    outdir = os.path.abspath(args.outdir)
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    prog = [os.path.abspath(args.prog[0])] + args.prog[1:]
    owner = lc.Owner([prog[0]])
    problems = []

    def expect(label, ok, detail=''):
        print('[%s] %s%s' % ('PASS' if ok else 'FAIL', label, (': ' + detail) if detail else ''))
        if not ok:
            problems.append(label)

    vg = run_vg(outdir, 'vg', prog)
    nf = run_vg(outdir, 'vg-nofreeres', prog, ['--run-libc-freeres=no', '--run-cxx-freeres=no'])

    # 1. The parsers read valgrind's two formats alike.
    for run in (vg, nf):
        c = lc.text_xml_agree(run, owner)
        expect('parsers: %s text and XML agree' % run.label, c.ok, '; '.join(c.details[:6]))
    expect('parsers: valgrind splits the node stack by kind',
           {r.kind for r in vg.xml.records} >= {'Leak_DefinitelyLost', 'Leak_IndirectlyLost'},
           str(sorted({r.kind for r in vg.xml.records})))
    expect('parsers: "N (D direct, I indirect)" read as direct bytes',
           any(r.total_bytes > r.direct_bytes for r in vg.xml.records))
    expect('parsers: valgrind without clean-up has more blocks in use',
           nf.text.heap.inuse_blocks > vg.text.heap.inuse_blocks,
           '%d vs %d' % (nf.text.heap.inuse_blocks, vg.text.heap.inuse_blocks))

    # Parser corner cases.
    fr = lc.parse_text_frame('   at 0x4843A94: operator new[](unsigned long, std::nothrow_t'
                             ' const&) (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)')
    expect('parsers: C++ frame with "(in obj)"', fr is not None and
           fr.fn == 'operator new[](unsigned long, std::nothrow_t const&)' and
           fr.obj.endswith('vgpreload_memcheck-amd64-linux.so'), repr(fr))
    fr = lc.parse_text_frame('   by 0x10920C: make_widget(int) (05-cxx-new.cpp:32)')
    expect('parsers: C++ frame with file:line', fr is not None and fr.fn == 'make_widget(int)'
           and fr.file == '05-cxx-new.cpp' and fr.line == 32, repr(fr))
    fr = lc.parse_text_frame('   by 0x4001234: ???')
    expect('parsers: unknown frame', fr is not None and fr.fn is None and fr.obj is None, repr(fr))
    fr = lc.parse_text_frame('   by 0x4001234: operator delete(void*)')
    expect('parsers: frame without location keeps its parentheses',
           fr is not None and fr.fn == 'operator delete(void*)' and fr.file is None, repr(fr))
    bad = os.path.join(outdir, 'truncated.xml')
    with open(vg.xml.path, 'rb') as f:
        data = f.read()
    with open(bad, 'wb') as f:
        f.write(data[:len(data) // 2])
    try:
        lc.parse_xml(bad)
        expect('parsers: truncated XML is an error', False)
    except lc.ReportError as e:
        expect('parsers: truncated XML is an error naming the file', bad in str(e), str(e))
    try:
        lc.parse_text(bad, text='==1== nothing here\n')
        expect('parsers: text without HEAP SUMMARY is an error', False)
    except lc.ReportError as e:
        expect('parsers: text without HEAP SUMMARY is an error naming the file',
               bad in str(e), str(e))

    # 2. What leaktrace should write, and variants of it.
    base = Fake(nf.text.heap, imitate_leaktrace(nf), vg.exit_status, vg.stdout)
    n = [0]

    def check(fake, with_nf=True):
        n[0] += 1
        lt = fake.write(outdir, 'fake%02d' % n[0])
        return lc.compare(vg, lt, owner, nf if with_nf else None, 0)

    res = check(base)
    expect('imitation of leaktrace passes', not failing(res), ', '.join(failing(res)))
    explained = [c for c in res if c.name == 'explained differences']
    expect('imitation: the stdout buffer is listed as explained',
           bool(explained) and any('_IO_file_doallocate' in d for d in explained[0].details),
           ' | '.join(explained[0].details[:4]) if explained else 'no explanation listed')
    expect('imitation: compared merged', any('merged' in ' '.join(c.details) for c in res
                                             if c.name == 'loss records: matched'))

    # valgrind compared with itself passes and needs no explanation.
    res = lc.compare(vg, vg, owner, None, 0)
    expect('valgrind against itself passes (by kind)', not failing(res) and
           not any(c.name == 'explained differences' for c in res), ', '.join(failing(res)))

    # Once leaktrace classifies: the same with real kinds, by kind.
    cls = Fake(nf.text.heap, [], vg.exit_status, vg.stdout)
    cls.records = copy.deepcopy(nf.xml.records)
    for r in cls.records:
        r.frames = [lc.Frame(f.ip, FAKE_LIB if lc.is_tool_obj(f.obj) else f.obj, f.fn, f.dir,
                             f.file, f.line) for f in r.frames]
    res = check(cls)
    expect('classified imitation passes (by kind)', not failing(res), ', '.join(failing(res)))

    RECS = 'loss records: same stacks, bytes and blocks as valgrind'
    node = next(i for i, r in enumerate(base.records)
                if r.blocks == 6 and r.direct_bytes == 144)

    def mutant(label, target, mutate, with_nf=True, start=base):
        f = copy.deepcopy(start)
        mutate(f)
        res = check(f, with_nf)
        fails = failing(res)
        expect('doctored: %s -> "%s" fails' % (label, target), target in fails,
               'failing: %s' % (', '.join(fails) or 'nothing'))

    def set_frame(f, rec, idx, **kw):
        fr = f.records[rec].frames[idx]
        f.records[rec].frames[idx] = lc.Frame(**{**fr.__dict__, **kw})

    mutant('no valgrind run without clean-up', RECS, lambda f: None, with_nf=False)
    mutant('own frame line + 1', RECS, lambda f: set_frame(
        f, node, own_frame_index(f.records[node], owner), line=f.records[node].frames[
            own_frame_index(f.records[node], owner)].line + 1))
    mutant('own frame renamed', RECS, lambda f: set_frame(
        f, node, own_frame_index(f.records[node], owner, 1), fn='list_pop'))
    mutant('own frame file renamed', RECS, lambda f: set_frame(
        f, node, own_frame_index(f.records[node], owner), file='other.c'))
    mutant('own frame dropped', RECS, lambda f: f.records[node].frames.pop(
        own_frame_index(f.records[node], owner, 1)))
    mutant('frame 0 malloc named calloc', RECS, lambda f: set_frame(f, node, 0, fn='calloc'))

    def add_blocks(f, blocks, nbytes):
        f.records[node].blocks += blocks
        f.records[node].direct_bytes += nbytes
        f.records[node].total_bytes += nbytes
    mutant('one block more', RECS, lambda f: add_blocks(f, 1, 0))
    mutant('8 bytes more', RECS, lambda f: add_blocks(f, 0, 8))
    mutant('8 bytes more', 'leaktrace: "in use at exit" equals the sum of its loss records',
           lambda f: add_blocks(f, 0, 8))
    mutant('a record missing', RECS, lambda f: f.records.pop(node))
    mutant('an extra record of the program', RECS, lambda f: f.records.append(
        copy.deepcopy(f.records[node])) or set_frame(
            f, len(f.records) - 1, own_frame_index(f.records[node], owner), line=1))
    mutant('heap allocs + 1', 'heap summary: allocs',
           lambda f: setattr(f.heap, 'allocs', f.heap.allocs + 1))
    mutant('bytes allocated - 1', 'heap summary: bytes allocated',
           lambda f: setattr(f.heap, 'bytes_allocated', f.heap.bytes_allocated - 1))
    mutant('frees + 1', 'heap summary: frees and in use (valgrind without exit clean-up)',
           lambda f: setattr(f.heap, 'frees', f.heap.frees + 1))
    mutant('exit status changed', 'exit status', lambda f: setattr(f, 'exit_status', 1))
    mutant('stdout changed', 'stdout identical', lambda f: setattr(f, 'stdout', b'changed\n'))
    mutant('XML protocol 3', 'leaktrace XML: protocol version 4',
           lambda f: setattr(f, 'protocol', '3'))

    def text_differs(f):
        f.text_records = copy.deepcopy(f.records)
        f.text_records[node].blocks += 1
    mutant('text report disagrees with XML', 'leaktrace: text and XML reports agree', text_differs)

    def renumber(f):
        f.text_records = copy.deepcopy(f.records)
        f.text_records[-1].index = 1
    mutant('loss records misnumbered', 'leaktrace: loss records numbered 1..%d of %d'
           % (len(base.records), len(base.records)), renumber)

    def wrong_kind(f):
        for r in f.records:
            if r.kind == 'Leak_IndirectlyLost':
                r.kind = 'Leak_PossiblyLost'
                break
    mutant('classified, one kind wrong', RECS, wrong_kind, start=cls)

    buf = next(i for i, r in enumerate(base.records) if r.direct_bytes >= 1024)

    def grow_buffer(f):
        f.records[buf].direct_bytes += 1
        f.records[buf].total_bytes += 1
    mutant('the explained stdout buffer 1 byte larger', RECS, grow_buffer)

    # Explained blocks are listed, not asserted: their kind may differ.
    relabel = copy.deepcopy(cls)
    for r in relabel.records:
        if r.direct_bytes >= 1024:
            r.kind = 'Leak_DefinitelyLost'
    res = check(relabel)
    expect('explained block of another kind than valgrind-without-clean-up passes',
           not failing(res), ', '.join(failing(res)))

    # The LEAK SUMMARY, against valgrind's and against the records.
    SUMMARY = 'LEAK SUMMARY: same as valgrind'
    OWN_SUMMARY = 'leaktrace: LEAK SUMMARY equals the sum of its loss records, by kind'
    HEUR = 'LEAK SUMMARY: "of which reachable via heuristic" as valgrind'
    expect('parsers: valgrind\'s LEAK SUMMARY read',
           vg.text.summary is not None and vg.text.summary.get('Leak_IndirectlyLost', (0, 0))[1]
           > 0 and not vg.text.no_leaks, repr(vg.text.summary))

    def summary_plus(kind, nbytes):
        def mutate(f):
            f.summary = {k: (v[0], v[2]) for k, v in lc.by_kind(f.records).items()}
            b, n = f.summary.get(kind, (0, 0))
            f.summary[kind] = (b + nbytes, n)
        return mutate
    mutant('LEAK SUMMARY definitely lost 8 bytes more', SUMMARY,
           summary_plus('Leak_DefinitelyLost', 8), start=cls)
    mutant('LEAK SUMMARY definitely lost 8 bytes more', OWN_SUMMARY,
           summary_plus('Leak_DefinitelyLost', 8), start=cls)
    mutant('LEAK SUMMARY suppressed 8 bytes', SUMMARY,
           summary_plus('suppressed', 8), start=cls)
    mutant('LEAK SUMMARY all zeros', SUMMARY, lambda f: setattr(f, 'summary', {}), start=cls)
    mutant('one error more in the ERROR SUMMARY', 'ERROR SUMMARY: same as valgrind',
           lambda f: setattr(f, 'extra_errors', 1), start=cls)
    mutant('a heuristic line valgrind does not print', HEUR,
           lambda f: f.heuristics.update({'newarray': (24, 1)}), start=cls)
    mutant('"All heap blocks were freed" while leaking', SUMMARY,
           lambda f: setattr(f, 'no_leaks', True), start=cls)
    mutant('explained block counted in the wrong kind of the LEAK SUMMARY', SUMMARY,
           lambda f: [setattr(r, 'kind', 'Leak_DefinitelyLost') for r in f.records
                      if r.direct_bytes >= 1024] and setattr(f, 'summary', {
                          k: (v[0], v[2]) for k, v in lc.by_kind(
                              [r for r in f.records if r.direct_bytes < 1024]).items()}),
           start=cls)

    # A program that frees everything: "All heap blocks were freed".
    def text_like(t, **kw):
        t = copy.copy(t)
        for k, v in kw.items():
            setattr(t, k, v)
        return t
    freed_vg = text_like(vg.text, records=[], summary=None, heuristics={}, no_leaks=True)
    c = lc.summary_checks(freed_vg, text_like(freed_vg), [], [])
    expect('no leaks, said by both: passes', all(x.ok for x in c), '; '.join(
        x.name for x in c if not x.ok))
    for label, lt_text in (('leaktrace prints a LEAK SUMMARY instead',
                            text_like(freed_vg, no_leaks=False, summary={
                                k: (0, 0) for k in lc.SUMMARY_ORDER})),
                           ('leaktrace says nothing', text_like(freed_vg, no_leaks=False))):
        c = lc.summary_checks(freed_vg, lt_text, [], [])
        expect('doctored: no leaks, %s -> "%s" fails' % (label, SUMMARY),
               SUMMARY in [x.name for x in c if not x.ok])
    buf = lc.Record('Leak_StillReachable', 1024, 1024, 1, [lc.Frame(fn='malloc')])
    only_buf = [lc.GroupResult((), 'malloc', [], [buf], 'by kind', False)]
    zeros = {k: (0, 0) for k in lc.SUMMARY_ORDER}
    c = lc.summary_checks(freed_vg, text_like(freed_vg, no_leaks=False, summary=dict(
        zeros, Leak_StillReachable=(1024, 1))), [buf], only_buf)
    expect('no leaks but for an explained block: passes', all(x.ok for x in c), '; '.join(
        '%s: %s' % (x.name, x.details) for x in c if not x.ok))
    c = lc.summary_checks(freed_vg, text_like(freed_vg, no_leaks=False, summary=dict(
        zeros, Leak_StillReachable=(1032, 2))), [buf], only_buf)
    expect('doctored: no leaks, an explained block and one more -> "%s" fails' % SUMMARY,
           SUMMARY in [x.name for x in c if not x.ok])
    t = lc.parse_text('heuristics.txt', text='\n'.join(
        '==7== ' + l for l in ['HEAP SUMMARY:', '    in use at exit: 104 bytes in 1 blocks',
                               '  total heap usage: 1 allocs, 0 frees, 104 bytes allocated', '']
        + summary_lines({'Leak_StillReachable': (104, 1)}, {'newarray': (104, 1),
                                                           'multipleinheritance': (1, 1)})
        + ['For lists of detected and suppressed errors, rerun with: -s']))
    expect('parsers: "of which reachable via heuristic" lines read',
           t.heuristics == {'newarray': (104, 1), 'multipleinheritance': (1, 1)}
           and t.summary['Leak_StillReachable'] == (104, 1)
           and t.summary['suppressed'] == (0, 0), '%r %r' % (t.heuristics, t.summary))

    # An unreferenced cycle: valgrind picks the definitely lost block by
    # address; --cycle compares the kind totals over the cycle only.
    def rec(kind, direct, total, fn, line):
        return lc.Record(kind, total, direct, 1, [
            lc.Frame(fn='calloc', obj='/x/vgpreload_memcheck.so'),
            lc.Frame(fn=fn, obj=prog[0], file='cycle.c', line=line),
            lc.Frame(fn='main', obj=prog[0], file='cycle.c', line=40)])
    cyc_vg = [rec('Leak_DefinitelyLost', 40, 80, 'make_a', 10),
              rec('Leak_IndirectlyLost', 40, 40, 'make_b', 20)]
    swapped = [rec('Leak_IndirectlyLost', 40, 40, 'make_a', 10),
               rec('Leak_DefinitelyLost', 40, 80, 'make_b', 20)]
    cyc = [['make_a', 'make_b']]

    def cycle_ok(lt_recs, cycles):
        return all(g.equal for g in lc.match_records(cyc_vg, lt_recs, owner, cycles))
    expect('cycle: the other block definitely lost fails without --cycle',
           not cycle_ok(swapped, []))
    expect('cycle: the other block definitely lost passes with --cycle', cycle_ok(swapped, cyc))
    expect('cycle: the same choice passes with --cycle', cycle_ok(cyc_vg, cyc))
    both_ind = [rec('Leak_IndirectlyLost', 40, 40, 'make_a', 10),
                rec('Leak_IndirectlyLost', 40, 40, 'make_b', 20)]
    expect('doctored: cycle with no definitely lost block fails with --cycle',
           not cycle_ok(both_ind, cyc))
    bigger = [rec('Leak_IndirectlyLost', 48, 48, 'make_a', 10),
              rec('Leak_DefinitelyLost', 40, 88, 'make_b', 20)]
    expect('doctored: cycle block 8 bytes larger fails with --cycle', not cycle_ok(bigger, cyc))
    moved = [rec('Leak_IndirectlyLost', 40, 40, 'make_a', 11),
             rec('Leak_DefinitelyLost', 40, 80, 'make_b', 20)]
    expect('doctored: cycle block from another line fails with --cycle', not cycle_ok(moved, cyc))

    # valgrind's names for the allocation functions.
    expect('aliases: realloc(NULL, n) shows as malloc',
           lc.valgrind_entry('realloc', {'malloc'}) == 'malloc')
    expect('aliases: realloc of a block stays realloc',
           lc.valgrind_entry('realloc', {'realloc', 'malloc'}) == 'realloc')
    expect('aliases: valloc is memalign', lc.valgrind_entry('valloc', {}) == 'memalign')

    # Expected reports (--expect-from) for programs valgrind cannot run.
    src = os.path.join(outdir, 'expect.c')
    with open(src, 'w') as f:
        f.write('/* EXPECT: Leak_DefinitelyLost 4096 1 pvalloc grab@one main@call\n'
                ' * EXPECT-HEAP: 1 allocs, 0 frees, 4096 bytes allocated */\n'
                'void *grab(void) { return pvalloc(1); /* @one */ }\n'
                'int main(void) { grab(); /* @call */ return 0; }\n')
    exp, errs = expected_run(src, prog[0], 0)
    r0 = exp.xml.records[0] if exp and exp.xml.records else None
    expect('expected report: read from EXPECT lines', not errs and r0 is not None and
           r0.kind == 'Leak_DefinitelyLost' and r0.direct_bytes == 4096 and
           [(f.fn, f.line) for f in r0.frames] == [('pvalloc', None), ('grab', 3), ('main', 4)]
           and exp.text.heap.allocs == 1, '%r %r' % (errs, r0))
    with open(src, 'a') as f:
        f.write('/* EXPECT: Leak_DefinitelyLost 1 1 malloc grab@nowhere */\n')
    _, errs = expected_run(src, prog[0], 0)
    expect('doctored: EXPECT names a tag no line carries -> an error',
           len(errs) == 1 and '@nowhere' in errs[0], '; '.join(errs))

    vg_err = copy.deepcopy(vg)
    vg_err.xml.other_errors.append(('InvalidRead', 'Invalid read of size 1'))
    res = lc.compare(vg_err, base.write(outdir, 'fake-err'), owner, nf, 0)
    expect('doctored: valgrind saw a memory error -> fails',
           'valgrind: no memory errors besides leaks' in failing(res))

    print('%d problems' % len(problems))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
