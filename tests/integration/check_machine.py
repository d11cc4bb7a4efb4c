#!/usr/bin/env python3
"""Machine-readable reports and baselines, on real programs under the
leaktrace command. One subcommand per meson test:

  json      --json-file: the document matches docs/leaktrace-report.schema.json
            (every member it has is described there), the exact loss records
            of examples/12-leak-kinds.c, fingerprints recomputed here from the
            frames by the definition in docs/json-report.md
  stable    fingerprints of two runs (ASLR on: other addresses) are equal, for
            the -O0 and the -O2-nofp build each; across the two builds they are
            equal for every record whose frames are the same (the others are
            listed, with their frames)
  sarif     --sarif-file: SARIF 2.1.0 structure (required members, types,
            counts), the exact allocation sites of 12-leak-kinds.c relative
            to --sarif-root, fingerprints equal to the JSON report's
  baseline  --baseline: known records are not errors (ERROR SUMMARY, exit
            status), new ones come first after a marker and valgrind-text
            parsing (ltcompare.parse_text) still finds every record;
            --write-baseline; moved lines; a broken or missing baseline is one
            line naming the file and every leak counts; 'leaktrace report'
            with a baseline
  baseline-cli  a missing or broken --baseline stops the leaktrace command
            before the program runs: exit 2, one line naming the file
            (skipped, status 77, while the launcher does not check it)

    check_machine.py SUBCOMMAND --leaktrace build/leaktrace --outdir DIR
        --srcdir SOURCE_ROOT [--other PROGRAM_O2] -- PROGRAM

Exit status 0 pass, 1 fail.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ltcompare as lc  # noqa: E402
from ltcheck import Checker  # noqa: E402

TIMEOUT = 120
KINDS = ('definitely-lost', 'indirectly-lost', 'possibly-lost', 'still-reachable',
         'not-classified')


def clean_env():
    env = dict(os.environ)
    for k in ('LD_PRELOAD', 'LEAKTRACE_OPTIONS', 'MALLOC_PERTURB_', 'MALLOC_CHECK_',
              'GLIBC_TUNABLES'):
        env.pop(k, None)
    env['LC_ALL'] = 'C'
    return env


def run(argv, env=None):
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env or clean_env(), timeout=TIMEOUT)
        return p.returncode, p.stderr.decode('utf-8', 'replace')
    except subprocess.TimeoutExpired:
        return None, 'timed out'


def load_json(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


# ------------------------------------------------- the fingerprint, again --

def netstring(s):
    b = (s or '').encode('utf-8')
    return str(len(b)).encode() + b':' + b + b','


def fingerprint(kind, stack, with_lines=True):
    """docs/json-report.md, Fingerprints, computed from the JSON frames:
    the allocation function's frames are the leading ones up to the first
    that is not inlined; only that last one counts."""
    text = b'leaktrace fingerprint 1\n' if with_lines else b'leaktrace fuzzy fingerprint 1\n'
    text += b'kind ' + kind.encode() + b'\n'
    in_allocator = True
    for f in stack:
        if in_allocator and f['inlined']:
            continue
        in_allocator = False
        located = not f['external'] and f['file'] is not None
        line = str(f['line']) if located and with_lines and f['line'] else ''
        obj = os.path.basename(f['object']) if f['function'] is None and f['object'] else None
        text += (b'frame ' + netstring(f['function']) + netstring(f['file'] if located else None)
                 + netstring(line) + netstring(obj) + b'\n')
    return hashlib.sha256(text).hexdigest()[:32]


# ------------------------------------------------ schema validation --

def validate(instance, schema, root=None, where='$'):
    """A small JSON Schema (2020-12) checker for the keywords our schema
    uses, stricter than the schema itself: every object member must be
    described under 'properties'. Returns a list of problems."""
    root = root or schema
    if '$ref' in schema:
        target = root
        for part in schema['$ref'].lstrip('#/').split('/'):
            target = target[part]
        merged = dict(target)
        merged.update({k: v for k, v in schema.items() if k != '$ref'})
        schema = merged
    problems = []
    if 'oneOf' in schema:
        fits = [validate(instance, s, root, where) for s in schema['oneOf']]
        ok = [p for p in fits if not p]
        if len(ok) != 1:
            best = min(fits, key=len)
            return ['%s: matches %d of oneOf' % (where, len(ok))] + (best if not ok else [])
        return []
    types = schema.get('type')
    if types:
        types = [types] if isinstance(types, str) else types
        pytypes = {'object': dict, 'array': list, 'string': str, 'boolean': bool,
                   'null': type(None)}

        def is_type(t):
            if t == 'integer':
                return isinstance(instance, int) and not isinstance(instance, bool)
            if t == 'number':
                return isinstance(instance, (int, float)) and not isinstance(instance, bool)
            return isinstance(instance, pytypes[t])
        if not any(is_type(t) for t in types):
            return ['%s: %r is not %s' % (where, instance, '|'.join(types))]
    if 'const' in schema and instance != schema['const']:
        problems.append('%s: %r is not %r' % (where, instance, schema['const']))
    if 'enum' in schema and instance not in schema['enum']:
        problems.append('%s: %r not in %r' % (where, instance, schema['enum']))
    if 'pattern' in schema and isinstance(instance, str) and not re.search(schema['pattern'], instance):
        problems.append('%s: %r does not match %s' % (where, instance, schema['pattern']))
    if 'minimum' in schema and isinstance(instance, int) and instance < schema['minimum']:
        problems.append('%s: %r < %r' % (where, instance, schema['minimum']))
    if isinstance(instance, dict):
        props = schema.get('properties', {})
        for k in schema.get('required', []):
            if k not in instance:
                problems.append('%s: missing %r' % (where, k))
        for k, v in instance.items():
            if k not in props:
                problems.append('%s: member %r is not in the schema' % (where, k))
            else:
                problems += validate(v, props[k], root, '%s.%s' % (where, k))
    if isinstance(instance, list) and 'items' in schema:
        for i, v in enumerate(instance):
            problems += validate(v, schema['items'], root, '%s[%d]' % (where, i))
    return problems


def schema_problems(doc, schema_path):
    schema = load_json(schema_path)
    problems = validate(doc, schema)
    try:
        import jsonschema  # the real validator too, where installed
        v = jsonschema.Draft202012Validator(schema)
        problems += ['jsonschema: %s at %s' % (e.message, list(e.path))
                     for e in v.iter_errors(doc)]
    except ImportError:
        pass
    return problems


# ------------------------------------------------ 12-leak-kinds.c --

def source_line(srcdir, text):
    path = os.path.join(srcdir, 'examples', '12-leak-kinds.c')
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if text in line:
                return n
    raise SystemExit('%s: no line with %r' % (path, text))


def leak_kinds_expected(srcdir):
    """The loss records of examples/12-leak-kinds.c in valgrind's order,
    each (kind, total, direct, indirect, blocks, [(function, line)...])
    from the program frames; lines found in the source, not written here."""
    L = lambda t: source_line(srcdir, t)  # noqa: E731
    main_pair = ('main', L('ex_use(make_pair());'))
    child = ('make_child', L('void *p = malloc(32);'))
    return [
        ('indirectly-lost', 32, 32, 0, 1, [child, ('make_pair', L('s->left = make_child();')), main_pair]),
        ('indirectly-lost', 32, 32, 0, 1, [child, ('make_pair', L('s->right = make_child();')), main_pair]),
        ('still-reachable', 64, 64, 0, 1, [('make_reachable', L('void *p = malloc(64);')),
                                           ('main', L('g_start = make_reachable();'))]),
        ('definitely-lost', 80, 16, 64, 1, [('make_pair', L('struct pair *s = malloc(sizeof(*s));')),
                                            main_pair]),
        ('possibly-lost', 96, 96, 0, 1, [('make_interior', L('char *p = malloc(96);')),
                                         ('main', L('g_interior = make_interior();'))]),
    ]


def program_frames(rec):
    return [(f['function'], f['line']) for f in rec['stack'] if not f['external']]


# ------------------------------------------------------------- json --

def check_json(a, c):
    out = os.path.join(a.outdir, 'report.%p.json')
    rc, err = run([a.leaktrace, '--json-file=' + out, '--'] + a.prog)
    c.expect('the program ran under leaktrace (%s)' % rc, rc == 0, err)
    m = re.search(r'^==(\d+)== HEAP SUMMARY', err, re.M)
    pid = int(m.group(1)) if m else -1
    path = os.path.join(a.outdir, 'report.%d.json' % pid)
    if not c.expect('JSON report written as report.PID.json', os.path.exists(path), err):
        return
    doc = load_json(path)
    problems = schema_problems(doc, a.schema)
    c.expect('the report matches docs/leaktrace-report.schema.json', not problems,
             '\n'.join(problems[:20]))
    c.expect('format, versions, tool', doc['format'] == 'leaktrace-report' and
             doc['format_version'] == 1 and doc['fingerprint_version'] == 1 and
             doc['tool']['name'] == 'leaktrace', json.dumps(doc.get('tool')))
    p = doc['process']
    c.expect('process: pid %d, argv, exit' % pid, p['pid'] == pid and p['reason'] == 'exit' and
             p['argv'] == a.prog and os.path.samefile(p['exe'], a.prog[0]), json.dumps(p))
    c.expect('heap summary', doc['heap'] == {'in_use_bytes': 240, 'in_use_blocks': 5, 'allocs': 5,
                                              'frees': 0, 'bytes_allocated': 240},
             json.dumps(doc['heap']))
    leaks = {k: (v['bytes'], v['blocks']) for k, v in doc['leaks'].items()}
    c.expect('leak summary', leaks == {'definitely-lost': (16, 1), 'indirectly-lost': (64, 2),
                                       'possibly-lost': (96, 1), 'still-reachable': (64, 1),
                                       'not-classified': (0, 0), 'suppressed': (0, 0)},
             json.dumps(doc['leaks']))
    c.expect('scan classified, complete', doc['scan']['classified'] and doc['scan']['complete'],
             json.dumps(doc['scan']))
    c.expect('errors: 2 (definite, possible)', doc['errors'] == {'count': 2, 'baselined': 0,
                                                                 'suppressed': 0},
             json.dumps(doc['errors']))
    want = leak_kinds_expected(a.srcdir)
    got = [(r['kind'], r['bytes'], r['direct_bytes'], r['indirect_bytes'], r['blocks'],
            program_frames(r)) for r in doc['records']]
    c.expect('every loss record, shown or not, in order, with its program frames',
             got == want, 'got:\n' + '\n'.join(map(str, got)) + '\nwant:\n' +
             '\n'.join(map(str, want)))
    c.expect('indices 1..5', [r['index'] for r in doc['records']] == [1, 2, 3, 4, 5])
    shown = [r['kind'] for r in doc['records'] if r['shown']]
    errors = [r['kind'] for r in doc['records'] if r['error']]
    c.expect('shown and error: definite and possible (the defaults)',
             shown == ['definitely-lost', 'possibly-lost'] and errors == shown, shown, errors)
    text = lc.parse_text('stderr', err)
    c.expect('the same records as the text report',
             [(r.index, r.text) for r in text.records] ==
             [(r['index'], r['message']) for r in doc['records'] if r['shown']],
             [r.text for r in text.records])
    for r in doc['records']:
        st = r['stack']
        site = st[r['site']] if r['site'] is not None else None
        c.expect('record %d: allocation frame first (external), site %s' % (
            r['index'], site and site['function']),
            st[0]['function'] == 'malloc' and st[0]['external'] and site is not None and
            site is next(f for f in st if not f['external']) and
            site['file'] == '12-leak-kinds.c', json.dumps(st, indent=1))
        c.expect('record %d: fingerprints as docs/json-report.md defines them' % r['index'],
                 r['fingerprint'] == fingerprint(r['kind'], st) and
                 r['fuzzy_fingerprint'] == fingerprint(r['kind'], st, False),
                 r['fingerprint'], fingerprint(r['kind'], st))
    fps = [r['fingerprint'] for r in doc['records']]
    c.expect('fingerprints differ between records', len(set(fps)) == len(fps), fps)
    c.expect('the two indirect records (lines 57/58) share their fuzzy fingerprint',
             doc['records'][0]['fuzzy_fingerprint'] == doc['records'][1]['fuzzy_fingerprint'])


# ----------------------------------------------------------- stable --

def json_run(a, prog, name, extra=()):
    path = os.path.join(a.outdir, name + '.json')
    rc, err = run([a.leaktrace, '--json-file=' + path] + list(extra) + ['--'] + prog)
    if not os.path.exists(path):
        raise SystemExit('%s: no JSON report (exit %s)\n%s' % (name, rc, err))
    return load_json(path)


def frames_key(rec):
    """What the fingerprint is made of, in words, for the listing."""
    return (rec['kind'],) + tuple((f['function'], None if f['external'] else f['file'],
                                   None if f['external'] else f['line'])
                                  for f in rec['stack'] if not f['inlined'] or
                                  not f['external'])


def check_stable(a, c):
    aslr = open('/proc/sys/kernel/randomize_va_space').read().strip() != '0'
    flavours = [('O0', a.prog)] + ([('O2-nofp', [a.other] + a.prog[1:])] if a.other else [])
    reports = {}
    for flavour, prog in flavours:
        r1 = json_run(a, prog, flavour + '-run1', ['--show-leak-kinds=all'])
        r2 = json_run(a, prog, flavour + '-run2', ['--show-leak-kinds=all'])
        reports[flavour] = r1
        c.expect('%s: records found (%d)' % (flavour, len(r1['records'])), r1['records'])
        ips1 = [f['ip'] for r in r1['records'] for f in r['stack']]
        ips2 = [f['ip'] for r in r2['records'] for f in r['stack']]
        if aslr:
            c.expect('%s: the two runs saw other addresses (ASLR)' % flavour, ips1 != ips2)
        else:
            print('[NOTE] ASLR is off on this machine: the runs share addresses')
        k1 = sorted((r['fingerprint'], r['fuzzy_fingerprint']) for r in r1['records'])
        k2 = sorted((r['fingerprint'], r['fuzzy_fingerprint']) for r in r2['records'])
        c.expect('%s: the same fingerprints in both runs' % flavour, k1 == k2,
                 'run 1: %s' % k1, 'run 2: %s' % k2)
        for r in r1['records']:
            c.expect('%s: record %d fingerprint as defined' % (flavour, r['index']),
                     r['fingerprint'] == fingerprint(r['kind'], r['stack']))
    if 'O2-nofp' not in reports:
        return
    by_frames = {}
    for r in reports['O2-nofp']['records']:
        by_frames.setdefault(frames_key(r), []).append(r['fingerprint'])
    same = differ = 0
    for r in reports['O0']['records']:
        key = frames_key(r)
        if key in by_frames:
            same += 1
            c.expect('O0 = O2-nofp for the same frames: %s' % r['message'],
                     r['fingerprint'] in by_frames[key], key)
        else:
            differ += 1
            print('[NOTE] frames differ between O0 and O2-nofp: %s' % r['message'])
            for f in key[1:]:
                print('         %s' % (f,))
    print('[NOTE] %d records with the same frames in both builds, %d without' % (same, differ))


# ------------------------------------------------------------ sarif --

def check_sarif(a, c):
    sarif_path = os.path.join(a.outdir, 'report.sarif')
    json_path = os.path.join(a.outdir, 'report.json')
    root = os.path.realpath(a.srcdir)
    rc, err = run([a.leaktrace, '--sarif-file=' + sarif_path, '--json-file=' + json_path,
                   '--sarif-root=' + root, '--'] + a.prog)
    if not c.expect('SARIF report written', os.path.exists(sarif_path), err):
        return
    log = load_json(sarif_path)
    report = load_json(json_path)
    c.expect('version 2.1.0 and $schema', log.get('version') == '2.1.0' and
             isinstance(log.get('$schema'), str) and 'sarif' in log['$schema'])
    runs = log.get('runs')
    if not c.expect('one run', isinstance(runs, list) and len(runs) == 1):
        return
    r0 = runs[0]
    drv = r0['tool']['driver']
    c.expect('tool.driver: name leaktrace, version', drv['name'] == 'leaktrace' and
             isinstance(drv.get('version'), str))
    rules = drv.get('rules', [])
    c.expect('one rule per kind', [x['id'] for x in rules] == ['leaktrace/' + k for k in KINDS],
             [x.get('id') for x in rules])
    for x in rules:
        c.expect('rule %s: name, descriptions, level' % x['id'],
                 isinstance(x.get('name'), str) and isinstance(x['shortDescription']['text'], str)
                 and x['defaultConfiguration']['level'] in ('error', 'warning', 'note'))
    c.expect('SRCROOT is the source root', r0.get('originalUriBaseIds', {}).get('SRCROOT') ==
             {'uri': 'file://' + root + '/'}, r0.get('originalUriBaseIds'))
    inv = r0['invocations'][0]
    c.expect('invocation', inv['executionSuccessful'] is True and
             isinstance(inv['processId'], int) and inv['processId'] == report['process']['pid'])
    results = r0['results']
    c.expect('one result per loss record shown (2)', len(results) == 2, len(results))
    fp_by_index = {r['index']: r for r in report['records']}
    L = lambda t: source_line(a.srcdir, t)  # noqa: E731
    want = {
        'leaktrace/definitely-lost': ('error', L('struct pair *s = malloc(sizeof(*s));'), 'make_pair', 4),
        'leaktrace/possibly-lost': ('warning', L('char *p = malloc(96);'), 'make_interior', 5),
    }
    for res in results:
        rid = res.get('ruleId')
        level, line, fn, index = want.get(rid, (None, None, None, None))
        c.expect('%s: ruleIndex, level %s' % (rid, level),
                 rules[res['ruleIndex']]['id'] == rid and res['level'] == level)
        c.expect('%s: message is the valgrind sentence' % rid,
                 res['message']['text'] == fp_by_index[index]['message'], res['message'])
        loc = res['locations'][0]['physicalLocation']
        c.expect('%s: at examples/12-leak-kinds.c:%s (SRCROOT)' % (rid, line),
                 loc['artifactLocation'] == {'uri': 'examples/12-leak-kinds.c', 'uriBaseId': 'SRCROOT'}
                 and loc['region'] == {'startLine': line}, json.dumps(loc))
        c.expect('%s: logical location %s' % (rid, fn),
                 res['locations'][0]['logicalLocations'][0]['fullyQualifiedName'] == fn)
        pf = res['partialFingerprints']
        c.expect('%s: partialFingerprints are the JSON report\'s' % rid,
                 pf == {'leaktraceStack/v1': fp_by_index[index]['fingerprint'],
                        'leaktraceStackNoLines/v1': fp_by_index[index]['fuzzy_fingerprint']}, pf)
        flow = res['codeFlows'][0]['threadFlows'][0]['locations']
        stack = fp_by_index[index]['stack']
        c.expect('%s: code flow = the stack, main first' % rid,
                 [x['location']['message']['text'].split(' (')[0] for x in flow] ==
                 [f['function'] for f in reversed(stack)] and
                 [x['nestingLevel'] for x in flow] == list(range(len(stack))),
                 [x['location']['message']['text'] for x in flow])
        c.expect('%s: only the program\'s frames point into files' % rid,
                 all(('physicalLocation' in x['location']) == (not f['external'])
                     for x, f in zip(flow, reversed(stack))))
        frames = res['stacks'][0]['frames']
        c.expect('%s: SARIF stack, innermost first, with modules' % rid,
                 len(frames) == len(stack) and frames[0]['module'] == 'libleaktrace.so')
        c.expect('%s: no baselineState without a baseline' % rid, 'baselineState' not in res)

    # Every kind shown: the indirect and reachable records become notes.
    all_path = os.path.join(a.outdir, 'all.sarif')
    run([a.leaktrace, '--sarif-file=' + all_path, '--show-leak-kinds=all', '--'] + a.prog)
    res = load_json(all_path)['runs'][0]['results']
    c.expect('show_leak_kinds=all: 5 results, levels by kind',
             sorted((r['ruleId'], r['level']) for r in res) ==
             sorted([('leaktrace/indirectly-lost', 'note')] * 2 +
                    [('leaktrace/still-reachable', 'note'), ('leaktrace/definitely-lost', 'error'),
                     ('leaktrace/possibly-lost', 'warning')]), [r['ruleId'] for r in res])
    c.expect('without --sarif-root: absolute file: URIs', all(
        r['locations'][0]['physicalLocation']['artifactLocation']['uri'] ==
        'file://' + os.path.join(root, 'examples', '12-leak-kinds.c') for r in res))


# --------------------------------------------------------- baseline --

def check_baseline(a, c):
    od = a.outdir
    full = os.path.join(od, 'full.json')
    compact = os.path.join(od, 'compact.json')
    raw = os.path.join(od, 'run.raw')
    rc, err = run([a.leaktrace, '--json-file=' + full, '--write-baseline=' + compact,
                   '--raw-file=' + raw, '--'] + a.prog)
    if not c.expect('first run wrote the JSON report and the baseline',
                    os.path.exists(full) and os.path.exists(compact), err):
        return
    base = load_json(compact)
    problems = schema_problems(base, a.schema)
    c.expect('the baseline file matches the schema', not problems, '\n'.join(problems))
    rep = load_json(full)
    errs = [r for r in rep['records'] if r['kind'] in ('definitely-lost', 'possibly-lost')]
    c.expect('the baseline holds the two error records, sorted, no addresses',
             [b['fingerprint'] for b in base['records']] == sorted(r['fingerprint'] for r in errs)
             and '0x' not in open(compact).read(), json.dumps(base, indent=1))

    def gate(baseline, label, code=7):
        rc, err = run([a.leaktrace, '--baseline=' + baseline, '--error-exitcode=%d' % code,
                       '--'] + a.prog)
        return rc, err

    for name, path in (('JSON report', full), ('baseline file', compact)):
        rc, err = gate(path, name)
        c.expect('%s as baseline: every leak known, exit status the program\'s (0)' % name,
                 rc == 0, 'exit %s' % rc, err)
        c.expect('%s as baseline: ERROR SUMMARY 0, marker says so' % name,
                 'ERROR SUMMARY: 0 errors from 0 contexts' in err and
                 'leaktrace: no new loss records (all are in the baseline %s)' % path in err, err)

    # The definite leak known, the possible one new.
    partial = os.path.join(od, 'partial.json')
    pbase = dict(base)
    pbase['records'] = [b for b in base['records'] if b['kind'] == 'definitely-lost']
    with open(partial, 'w') as f:
        json.dump(pbase, f)
    out_json = os.path.join(od, 'partial-report.json')
    rc, err = run([a.leaktrace, '--baseline=' + partial, '--error-exitcode=7',
                   '--json-file=' + out_json, '--'] + a.prog)
    c.expect('a new leak: exit status 7', rc == 7, 'exit %s' % rc, err)
    new_at = err.find('leaktrace: 1 new loss record (not in the baseline %s):' % partial)
    known_at = err.find('leaktrace: 1 loss record in the baseline %s (known, not counted as errors):'
                        % partial)
    poss_at = err.find('96 bytes in 1 blocks are possibly lost in loss record 5 of 5')
    def_at = err.find('80 (16 direct, 64 indirect) bytes in 1 blocks are definitely lost in loss record 4 of 5')
    c.expect('new record first, after its marker; the known one after its own',
             -1 < new_at < poss_at < known_at < def_at, err)
    c.expect('ERROR SUMMARY counts the new record only',
             'ERROR SUMMARY: 1 errors from 1 contexts' in err, err)
    text = lc.parse_text('stderr', err)
    c.expect('valgrind-text parsing still finds both records with their stacks',
             sorted((r.index, r.kind, [f.fn for f in r.frames][1:]) for r in text.records) ==
             [(4, 'Leak_DefinitelyLost', ['make_pair', 'main']),
              (5, 'Leak_PossiblyLost', ['make_interior', 'main'])] and text.summary is not None,
             [(r.index, r.kind, [f.fn for f in r.frames]) for r in text.records])
    rep2 = load_json(out_json)
    c.expect('JSON: baselined flags, errors count 1, baseline named',
             [r['index'] for r in rep2['records'] if r['baselined']] == [4] and
             rep2['errors'] == {'count': 1, 'baselined': 1, 'suppressed': 0} and
             rep2['options']['baseline'] == partial, json.dumps(rep2['errors']))

    # Lines moved: the exact fingerprints no longer match, the fuzzy ones do.
    moved = os.path.join(od, 'moved.json')
    mbase = dict(base)
    mbase['records'] = [dict(b, fingerprint='0' * 32) for b in base['records']]
    with open(moved, 'w') as f:
        json.dump(mbase, f)
    rc, err = gate(moved, 'moved')
    c.expect('moved lines: matched by fuzzy fingerprint, exit 0', rc == 0, 'exit %s' % rc, err)

    # 'leaktrace report' on the kept snapshot, with and without baseline.
    rc, err = run([a.leaktrace, 'report', '--baseline=' + full, '--error-exitcode=5', raw])
    c.expect('leaktrace report --baseline: known leaks, exit 0', rc == 0, 'exit %s' % rc, err)
    rc, err = run([a.leaktrace, 'report', '--baseline=' + partial, '--error-exitcode=5', raw])
    c.expect('leaktrace report --baseline: a new leak, exit 5', rc == 5, 'exit %s' % rc, err)

    # Broken baselines, met by the reporter (under a bare LD_PRELOAD: the
    # command would refuse them before the program runs): one line naming
    # the file, every leak counts.
    broken = {
        'truncated.json': open(full, 'rb').read()[:300],
        'garbage.json': bytes(range(256)) * 4,
        'empty.json': b'',
        'sarif.json': open(os.path.join(od, 'compact.json'), 'rb').read().replace(
            b'leaktrace-baseline', b'something-else'),
    }
    cases = []
    for name, data in broken.items():
        path = os.path.join(od, name)
        with open(path, 'wb') as f:
            f.write(data)
        cases.append(path)
    cases += [os.path.join(od, 'missing.json'), od]
    preload = os.path.join(os.path.dirname(a.leaktrace), 'libleaktrace.so')
    for path in cases:
        env = clean_env()
        env['LD_PRELOAD'] = preload
        env['LEAKTRACE_OPTIONS'] = 'baseline=%s:error_exitcode=7' % path
        rc, err = run(a.prog, env)
        lines = [l for l in err.splitlines() if 'baseline' in l and not l.startswith('==')]
        c.expect('broken baseline %s: one line naming it, every leak counts (exit 7)'
                 % os.path.basename(path),
                 rc == 7 and len(lines) == 1 and
                 lines[0].startswith("leaktrace: cannot use baseline '%s': " % path) and
                 lines[0].endswith('; every leak counts') and
                 'ERROR SUMMARY: 2 errors from 2 contexts' in err,
                 'exit %s' % rc, err)


def check_baseline_cli(a, c):
    """The command checks the baseline before the program runs, as it does
    suppressions files: exit 2 and one line naming the file. Skipped (77)
    while the launcher does not check baselines yet."""
    od = a.outdir
    truncated = os.path.join(od, 'truncated.json')
    with open(truncated, 'w') as f:
        f.write('{"format": "leaktrace-baseline", "fingerprint_version": 1, "records": [')
    cases = [(os.path.join(od, 'missing.json'), 'No such file or directory'),
             (truncated, 'line 1, column 72: unexpected end of input (truncated?), '
                         'expected a JSON value')]
    for path, why in cases:
        rc, err = run([a.leaktrace, '--baseline=' + path, '--error-exitcode=7', '--'] + a.prog)
        if 'HEAP SUMMARY' in err:
            print('[SKIP] the leaktrace command does not check --baseline before the '
                  'program runs (lt_baseline_check is not called yet)')
            return 77
        c.expect('%s: exit 2, one line naming the file, the program never ran'
                 % os.path.basename(path),
                 rc == 2 and err == "leaktrace: cannot use baseline '%s': %s\n" % (path, why),
                 'exit %s' % rc, err)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('check', choices=['json', 'stable', 'sarif', 'baseline', 'baseline-cli'])
    ap.add_argument('--leaktrace', required=True)
    ap.add_argument('--outdir', required=True)
    ap.add_argument('--srcdir', required=True)
    ap.add_argument('--schema')
    ap.add_argument('--other', help='the same program, other build flavour')
    ap.add_argument('prog', nargs='+')
    a = ap.parse_args()
    a.leaktrace = os.path.abspath(a.leaktrace)
    a.prog = [os.path.abspath(a.prog[0])] + a.prog[1:]
    a.other = a.other and os.path.abspath(a.other)
    a.schema = a.schema or os.path.join(a.srcdir, 'docs', 'leaktrace-report.schema.json')
    shutil.rmtree(a.outdir, ignore_errors=True)
    os.makedirs(a.outdir)
    c = Checker()
    status = {'json': check_json, 'stable': check_stable, 'sarif': check_sarif,
              'baseline': check_baseline, 'baseline-cli': check_baseline_cli}[a.check](a, c)
    if status == 77 and not c.failed:
        return 77
    print('%d check(s) failed' % c.failed if c.failed else 'all checks passed')
    return 1 if c.failed else 0


if __name__ == '__main__':
    sys.exit(main())
