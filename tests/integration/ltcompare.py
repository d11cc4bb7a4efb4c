"""Read valgrind-layout leak reports and compare leaktrace's with valgrind's.

Both tools write the same two formats:
  text  "==PID== " lines: HEAP SUMMARY, then loss records with at/by frames;
  XML   valgrind's protocol 4: one <error> per loss record, kind Leak_*.

compare() turns two runs of one program (valgrind's, leaktrace's) into a
list of Check results. Every check can fail; selftest_compare.py proves it
by feeding doctored reports. Python 3 standard library only.
"""

import copy
import difflib
import os
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

# valgrind's leak kinds, in the words of the text report and the XML.
KIND_WORDS = {
    'definitely lost': 'Leak_DefinitelyLost',
    'indirectly lost': 'Leak_IndirectlyLost',
    'possibly lost': 'Leak_PossiblyLost',
    'still reachable': 'Leak_StillReachable',
}
VALGRIND_KINDS = frozenset(KIND_WORDS.values())
# What leaktrace writes before it classifies blocks.
UNCLASSIFIED = 'Leak_NotClassified'

# valgrind 3.19's preloaded allocator names the frame of aligned_alloc and
# valloc "memalign" (they share its body); its realloc names the frame
# "malloc" when the pointer is NULL (it calls its malloc); and it has no
# reallocarray of its own: glibc's reallocarray calls realloc, so the frame
# is "malloc" or "realloc" likewise. leaktrace names the function the
# program called; map its name before comparing with valgrind's. A name
# with several candidates takes the first that valgrind shows for the same
# own frames (the first when it shows none).
VALGRIND_ENTRY_ALIASES = {
    'aligned_alloc': ('memalign',),
    'valloc': ('memalign',),
    'realloc': ('realloc', 'malloc'),
    'reallocarray': ('realloc', 'malloc'),
}


def valgrind_entry(name: Optional[str], seen) -> Optional[str]:
    """leaktrace's allocation function name as valgrind 3.19 shows it;
    seen: the names valgrind shows for the same own frames."""
    cands = VALGRIND_ENTRY_ALIASES.get(name)
    if not cands:
        return name
    for c in cands:
        if c in seen:
            return c
    return cands[0]


# glibc sizes a thread's dynamic thread vector (calloc'd in ld.so's
# allocate_dtv when pthread_create makes a new thread) by the number of
# loaded modules that have TLS: 16 bytes per module. The tracer brings its
# own (libleaktrace.so and libunwind.so.8 each have a PT_TLS segment);
# valgrind's preloaded library has none. So under leaktrace each such
# block is 16 bytes per added TLS module larger, and bytes allocated grows
# by as much. compare() takes that exact amount off before comparing.
DTV_FUNCTIONS = frozenset({'allocate_dtv', '_dl_allocate_tls', '_dl_resize_dtv'})
DTV_ENTRY_SIZE = 16


class ReportError(Exception):
    """A report that cannot be read: missing, truncated, or not the format."""


def parse_int(s: str) -> int:
    return int(s.replace(',', ''))


@dataclass(frozen=True)
class Frame:
    ip: Optional[str] = None
    obj: Optional[str] = None
    fn: Optional[str] = None
    dir: Optional[str] = None
    file: Optional[str] = None
    line: Optional[int] = None

    def where(self) -> str:
        """fn (file:line) or fn (in obj), as the text report shows it."""
        fn = self.fn or '???'
        if self.file:
            loc = os.path.basename(self.file)
            if self.line is not None:
                loc += ':%d' % self.line
            return '%s (%s)' % (fn, loc)
        if self.obj:
            return '%s (in %s)' % (fn, self.obj)
        return fn

    def own_id(self) -> Tuple:
        """What is compared of one of the program's own frames."""
        return (self.fn, os.path.basename(self.file) if self.file else None,
                self.line)


@dataclass
class Record:
    kind: str                 # Leak_* as in the XML (text words mapped)
    total_bytes: int          # direct + indirect ("leakedbytes")
    direct_bytes: int
    blocks: int
    frames: List[Frame]
    text: str = ''
    index: Optional[int] = None   # "loss record i of n" (text only)
    count: Optional[int] = None

    def classified(self) -> bool:
        return self.kind in VALGRIND_KINDS


@dataclass
class HeapSummary:
    inuse_bytes: int
    inuse_blocks: int
    allocs: int
    frees: int
    bytes_allocated: int


# The LEAK SUMMARY's lines, in the words of the text report, and the
# kinds they count (suppressed has no Leak_* kind).
SUMMARY_WORDS = {
    'definitely lost': 'Leak_DefinitelyLost',
    'indirectly lost': 'Leak_IndirectlyLost',
    'possibly lost': 'Leak_PossiblyLost',
    'still reachable': 'Leak_StillReachable',
    'suppressed': 'suppressed',
}
NO_LEAKS = 'All heap blocks were freed -- no leaks are possible'


@dataclass
class TextReport:
    path: str
    pid: Optional[int]
    heap: Optional[HeapSummary]
    records: List[Record]
    # LEAK SUMMARY: kind (Leak_* or 'suppressed') -> (bytes, blocks); None
    # when the report has none.
    summary: Optional[Dict[str, Tuple[int, int]]] = None
    # "of which reachable via heuristic:" lines: name -> (bytes, blocks).
    heuristics: Dict[str, Tuple[int, int]] = field(default_factory=dict)
    no_leaks: bool = False    # says "All heap blocks were freed -- ..."
    # ERROR SUMMARY: (errors, contexts, suppressed errors, suppressed contexts)
    errors: Optional[Tuple[int, int, int, int]] = None
    lines: List[str] = field(default_factory=list)   # this pid's lines


@dataclass
class XmlReport:
    path: str
    protocol: Optional[str]
    tool: Optional[str]
    records: List[Record]
    other_errors: List[Tuple[str, str]]   # (kind, what) of non-leak errors


# ---------------------------------------------------------------- text --

_PREFIX = re.compile(r'^==(\d+)==(?: (.*))?$')
_RECORD = re.compile(
    r'^(?P<total>[\d,]+) (?:\((?P<direct>[\d,]+) direct, (?P<indirect>[\d,]+)'
    r' indirect\) )?bytes in (?P<blocks>[\d,]+) blocks are (?P<what>.+?)'
    r' in loss record (?P<i>[\d,]+) of (?P<n>[\d,]+)$')
_FRAME = re.compile(r'^\s*(?:at|by) (?P<ip>0x[0-9A-Fa-f]+): (?P<rest>.*)$')
_LOC = re.compile(r'^(?P<fn>.*) \((?P<loc>[^()]*)\)$')
_FILELINE = re.compile(r'^(?P<file>.*):(?P<line>\d+)$')
_SUMMARY_LINE = re.compile(r'^\s*(?P<what>definitely lost|indirectly lost|possibly lost|'
                           r'still reachable|suppressed): (?P<bytes>[\d,]+) bytes in'
                           r' (?P<blocks>[\d,]+) blocks$')
_HEURISTIC_LINE = re.compile(r'^\s*(?P<name>[a-z0-9]+)\s*: (?P<bytes>[\d,]+) bytes in'
                             r' (?P<blocks>[\d,]+) blocks$')
_ERRORS = re.compile(r'^ERROR SUMMARY: ([\d,]+) errors from ([\d,]+) contexts'
                     r' \(suppressed: ([\d,]+) from ([\d,]+)\)$')
_INUSE = re.compile(r'^\s*in use at exit: ([\d,]+) bytes in ([\d,]+) blocks$')
_TOTAL = re.compile(r'^\s*total heap usage: ([\d,]+) allocs, ([\d,]+) frees,'
                    r' ([\d,]+) bytes allocated$')


def kind_from_words(what: str) -> str:
    return KIND_WORDS.get(what.strip(), UNCLASSIFIED)


def parse_text_frame(line: str) -> Optional[Frame]:
    m = _FRAME.match(line)
    if not m:
        return None
    ip, rest = m.group('ip'), m.group('rest').strip()
    fn, obj, file, lineno = rest, None, None, None
    lm = _LOC.match(rest)
    if lm:
        loc = lm.group('loc')
        if loc.startswith('in '):
            fn, obj = lm.group('fn'), loc[3:]
        else:
            fm = _FILELINE.match(loc)
            if fm:
                fn, file, lineno = lm.group('fn'), fm.group('file'), int(fm.group('line'))
    if fn == '???':
        fn = None
    return Frame(ip=ip, obj=obj, fn=fn, file=file, line=lineno)


def parse_text(path: str, text: Optional[str] = None,
               pid: Optional[int] = None) -> TextReport:
    """Reads the ==PID== lines of a valgrind-layout text report. Other lines
    (the program's own stderr, --PID-- debug lines) are ignored. With
    several processes in one file, the one with a HEAP SUMMARY is taken;
    more than one is an error unless pid says which."""
    if text is None:
        try:
            with open(path, encoding='utf-8', errors='replace') as f:
                text = f.read()
        except OSError as e:
            raise ReportError('%s: cannot read text report: %s' % (path, e.strerror))
    by_pid: Dict[int, List[str]] = defaultdict(list)
    for raw in text.splitlines():
        m = _PREFIX.match(raw)
        if m:
            by_pid[int(m.group(1))].append(m.group(2) or '')
    with_summary = [p for p, lines in by_pid.items()
                    if any(l.strip() == 'HEAP SUMMARY:' for l in lines)]
    if pid is None:
        if not with_summary:
            raise ReportError('%s: no "==PID== HEAP SUMMARY:" in the text report'
                              ' (%d report lines)' % (path, sum(map(len, by_pid.values()))))
        if len(with_summary) > 1:
            raise ReportError('%s: HEAP SUMMARY from several processes: %s'
                              % (path, ', '.join(map(str, with_summary))))
        pid = with_summary[0]
    lines = by_pid.get(pid, [])
    heap = None
    inuse = None
    records: List[Record] = []
    cur: Optional[Record] = None
    summary: Optional[Dict[str, Tuple[int, int]]] = None
    heuristics: Dict[str, Tuple[int, int]] = {}
    in_summary = in_heuristics = no_leaks = False
    errors = None
    for line in lines:
        if line.strip() == 'LEAK SUMMARY:':
            if summary is not None:
                raise ReportError('%s: two LEAK SUMMARY blocks for pid %s' % (path, pid))
            summary, in_summary, cur = {}, True, None
            continue
        if in_summary:
            m = _SUMMARY_LINE.match(line)
            if m:
                summary[SUMMARY_WORDS[m.group('what')]] = (parse_int(m.group('bytes')),
                                                            parse_int(m.group('blocks')))
                in_heuristics = False
                continue
            if line.strip() == 'of which reachable via heuristic:':
                in_heuristics = True
                continue
            m = _HEURISTIC_LINE.match(line) if in_heuristics else None
            if m:
                heuristics[m.group('name')] = (parse_int(m.group('bytes')),
                                               parse_int(m.group('blocks')))
                continue
            in_summary = in_heuristics = False
        if line.strip() == NO_LEAKS:
            no_leaks = True
            continue
        m = _ERRORS.match(line.strip())
        if m:
            errors = tuple(parse_int(g) for g in m.groups())
            continue
        m = _INUSE.match(line)
        if m:
            inuse = (parse_int(m.group(1)), parse_int(m.group(2)))
            continue
        m = _TOTAL.match(line)
        if m:
            if inuse is None:
                raise ReportError('%s: "total heap usage" without "in use at exit"' % path)
            heap = HeapSummary(inuse[0], inuse[1], parse_int(m.group(1)),
                               parse_int(m.group(2)), parse_int(m.group(3)))
            continue
        m = _RECORD.match(line.strip())
        if m:
            total = parse_int(m.group('total'))
            cur = Record(kind=kind_from_words(m.group('what')), total_bytes=total,
                         direct_bytes=parse_int(m.group('direct')) if m.group('direct') else total,
                         blocks=parse_int(m.group('blocks')), frames=[],
                         text=line.strip(), index=parse_int(m.group('i')),
                         count=parse_int(m.group('n')))
            records.append(cur)
            continue
        fr = parse_text_frame(line)
        if fr is not None and cur is not None:
            cur.frames.append(fr)
            continue
        cur = None   # a blank line or anything else ends the frame list
    return TextReport(path=path, pid=pid, heap=heap, records=records, summary=summary,
                      heuristics=heuristics, no_leaks=no_leaks, errors=errors, lines=lines)


# ----------------------------------------------------------------- XML --

_XWHAT_SPLIT = re.compile(r'^[\d,]+ \((?P<direct>[\d,]+) direct, [\d,]+ indirect\)')


def _int_or(s: Optional[str], default: Optional[int]) -> Optional[int]:
    try:
        return parse_int(s) if s is not None else default
    except ValueError:
        return default


def parse_xml(path: str) -> XmlReport:
    try:
        root = ET.parse(path).getroot()
    except OSError as e:
        raise ReportError('%s: cannot read XML report: %s' % (path, e.strerror))
    except ET.ParseError as e:
        raise ReportError('%s: not well-formed XML (truncated?): %s' % (path, e))
    if root.tag != 'valgrindoutput':
        raise ReportError('%s: root element is <%s>, not <valgrindoutput>' % (path, root.tag))
    records: List[Record] = []
    others: List[Tuple[str, str]] = []
    for err in root.findall('error'):
        kind = (err.findtext('kind') or '').strip()
        if not kind.startswith('Leak_'):
            what = err.findtext('what') or err.findtext('xwhat/text') or ''
            others.append((kind, what.strip()))
            continue
        xwhat = err.find('xwhat')
        if xwhat is None:
            raise ReportError('%s: leak error without <xwhat>' % path)
        text = (xwhat.findtext('text') or '').strip()
        total = _int_or(xwhat.findtext('leakedbytes'), None)
        blocks = _int_or(xwhat.findtext('leakedblocks'), None)
        if total is None or blocks is None:
            raise ReportError('%s: leak error without <leakedbytes>/<leakedblocks>: %r'
                              % (path, text))
        m = _XWHAT_SPLIT.match(text)
        direct = parse_int(m.group('direct')) if m else total
        frames = []
        stack = err.find('stack')
        for fr in (stack.findall('frame') if stack is not None else []):
            def t(tag):
                v = fr.findtext(tag)
                return v.strip() if v is not None and v.strip() else None
            fn = t('fn')
            frames.append(Frame(ip=t('ip'), obj=t('obj'),
                                fn=None if fn == '???' else fn, dir=t('dir'),
                                file=t('file'), line=_int_or(t('line'), None)))
        records.append(Record(kind=kind, total_bytes=total, direct_bytes=direct,
                              blocks=blocks, frames=frames, text=text))
    return XmlReport(path=path, protocol=(root.findtext('protocolversion') or '').strip() or None,
                     tool=(root.findtext('protocoltool') or '').strip() or None,
                     records=records, other_errors=others)


# -------------------------------------------------------- own frames --

class Owner:
    """Decides which frames are the program's own: those whose object is
    one of the given files (the example, its dlopen'ed module). Objects are
    compared as files (device, inode), so any path spelling matches. A
    frame without an object counts as own when its source file lies under
    srcdir (a fallback for reports that leave <obj> out)."""

    def __init__(self, paths: Sequence[str], srcdir: Optional[str] = None):
        self.paths = [os.path.realpath(p) for p in paths]
        self.ids = set()
        for p in self.paths:
            try:
                st = os.stat(p)
                self.ids.add((st.st_dev, st.st_ino))
            except OSError:
                pass
        self.srcdir = os.path.realpath(srcdir) if srcdir else None
        self._cache: Dict[str, bool] = {}
        self.used_fallback = False

    def _is_own_obj(self, obj: str) -> bool:
        if obj not in self._cache:
            own = os.path.realpath(obj) in self.paths
            if not own:
                try:
                    st = os.stat(obj)
                    own = (st.st_dev, st.st_ino) in self.ids
                except OSError:
                    pass
            self._cache[obj] = own
        return self._cache[obj]

    def is_own(self, f: Frame) -> bool:
        if f.obj:
            return self._is_own_obj(f.obj)
        if self.srcdir and f.file:
            path = os.path.join(f.dir or '', f.file)
            if os.path.isabs(path):
                own = os.path.realpath(path).startswith(self.srcdir + os.sep)
                if own:
                    self.used_fallback = True
                return own
        return False


def is_tool_obj(obj: Optional[str]) -> bool:
    """The tracer's own allocator: valgrind's vgpreload_*.so or ours."""
    if not obj:
        return False
    b = os.path.basename(obj)
    return b.startswith('vgpreload_') or b.startswith('libleaktrace')


def entry_name(rec: Record) -> Optional[str]:
    """Name of the allocation function the program (or libc) called: the
    outermost of the leading frames inside the tracer's own library (for
    valgrind's posix_memalign that is posix_memalign, not the memalign it
    calls), else frame 0."""
    if not rec.frames:
        return None
    entry = rec.frames[0]
    for f in rec.frames:
        if not is_tool_obj(f.obj):
            break
        entry = f
    return entry.fn


def own_key(rec: Record, owner: Owner) -> Tuple:
    return tuple(f.own_id() for f in rec.frames if owner.is_own(f))


# ------------------------------------------------------------ checks --

@dataclass
class Check:
    name: str
    ok: bool
    details: List[str] = field(default_factory=list)
    info: bool = False        # informational: listed, never fails the test


def render_stack(rec: Record, owner: Owner, indent: str = '      ') -> List[str]:
    out = []
    for i, f in enumerate(rec.frames):
        mark = '*' if owner.is_own(f) else ' '
        out.append('%s%s %s %s' % (indent, mark, 'at' if i == 0 else 'by', f.where()))
    return out


def describe_group(recs: List[Record], owner: Owner) -> List[str]:
    kinds = defaultdict(lambda: [0, 0])
    for r in recs:
        kinds[r.kind][0] += r.direct_bytes
        kinds[r.kind][1] += r.blocks
    parts = ['%s: %d bytes in %d blocks' % (k, b, n) for k, (b, n) in sorted(kinds.items())]
    out = ['    ' + '; '.join(parts)]
    if recs:
        out += render_stack(recs[0], owner)
    return out


def kinds_text(recs: List[Record]) -> str:
    return ', '.join('%s %d' % (k[5:] if k.startswith('Leak_') else k, v[2])
                     for k, v in sorted(by_kind(recs).items()))


def merged(recs: List[Record]) -> Tuple[int, int]:
    """(direct bytes, blocks) summed over records of any kind."""
    return (sum(r.direct_bytes for r in recs), sum(r.blocks for r in recs))


def by_kind(recs: List[Record]) -> Dict[str, Tuple[int, int, int]]:
    out: Dict[str, List[int]] = defaultdict(lambda: [0, 0, 0])
    for r in recs:
        out[r.kind][0] += r.direct_bytes
        out[r.kind][1] += r.total_bytes
        out[r.kind][2] += r.blocks
    return {k: tuple(v) for k, v in out.items()}


def cycle_key(names: Sequence[str]) -> Tuple:
    """The group key of the records of one unreferenced cycle (see
    match_records); shaped like an own-frame key."""
    return (('<cycle: %s>' % ', '.join(names), None, None),)


def _cycle_of(rec: Record, owner: Owner, cycles: Sequence[Sequence[str]]) -> Optional[Tuple]:
    fns = {f.fn for f in rec.frames if owner.is_own(f)}
    for names in cycles:
        if fns & set(names):
            return cycle_key(names)
    return None


def _groups(records: List[Record], owner: Owner,
            cycles: Sequence[Sequence[str]] = ()) -> Dict[Tuple, List[Record]]:
    g: Dict[Tuple, List[Record]] = defaultdict(list)
    for r in records:
        g[_cycle_of(r, owner, cycles) or own_key(r, owner)].append(r)
    return g


def _subgroups(vs: List[Record], ls: List[Record]):
    """Splits one own-frame group by allocation function, when every record
    on both sides names one; else one subgroup. Yields (entry, vs, ls)."""
    if all(entry_name(r) for r in vs + ls):
        keys = []
        sv: Dict[str, List[Record]] = defaultdict(list)
        sl: Dict[str, List[Record]] = defaultdict(list)
        for r in vs:
            e = entry_name(r)
            sv[e].append(r)
            keys.append(e)
        for r in ls:
            e = valgrind_entry(entry_name(r), sv)
            sl[e].append(r)
            keys.append(e)
        for e in dict.fromkeys(keys):
            yield e, sv.get(e, []), sl.get(e, [])
    else:
        yield None, vs, ls


@dataclass
class GroupResult:
    key: Tuple
    entry: Optional[str]
    vg: List[Record]
    lt: List[Record]
    mode: str                 # 'merged' or 'by kind'
    equal: bool


def _cycle_equal(vs: List[Record], ls: List[Record], owner: Owner) -> bool:
    """The records of one cycle agree when the kind totals over the cycle
    agree and every stack of it has the same bytes and blocks on both
    sides, whatever its kind."""
    if by_kind(vs) != by_kind(ls):
        return False
    gv, gl = _groups(vs, owner), _groups(ls, owner)
    for key in set(gv) | set(gl):
        for _, v, l in _subgroups(gv.get(key, []), gl.get(key, [])):
            if merged(v) != merged(l):
                return False
    return True


def match_records(vg: List[Record], lt: List[Record], owner: Owner,
                  cycles: Sequence[Sequence[str]] = ()) -> List[GroupResult]:
    """Groups both sides' records by own frames (then by allocation
    function) and compares each group. cycles: lists of function names;
    the records whose own frames pass through one of a list's functions
    are the blocks of one unreferenced cycle. valgrind calls one block of
    such a cycle definitely lost and the others indirectly lost, choosing
    by address, so for them only the kind totals over the cycle, and each
    stack's bytes and blocks regardless of kind, are compared."""
    gv, gl = _groups(vg, owner, cycles), _groups(lt, owner, cycles)
    cycle_keys = {cycle_key(names) for names in cycles}
    results = []
    for key in dict.fromkeys(list(gv) + list(gl)):
        if key in cycle_keys:
            vs, ls = gv.get(key, []), gl.get(key, [])
            results.append(GroupResult(key, None, vs, ls, 'cycle kind totals',
                                       _cycle_equal(vs, ls, owner)))
            continue
        for entry, vs, ls in _subgroups(gv.get(key, []), gl.get(key, [])):
            # Until leaktrace classifies, its records are compared with
            # valgrind's of all kinds merged (valgrind splits one stack by
            # kind); once it writes real kinds, kind by kind.
            if ls and all(r.classified() for r in ls):
                mode, equal = 'by kind', by_kind(vs) == by_kind(ls)
            else:
                mode, equal = 'merged', merged(vs) == merged(ls)
            results.append(GroupResult(key, entry, vs, ls, mode, equal))
    return results


def _nearest(rec_key: Tuple, candidates: List[Tuple]) -> Optional[Tuple]:
    best, best_ratio = None, 0.0
    for c in candidates:
        ratio = difflib.SequenceMatcher(None, list(rec_key), list(c)).ratio()
        if ratio > best_ratio:
            best, best_ratio = c, ratio
    return best if best_ratio >= 0.5 else None


def _fmt_own(key: Tuple) -> List[str]:
    return ['%s (%s:%s)' % (fn or '???', file or '?', line if line is not None else '?')
            for fn, file, line in key]


@dataclass
class Run:
    """One traced run of the program, as read back."""
    label: str
    exit_status: Optional[int]
    stdout: bytes
    text: Optional[TextReport]
    xml: Optional[XmlReport]


def is_dtv_record(rec: Record) -> bool:
    return any(f.fn in DTV_FUNCTIONS for f in rec.frames)


def adjust_dtv(lt: Run, extra: int) -> Tuple[Run, Optional[Check]]:
    """Takes extra bytes per block off leaktrace's DTV blocks, and off its
    HEAP SUMMARY (see DTV_FUNCTIONS). Counts only the DTV blocks live at
    exit: a DTV allocated and freed during the run would leave bytes
    allocated off by extra, and fail the test."""
    recs = []
    blocks = 0
    for r in lt.xml.records:
        r = copy.copy(r)
        if is_dtv_record(r):
            r.direct_bytes -= extra * r.blocks
            r.total_bytes -= extra * r.blocks
            blocks += r.blocks
        recs.append(r)
    if not blocks:
        return lt, None
    xml = copy.copy(lt.xml)
    xml.records = recs
    text = lt.text
    if text is not None and text.heap is not None:
        text = copy.copy(text)
        text.heap = copy.copy(text.heap)
        text.heap.bytes_allocated -= extra * blocks
        text.heap.inuse_bytes -= extra * blocks
    if text is not None and text.summary is not None:
        # The LEAK SUMMARY line of each DTV block's kind, likewise.
        summary = dict(text.summary)
        for r in lt.xml.records:
            if is_dtv_record(r) and r.kind in summary:
                b, n = summary[r.kind]
                summary[r.kind] = (b - extra * r.blocks, n)
        text = copy.copy(text)
        text.summary = summary
    return (Run(lt.label, lt.exit_status, lt.stdout, text, xml),
            Check('thread vectors (DTV) made larger by the tracer\'s own TLS', True,
                  ['%d bytes taken off each of %d DTV block(s) live at exit, and off bytes'
                   ' allocated and in use: glibc sizes a DTV by the number of TLS modules,'
                   ' and the tracer adds %d (see DTV_FUNCTIONS)'
                   % (extra, blocks, extra // DTV_ENTRY_SIZE)], info=True))


def compare(vg: Run, lt: Run, owner: Owner, vg_nofreeres: Optional[Run] = None,
            expect_exit: Optional[int] = None, dtv_extra: int = 0,
            cycles: Sequence[Sequence[str]] = ()) -> List[Check]:
    """All checks of leaktrace's run against valgrind's. vg_nofreeres is
    valgrind run with --run-libc-freeres=no --run-cxx-freeres=no, used to
    explain blocks that only libc's/libstdc++'s exit-time clean-up frees.
    dtv_extra: bytes the tracer's own TLS modules add to each thread vector
    (16 per module; see DTV_FUNCTIONS). cycles: see match_records."""
    checks: List[Check] = []

    # Exit status and output: the tracer must not change the program.
    want = expect_exit if expect_exit is not None else vg.exit_status
    checks.append(Check(
        'exit status', lt.exit_status == want and vg.exit_status == want,
        ['expected %s; valgrind run: %s; leaktrace run: %s'
         % (want, vg.exit_status, lt.exit_status)]))
    if vg.stdout == lt.stdout:
        checks.append(Check('stdout identical', True, ['%d bytes' % len(lt.stdout)]))
    else:
        diff = list(difflib.unified_diff(
            vg.stdout.decode('utf-8', 'replace').splitlines(),
            lt.stdout.decode('utf-8', 'replace').splitlines(),
            'stdout under valgrind', 'stdout under leaktrace', lineterm=''))
        checks.append(Check('stdout identical', False, diff[:40]))

    # The example itself must be clean apart from leaks.
    if vg.xml is not None:
        checks.append(Check(
            'valgrind: no memory errors besides leaks', not vg.xml.other_errors,
            ['%s: %s' % e for e in vg.xml.other_errors[:10]]))
    if lt.xml is not None:
        checks.append(Check('leaktrace XML: protocol version 4', lt.xml.protocol == '4',
                            ['<protocolversion> is %r' % lt.xml.protocol]))

    # Text and XML of one tool must tell the same story.
    for run in (vg, lt):
        if run.text is not None and run.xml is not None:
            checks.append(text_xml_agree(run, owner))
        if run.text is not None:
            c = numbering_check(run)
            if c:
                checks.append(c)

    if dtv_extra and lt.xml is not None:
        lt, c = adjust_dtv(lt, dtv_extra)
        if c is not None:
            checks.append(c)

    # HEAP SUMMARY: allocation calls and bytes are counted from process
    # start by both tools, and must be equal.
    vh = vg.text.heap if vg.text else None
    lh = lt.text.heap if lt.text else None
    if vh is None or lh is None:
        checks.append(Check('HEAP SUMMARY present', False,
                            ['valgrind: %s, leaktrace: %s' % (vh is not None, lh is not None)]))
    else:
        checks.append(Check('heap summary: allocs', lh.allocs == vh.allocs,
                            ['valgrind %d, leaktrace %d' % (vh.allocs, lh.allocs)]))
        checks.append(Check('heap summary: bytes allocated',
                            lh.bytes_allocated == vh.bytes_allocated,
                            ['valgrind %d, leaktrace %d' % (vh.bytes_allocated,
                                                            lh.bytes_allocated)]))

    if vg.xml is None or lt.xml is None:
        checks.append(Check('loss records', False, ['an XML report is missing']))
        return checks

    results = match_records(vg.xml.records, lt.xml.records, owner, cycles)
    bad = [r for r in results if not r.equal]
    nf_results = {}
    if vg_nofreeres is not None and vg_nofreeres.xml is not None:
        for r in match_records(vg_nofreeres.xml.records, lt.xml.records, owner, cycles):
            nf_results[(r.key, r.entry)] = r

    explained, unexplained = [], []
    for r in bad:
        nf = nf_results.get((r.key, r.entry))
        lb, ln = merged(r.lt)
        vb, vn = merged(r.vg)
        # Explained, not asserted: the same bytes and blocks as valgrind
        # without clean-up, whatever the kinds (listed for the reader).
        if nf is not None and merged(nf.vg) == (lb, ln) and lb >= vb and ln > vn:
            explained.append((r, nf))
        else:
            unexplained.append(r)

    ok_groups = [r for r in results if r.equal]
    modes = sorted({r.mode for r in results}) or ['merged']
    details = ['compared %s (%s); %d allocation stacks agree'
               % (' and '.join(modes),
                  'leaktrace does not classify yet: valgrind\'s kinds summed per stack'
                  if 'merged' in modes else 'record by record, kind by kind',
                  len(ok_groups))]
    for r in ok_groups:
        details += describe_group(r.lt, owner)
    checks.append(Check('loss records: matched', True, details, info=True))

    if unexplained:
        details = []
        missing = [r for r in unexplained if not r.lt]
        extra = [r for r in unexplained if not r.vg]
        differ = [r for r in unexplained if r.lt and r.vg]
        for r in differ:
            details.append('  same stack, different amounts (%s):' % r.mode)
            details.append('    expected (valgrind):')
            details += describe_group(r.vg, owner)
            details.append('    got (leaktrace):')
            details += describe_group(r.lt, owner)
            nf = nf_results.get((r.key, r.entry))
            if nf is not None and nf.vg and by_kind(nf.vg) != by_kind(r.vg):
                details.append('    valgrind without exit clean-up has, for this stack:')
                details += describe_group(nf.vg, owner)[:1]
        extra_keys = [r.key for r in extra]
        for r in missing:
            details.append('  missing from leaktrace (valgrind has it):')
            details += describe_group(r.vg, owner)
            near = _nearest(r.key, extra_keys)
            if near is not None:
                details.append('    nearest leaktrace stack, own frames (- valgrind, + leaktrace):')
                details += ['      ' + l for l in difflib.unified_diff(
                    _fmt_own(r.key), _fmt_own(near), 'valgrind', 'leaktrace',
                    lineterm='', n=10)][2:]
        for r in extra:
            nf = nf_results.get((r.key, r.entry))
            details.append('  only in leaktrace (valgrind has no such stack%s):'
                           % ('' if vg_nofreeres is None or (nf is not None and nf.vg)
                              else ', not even without __libc_freeres'))
            details += describe_group(r.lt, owner)
            if nf is not None and nf.vg:
                details.append('    valgrind without exit clean-up has, for this stack:')
                details += describe_group(nf.vg, owner)[:1]
        checks.append(Check('loss records: same stacks, bytes and blocks as valgrind',
                            False, details))
    else:
        checks.append(Check('loss records: same stacks, bytes and blocks as valgrind', True,
                            ['%d stacks' % len(ok_groups)]))

    if explained:
        details = ['blocks glibc/libstdc++ free only in their exit-time clean-up, which '
                   'valgrind runs (__libc_freeres, __gnu_cxx::__freeres) and an '
                   'in-process tracer must not; confirmed by valgrind '
                   '--run-libc-freeres=no --run-cxx-freeres=no:']
        for r, nf in explained:
            lb, ln = merged(r.lt)
            vb, vn = merged(r.vg)
            details.append('  %d bytes in %d blocks (valgrind with clean-up: %d in %d);'
                           ' kinds: leaktrace %s, valgrind without clean-up %s'
                           % (lb - vb, ln - vn, vb, vn, kinds_text(r.lt), kinds_text(nf.vg)))
            details += render_stack(r.lt[0], owner)
        checks.append(Check('explained differences', True, details, info=True))

    exp_bytes = sum(merged(r.lt)[0] - merged(r.vg)[0] for r, _ in explained)
    exp_blocks = sum(merged(r.lt)[1] - merged(r.vg)[1] for r, _ in explained)

    if all(r.classified() for r in lt.xml.records) and vg.text and lt.text:
        checks += summary_checks(vg.text, lt.text, lt.xml.records,
                                 [r for r, _ in explained])

    if lh is not None:
        rb, rn = merged(lt.xml.records)
        checks.append(Check(
            'leaktrace: "in use at exit" equals the sum of its loss records',
            (lh.inuse_bytes, lh.inuse_blocks) == (rb, rn),
            ['HEAP SUMMARY says %d bytes in %d blocks; loss records (direct) sum to'
             ' %d bytes in %d blocks' % (lh.inuse_bytes, lh.inuse_blocks, rb, rn)]))
    if lh is not None and vh is not None:
        # Without exit clean-up valgrind's process ends as leaktrace's does.
        ref = vg_nofreeres.text.heap if (vg_nofreeres and vg_nofreeres.text and
                                         vg_nofreeres.text.heap) else None
        if ref is not None:
            checks.append(Check(
                'heap summary: frees and in use (valgrind without exit clean-up)',
                (lh.frees, lh.inuse_bytes, lh.inuse_blocks)
                == (ref.frees, ref.inuse_bytes, ref.inuse_blocks),
                ['valgrind --run-libc-freeres=no: %d frees, in use %d bytes in %d blocks;'
                 ' leaktrace: %d frees, in use %d bytes in %d blocks'
                 % (ref.frees, ref.inuse_bytes, ref.inuse_blocks,
                    lh.frees, lh.inuse_bytes, lh.inuse_blocks)]))
        else:
            checks.append(Check(
                'heap summary: frees and in use',
                (lh.frees + exp_blocks, lh.inuse_bytes - exp_bytes, lh.inuse_blocks - exp_blocks)
                == (vh.frees, vh.inuse_bytes, vh.inuse_blocks),
                ['valgrind: %d frees, in use %d bytes in %d blocks; leaktrace: %d frees,'
                 ' in use %d bytes in %d blocks' % (vh.frees, vh.inuse_bytes, vh.inuse_blocks,
                                                    lh.frees, lh.inuse_bytes, lh.inuse_blocks)]))
    return checks


# The kinds that count as errors by default (errors-for-leak-kinds).
ERROR_KINDS = frozenset({'Leak_DefinitelyLost', 'Leak_PossiblyLost'})
SUMMARY_ORDER = ('Leak_DefinitelyLost', 'Leak_IndirectlyLost', 'Leak_PossiblyLost',
                 'Leak_StillReachable', 'suppressed')


def _fmt_summary(summary: Optional[Dict[str, Tuple[int, int]]], no_leaks: bool) -> str:
    if summary is None:
        return '"%s"' % NO_LEAKS if no_leaks else 'no LEAK SUMMARY'
    return ', '.join('%s %d bytes in %d blocks' % (k[5:] if k.startswith('Leak_') else k,
                                                   *summary.get(k, (0, 0)))
                     for k in SUMMARY_ORDER)


def summary_checks(vt: TextReport, lt: TextReport, lt_records: List[Record],
                   explained: List[GroupResult]) -> List[Check]:
    """The LEAK SUMMARY, against valgrind's and against leaktrace's own
    loss records. Blocks listed as explained (only valgrind's exit-time
    clean-up frees them) are taken off leaktrace's lines first, kind by
    kind, so a leaking program's summary must otherwise be valgrind's to
    the byte. The "of which reachable via heuristic:" lines are a check of
    their own, compared as they are."""
    checks = []
    delta: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    for g in explained:
        for recs, sign in ((g.lt, 1), (g.vg, -1)):
            for r in recs:
                delta[r.kind][0] += sign * r.direct_bytes
                delta[r.kind][1] += sign * r.blocks
    # ERROR SUMMARY: each loss record of a kind in errors_for_leak_kinds
    # (default definite,possible) is one error from one context; explained
    # records count on leaktrace's side only.
    ctx = sum((1 if r.kind in ERROR_KINDS else 0) * sign
              for g in explained for recs, sign in ((g.lt, 1), (g.vg, -1)) for r in recs)
    if vt.errors is not None:
        want = (vt.errors[0] + ctx, vt.errors[1] + ctx) + vt.errors[2:]
        checks.append(Check('ERROR SUMMARY: same as valgrind', lt.errors == want,
                            ['valgrind: %s%s; leaktrace: %s' % (
                                '%d errors from %d contexts (suppressed: %d from %d)' % vt.errors,
                                ', plus %d explained record(s)' % ctx if ctx else '',
                                '%d errors from %d contexts (suppressed: %d from %d)' % lt.errors
                                if lt.errors else 'none')]))
    adjusted = None
    if lt.summary is not None:
        adjusted = {k: (b - delta[k][0], n - delta[k][1]) for k, (b, n) in lt.summary.items()}
    if vt.summary is None:
        details = ['valgrind: %s; leaktrace: %s'
                   % (_fmt_summary(vt.summary, vt.no_leaks), _fmt_summary(lt.summary, lt.no_leaks))]
        if not explained:
            ok = lt.summary is None and lt.no_leaks == vt.no_leaks
        else:
            # valgrind's clean-up freed the last blocks: leaktrace cannot
            # say all were freed, but has nothing else.
            ok = (adjusted is not None and not lt.no_leaks and
                  all(adjusted.get(k, (0, 0)) == (0, 0) for k in SUMMARY_ORDER))
            details.append('leaktrace less the explained blocks: %s'
                           % _fmt_summary(adjusted, False))
        checks.append(Check('LEAK SUMMARY: same as valgrind', ok, details))
        return checks
    ok = adjusted is not None and all(adjusted.get(k) == vt.summary.get(k) for k in SUMMARY_ORDER) \
        and not lt.no_leaks
    details = ['valgrind:  %s' % _fmt_summary(vt.summary, vt.no_leaks),
               'leaktrace: %s' % _fmt_summary(lt.summary, lt.no_leaks)]
    if any(v != [0, 0] for v in delta.values()):
        details.append('leaktrace less the explained blocks: %s'
                       % _fmt_summary(adjusted, False))
    checks.append(Check('LEAK SUMMARY: same as valgrind', ok, details))
    checks.append(Check('LEAK SUMMARY: "of which reachable via heuristic" as valgrind',
                        lt.heuristics == vt.heuristics,
                        ['valgrind: %s; leaktrace: %s' % (
                            ', '.join('%s %d bytes in %d blocks' % (k, *v)
                                      for k, v in sorted(vt.heuristics.items())) or 'none',
                            ', '.join('%s %d bytes in %d blocks' % (k, *v)
                                      for k, v in sorted(lt.heuristics.items())) or 'none')]))
    if lt.summary is not None:
        own = {k: (v[0], v[2]) for k, v in by_kind(lt_records).items()}
        ok = all(lt.summary.get(k, (0, 0)) == own.get(k, (0, 0)) for k in SUMMARY_ORDER[:4])
        checks.append(Check('leaktrace: LEAK SUMMARY equals the sum of its loss records, by kind',
                            ok, ['LEAK SUMMARY: %s' % _fmt_summary(lt.summary, False),
                                 'loss records: %s' % _fmt_summary(own, False)]))
    return checks


def text_xml_agree(run: Run, owner: Owner) -> Check:
    """The text and the XML report of one run list the same records, in the
    same order, with the same frames (function, file, line)."""
    def summary(r: Record):
        kind = r.kind if r.classified() else UNCLASSIFIED
        return (kind, r.total_bytes, r.direct_bytes, r.blocks,
                tuple((f.fn, os.path.basename(f.file) if f.file else None, f.line)
                      for f in r.frames))
    t = [summary(r) for r in run.text.records]
    x = [summary(r) for r in run.xml.records]
    if t == x:
        return Check('%s: text and XML reports agree' % run.label, True,
                     ['%d loss records' % len(t)])

    def show(s):
        head = '%s %d (%d direct) bytes in %d blocks' % (s[0], s[1], s[2], s[3])
        return [head] + ['    %s (%s:%s)' % f for f in s[4]]
    a = [l for s in t for l in show(s)]
    b = [l for s in x for l in show(s)]
    diff = list(difflib.unified_diff(a, b, 'text report', 'XML report', lineterm=''))
    return Check('%s: text and XML reports agree' % run.label, False, diff[:80])


def numbering_check(run: Run) -> Optional[Check]:
    recs = run.text.records
    if not recs:
        return None
    n = len(recs)
    idx = [r.index for r in recs]
    counts = {r.count for r in recs}
    ok = idx == list(range(1, n + 1)) and counts == {n}
    return Check('%s: loss records numbered 1..%d of %d' % (run.label, n, n), ok,
                 ['indexes %s, "of" %s' % (idx, sorted(counts))])
