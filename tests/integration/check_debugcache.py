#!/usr/bin/env python3
"""The reporter's cache of inflated separate debug files (symbol_cache):
reports are byte for byte the same with the cache cold, warm, broken or
off. The program is linked-list, whose stdout buffer (4,096 bytes still
reachable, allocated in glibc's _IO_file_doallocate) and strdup'ed names
put glibc frames with file:line from its compressed debug file
(libc6-dbg) in the report shown with show_leak_kinds=all and
default_suppressions=no. The reference is the report with
symbol_cache=no.

  identical   a fresh cache: the copy's name (build-id), modes 0600/0700,
              reused by the next report (same inode); the default
              directory from XDG_CACHE_HOME / HOME, and the option from
              LEAKTRACE_OPTIONS, as the preloaded library's reporter sees
              them; symbol_cache=no writes nothing
  corrupt     a copy truncated, with another build-id, not ELF, a symbolic
              link, another user's: ignored and replaced
  unwritable  a directory that cannot be written or created, one others
              can write to, a file size limit hit in the middle of the
              copy (as a full disk would), no HOME: nothing left behind
  debuglink   the program itself stripped, its DWARF in a separate file
              found by .gnu_debuglink, compressed both ways (zlib-gnu's
              .zdebug_* sections, renamed in the copy, and zlib's
              SHF_COMPRESSED ones); the copy not used once the file it was
              made from is gone
  bound       beyond 512 MiB of *.debug files the least recently used go;
              stale temporary copies go; a used copy's mtime is refreshed
              once a day

    check_debugcache.py CASE --leaktrace build/leaktrace
        --preload build/libleaktrace.so --outdir DIR
        [--reporter OTHER/leaktrace] -- LINKED_LIST

--reporter renders the snapshots with another build of the command (the
sanitizer build); the reports at exit stay the plain build's.

Exit status 0 pass, 1 fail, 77 skipped (no compressed debug file for the
program's libc here; debuglink needs none).
"""

import argparse
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_valgrind import clean_env  # noqa: E402
from ltcheck import Checker  # noqa: E402

SKIP = 77
TIMEOUT = 60
MIB = 1 << 20
BOUND = 512 * MIB
DAY = 24 * 3600
SHOW = ['--show-leak-kinds=all', '--default-suppressions=no']


def libc_of(prog):
    out = subprocess.run(['ldd', prog], capture_output=True, text=True).stdout
    m = re.search(r'libc\.so\.6 => (\S+)', out)
    return m.group(1) if m else None


def build_id(path):
    out = subprocess.run(['readelf', '-nW', path], capture_output=True, text=True).stdout
    m = re.search(r'Build ID: ([0-9a-f]+)', out)
    return m.group(1) if m else None


def compressed_sections(path):
    """Names of the sections of path flagged C (SHF_COMPRESSED)."""
    out = subprocess.run(['readelf', '-SW', path], capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines():
        m = re.match(r'\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+'
                     r'\s+[0-9a-f]+\s+(\S*)', line)
        if m and 'C' in m.group(2):
            names.append(m.group(1))
    return names


class Case:
    def __init__(self, a, ck, bid, prog=None):
        self.a = a
        self.ck = ck
        self.bid = bid
        self.name = bid + '.debug'
        self.n = 0
        self.prog = prog or a.prog
        self.raw = self.trace()
        self.reference = self.render('reference', 'no')

    def trace(self):
        raw = os.path.join(self.a.outdir, os.path.basename(self.prog) + '.raw')
        env = clean_env()
        env['LD_PRELOAD'] = self.a.preload
        env['LEAKTRACE_OPTIONS'] = 'raw_file=%s:log_file=%s:symbol_cache=no' % (
            raw, os.path.join(self.a.outdir, 'prog.log'))
        p = subprocess.run([self.prog], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=env, timeout=TIMEOUT)
        if p.returncode != 0 or not os.path.exists(raw):
            sys.exit('tracing %s failed: %d %s' % (self.prog, p.returncode, p.stderr[-500:]))
        return raw

    def render(self, label, cache, env=None, preexec=None):
        """The text and JSON reports of the snapshot with symbol_cache=cache
        (None: the option left out), and the reporter's other output."""
        self.n += 1
        base = os.path.join(self.a.outdir, '%02d-%s' % (self.n, re.sub(r'\W+', '-', label)))
        argv = [self.a.reporter, 'report', '--log-file=' + base + '.txt',
                '--json-file=' + base + '.json'] + SHOW
        if cache is not None:
            argv.append('--symbol-cache=' + cache)
        p = subprocess.run(argv + [self.raw], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env or clean_env(), timeout=TIMEOUT,
                           preexec_fn=preexec)
        text = open(base + '.txt').read() if os.path.exists(base + '.txt') else ''
        js = open(base + '.json').read() if os.path.exists(base + '.json') else ''
        return p.returncode, text, js, p.stderr.decode('utf-8', 'replace')

    def same(self, label, got):
        """The report equals the reference, byte for byte."""
        ok = got == self.reference
        diff = ''
        if not ok:
            a, b = self.reference[1].splitlines(), got[1].splitlines()
            diff = next(('line %d: %r != %r' % (i + 1, x, y)
                         for i, (x, y) in enumerate(zip(a, b)) if x != y),
                        'lengths %d != %d' % (len(a), len(b)))
        return self.ck.expect(label + ': report identical to symbol_cache=no', ok,
                              'status %r, stderr %r' % (got[0], got[3][-500:]), diff)

    def dir(self, name):
        d = os.path.join(self.a.outdir, name)
        shutil.rmtree(d, ignore_errors=True)
        return d

    def copy_ok(self, label, d):
        """d/<build-id>.debug is a regular 0600 file with no compressed
        section and the libc's build-id. Returns its stat or None."""
        path = os.path.join(d, self.name)
        try:
            st = os.lstat(path)
        except OSError as e:
            return self.ck.expect(label + ': copy written', False, e) and None
        ok = (stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
              and build_id(path) == self.bid and compressed_sections(path) == [])
        self.ck.expect(label + ': copy %s, mode 0600, its build-id, nothing compressed'
                       % self.name, ok, oct(st.st_mode), build_id(path), compressed_sections(path))
        return st if ok else None

    def listing(self, d):
        return sorted(os.listdir(d)) if os.path.isdir(d) else None


def case_identical(c):
    ck = c.ck
    ref = c.reference
    ck.expect('reference: libc frames with file:line from its debug file',
              ref[0] == 0 and '_IO_file_doallocate (filedoalloc.c:' in ref[1]
              and 'strdup (strdup.c:' in ref[1], ref[1][-3000:], ref[3])
    parent = c.dir('cache')
    d = os.path.join(parent, 'a', 'b')
    c.same('cold cache', c.render('cold', d))
    st = c.copy_ok('cold cache', d)
    modes = [stat.S_IMODE(os.stat(x).st_mode) for x in (parent, os.path.dirname(d), d)]
    ck.expect('cache directory and its missing parents created 0700', modes == [0o700] * 3,
              [oct(m) for m in modes])
    ck.expect('only the copy in the directory', c.listing(d) == [c.name], c.listing(d))
    c.same('warm cache', c.render('warm', d))
    st2 = os.stat(os.path.join(d, c.name))
    ck.expect('warm cache: the same copy reused (inode, size, mtime unchanged)',
              st is not None and (st2.st_ino, st2.st_size, st2.st_mtime_ns) ==
              (st.st_ino, st.st_size, st.st_mtime_ns))

    # Reporters starting at once on a cold cache (traced processes that
    # exit together): each report whole, one copy, no temporary file left.
    many = c.dir('concurrent')
    procs = []
    for i in range(6):
        out = os.path.join(c.a.outdir, 'concurrent-%d.txt' % i)
        procs.append((out, subprocess.Popen(
            [c.a.reporter, 'report', '--log-file=' + out, '--json-file=' + out + '.json',
             '--symbol-cache=' + many] + SHOW + [c.raw], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())))
    for out, p in procs:
        _, err = p.communicate(timeout=TIMEOUT)
        got = (p.returncode, open(out).read(), open(out + '.json').read(),
               err.decode('utf-8', 'replace'))
        c.same('one of 6 reporters at once', got)
    c.copy_ok('6 reporters at once', many)
    ck.expect('6 reporters at once: one copy, no temporary file left',
              c.listing(many) == [c.name], c.listing(many))

    # The default directory, from the reporter that the preloaded library
    # runs at exit with its cleaned environment.
    home = c.dir('home')
    os.makedirs(home)
    for label, extra, where in (
            ('XDG_CACHE_HOME', {'XDG_CACHE_HOME': os.path.join(home, 'xdg')},
             os.path.join(home, 'xdg', 'leaktrace')),
            ('HOME, XDG_CACHE_HOME relative (ignored)', {'XDG_CACHE_HOME': 'rel'},
             os.path.join(home, '.cache', 'leaktrace'))):
        env = clean_env()
        env.pop('XDG_CACHE_HOME', None)
        env.update({'HOME': home, 'LD_PRELOAD': c.a.preload,
                    'LEAKTRACE_OPTIONS': 'show_leak_kinds=all:default_suppressions=no:'
                    'log_file=' + os.path.join(home, 'exit.txt')})
        env.update(extra)
        p = subprocess.run([c.a.prog], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=env, timeout=TIMEOUT, cwd=home)
        ck.expect('report at exit, default directory from %s: copy in %s' % (label, where),
                  p.returncode == 0 and c.listing(where) == [c.name],
                  p.returncode, c.listing(where), p.stderr[-500:])
    ck.expect('a relative XDG_CACHE_HOME is not used', not os.path.exists(
        os.path.join(home, 'rel')))
    # The option as LEAKTRACE_OPTIONS gives it, through the snapshot.
    opt = c.dir('from-options')
    env = clean_env()
    env.update({'LD_PRELOAD': c.a.preload,
                'LEAKTRACE_OPTIONS': 'symbol_cache=%s:log_file=%s' % (
                    opt, os.path.join(c.a.outdir, 'exit2.txt'))})
    subprocess.run([c.a.prog], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   env=env, timeout=TIMEOUT)
    ck.expect('symbol_cache from LEAKTRACE_OPTIONS reaches the reporter at exit',
              c.listing(opt) == [c.name], c.listing(opt))
    env = clean_env()
    env['HOME'] = c.dir('home-no')
    env.pop('XDG_CACHE_HOME', None)
    c.same('symbol_cache=no', c.render('no', 'no', env=env))
    ck.expect('symbol_cache=no writes nothing', not os.path.exists(env['HOME']))


def case_corrupt(c):
    ck = c.ck
    good = c.dir('good')
    c.render('make a good copy', good)
    src = os.path.join(good, c.name)
    data = open(src, 'rb').read()
    bid = bytes.fromhex(c.bid)

    def other_build_id(b):
        i = b.find(b'GNU\0' + bid)
        b = bytearray(b)
        b[i + 4] ^= 0xff
        return bytes(b)

    variants = [
        ('truncated to half', lambda p: open(p, 'wb').write(data[:len(data) // 2])),
        ('truncated to its headers', lambda p: open(p, 'wb').write(data[:4096])),
        ('another build-id', lambda p: open(p, 'wb').write(other_build_id(data))),
        ('not ELF', lambda p: open(p, 'wb').write(b'\x7fELF garbage' * 100)),
        ('empty', lambda p: open(p, 'wb').close()),
        ('a symbolic link to a good copy', lambda p: os.symlink(src, p)),
        ('a FIFO', lambda p: os.mkfifo(p, 0o600)),
    ]
    if os.geteuid() == 0:
        def foreign(p):
            shutil.copy(src, p)
            os.chown(p, 65534, 65534)
        variants.append(("another user's", foreign))
    for label, make in variants:
        d = c.dir('corrupt')
        os.makedirs(d, 0o700)
        path = os.path.join(d, c.name)
        make(path)
        os.chmod(d, 0o700)
        before = os.lstat(path)
        c.same(label, c.render(label, d))
        st = c.copy_ok(label + ', replaced', d)
        ck.expect(label + ': a new file in its place, the link target untouched',
                  st is not None and st.st_ino != before.st_ino
                  and open(src, 'rb').read() == data and c.listing(d) == [c.name],
                  c.listing(d))


def case_unwritable(c):
    ck = c.ck
    blocker = os.path.join(c.a.outdir, 'a-file')
    open(blocker, 'w').close()
    dirs = [('a directory under a regular file', os.path.join(blocker, 'cache'), None)]
    if os.geteuid() == 0:
        # Root writes anywhere a mode allows nothing: a read-only file system.
        dirs.append(('a directory that cannot take files (/proc/1)', '/proc/1',
                     None))
    else:
        ro = c.dir('read-only')
        os.makedirs(ro)
        os.chmod(ro, 0o500)
        dirs.append(('a read-only directory', ro, ro))
    shared = c.dir('shared')
    os.makedirs(shared)
    os.chmod(shared, 0o770)
    dirs.append(('a directory others can write to (0770)', shared, shared))
    for label, d, check in dirs:
        c.same(label, c.render(label, d))
        if check:
            ck.expect(label + ': nothing written', c.listing(check) == [], c.listing(check))

    # The disk fills up in the middle of the copy: a file size limit of
    # 1 MiB, with SIGXFSZ ignored so that write fails with EFBIG.
    d = c.dir('full')

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (MIB, MIB))
    got = c.render('file size limit', d, preexec=small_files)
    # The report itself is small: only the copy hits the limit.
    c.same('copy cut short by a file size limit', got)
    ck.expect('copy cut short: no copy and no temporary file left', c.listing(d) == [],
              c.listing(d))

    env = clean_env()
    env.pop('HOME', None)
    env.pop('XDG_CACHE_HOME', None)
    c.same('default directory without HOME', c.render('no HOME', '', env=env))


def case_debuglink(a, ck):
    """The program's own DWARF in PROG.debug beside it, compressed."""
    for style in ('zlib-gnu', 'zlib'):
        d = os.path.join(a.outdir, style)
        os.makedirs(d)
        prog = os.path.join(d, 'prog')
        shutil.copy(a.prog, prog)
        dbg = prog + '.debug'
        for argv in (['objcopy', '--only-keep-debug', prog, dbg],
                     ['objcopy', '--compress-debug-sections=' + style, dbg],
                     ['strip', '--strip-all', prog],
                     ['objcopy', '--add-gnu-debuglink=' + dbg, prog]):
            subprocess.run(argv, check=True, cwd=d)
        out = subprocess.run(['readelf', '-SW', dbg], capture_output=True, text=True).stdout
        if style == 'zlib-gnu':
            packed = re.findall(r'\.zdebug_\w+', out)
        else:
            packed = compressed_sections(dbg)
        ck.expect('%s: the debug file has compressed sections' % style, len(packed) >= 3,
                  packed)
        c = Case(a, ck, build_id(prog), prog)
        ck.expect('%s: reference: the program\'s frames with lines from PROG.debug' % style,
                  'new_node (02-linked-list.c:' in c.reference[1], c.reference[1][-2000:])
        cache = os.path.join(d, 'cache')
        c.same(style + ', cold cache', c.render('cold', cache))
        st = c.copy_ok(style, cache)
        out = subprocess.run(['readelf', '-SW', os.path.join(cache, c.name)],
                             capture_output=True, text=True).stdout
        names = re.findall(r'\] (\.z?debug_\w+)', out)
        ck.expect('%s: the copy\'s sections named .debug_*' % style,
                  len(names) >= 3 and all(n.startswith('.debug_') for n in names), names)
        c.same(style + ', warm cache', c.render('warm', cache))
        ck.expect(style + ', warm cache: the same copy', st is not None and
                  os.stat(os.path.join(cache, c.name)).st_ino == st.st_ino)
        # Without the file it stands for, the copy is not used: the report
        # is the one without the cache (names from nowhere, no lines).
        os.rename(dbg, dbg + '.away')
        gone = c.render('original gone, no cache', 'no')
        ck.expect(style + ', original gone: no lines without the cache',
                  'new_node (02-linked-list.c:' not in gone[1], gone[1][-2000:])
        got = c.render('original gone, warm cache', cache)
        ck.expect(style + ', original gone: the copy is not used, the same report', got == gone,
                  got[1][-2000:])


def sparse(path, size, mtime):
    with open(path, 'wb') as f:
        f.truncate(size)
    os.utime(path, (mtime, mtime))


def case_bound(c):
    ck = c.ck
    d = c.dir('bound')
    os.makedirs(d, 0o700)
    now = time.time()
    old = {'a' * 40 + '.debug': (300 * MIB, now - 30 * DAY),   # oldest: goes
           'b' * 40 + '.debug': (250 * MIB, now - 20 * DAY),
           'c' * 40 + '.debug': (1 * MIB, now - 10 * DAY),
           'notes.txt': (600 * MIB, now - 40 * DAY),            # not a copy
           c.name + '.tmpOLDONE': (MIB, now - 2 * DAY),         # a killed reporter's
           c.name + '.tmpRECENT': (MIB, now - 60)}              # maybe still writing
    for name, (size, mtime) in old.items():
        sparse(os.path.join(d, name), size, mtime)
    c.same('over the bound', c.render('over the bound', d))
    st = c.copy_ok('over the bound', d)
    left = c.listing(d)
    want = sorted([c.name, 'b' * 40 + '.debug', 'c' * 40 + '.debug', 'notes.txt',
                   c.name + '.tmpRECENT'])
    total = sum(os.stat(os.path.join(d, n)).st_size for n in left if n.endswith('.debug'))
    ck.expect('over the bound: the least recently used copy removed, down to %d MiB <= 512'
              % (total // MIB), left == want and total <= BOUND, left, want)

    # A copy used is marked so, at most once a day.
    path = os.path.join(d, c.name)
    for age, refreshed in ((2 * DAY, True), (3600, False)):
        os.utime(path, (now - age, now - age))
        c.same('copy last used %d s ago' % age, c.render('used %d s ago' % age, d))
        m = os.stat(path).st_mtime
        ok = (m >= now - 60) if refreshed else abs(m - (now - age)) < 1
        ck.expect('copy last used %d s ago: mtime %s' % (
            age, 'refreshed' if refreshed else 'left alone'), ok, m - now)
    ck.expect('same copy throughout', st is not None and os.stat(path).st_ino == st.st_ino)


CASES = {'identical': case_identical, 'corrupt': case_corrupt,
         'unwritable': case_unwritable, 'bound': case_bound, 'debuglink': None}


def main():
    argv = sys.argv[1:]
    cut = argv.index('--')
    ap = argparse.ArgumentParser()
    ap.add_argument('case', choices=sorted(CASES))
    ap.add_argument('--leaktrace', required=True)
    ap.add_argument('--preload', required=True)
    ap.add_argument('--outdir', required=True)
    ap.add_argument('--reporter')
    a = ap.parse_args(argv[:cut])
    a.reporter = os.path.abspath(a.reporter or a.leaktrace)
    a.prog = os.path.abspath(argv[cut + 1])
    a.leaktrace = os.path.abspath(a.leaktrace)
    a.preload = os.path.abspath(a.preload)
    shutil.rmtree(a.outdir, ignore_errors=True)
    os.makedirs(a.outdir)
    a.outdir = os.path.abspath(a.outdir)

    ck = Checker()
    if a.case == 'debuglink':
        case_debuglink(a, ck)
        print('%d check(s) failed' % ck.failed if ck.failed else 'all checks passed')
        return 1 if ck.failed else 0
    libc = libc_of(a.prog)
    bid = build_id(libc) if libc else None
    debug = bid and '/usr/lib/debug/.build-id/%s/%s.debug' % (bid[:2], bid[2:])
    if not debug or not os.path.exists(debug):
        print('no separate debug file for %s (libc6-dbg): skipped' % libc)
        return SKIP
    if not compressed_sections(debug):
        print('%s has no compressed section: nothing to cache, skipped' % debug)
        return SKIP
    CASES[a.case](Case(a, ck, bid))
    print('%d check(s) failed' % ck.failed if ck.failed else 'all checks passed')
    return 1 if ck.failed else 0


if __name__ == '__main__':
    sys.exit(main())
