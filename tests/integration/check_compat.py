#!/usr/bin/env python3
"""leaktrace as a drop-in for valgrind's leak checking on a command line:
the flags CI scripts and ctest pass, exit statuses, suppressions in both
ecosystems' formats. One subcommand per meson test; every assertion exact.

  ctest-form      `leaktrace --log-file=F -q --tool=memcheck --leak-check=yes
                  --show-reachable=yes --num-callers=50 PROG`, ctest's own
                  command, writes to F what valgrind writes there with the
                  very same arguments (pids, addresses and the allocator's
                  location aside); the program's exit status and output
                  are untouched
  flags           -q, -v, -s, --leak-check=yes, --tool, valgrind's ignored
                  flags (one warning), unknown and unsupported ones (exit 2,
                  one line), %q{ENV} and relative --log-file, the same flags
                  in LEAKTRACE_OPTIONS under a bare preload
  exit-status     --error-exitcode under the command and under a bare
                  preload, suppressed leaks not counted, `leaktrace report
                  FILE` and --error-exitcode
  suppressions    valgrind and LeakSanitizer files, -s's counts, malformed
                  files (exit 2, one line naming file and line), and
                  --gen-suppressions: what it prints, fed back, suppresses
                  exactly the records it was printed for (text and XML)
  valgrind-supp   a suppressions file written by valgrind itself
                  (--gen-suppressions=all) for a program suppresses under
                  leaktrace exactly the records valgrind reported
  ctest-project   `ctest -T memcheck` on a CMake project of examples
                  (tests/integration/ctest-project), once with valgrind
                  and once with leaktrace as MEMORYCHECK_COMMAND: the same
                  defects; PROGRAM is the project's directory
  tree            --error-exitcode over a process tree: a forked child's
                  leaks, exec'd children with and without --trace-children,
                  --child-silent-after-fork, one log file per process (%p);
                  PROGRAM is tests/integration/tree, then a leaking and a
                  clean example

    check_compat.py SUBCOMMAND --leaktrace build/leaktrace \\
        --preload build/libleaktrace.so --outdir DIR -- PROGRAM [ARGS]

flags, exit-status and suppressions expect examples/exit-code (leaks 20
bytes in remember(), exits 3); ctest-form and valgrind-supp take any
example. Exit status 0 pass, 1 fail, 77 valgrind missing (skip).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ltcompare as lc  # noqa: E402
from check_cli import (Checker, MAIN_STARTED, show,  # noqa: E402
                       status_text)
from compare_valgrind import clean_env  # noqa: E402
import check_cli  # noqa: E402

# These checks compare with valgrind's own output line by line, for the
# compatibility of the command line and of suppression files: leaktrace's
# built-in suppressions (libc's stdio buffers) stay out of the way, in
# the launcher's runs (through the environment) and the preload's.
def run(argv, env=None, stdin=subprocess.DEVNULL):
    if env is None:
        env = clean_env()
        env['LEAKTRACE_OPTIONS'] = 'default_suppressions=no'
    return check_cli.run(argv, env, stdin)


def preload_env(preload, options=None):
    return check_cli.preload_env(preload, 'default_suppressions=no' +
                                 (':' + options if options else ''))

SKIP = 77
HINT = 'For lists of detected and suppressed errors, rerun with: -s'


def lines_of(b):
    return b.decode('utf-8', 'replace').splitlines()


def report_lines(b, prefix='=='):
    """The report's lines, "==PID== " (or "--PID-- ") and the pid cut."""
    pat = re.compile(r'^%s\d+%s ?' % (re.escape(prefix), re.escape(prefix)))
    return [pat.sub('', l) for l in lines_of(b) if pat.match(l)]


def normalise(text):
    """valgrind's and leaktrace's text, made comparable: pids, addresses,
    and where each tool's allocator lives (vgpreload_memcheck's library,
    libleaktrace.so's interpose.c)."""
    out = []
    for l in text.splitlines():
        l = re.sub(r'^==\d+==', '==PID==', l)
        l = re.sub(r'0x[0-9A-Fa-f]+', '0xADDR', l)
        l = re.sub(r'\(in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux\.so\)'
                   r'|\(interpose\.c:\d+\)', '(ALLOCATOR)', l)
        out.append(l)
    return out


def read(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError:
        return None


def summary_line(lines, label):
    for l in lines:
        if l.strip().startswith(label + ':'):
            return l.strip()
    return None


# ----------------------------------------------------------- ctest --

def cmd_ctest_form(a, ck):
    if not shutil.which('valgrind'):
        print('valgrind is not installed: skipped')
        return SKIP
    d = a.outdir
    flags = ['-q', '--tool=memcheck', '--leak-check=yes', '--show-reachable=yes',
             '--num-callers=50']
    rc0, out0, err0 = run(a.prog)
    vlog, llog = os.path.join(d, 'valgrind.log'), os.path.join(d, 'leaktrace.log')
    rcv, outv, errv = run(['valgrind', '--log-file=' + vlog] + flags + a.prog)
    rcl, outl, errl = run([a.leaktrace, '--log-file=' + llog] + flags + a.prog)
    ck.expect('exit status is the program\'s own (%s)' % status_text(rc0),
              rcl == rc0 and rcv == rc0,
              'untraced %s, valgrind %s, leaktrace %s' % (status_text(rc0), status_text(rcv),
                                                          status_text(rcl)))
    ck.expect('stdout and stderr are the program\'s own', outl == out0 and errl == err0,
              'stdout %r vs %r' % (outl[:200], out0[:200]),
              'stderr %r vs %r' % (errl[:300], err0[:300]))
    vtext, ltext = read(vlog), read(llog)
    if not ck.expect('both wrote the log file', vtext is not None and ltext is not None):
        return 1
    vn, ln = normalise(vtext.decode()), normalise(ltext.decode())
    ck.expect('the log holds loss records, as valgrind -q writes them',
              any('in loss record' in l for l in ln), show(ltext, 600))
    ck.expect('the log is valgrind\'s, line for line (%d lines)' % len(vn), vn == ln,
              *['- ' + l for l in vn if l not in ln][:10],
              *['+ ' + l for l in ln if l not in vn][:10])
    # What ctest's valgrind log parser keys on (cmCTestMemCheckHandler):
    # "are definitely lost", "are possibly lost" lines.
    for what in ('are definitely lost', 'are possibly lost', 'are still reachable'):
        nv = sum(what in l for l in vn)
        nl = sum(what in l for l in ln)
        ck.expect('"%s": %d lines, as valgrind' % (what, nv), nv == nl,
                  'valgrind %d, leaktrace %d' % (nv, nl))
    return 0


# ----------------------------------------------------------- flags --

def cmd_flags(a, ck):
    d = a.outdir

    def expect_usage_error(label, argv, want, env=None):
        rc, out, err = run(argv, env)
        ck.expect('%s: exit 2, stderr is exactly %r, program not run' % (label, want),
                  rc == 2 and err.decode() == want + '\n' and MAIN_STARTED not in out,
                  status_text(rc), 'stderr: %r' % err.decode()[:400],
                  'program ran' if MAIN_STARTED in out else 'program did not run')

    expect_usage_error('--tool=helgrind', [a.leaktrace, '--tool=helgrind'] + a.prog,
                       "leaktrace: option 'tool' expects one of: memcheck")
    expect_usage_error('unknown long option', [a.leaktrace, '--bogus-flag=1'] + a.prog,
                       "leaktrace: unknown option '--bogus-flag'")
    expect_usage_error('unknown short option', [a.leaktrace, '-x'] + a.prog,
                       "leaktrace: unknown option '-x'")
    expect_usage_error('--log-fd', [a.leaktrace, '--log-fd=9'] + a.prog,
                       "leaktrace: option '--log-fd' is not supported: leaktrace writes "
                       "reports to files (--log-file, --xml-file) or to standard error")
    expect_usage_error('--leak-check=sometimes', [a.leaktrace, '--leak-check=sometimes'] + a.prog,
                       "leaktrace: option 'leak-check' expects one of: no|summary|full")
    expect_usage_error('--num-callers without a value', [a.leaktrace, '--num-callers'] + a.prog,
                       "leaktrace: option '--num-callers' needs a value: --num-callers=VALUE")
    env = clean_env()
    env.pop('LT_COMPAT_UNSET', None)
    expect_usage_error('%q{} of an unset variable',
                       [a.leaktrace, '--log-file=%s/x.%%q{LT_COMPAT_UNSET}' % d] + a.prog,
                       "leaktrace: option '--log-file': environment variable LT_COMPAT_UNSET "
                       "(%%q{LT_COMPAT_UNSET} in '%s/x.%%q{LT_COMPAT_UNSET}') is not set" % d, env)

    # valgrind's error-checking flags: accepted, one warning line, ignored.
    ignored = ['--track-origins=yes', '--undef-value-errors=no', '--malloc-fill=0xAB',
               '--free-fill=0xCD', '--vgdb=no', '--demangle=yes']
    rc, out, err = run([a.leaktrace] + ignored + a.prog)
    errl = lines_of(err)
    want = ('leaktrace: warning: ignoring valgrind options that do not apply to leak '
            'checking: ' + ' '.join(ignored))
    ck.expect('ignored flags: one warning line naming them, first on stderr',
              errl[:1] == [want] and sum(l.startswith('leaktrace:') for l in errl) == 1,
              'stderr starts: %r' % errl[:2])
    ck.expect('ignored flags: the program runs, its status kept, the report made',
              rc == a.expect_exit and MAIN_STARTED in out and
              any('definitely lost in loss record' in l for l in errl), status_text(rc))

    # -q: the loss records only, nothing else of the report.
    rc, out, err = run([a.leaktrace, '-q', '--leak-check=yes'] + a.prog)
    rl = report_lines(err)
    ck.expect('-q: only the definitely lost record, no preamble nor summaries',
              len(rl) == 5 and rl[0] == '20 bytes in 1 blocks are definitely lost in loss '
              'record 1 of 2' and rl[4] == '' and
              not any('SUMMARY' in l or 'leaktrace-' in l for l in rl), *rl)
    rc2, out2, err2 = run([a.leaktrace, '--quiet', '--leak-check=yes'] + a.prog)
    ck.expect('--quiet is -q', normalise(err2.decode()) == normalise(err.decode()))

    # --leak-check=yes is full; -s drops the hint and keeps one summary.
    rc, out, err = run([a.leaktrace, '--leak-check=yes'] + a.prog)
    rl = report_lines(err)
    ck.expect('--leak-check=yes: the record, the hint, the ERROR SUMMARY',
              '20 bytes in 1 blocks are definitely lost in loss record 1 of 2' in rl and
              rl[-2:] == [HINT, 'ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)'],
              *rl[-3:])
    rc, out, err = run([a.leaktrace, '-s'] + a.prog)
    rl = report_lines(err)
    ck.expect('-s without suppressions: no hint, one ERROR SUMMARY last',
              HINT not in rl and rl[-1] == 'ERROR SUMMARY: 1 errors from 1 contexts '
              '(suppressed: 0 from 0)' and sum(l.startswith('ERROR SUMMARY') for l in rl) == 1,
              *rl[-3:])

    # -v: the options in effect, valgrind's "--PID--" way.
    rc, out, err = run([a.leaktrace, '-v', '--num-callers=30'] + a.prog)
    dl = [l for l in report_lines(err, '--') if l != '   --default-suppressions=no']
    ck.expect('-v: the options in effect', dl == ['leaktrace options:', '   --num-callers=30',
                                                  '   --verbosity=2'], *dl)

    # %q{ENV} and %p in --log-file, a relative name from the start-up
    # directory.
    env = clean_env()
    env['LT_COMPAT_ID'] = 'job 7%'
    rc, out, err = run([a.leaktrace, '--log-file=%s/log.%%q{LT_COMPAT_ID}.%%p.txt' % d] + a.prog,
                       env)
    logs = [f for f in os.listdir(d) if f.startswith('log.job 7%.')]
    ck.expect('--log-file with %q{ENV} and %p: one file, log.job 7%.PID.txt',
              len(logs) == 1 and re.fullmatch(r'log\.job 7%\.\d+\.txt', logs[0]) is not None,
              *os.listdir(d))
    sub = os.path.join(d, 'cwd')
    os.makedirs(sub, exist_ok=True)
    p = subprocess.run([a.leaktrace, '--log-file=rel.txt'] + a.prog, cwd=sub,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(),
                       timeout=60)
    rel = read(os.path.join(sub, 'rel.txt')) or b''
    ck.expect('relative --log-file: written in the start-up directory, nothing on stderr',
              b'definitely lost in loss record' in rel and
              not any(l.startswith(b'==') for l in p.stderr.splitlines()))

    # The same flags under a bare preload, from LEAKTRACE_OPTIONS.
    if a.preload:
        log = os.path.join(d, 'preload.txt')
        opts = ('quiet=yes:leak_check=yes:show_reachable=yes:num_callers=50:tool=memcheck:'
                'track_origins=yes:log_file=' + log)
        rc, out, err = run(a.prog, preload_env(a.preload, opts))
        rl = report_lines(read(log) or b'')
        ck.expect('LEAKTRACE_OPTIONS with valgrind\'s spellings: the -q report in log_file',
                  rc == a.expect_exit and len(rl) >= 10 and
                  rl[0] == '20 bytes in 1 blocks are definitely lost in loss record 1 of 2' and
                  rl[5].endswith('are still reachable in loss record 2 of 2') and
                  not any('SUMMARY' in l for l in rl), status_text(rc), *rl[:6])
        rc, out, err = run(a.prog, preload_env(a.preload, 'leak_check=sometimes'))
        ck.expect('LEAKTRACE_OPTIONS with a bad value: exit 2 before main, one line',
                  rc == 2 and MAIN_STARTED not in out and
                  err.decode() == "leaktrace: option 'leak_check' expects one of: "
                                  "no|summary|full in LEAKTRACE_OPTIONS\n",
                  status_text(rc), repr(err[:300]))
    return 0


# ----------------------------------------------------- exit status --

def write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return path


REMEMBER_SUPP = ('{\n   the remember() leak\n   Memcheck:Leak\n   match-leak-kinds: definite\n'
                 '   fun:malloc\n   fun:remember\n}\n')


def cmd_exit_status(a, ck):
    d = a.outdir
    supp = write(os.path.join(d, 'remember.supp'), REMEMBER_SUPP)
    cases = [
        ('no --error-exitcode', [], a.expect_exit),
        ('--error-exitcode=7', ['--error-exitcode=7'], 7),
        ('--error-exitcode=7, the leak suppressed', ['--error-exitcode=7',
                                                     '--suppressions=' + supp], a.expect_exit),
        ('--error-exitcode=7 --errors-for-leak-kinds=reachable',
         ['--error-exitcode=7', '--errors-for-leak-kinds=reachable'], 7),
        ('--error-exitcode=7 --errors-for-leak-kinds=possible',
         ['--error-exitcode=7', '--errors-for-leak-kinds=possible'], a.expect_exit),
        ('--error-exitcode=7 --leak-check=summary (no errors counted)',
         ['--error-exitcode=7', '--leak-check=summary'], a.expect_exit),
    ]
    for label, flags, want in cases:
        rc, out, err = run([a.leaktrace] + flags + a.prog)
        ck.expect('command, %s: exit %d' % (label, want), rc == want, status_text(rc))
    if a.preload:
        for label, opts, want in [('error_exitcode=9', 'error_exitcode=9', 9),
                                  ('error_exitcode=9, suppressed',
                                   'error_exitcode=9:suppressions=' + supp, a.expect_exit)]:
            rc, out, err = run(a.prog, preload_env(a.preload, opts))
            ck.expect('bare preload, %s: exit %d' % (label, want), rc == want, status_text(rc))

    raw = os.path.join(d, 'run.raw')
    rc, out, err = run([a.leaktrace, '--raw-file=' + raw] + a.prog)
    for label, flags, want in [('report FILE', [], 0),
                               ('report --error-exitcode=5 FILE', ['--error-exitcode=5'], 5),
                               ('report --error-exitcode=5 --suppressions=S FILE',
                                ['--error-exitcode=5', '--suppressions=' + supp], 0)]:
        rc, out, err = run([a.leaktrace, 'report'] + flags + [raw])
        ck.expect('%s: exit %d' % (label, want), rc == want, status_text(rc),
                  show(err, 300))
    return 0


# ---------------------------------------------------- suppressions --

def cmd_suppressions(a, ck):
    d = a.outdir
    # valgrind's format, with everything a hand-written file has.
    vsupp = write(os.path.join(d, 'mine.supp'),
                  '# known leaks\n'
                  '{\n'
                  '   not this one\n'
                  '   Memcheck:Leak\n'
                  '   fun:calloc\n'
                  '}\n'
                  '{\n'
                  '   helgrind is not us\n'
                  '   Helgrind:Race\n'
                  '   fun:remember\n'
                  '}\n'
                  '{\n'
                  '   remember, through any frames\n'
                  '   Memcheck:Leak\n'
                  '   match-leak-kinds: definite\n'
                  '   fun:*alloc\n'
                  '   ...\n'
                  '   src:11-exit-code.c\n'
                  '   fun:main\n'
                  '}\n')
    rc, out, err = run([a.leaktrace, '-s', '--suppressions=' + vsupp] + a.prog)
    rl, dl = report_lines(err), report_lines(err, '--')
    ck.expect('valgrind file: the record suppressed, counted as valgrind counts',
              'definitely lost: 0 bytes in 0 blocks' in [l.strip() for l in rl] and
              'suppressed: 20 bytes in 1 blocks' in [l.strip() for l in rl] and
              rl[-1] == 'ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 1 from 1)',
              *rl[-12:])
    ck.expect('-s: the suppression used, named with its file and line',
              dl == ['', 'used_suppression:      1 remember, through any frames %s:13 '
                     'suppressed: 20 bytes in 1 blocks' % vsupp], *dl)

    # LeakSanitizer's format, on function, file and module. The file and
    # the module are main's too: then printf's buffer (allocated from
    # main) goes as well.
    for pattern, what in [('remember', '20 bytes in 1 blocks'),
                          ('^remember$', '20 bytes in 1 blocks'),
                          ('11-exit-code.c', '4,116 bytes in 2 blocks'),
                          ('/' + os.path.basename(a.prog[0]) + '$', '4,116 bytes in 2 blocks')]:
        lsupp = write(os.path.join(d, 'lsan.supp'), '# LSan\nleak:%s\n' % pattern)
        rc, out, err = run([a.leaktrace, '--error-exitcode=7', '--suppressions=' + lsupp]
                           + a.prog)
        rl = [l.strip() for l in report_lines(err)]
        ck.expect('LeakSanitizer leak:%s: suppressed %s, exit status kept' % (pattern, what),
                  rc == a.expect_exit and 'suppressed: ' + what in rl and
                  rl[-1] == 'ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 1 from 1)',
                  status_text(rc), *rl[-8:])
    lsupp = write(os.path.join(d, 'lsan-miss.supp'), 'leak:^emember\n')
    rc, out, err = run([a.leaktrace, '--error-exitcode=7', '--suppressions=' + lsupp] + a.prog)
    ck.expect('LeakSanitizer leak:^emember: not a match, exit 7', rc == 7, status_text(rc))

    # Two files, one from the command line and one from the environment.
    env = clean_env()
    env['LEAKTRACE_OPTIONS'] = 'default_suppressions=no:suppressions=' + vsupp
    rc, out, err = run([a.leaktrace, '-s', '--suppressions=' + lsupp] + a.prog, env)
    dl = report_lines(err, '--')
    ck.expect('suppressions from LEAKTRACE_OPTIONS and from the command line add up',
              len(dl) == 2 and 'remember, through any frames' in dl[1], *dl)

    # Malformed files: exit 2 before the program runs, one line.
    bad = write(os.path.join(d, 'bad.supp'), '{\n   x\n   Memcheck:Leek\n   fun:f\n}\n')
    for label, argv, env in [('command', [a.leaktrace, '--suppressions=' + bad] + a.prog, None),
                             ('report FILE', None, None)]:
        if argv is None:
            raw = os.path.join(d, 'run.raw')
            run([a.leaktrace, '--raw-file=' + raw] + a.prog)
            argv = [a.leaktrace, 'report', '--suppressions=' + bad, raw]
        rc, out, err = run(argv, env)
        want = "leaktrace: %s:3: unknown Memcheck suppression kind 'Leek'\n" % bad
        ck.expect('malformed file, %s: exit 2, exactly %r' % (label, want.strip()),
                  rc == 2 and err.decode() == want and MAIN_STARTED not in out,
                  status_text(rc), repr(err[:300]))
    missing = os.path.join(d, 'missing.supp')
    rc, out, err = run([a.leaktrace, '--suppressions=' + missing] + a.prog)
    ck.expect('missing file: exit 2, one line naming it',
              rc == 2 and err.decode() == 'leaktrace: %s: cannot read the suppressions file: '
              'No such file or directory\n' % missing, status_text(rc), repr(err[:300]))

    # --gen-suppressions, text: the blocks it prints, fed back, suppress
    # exactly the records they were printed for, all kinds.
    log = os.path.join(d, 'gen.txt')
    rc, out, err = run([a.leaktrace, '--gen-suppressions=all', '--show-leak-kinds=all',
                        '--log-file=' + log] + a.prog)
    text = (read(log) or b'').decode()
    blocks = re.findall(r'^\{\n(?:.*\n)*?\}\n', text, flags=re.M)
    nrec = len(re.findall(r'in loss record \d+ of \d+', text))
    ck.expect('--gen-suppressions=all: one block after each record (%d)' % nrec,
              nrec == 2 and len(blocks) == nrec and
              blocks[0].startswith('{\n   <insert_a_suppression_name_here>\n   Memcheck:Leak\n'
                                   '   match-leak-kinds: definite\n   fun:malloc\n'
                                   '   fun:remember\n   fun:main\n}'), *blocks[:1])
    gen = write(os.path.join(d, 'gen.supp'), ''.join(blocks))
    rc, out, err = run([a.leaktrace, '--show-leak-kinds=all', '-s', '--suppressions=' + gen]
                       + a.prog)
    rl = [l.strip() for l in report_lines(err)]
    ck.expect('fed back: every record suppressed, none shown, no error',
              not any('in loss record' in l for l in rl) and
              'definitely lost: 0 bytes in 0 blocks' in rl and
              'still reachable: 0 bytes in 0 blocks' in rl and
              rl[-1] == 'ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 1 from 1)',
              *rl[-12:])
    # yes is all (no questions asked, nothing read from stdin).
    log2 = os.path.join(d, 'gen-yes.txt')
    run([a.leaktrace, '--gen-suppressions=yes', '--show-leak-kinds=all', '--log-file=' + log2]
        + a.prog)
    ck.expect('--gen-suppressions=yes prints what =all prints',
              normalise((read(log2) or b'').decode()) == normalise(text))

    # XML: each record's suppression inside its <error> and again after.
    xml = os.path.join(d, 'gen.xml')
    run([a.leaktrace, '--gen-suppressions=all', '--xml=yes', '--xml-file=' + xml] + a.prog)
    try:
        root = ET.parse(xml).getroot()
        errors = root.findall('error')
        inner = [e.find('suppression') for e in errors]
        outer = root.findall('suppression')
        raw = [s.findtext('rawtext').strip() + '\n' for s in inner if s is not None]
        ck.expect('XML: a <suppression> in each <error> and one after it, rawtext = the text',
                  len(errors) == 1 and len(outer) == 1 and raw == [blocks[0]] and
                  [f.findtext('fun') for f in inner[0].findall('sframe')] ==
                  ['malloc', 'remember', 'main'] and
                  inner[0].findtext('skaux') == 'match-leak-kinds: definite', *raw)
    except (ET.ParseError, OSError, AttributeError, IndexError) as e:
        ck.expect('XML with --gen-suppressions parses', False, str(e))
    return 0


# -------------------------------------------- valgrind's own files --

# valgrind 3.19's allocator names aligned_alloc's and valloc's frame
# memalign, and realloc's malloc when the pointer is NULL.
ENTRY_NAMES = {'aligned_alloc': 'memalign', 'valloc': 'memalign', 'realloc': 'malloc',
               'reallocarray': 'malloc'}


def record_key(rec):
    """A loss record across the two tools: its kind and its frames' names
    (valgrind's names for the allocator and for clone3), leaving out the
    frames of the tools' own libraries past the allocator."""
    # The allocation function: the outermost of the leading frames in the
    # tool's library (valgrind's posix_memalign runs its memalign).
    lead = 0
    while lead + 1 < len(rec.frames) and lc.is_tool_obj(rec.frames[lead + 1].obj):
        lead += 1
    names = []
    for i, f in enumerate(rec.frames):
        if i != lead and lc.is_tool_obj(f.obj):
            continue
        fn = f.fn
        if i == lead:
            fn = ENTRY_NAMES.get(fn, fn)
        if fn == 'clone3':
            fn = 'clone'
        names.append(fn or '???')
    return (rec.kind, tuple(names))


def cmd_valgrind_supp(a, ck):
    if not shutil.which('valgrind'):
        print('valgrind is not installed: skipped')
        return SKIP
    d = a.outdir
    vxml = os.path.join(d, 'valgrind.xml')
    rc, out, err = run(['valgrind', '--leak-check=full', '--show-leak-kinds=all',
                        '--gen-suppressions=all', '--keep-debuginfo=yes',
                        '--default-suppressions=no', '--xml=yes', '--xml-file=' + vxml]
                       + a.prog)
    try:
        root = ET.parse(vxml).getroot()
    except (ET.ParseError, OSError) as e:
        ck.expect('valgrind wrote its XML', False, str(e))
        return 1
    supp_text = ''.join(e.findtext('suppression/rawtext').strip() + '\n'
                        for e in root.findall('error') if e.find('suppression') is not None)
    vsupp = write(os.path.join(d, 'valgrind.supp'), supp_text)
    vg = lc.parse_xml(vxml).records
    ck.expect('valgrind wrote one suppression per record (%d)' % len(vg),
              len(vg) > 0 and supp_text.count('\n{\n') + supp_text.startswith('{\n') == len(vg))

    lt0x, lt1x = os.path.join(d, 'plain.xml'), os.path.join(d, 'suppressed.xml')
    run([a.leaktrace, '--show-leak-kinds=all', '--xml=yes', '--xml-file=' + lt0x] + a.prog)
    rc, out, err = run([a.leaktrace, '--show-leak-kinds=all', '--xml=yes', '--xml-file=' + lt1x,
                        '--suppressions=' + vsupp] + a.prog)
    lt0 = lc.parse_xml(lt0x).records
    lt1 = lc.parse_xml(lt1x).records
    vkeys = {record_key(r) for r in vg}
    want_suppressed = [r for r in lt0 if record_key(r) in vkeys]
    want_shown = sorted((record_key(r), r.total_bytes, r.blocks) for r in lt0
                        if record_key(r) not in vkeys)
    shown = sorted((record_key(r), r.total_bytes, r.blocks) for r in lt1)
    ck.expect('each of valgrind\'s %d records has its leaktrace counterpart' % len(vg),
              vkeys <= {record_key(r) for r in lt0},
              *['missing: %s %s' % k for k in sorted(vkeys - {record_key(r) for r in lt0})])
    ck.expect('exactly the records valgrind reported are suppressed (%d of %d); '
              'the %d others are still shown' % (len(want_suppressed), len(lt0),
                                                 len(want_shown)),
              shown == want_shown,
              *['shown: %s %s' % k for k, _, _ in shown],
              *['want:  %s %s' % k for k, _, _ in want_shown])
    rl = [l.strip() for l in report_lines(err)]
    sb = sum(r.direct_bytes for r in want_suppressed)
    sk = sum(r.blocks for r in want_suppressed)
    want = 'suppressed: {:,} bytes in {:,} blocks'.format(sb, sk)
    ck.expect('LEAK SUMMARY: %s' % want, want in rl, summary_line(rl, 'suppressed') or '')
    # What is left (blocks only valgrind's exit-time clean-up of libc frees)
    # counts as it would without suppressions; the suppressed errors are
    # the suppressed definitely and possibly lost records.
    errs = sum(r.kind in ('Leak_DefinitelyLost', 'Leak_PossiblyLost') for r in lt1)
    serrs = sum(r.kind in ('Leak_DefinitelyLost', 'Leak_PossiblyLost') for r in want_suppressed)
    want = 'ERROR SUMMARY: %d errors from %d contexts (suppressed: %d from %d)' % (
        errs, errs, serrs, serrs)
    ck.expect(want, rl[-1:] == [want], *rl[-2:])
    return 0


# --------------------------------------------------- ctest project --

def ctest_counts(text):
    """ctest -T memcheck's verdicts: defects per test, and the totals."""
    per_test = dict(re.findall(r'MemCheck: #\d+: (\S+) \.+ +Defects: (\d+)', text))
    totals = dict((k, int(v)) for k, v in re.findall(r'^(.*[A-Za-z]) - (\d+)$', text, re.M))
    return {k: int(v) for k, v in per_test.items()}, totals


def cmd_ctest_project(a, ck):
    """a.prog: the CTest project's directory."""
    for tool in ('valgrind', 'cmake', 'ctest'):
        if not shutil.which(tool):
            print('%s is not installed: skipped' % tool)
            return SKIP
    d, src = a.outdir, a.prog[0]
    results = {}
    for tool, command in (('valgrind', shutil.which('valgrind')), ('leaktrace', a.leaktrace)):
        b = os.path.join(d, tool)
        steps = [['cmake', '-S', src, '-B', b, '-DMEMORYCHECK_COMMAND=' + command,
                  '-DMEMORYCHECK_TYPE=Valgrind'],
                 ['cmake', '--build', b],
                 ['ctest', '-T', 'memcheck']]
        for argv in steps:
            p = subprocess.run(argv, cwd=b if argv[0] == 'ctest' else d, env=clean_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
            if not ck.expect('%s: %s' % (tool, ' '.join(argv[:2])), p.returncode == 0,
                             show(p.stdout, 1500)):
                return 1
        results[tool] = ctest_counts(p.stdout.decode())
        print('%s: %r' % (tool, results[tool]))
    vt, lt = results['valgrind'], results['leaktrace']
    ck.expect('valgrind finds defects (the comparison means something)',
              sum(vt[1].values()) > 0, repr(vt))
    ck.expect('the same defects per test as under valgrind', lt[0] == vt[0],
              'valgrind %r' % vt[0], 'leaktrace %r' % lt[0])
    ck.expect('the same totals per defect type ("Memory Leak", "Potential Memory Leak")',
              lt[1] == vt[1], 'valgrind %r' % vt[1], 'leaktrace %r' % lt[1])
    return 0


def cmd_meson_wrapper(a, ck):
    """a.prog: the meson project's directory."""
    if not shutil.which('meson'):
        print('meson is not installed: skipped')
        return SKIP
    d, src = a.outdir, a.prog[0]
    b = os.path.join(d, 'build')
    p = subprocess.run(['meson', 'setup', b, src], env=clean_env(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=300)
    if not ck.expect('meson setup', p.returncode == 0, show(p.stdout, 1500)):
        return 1
    p = subprocess.run(['meson', 'test', '-C', b, '--print-errorlogs',
                        '--wrapper=%s --error-exitcode=1' % a.leaktrace], env=clean_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    out = p.stdout.decode('utf-8', 'replace')
    ok = re.search(r'^Ok:\s+1\s*$', out, re.M) and re.search(r'^Fail:\s+1\s*$', out, re.M)
    ck.expect("meson test --wrapper='leaktrace --error-exitcode=1': the leaking test fails, "
              'the clean one passes',
              p.returncode != 0 and bool(ok) and re.search(r'leaks\s+FAIL', out) and
              re.search(r'no-leak\s+OK', out) and 'definitely lost in loss record' in out,
              show(p.stdout, 2500))
    return 0


# ----------------------------------------------------- process tree --

def cmd_tree(a, ck):
    """a.prog: the tree helper, a leaking program, a clean one."""
    d = a.outdir
    tree, leaky, clean = a.prog[0], a.prog[1], a.prog[2]
    tmp = os.path.join(d, 'tmp')
    os.makedirs(tmp)

    def go(flags, *args):
        env = clean_env()
        env['TMPDIR'] = tmp
        p = subprocess.Popen([a.leaktrace] + flags + [tree] + list(args), env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        out, err = p.communicate(timeout=60)
        left = os.listdir(tmp)
        for f in left:
            os.unlink(os.path.join(tmp, f))
        return p.pid, p.returncode, out.decode(), err.decode(), left

    def reports(err):
        """pid -> that process's report lines."""
        by = {}
        for l in err.splitlines():
            m = re.match(r'^==(\d+)== ?(.*)$', l)
            if m:
                by.setdefault(int(m.group(1)), []).append(m.group(2))
        return by

    def summary(lines):
        return next((l for l in lines if l.startswith('ERROR SUMMARY')), None)

    def tree_line(err, pid):
        return ('leaktrace: 1 error in 1 other process of this process tree (pid %d) '
                'also counts for --error-exitcode' % pid)

    # A forked child's leak decides the root's exit status.
    root, rc, out, err, left = go(['--error-exitcode=9'], 'fork-leak')
    reps = reports(err)
    kids = [p for p in reps if p != root]
    kid = kids[0] if len(kids) == 1 else -1
    ck.expect('fork: two reports, the root\'s and the child\'s', sorted(reps) == sorted([root, kid]),
              *sorted(reps))
    ck.expect('fork: the child\'s 64-byte leak in its own report, none in the root\'s',
              any(l == '64 bytes in 1 blocks are definitely lost in loss record 1 of 1'
                  for l in reps.get(kid, [])) and
              summary(reps.get(root, [])) == 'ERROR SUMMARY: 0 errors from 0 contexts '
                                              '(suppressed: 0 from 0)', *reps.get(kid, [])[:8])
    # The child exits 9 itself (its own leak, as under valgrind); the
    # root, which ignores that, exits 9 for the tree's sake.
    ck.expect('fork: --error-exitcode=9 makes the root exit 9, and says why',
              rc == 9 and tree_line(err, kid) in err.splitlines() and
              out == 'tree: child exited 9\n', status_text(rc), out,
              *[l for l in err.splitlines() if l.startswith('leaktrace:')])
    ck.expect('fork: the results file is removed', not left, *left)

    root, rc, out, err, left = go([], 'fork-leak')
    ck.expect('fork, no --error-exitcode: the program\'s status, no file, no tree line',
              rc == 0 and not left and 'process tree' not in err, status_text(rc), *left)
    root, rc, out, err, left = go(['--error-exitcode=9', '--child-silent-after-fork=yes'],
                                  'fork-leak')
    ck.expect('fork, --child-silent-after-fork: one report, the child\'s leak not counted',
              rc == 0 and sorted(reports(err)) == [root] and not left, status_text(rc),
              *sorted(reports(err)))

    # exec'd children: traced only with --trace-children=yes.
    root, rc, out, err, left = go(['--error-exitcode=9'], 'exec', leaky)
    ck.expect('exec, not traced: only the root\'s report, exit 0',
              rc == 0 and sorted(reports(err)) == [root] and out == 'tree: child exited 0\n'
              and not left, status_text(rc), out, *sorted(reports(err)))
    root, rc, out, err, left = go(['--error-exitcode=9', '--trace-children=yes'], 'exec', leaky)
    reps = reports(err)
    kids = [p for p in reps if p != root]
    kid = kids[0] if len(kids) == 1 else -1
    ck.expect('exec, traced: the child reports, exits 9 itself, and so does the root',
              rc == 9 and len(kids) == 1 and out == 'tree: child exited 9\n' and
              summary(reps[kid]) == 'ERROR SUMMARY: 2 errors from 2 contexts '
                                    '(suppressed: 0 from 0)', status_text(rc), out,
              *[summary(v) or '' for v in reps.values()])
    ck.expect('exec, traced: the root counts the child\'s errors (2)',
              ('leaktrace: 2 errors in 1 other process of this process tree (pid %d) also '
               'count for --error-exitcode' % kid) in err.splitlines() and not left,
              *[l for l in err.splitlines() if l.startswith('leaktrace:')])
    root, rc, out, err, left = go(['--error-exitcode=9', '--trace-children=yes'], 'exec', clean)
    ck.expect('exec, traced, no leak anywhere: exit 0, two reports',
              rc == 0 and len(reports(err)) == 2 and not left, status_text(rc))

    # Each traced process writes its own file with %p.
    logdir = os.path.join(d, 'logs')
    os.makedirs(logdir)
    root, rc, out, err, left = go(['--trace-children=yes', '--log-file=%s/t.%%p.log' % logdir],
                                  'exec', leaky)
    names = sorted(os.listdir(logdir))
    ck.expect('--log-file=t.%p.log with --trace-children: one file per process',
              len(names) == 2 and 't.%d.log' % root in names and err == '', *names)
    return 0


def cmd_default_supp(a, ck):
    """The built-in suppressions hide libc's stdio buffer (which valgrind's
    run frees at exit), reachable only; --default-suppressions=no shows it."""
    env = clean_env()
    rc, out, err = check_cli.run([a.leaktrace, '--show-leak-kinds=all'] + a.prog, env)
    rl = [l.strip() for l in report_lines(err)]
    ck.expect('default: the stdio buffer suppressed, not shown, counted',
              'suppressed: 4,096 bytes in 1 blocks' in rl and
              'still reachable: 0 bytes in 0 blocks' in rl and
              not any('_IO_file_doallocate' in l for l in rl), *rl[-12:])
    rc, out, err = check_cli.run([a.leaktrace, '--show-leak-kinds=all',
                                  '--default-suppressions=no'] + a.prog, env)
    rl = [l.strip() for l in report_lines(err)]
    ck.expect('--default-suppressions=no: the stdio buffer still reachable, shown',
              'suppressed: 0 bytes in 0 blocks' in rl and
              'still reachable: 4,096 bytes in 1 blocks' in rl and
              any('_IO_file_doallocate' in l for l in rl), *rl[-12:])
    rc, out, err = check_cli.run(a.prog, check_cli.preload_env(a.preload, 'show_leak_kinds=all'))
    rl = [l.strip() for l in report_lines(err)]
    ck.expect('under a bare preload too',
              'suppressed: 4,096 bytes in 1 blocks' in rl, *rl[-8:])


COMMANDS = {
    'default-supp': cmd_default_supp,
    'ctest-form': cmd_ctest_form,
    'flags': cmd_flags,
    'exit-status': cmd_exit_status,
    'suppressions': cmd_suppressions,
    'valgrind-supp': cmd_valgrind_supp,
    'tree': cmd_tree,
    'ctest-project': cmd_ctest_project,
    'meson-wrapper': cmd_meson_wrapper,
}


def main():
    return check_cli.command_main(COMMANDS, __doc__)


if __name__ == '__main__':
    sys.exit(main())
