#!/usr/bin/env python3
"""libleaktrace.so exports exactly the entry points its version script
names (preload/libleaktrace.sym): nothing of ours leaks into the traced
program's symbol space, and no interposer is missing.

    exported_symbols.py NM LIBRARY VERSION_SCRIPT
"""
import re
import subprocess
import sys


def main(argv):
    nm, lib, script = argv[1:4]
    text = re.sub(r'/\*.*?\*/', '', open(script).read(), flags=re.S)
    glob = text.split('global:')[1].split('local:')[0]
    wanted = {n.strip() for n in glob.replace('\n', ' ').split(';') if n.strip()}
    out = subprocess.run([nm, '-D', '--defined-only', lib], capture_output=True,
                         text=True, check=True).stdout
    have = {line.split()[-1].split('@')[0] for line in out.splitlines() if line.strip()}
    missing, extra = sorted(wanted - have), sorted(have - wanted)
    print('%d symbols exported, %d named by the version script' % (len(have), len(wanted)))
    if missing:
        print('named but not exported: ' + ' '.join(missing))
    if extra:
        print('exported but not named: ' + ' '.join(extra))
    return 1 if missing or extra else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
