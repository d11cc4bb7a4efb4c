#!/usr/bin/env python3
"""The hot and signal-safe objects of libleaktrace.so must not call the
allocator, stdio, locks or the loader: `nm -u` on each object lists what it
calls, and none of the forbidden names may appear.

    hot_symbols.py NM HOT_FILES OBJECT_DIR

HOT_FILES lists the source files (without .c) whose objects, found in
OBJECT_DIR, are checked, comma-separated.
"""
import os
import subprocess
import sys

FORBIDDEN = {
    "malloc", "calloc", "realloc", "free", "strdup", "strndup", "asprintf",
    "printf", "fprintf", "sprintf", "snprintf", "vfprintf", "puts", "fputs",
    "fopen", "fclose", "fwrite", "fflush", "perror",
    "pthread_mutex_lock", "pthread_mutex_trylock", "pthread_rwlock_rdlock",
    "pthread_rwlock_wrlock", "dlsym", "dlopen", "dladdr", "getenv",
}


def undefined(nm, obj):
    out = subprocess.run([nm, "-u", obj], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        name = line.split()[-1].split("@")[0]
        yield name


def main(argv):
    nm, hot = argv[1], set(argv[2].split(","))
    objects = sorted(os.path.join(argv[3], f) for f in os.listdir(argv[3])
                     if f.endswith(".c.o") and f[:-4].split("preload_")[-1] in hot)
    if len(objects) != len(hot):
        print(f"expected objects of {sorted(hot)}, found {objects}")
        return 1
    bad = []
    for obj in objects:
        for name in undefined(nm, obj):
            if name in FORBIDDEN:
                bad.append(f"{obj}: calls {name}")
    for line in bad:
        print(line)
    print(f"{len(objects)} objects checked, {len(bad)} forbidden calls")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
