"""Writes the C file compiled by the cc1 workload: 64 functions, about
1600 lines at SCALE 1 (as large as cc1 -O2 compiles in under a second).

    python3 gencc.py SCALE OUT.c
    $(gcc -print-prog-name=cc1) -quiet -O2 OUT.c -o /dev/null

Self-contained (no #include): structs, unions, enums, loops, switches,
inline helpers and calls between functions, so the optimizer's passes
(inlining, loop and vector work, jump threading) all have work to do.
Deterministic for a given SCALE.
"""
import random
import sys


def function(rng, i):
    ops = ["+", "-", "*", "^", "|", "&"]
    body = ["int f%d(struct rec *r, int n, const int *v)\n{" % i,
            "\tint acc = %d, t = 0;" % rng.randrange(100),
            "\tfor (int k = 0; k < n; k++) {",
            "\t\tint x = v[k] %s %d;" % (rng.choice(ops), rng.randrange(1, 50)),
            "\t\tacc %s= mix%d(x, r->a[k & 15]);" % (rng.choice(["+", "^", "-"]), rng.randrange(8)),
            "\t\tif (acc > %d) { r->b.s[k & 3] += (short)acc; acc >>= 1; }" % rng.randrange(1000, 100000),
            "\t}"]
    body.append("\tswitch (acc & 7) {")
    for c in range(8):
        body.append("\tcase %d: t = acc %s %d; break;" % (c, rng.choice(ops), rng.randrange(1, 1000)))
    body.append("\t}")
    if i > 0:
        for _ in range(2):
            callee = rng.randrange(max(0, i - 40), i)
            body.append("\tif ((acc & %d) == %d) t += f%d(r, n / 2, v + 1);"
                        % (rng.randrange(1, 64), rng.randrange(4), callee))
    body += ["\tr->kind = (enum kind)((acc ^ t) & 3);",
             "\treturn acc + t;",
             "}\n"]
    return "\n".join(body)


def main():
    scale = float(sys.argv[1])
    out = sys.argv[2]
    rng = random.Random(11)
    parts = [
        "enum kind { K_A, K_B, K_C, K_D };",
        "union bits { long l; short s[4]; };",
        "struct rec { int a[16]; union bits b; enum kind kind; };",
    ]
    for m in range(8):
        parts.append("static inline int mix%d(int x, int y) { return (x << %d) %s (y >> %d) %s %d; }"
                     % (m, m + 1, rng.choice(["+", "^"]), m % 5, rng.choice(["-", "|"]), rng.randrange(1 << 12)))
    n = max(4, int(64 * scale))
    for i in range(n):
        parts.append(function(rng, i))
    parts.append("int run_all(struct rec *r, int n, const int *v)\n{\n\tint s = 0;")
    for i in range(0, n, max(1, n // 50)):
        parts.append("\ts += f%d(r, n, v);" % i)
    parts.append("\treturn s;\n}")
    with open(out, "w") as f:
        f.write("\n".join(parts))
        f.write("\n")


main()
