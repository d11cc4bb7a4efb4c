#!/usr/bin/env python3
"""Mapping leaks (track_mmap): each scenario of mappings.c runs under the
tracer and its report must be exactly the expected one: mapping records
(bytes, mapping counts, type and path, verdict, frames), MAPPING SUMMARY,
heap records and ERROR SUMMARY; the JSON and XML reports must agree. With
track_mmap=no the program's mappings are roots again, as in valgrind.

    check_mappings.py --leaktrace build/leaktrace --outdir DIR -- PROGRAM

Lines are compared without the ==PID== prefix, blank lines and frame
addresses; frames outside mappings.c keep their function and file but
not their line. Exit status 0 pass, 1 fail.
"""

import argparse
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

TIMEOUT = 60
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
from check_machine import validate  # noqa: E402
from ltcheck import Checker  # noqa: E402
SCHEMA = os.path.join(HERE, '..', '..', 'docs', 'leaktrace-report.schema.json')
ZERO_HEAP = ['HEAP SUMMARY:',
             'in use at exit: 0 bytes in 0 blocks',
             'total heap usage: 0 allocs, 0 frees, 0 bytes allocated',
             'All heap blocks were freed -- no leaks are possible']
MMAP = 'at mmap (interpose.c)'


def summary(total, definite, indirect, possible, reachable, types, suppressed=(0, 0)):
    """MAPPING SUMMARY lines: (bytes, count) pairs."""
    def line(label, bc):
        return '%s: %s bytes in %d mappings' % (label, format(bc[0], ','), bc[1])
    out = ['MAPPING SUMMARY:', line('in use at exit', total),
           line('definitely lost', definite), line('indirectly lost', indirect),
           line('possibly lost', possible), line('still reachable', reachable),
           line('suppressed', suppressed)]
    names = ['private anonymous', 'shared anonymous', 'private file-backed',
             'shared file-backed']
    return out + [line(n, t) for n, t in zip(names, types)]


def errors(n, suppressed=0):
    return ['For lists of detected and suppressed errors, rerun with: -s',
            'ERROR SUMMARY: %d errors from %d contexts (suppressed: %d from %d)'
            % (n, n, suppressed, suppressed)]


Z = (0, 0)
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'mappings.c')


def by(fn, text, nth=None):
    """The frame line of a call in mappings.c: the line where the
    statement holding text starts (gcc's line for the call at -O0)."""
    with open(SOURCE) as f:
        lines = f.read().splitlines()
    hits = [i + 1 for i, l in enumerate(lines) if text in l]
    if (nth is None and len(hits) != 1) or (nth is not None and nth >= len(hits)):
        raise SystemExit('mappings.c: %r found %d times' % (text, len(hits)))
    return 'by %s (mappings.c:%d)' % (fn, hits[nth or 0])


def expected(dirname):
    """scenario -> (expected lines, exit errors)."""
    priv = dirname + '/private.dat'
    shared = dirname + '/shared.dat'
    return {
        'private-anon': ZERO_HEAP + [
            '4,096 bytes in 1 mappings (private anonymous) are still reachable in mapping record 1 of 2',
            MMAP, by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0), by('private_anon', 'kept[0] = map_anon(PAGE, 0);', 0),
            by('main', 'private_anon();'),
            '8,192 bytes in 1 mappings (private anonymous) are definitely lost in mapping record 2 of 2',
            MMAP, by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0), by('private_anon', 'void *lost = map_anon(2 * PAGE, 0);'),
            by('main', 'private_anon();'),
        ] + summary((12288, 2), (8192, 1), Z, Z, (4096, 1), [(12288, 2), Z, Z, Z]) + errors(1),
        'shared-anon': ZERO_HEAP + [
            '12,288 bytes in 1 mappings (shared anonymous) are definitely lost in mapping record 1 of 1',
            MMAP, by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0), by('shared_anon', 'void *lost = map_anon(3 * PAGE, 1);'),
            by('main', 'shared_anon();'),
        ] + summary((12288, 1), (12288, 1), Z, Z, Z, [Z, (12288, 1), Z, Z]) + errors(1),
        'private-file': ZERO_HEAP + [
            '8,192 bytes in 1 mappings (private file-backed %s) are definitely lost in mapping record 1 of 1' % priv,
            MMAP, by('map_file', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, shared'), by('private_file', 'void *p = map_file(path, PAGE + 100, 0);'),
            by('main', 'private_file(dir);'),
        ] + summary((8192, 1), (8192, 1), Z, Z, Z, [Z, Z, (8192, 1), Z]) + errors(1),
        'shared-file': ZERO_HEAP + [
            '4,096 bytes in 1 mappings (shared file-backed %s) are still reachable in mapping record 1 of 1' % shared,
            MMAP, by('map_file', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, shared'), by('shared_file', 'kept[1] = map_file(path, PAGE, 1);'),
            by('main', 'shared_file(dir);'),
        ] + summary((4096, 1), Z, Z, Z, (4096, 1), [Z, Z, Z, (4096, 1)]) + errors(0),
        # 5 pages, page 2 and page 4 unmapped: pages 0-1 kept, page 3 lost.
        'partial': ZERO_HEAP + [
            '4,096 bytes in 1 mappings (private anonymous) are definitely lost in mapping record 1 of 2',
            MMAP, by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0), by('partial', 'char *p = map_anon(5 * PAGE, 0);'),
            by('main', 'partial();'),
            '8,192 bytes in 1 mappings (private anonymous) are still reachable in mapping record 2 of 2',
            MMAP, by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0), by('partial', 'char *p = map_anon(5 * PAGE, 0);'),
            by('main', 'partial();'),
        ] + summary((12288, 2), (4096, 1), Z, Z, (8192, 1), [(12288, 2), Z, Z, Z]) + errors(1),
        # Moved and grown to 4 pages: the mremap's stack, nothing left behind.
        'remap-move': ZERO_HEAP + [
            '16,384 bytes in 1 mappings (private anonymous) are still reachable in mapping record 1 of 1',
            'at mremap (interpose.c)', by('remap_move', 'char *q = mremap(p, PAGE, 4 * PAGE, MREMAP_MAYMOVE'),
            by('main', 'remap_move();'),
        ] + summary((16384, 1), Z, Z, Z, (16384, 1), [(16384, 1), Z, Z, Z]) + errors(0),
        'remap-grow': ZERO_HEAP + [
            '8,192 bytes in 1 mappings (private anonymous) are still reachable in mapping record 1 of 1',
            'at mremap (interpose.c)', by('remap_grow', 'char *q = mremap(p, PAGE, 2 * PAGE, 0);'),
            by('main', 'remap_grow();'),
        ] + summary((8192, 1), Z, Z, Z, (8192, 1), [(8192, 1), Z, Z, Z]) + errors(0),
        # 4 pages; pages 1-2 replaced by a shared mapping (MAP_FIXED).
        'fixed-overlap': ZERO_HEAP + [
            '4,096 bytes in 1 mappings (private anonymous) are still reachable in mapping record 1 of 3',
            MMAP, by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0), by('fixed_overlap', 'char *p = map_anon(4 * PAGE, 0);'),
            by('main', 'fixed_overlap();'),
            '4,096 bytes in 1 mappings (private anonymous) are definitely lost in mapping record 2 of 3',
            MMAP, by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0), by('fixed_overlap', 'char *p = map_anon(4 * PAGE, 0);'),
            by('main', 'fixed_overlap();'),
            '8,192 bytes in 1 mappings (shared anonymous) are definitely lost in mapping record 3 of 3',
            MMAP, by('fixed_overlap', 'void *q = mmap(p + PAGE, 2 * PAGE'), by('main', 'fixed_overlap();'),
        ] + summary((16384, 3), (12288, 2), Z, Z, (4096, 1), [(8192, 2), (8192, 1), Z, Z]) + errors(2),
        'chain': [
            'HEAP SUMMARY:', 'in use at exit: 24 bytes in 1 blocks',
            'total heap usage: 1 allocs, 0 frees, 24 bytes allocated',
            '24 bytes in 1 blocks are indirectly lost in loss record 1 of 1',
            'at malloc (interpose.c)', by('chain', 'outer[1] = malloc(24);'), by('main', 'chain();'),
            '4,096 bytes in 1 mappings (private anonymous) are still reachable in mapping record 1 of 3',
            MMAP, by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0), by('chain', 'char *guard = map_anon(PAGE, 0);'),
            by('main', 'chain();'),
            '8,192 bytes in 1 mappings (private anonymous) are indirectly lost in mapping record 2 of 3',
            MMAP, by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0), by('chain', 'outer[0] = map_anon(2 * PAGE, 0);'),
            by('main', 'chain();'),
            '12,288 (4,096 direct, 8,192 indirect) bytes in 1 mappings (private anonymous) are definitely lost in mapping record 3 of 3',
            MMAP, by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0), by('chain', 'void **outer = map_anon(PAGE, 0);'),
            by('main', 'chain();'),
            'LEAK SUMMARY:', 'definitely lost: 0 bytes in 0 blocks',
            'indirectly lost: 24 bytes in 1 blocks', 'possibly lost: 0 bytes in 0 blocks',
            'still reachable: 0 bytes in 0 blocks', 'suppressed: 0 bytes in 0 blocks',
        ] + summary((16384, 3), (4096, 1), (8192, 1), Z, (4096, 1), [(16384, 3), Z, Z, Z]) + errors(1),
    }


# With track_mmap=no the mappings are roots: the heap block the lost
# mapping points to is reachable, and nothing is said about mappings.
UNTRACKED_CHAIN = [
    'HEAP SUMMARY:', 'in use at exit: 24 bytes in 1 blocks',
    'total heap usage: 1 allocs, 0 frees, 24 bytes allocated',
    '24 bytes in 1 blocks are still reachable in loss record 1 of 1',
    'at malloc (interpose.c)', by('chain', 'outer[1] = malloc(24);'), by('main', 'chain();'),
    'LEAK SUMMARY:', 'definitely lost: 0 bytes in 0 blocks',
    'indirectly lost: 0 bytes in 0 blocks', 'possibly lost: 0 bytes in 0 blocks',
    'still reachable: 24 bytes in 1 blocks', 'suppressed: 0 bytes in 0 blocks',
] + errors(0)

def mapping_part(lines):
    """The mapping records with their frames, and the MAPPING SUMMARY."""
    out, keep = [], False
    for line in lines:
        if ' mappings (' in line or line == 'MAPPING SUMMARY:':
            keep = True
        elif not re.match(r'^(at|by) ', line) and not line.endswith(' mappings'):
            keep = False
        if keep:
            out.append(line)
    return out


def threads_expected():
    # --num-callers=3: the frames below the worker are the C library's.
    return [
        '16,384 bytes in 4 mappings (private anonymous) are definitely lost in mapping record 1 of 1',
        MMAP, by('map_anon_apart', 'void *p = mmap(hint, len, PROT_READ | PROT_WRITE,', 0),
        by('worker', 'void *lost = map_anon_apart(PAGE);', 0),
    ] + summary((16384, 4), (16384, 4), Z, Z, Z, [(16384, 4), Z, Z, Z])


def fork_expected():
    """(parent's, child's) mapping parts."""
    inherited = [
        MMAP, by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0),
        by('forked', 'void *lost = map_anon(PAGE, 0);', 0), by('main', 'forked();')]
    parent = ['4,096 bytes in 1 mappings (private anonymous) are definitely lost in mapping record 1 of 1'] + \
        inherited + summary((4096, 1), (4096, 1), Z, Z, Z, [(4096, 1), Z, Z, Z])
    child = ['4,096 bytes in 1 mappings (private anonymous) are definitely lost in mapping record 1 of 2'] + \
        inherited + [
            '8,192 bytes in 1 mappings (private anonymous) are definitely lost in mapping record 2 of 2',
            MMAP, by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0),
            by('forked', 'void *mine = map_anon(2 * PAGE, 0);'), by('main', 'forked();'),
        ] + summary((12288, 2), (12288, 2), Z, Z, Z, [(12288, 2), Z, Z, Z])
    return parent, child


FRAME = re.compile(r'^(at|by) 0x[0-9A-F]+: (.*?)(?: \(([^():]+)(?::(\d+))?\))?$')


def normalise(text):
    """The report's lines from HEAP SUMMARY on, as the table above has them."""
    out = []
    started = False
    for raw in text.splitlines():
        m = re.match(r'^==\d+== ?(.*)$', raw)
        if not m:
            continue
        line = m.group(1).strip()
        if line.startswith('HEAP SUMMARY'):
            started = True
        if not started or not line:
            continue
        f = FRAME.match(line)
        if f:
            where, fn, src, lineno = f.groups()
            if fn == 'mmap64':
                fn = 'mmap'       # the same function with 64-bit offsets
            if src == 'mappings.c' and lineno:
                line = '%s %s (%s:%s)' % (where, fn, src, lineno)
            else:
                line = '%s %s (%s)' % (where, fn, src)
        out.append(line)
    return out


def diff(want, got):
    import difflib
    return '\n'.join(difflib.unified_diff(want, got, 'expected', 'got', lineterm=''))


def run(args, prog, scenario, outdir, extra):
    log = os.path.join(outdir, scenario + '.txt')
    js = os.path.join(outdir, scenario + '.json')
    xml = os.path.join(outdir, scenario + '.xml')
    env = dict(os.environ, LC_ALL='C')
    for k in ('LD_PRELOAD', 'LEAKTRACE_OPTIONS'):
        env.pop(k, None)
    sarif = os.path.join(outdir, scenario + '.sarif')
    argv = [args.leaktrace, '--show-leak-kinds=all', '--log-file=' + log,
            '--json-file=' + js, '--xml-file=' + xml, '--sarif-file=' + sarif] + extra + \
           ['--', prog, scenario, outdir]
    p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=TIMEOUT)
    with open(log) as f:
        text = f.read()
    return p.returncode, p.stderr.decode(errors='replace'), text, js, xml


def ns(s):
    b = (s or '').encode()
    return str(len(b)).encode() + b':' + b + b','


def fingerprint(rec, lines=True):
    """docs/json-report.md's definition, with a mapping record's type line."""
    t = b'leaktrace fingerprint 1\n' if lines else b'leaktrace fuzzy fingerprint 1\n'
    t += b'kind ' + rec['kind'].encode() + b'\n'
    t += b'mapping ' + rec['type'].encode() + b'\n'
    allocator = True
    for f in rec['stack']:
        if allocator and f['inlined']:
            continue
        allocator = False
        own = not f['external'] and f['file'] is not None
        line = str(f['line']) if own and lines and f['line'] else ''
        obj = os.path.basename(f['object']) if f['function'] is None and f['object'] else None
        t += b'frame ' + ns(f['function']) + ns(f['file'] if own else None) + ns(line) + \
            ns(obj) + b'\n'
    return hashlib.sha256(t).hexdigest()[:32]


def check_json(c, scenario, js, want):
    with open(js) as f:
        rep = json.load(f)
    with open(SCHEMA) as f:
        problems = validate(rep, json.load(f))
    c.expect(scenario + ': JSON report matches the schema', not problems, '\n'.join(problems))
    maps = rep.get('mappings')
    if not c.expect(scenario + ': JSON has the mappings', maps is not None):
        return
    msgs = [r['message'] for r in maps['records']]
    want_msgs = [l for l in want if ' mappings (' in l]
    c.expect(scenario + ': JSON mapping records', msgs == want_msgs, diff(want_msgs, msgs))
    total = sum(r['direct_bytes'] for r in maps['records'])
    c.expect(scenario + ': JSON in_use_bytes', total == maps['in_use_bytes'],
             '%d != %d' % (total, maps['in_use_bytes']))
    got_fp = [(r['fingerprint'], r['fuzzy_fingerprint']) for r in maps['records']]
    want_fp = [(fingerprint(r), fingerprint(r, False)) for r in maps['records']]
    c.expect(scenario + ': JSON mapping fingerprints as documented', got_fp == want_fp,
             diff([repr(x) for x in want_fp], [repr(x) for x in got_fp]))
    for r in maps['records']:
        file_backed = r['type'] in ('private-file', 'shared-file')
        c.expect(scenario + ': JSON record %d path' % r['index'],
                 (r['path'] is not None) == file_backed, r)


LEVELS = {'definitely lost': 'error', 'possibly lost': 'warning', 'indirectly lost': 'note',
          'still reachable': 'note'}
TYPE_IDS = {'private anonymous': 'private-anonymous', 'shared anonymous': 'shared-anonymous',
            'private file-backed': 'private-file', 'shared file-backed': 'shared-file'}


def check_sarif(c, scenario, sarif, js, want):
    """One result per mapping record shown: its type's rule, its kind's
    level, the text's sentence, the JSON's fingerprint."""
    with open(sarif) as f:
        run_ = json.load(f)['runs'][0]
    with open(js) as f:
        fps = {r['message']: r['fingerprint'] for r in json.load(f)['mappings']['records']}
    rules = [r['id'] for r in run_['tool']['driver']['rules']]
    got, want_res = [], []
    for res in run_['results']:
        if 'mappingRecord' in res['properties']:
            got.append((res['ruleId'], rules[res['ruleIndex']], res['level'],
                        res['message']['text'], res['partialFingerprints']['leaktraceStack/v1']))
    for l in want:
        m = re.search(r' mappings \((private anonymous|shared anonymous|private file-backed|'
                      r'shared file-backed).* are (definitely lost|indirectly lost|possibly lost|'
                      r'still reachable) in mapping record', l)
        if m:
            rid = 'leaktrace/mapping-' + TYPE_IDS[m.group(1)]
            want_res.append((rid, rid, LEVELS[m.group(2)], l, fps.get(l)))
    c.expect(scenario + ': SARIF mapping results', got == want_res,
             diff([repr(x) for x in want_res], [repr(x) for x in got]))
    want_rules = ['leaktrace/' + k for k in ('definitely-lost', 'indirectly-lost', 'possibly-lost',
                                             'still-reachable', 'not-classified')] + \
        ['leaktrace/mapping-' + t for t in ('private-anonymous', 'shared-anonymous',
                                           'private-file', 'shared-file')]
    c.expect(scenario + ': SARIF rules', rules == want_rules, rules)


def check_xml(c, scenario, xml, want):
    kinds = {'private anonymous': 'Leak_MmapPrivateAnon', 'shared anonymous': 'Leak_MmapSharedAnon',
             'private file-backed': 'Leak_MmapPrivateFile',
             'shared file-backed': 'Leak_MmapSharedFile'}
    root = ET.parse(xml).getroot()
    got = []
    for e in root.findall('error'):
        kind = e.findtext('kind')
        if kind.startswith('Leak_Mmap'):
            got.append((kind, e.find('xwhat').findtext('text')))
    want_pairs = []
    for l in want:
        m = re.search(r' mappings \((private anonymous|shared anonymous|'
                      r'private file-backed|shared file-backed)', l)
        if m:
            want_pairs.append((kinds[m.group(1)], l))
    c.expect(scenario + ': XML mapping errors', got == want_pairs,
             diff([repr(x) for x in want_pairs], [repr(x) for x in got]))


# ---- suppressions: mapping records are matched as loss records are ----

MAP_SUPP = """{
   lost-mapping
   Memcheck:Leak
   match-leak-kinds: definite
   fun:mmap*
   fun:map_anon
   fun:private_anon
}
"""

HEAP_ONLY_SUPP = """{
   heap-only
   Memcheck:Leak
   match-leak-kinds: all
   fun:malloc
   ...
   fun:chain
}
"""


def supp_file(outdir, name, text):
    path = os.path.join(outdir, name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def suppression_cases(outdir):
    """(label, scenario, suppressions text, extra options, expected text
    lines, exit status, JSON: suppressed record indexes)."""
    exp = expected(outdir)
    kept = exp['private-anon'][len(ZERO_HEAP):len(ZERO_HEAP) + 5]
    chain = exp['chain']
    heap_rec = chain.index('24 bytes in 1 blocks are indirectly lost in loss record 1 of 1')
    chain_maps = chain[heap_rec + 4:chain.index('LEAK SUMMARY:')]
    return [
        # The definitely lost record goes; the reachable one stays; the
        # lost mapping is no error any more, a suppressed one.
        ('valgrind block on a mapping record', 'private-anon', MAP_SUPP, ['--error-exitcode=7'],
         ZERO_HEAP + kept + summary((12288, 2), Z, Z, Z, (4096, 1), [(12288, 2), Z, Z, Z],
                                    (8192, 1)) + errors(0, 1), 0, [2]),
        # LeakSanitizer's leak: matches any frame of the stack.
        ('leak: line on a mapping record', 'shared-anon', 'leak:shared_anon\n',
         ['--error-exitcode=7'],
         ZERO_HEAP + summary((12288, 1), Z, Z, Z, Z, [Z, (12288, 1), Z, Z], (12288, 1)) +
         errors(0, 1), 0, [1]),
        # A block written for a heap record (fun:malloc first) leaves the
        # mappings of the same function alone.
        ('heap block leaves mapping records alone', 'chain', HEAP_ONLY_SUPP, [],
         chain[:heap_rec] + chain_maps + [
             'LEAK SUMMARY:', 'definitely lost: 0 bytes in 0 blocks',
             'indirectly lost: 0 bytes in 0 blocks', 'possibly lost: 0 bytes in 0 blocks',
             'still reachable: 0 bytes in 0 blocks', 'suppressed: 24 bytes in 1 blocks',
         ] + summary((16384, 3), (4096, 1), (8192, 1), Z, (4096, 1), [(16384, 3), Z, Z, Z]) +
         errors(1), 0, []),
    ]


def check_supp_json(c, label, js, want_suppressed, sup_bytes, sup_count):
    with open(js) as f:
        rep = json.load(f)
    maps = rep['mappings']
    got = [r['index'] for r in maps['records'] if r['suppressed']]
    c.expect(label + ': JSON suppressed records', got == want_suppressed,
             '%s != %s' % (got, want_suppressed))
    c.expect(label + ': JSON suppressed records are not shown nor errors',
             all(not r['shown'] and not r['error'] for r in maps['records'] if r['suppressed']))
    amount = maps['leaks']['suppressed']
    c.expect(label + ': JSON mappings.leaks.suppressed',
             (amount['bytes'], amount['mappings']) == (sup_bytes, sup_count), amount)


def supp_blocks(text, as_mmap=True):
    """The suppressions --gen-suppressions wrote, each a list of lines
    (mmap64 named mmap when as_mmap)."""
    blocks, cur = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if line == '{':
            cur = []
        elif line == '}' and cur is not None:
            blocks.append(cur)
            cur = None
        elif cur is not None:
            cur.append('fun:mmap' if as_mmap and line == 'fun:mmap64' else line)
    return blocks


def check_suppressions(c, args, prog, outdir):
    for label, scenario, text, extra, want, status, sup_idx in suppression_cases(outdir):
        path = supp_file(outdir, scenario + '.supp', text)
        rc, err, out, js, xml = run(args, prog, scenario, outdir,
                                    ['--suppressions=' + path] + extra)
        c.expect(label + ': exit status %d' % status, rc == status, 'exit %s: %s' % (rc, err))
        got = normalise(out)
        c.expect(label + ': text report', got == want, diff(want, got))
        sline = [l for l in want if l.startswith('suppressed: ') and l.endswith(' mappings')]
        nums = re.match(r'suppressed: ([\d,]+) bytes in (\d+) mappings', sline[0]).groups()
        check_supp_json(c, label, js, sup_idx, int(nums[0].replace(',', '')), int(nums[1]))
        check_xml(c, label, xml, want)
        check_sarif(c, label, js[:-len('.json')] + '.sarif', js, want)
    # -s names the suppression and what it took, in mappings.
    path = supp_file(outdir, 'private-anon.supp', MAP_SUPP)
    rc, err, out, js, xml = run(args, prog, 'private-anon', outdir,
                                ['--suppressions=' + path, '--show-error-list=yes'])
    used = [l for l in out.splitlines() if 'used_suppression:' in l]
    want_used = 'used_suppression:      1 lost-mapping %s:2 suppressed: 8,192 bytes in 1 blocks' % path
    c.expect('-s lists the suppression of a mapping record',
             [re.sub(r'^--\d+-- ', '', l) for l in used] == [want_used], used)
    # --gen-suppressions: one block after each mapping record shown, in
    # the text and in the XML; fed back, they suppress exactly those.
    rc, err, out, js, xml = run(args, prog, 'private-anon', outdir, ['--gen-suppressions=all'])
    want_blocks = [['<insert_a_suppression_name_here>', 'Memcheck:Leak',
                    'match-leak-kinds: ' + kind, 'fun:mmap', 'fun:map_anon',
                    'fun:private_anon', 'fun:main'] for kind in ('reachable', 'definite')]
    got_blocks = supp_blocks(out)
    c.expect('gen-suppressions: a block after each mapping record', got_blocks == want_blocks,
             diff(['|'.join(b) for b in want_blocks], ['|'.join(b) for b in got_blocks]))
    root = ET.parse(xml).getroot()
    per_error = [len(e.findall('suppression')) for e in root.findall('error')
                 if e.findtext('kind') == 'Leak_MmapPrivateAnon']
    c.expect('gen-suppressions: XML <suppression> in each mapping error', per_error == [1, 1],
             per_error)
    gen = supp_file(outdir, 'generated.supp',
                    ''.join('{\n' + '\n'.join(b) + '\n}\n'
                            for b in supp_blocks(out, as_mmap=False)))
    rc, err, out, js, xml = run(args, prog, 'private-anon', outdir, ['--suppressions=' + gen])
    want = ZERO_HEAP + summary((12288, 2), Z, Z, Z, Z, [(12288, 2), Z, Z, Z], (12288, 2)) + \
        errors(0, 1)
    got = normalise(out)
    c.expect('gen-suppressions: fed back, they suppress both records', got == want,
             diff(want, got))


# ---- baselines: mapping records have fingerprints, known ones are no errors ----

def check_baselines(c, args, prog, outdir):
    exp = expected(outdir)['private-anon']
    base = os.path.join(outdir, 'private-anon.baseline.json')
    rc, err, out, js, xml = run(args, prog, 'private-anon', outdir, ['--write-baseline=' + base])
    with open(js) as f:
        recs = json.load(f)['mappings']['records']
    with open(base) as f:
        written = json.load(f)['records']
    site = by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0)
    want = [{'fingerprint': recs[1]['fingerprint'], 'fuzzy_fingerprint': recs[1]['fuzzy_fingerprint'],
             'kind': 'definitely-lost', 'mapping': 'private-anonymous',
             'site': site[len('by '):]}]
    c.expect('write_baseline: the lost mapping record, not the reachable one', written == want,
             '%s\n!=\n%s' % (written, want))
    # Against it: the lost mapping is known (grouped after the new ones,
    # no error), the reachable one new.
    rc, err, out, js, xml = run(args, prog, 'private-anon', outdir,
                                ['--baseline=' + base, '--error-exitcode=7'])
    n = len(ZERO_HEAP)
    want = ZERO_HEAP + [
        'leaktrace: no new loss records (all are in the baseline %s)' % base,
        'leaktrace: 1 new mapping record (not in the baseline %s):' % base,
    ] + exp[n:n + 5] + [
        'leaktrace: 1 mapping record in the baseline %s (known, not counted as errors):' % base,
    ] + exp[n + 5:n + 10] + exp[n + 10:-2] + errors(0)
    got = normalise(out)
    c.expect('baseline: known mapping record is no error: exit status', rc == 0, 'exit %s' % rc)
    c.expect('baseline: text report groups mapping records', got == want, diff(want, got))
    with open(js) as f:
        rep = json.load(f)
    flags = [(r['index'], r['baselined'], r['error']) for r in rep['mappings']['records']]
    c.expect('baseline: JSON marks the known mapping record',
             flags == [(1, False, False), (2, True, False)] and
             rep['errors'] == {'count': 0, 'baselined': 1, 'suppressed': 0},
             '%s %s' % (flags, rep['errors']))
    # A JSON report is a baseline too: its mapping records are read.
    rc, err, out, js, xml = run(args, prog, 'shared-anon', outdir, [])
    report = os.path.join(outdir, 'shared-anon.report.json')
    os.replace(js, report)
    rc, err, out, js, xml = run(args, prog, 'shared-anon', outdir,
                                ['--baseline=' + report, '--error-exitcode=7'])
    c.expect('baseline: a JSON report knows its mapping records', rc == 0,
             'exit %s: %s' % (rc, err))


# ---- leaktrace diff / trend: mapping sites, marked by type ----

def check_growth(c, args, prog, outdir):
    """Reports B and C are A with the lost mapping record grown by one
    and by two more mappings of 8,192 bytes: the site that grew is the
    mapping site, marked, with mappings for blocks; the reachable one,
    unchanged, is not listed."""
    rc, err, out, js, xml = run(args, prog, 'private-anon', outdir, [])
    with open(js) as f:
        rep = json.load(f)
    paths = []
    for i, extra in enumerate((0, 1, 3)):
        rec = rep['mappings']['records'][1]
        rec['direct_bytes'] = 8192 * (1 + extra)
        rec['bytes'] = rec['direct_bytes']
        rec['mappings'] = 1 + extra
        paths.append(os.path.join(outdir, 'growth.%d.json' % i))
        with open(paths[-1], 'w') as f:
            json.dump(rep, f)
    frames = ' <- '.join(x[len('by '):] for x in (
        by('map_anon', 'void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,', 0),
        by('private_anon', 'void *lost = map_anon(2 * PAGE, 0);'), by('main', 'private_anon();')))

    def site_line(grew, live, count):
        return re.compile(r'^ *%s +%s +%s  lost +\[private anonymous mapping\] '
                          r'mmap(64)? \(interpose\.c:\d+\) <- %s$'
                          % (re.escape(grew), re.escape(live), re.escape(count),
                             re.escape(frames)))

    def growth_lines(argv):
        p = subprocess.run([args.leaktrace] + argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
        text = p.stdout.decode()
        lines = text.splitlines()
        head = lines.index(next(l for l in lines if l.lstrip().startswith('growth, bytes')))
        return p.returncode, lines[head + 1:], text

    rc, lines, text = growth_lines(['diff', paths[0], paths[1]])
    c.expect('diff: the grown mapping site, marked by type',
             rc == 0 and len(lines) == 2 and site_line('+8,192', '16,384', '+1').match(lines[0])
             and lines[1] == '1 site grew', text)
    rc, lines, text = growth_lines(['trend', paths[0], paths[1], paths[2]])
    c.expect('trend: a mapping site that grew at every report',
             rc == 0 and len(lines) == 3 and site_line('+24,576', '32,768', '+3').match(lines[0])
             and lines[2] == '1 site grew', text)
    rc, lines, text = growth_lines(['trend', paths[0], paths[2], paths[1]])
    c.expect('trend: a mapping site that shrank in between is not listed',
             rc == 0 and lines == ['0 sites grew'], text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--leaktrace', required=True)
    ap.add_argument('--outdir', required=True)
    ap.add_argument('prog', nargs=argparse.REMAINDER)
    args = ap.parse_args()
    prog = [a for a in args.prog if a != '--'][0]
    outdir = os.path.abspath(args.outdir)
    os.makedirs(outdir, exist_ok=True)
    c = Checker()
    for scenario, want in expected(outdir).items():
        rc, err, text, js, xml = run(args, prog, scenario, outdir, [])
        got = normalise(text)
        c.expect(scenario + ': program ran', rc == 0, err)
        c.expect(scenario + ': text report', got == want, diff(want, got))
        check_json(c, scenario, js, want)
        check_xml(c, scenario, xml, want)
        check_sarif(c, scenario, js[:-len('.json')] + '.sarif', js, want)
    rc, err, text, js, xml = run(args, prog, 'chain', outdir, ['--track-mmap=no'])
    got = normalise(text)
    c.expect('track_mmap=no: mappings are roots', got == UNTRACKED_CHAIN,
             diff(UNTRACKED_CHAIN, got))
    with open(js) as f:
        c.expect('track_mmap=no: no mappings in JSON', 'mappings' not in json.load(f))
    with open(js[:-len('.json')] + '.sarif') as f:
        rules = [r['id'] for r in json.load(f)['runs'][0]['tool']['driver']['rules']]
    c.expect('track_mmap=no: SARIF rules are the heap ones only',
             rules == ['leaktrace/' + k for k in ('definitely-lost', 'indirectly-lost',
                                                  'possibly-lost', 'still-reachable',
                                                  'not-classified')], rules)
    # Threads and a signal handler mapping at once: no deadlock, no update
    # lost.
    rc, err, text, js, xml = run(args, prog, 'threads', outdir, ['--num-callers=3'])
    got = mapping_part(normalise(text))
    want = threads_expected()
    c.expect('threads: program ran', rc == 0, err)
    c.expect('threads: mapping records and summary', got == want, diff(want, got))
    # fork: each process reports its own mappings, the child the parent's too.
    log = os.path.join(outdir, 'fork.%p.txt')
    env = dict(os.environ, LC_ALL='C')
    env.pop('LD_PRELOAD', None)
    env.pop('LEAKTRACE_OPTIONS', None)
    for old in glob.glob(os.path.join(outdir, 'fork.*.txt')):
        os.unlink(old)
    p = subprocess.run([args.leaktrace, '--log-file=' + log, '--', prog, 'fork', outdir],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    parts = []
    for f in sorted(glob.glob(os.path.join(outdir, 'fork.*.txt'))):
        with open(f) as fh:
            parts.append(mapping_part(normalise(fh.read())))
    parent, child = fork_expected()
    c.expect('fork: program ran', p.returncode == 0, p.stderr.decode(errors='replace'))
    c.expect('fork: two reports, the parent\'s and the child\'s',
             sorted(parts) == sorted([parent, child]),
             '\n\n'.join(diff(parent if i == 0 else child, x) for i, x in enumerate(parts)))
    check_suppressions(c, args, prog, outdir)
    check_baselines(c, args, prog, outdir)
    check_growth(c, args, prog, outdir)
    # Mapping errors count for the exit status.
    rc, err, text, js, xml = run(args, prog, 'shared-anon', outdir, ['--error-exitcode=7'])
    c.expect('a lost mapping is an error for error_exitcode', rc == 7, 'exit %s' % rc)
    print('%d checks failed' % c.failed)
    return 1 if c.failed else 0


if __name__ == '__main__':
    sys.exit(main())
