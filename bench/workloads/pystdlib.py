"""python3 workload: a mix of stdlib modules that allocate a lot.

Run as: PYTHONMALLOC=malloc python3 pystdlib.py [SCALE]
With PYTHONMALLOC=malloc every Python object goes through malloc, so a
heap tracer sees them all. Deterministic: prints one "bench-result:" line.
"""
import collections
import csv
import dataclasses
import decimal
import difflib
import fractions
import hashlib
import heapq
import io
import itertools
import json
import random
import re
import statistics
import string
import sys
import textwrap


@dataclasses.dataclass
class Order:
    ident: int
    customer: str
    items: list
    total: decimal.Decimal


def make_orders(rng, n):
    names = ["".join(rng.choice(string.ascii_lowercase) for _ in range(8)) for _ in range(200)]
    orders = []
    for i in range(n):
        items = [{"sku": "SKU-%05d" % rng.randrange(5000), "qty": rng.randrange(1, 9),
                  "price": str(decimal.Decimal(rng.randrange(100, 99999)) / 100)}
                 for _ in range(rng.randrange(1, 6))]
        total = sum(decimal.Decimal(it["price"]) * it["qty"] for it in items)
        orders.append(Order(i, rng.choice(names), items, total))
    return orders


def json_roundtrip(orders):
    text = json.dumps([dataclasses.asdict(o) for o in orders], default=str, sort_keys=True)
    back = json.loads(text)
    return len(text), sum(len(o["items"]) for o in back)


LOG_RE = re.compile(r"(?P<ip>\d+\.\d+\.\d+\.\d+) - - \[(?P<day>\d+)/(?P<mon>\w+)/\d+\] "
                    r"\"(?P<verb>GET|POST|PUT) (?P<path>/[\w/.-]*) HTTP/1\.1\" (?P<code>\d{3}) (?P<size>\d+)")


def log_lines(rng, n):
    verbs = ["GET", "POST", "PUT"]
    for i in range(n):
        yield '%d.%d.%d.%d - - [%02d/Mar/2024] "%s /api/v%d/item/%d.json HTTP/1.1" %d %d' % (
            rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.randrange(256),
            rng.randrange(1, 29), rng.choice(verbs), rng.randrange(1, 4), rng.randrange(10000),
            rng.choice((200, 200, 200, 304, 404, 500)), rng.randrange(100000))


def parse_logs(rng, n):
    by_code = collections.Counter()
    by_path = collections.defaultdict(list)
    sizes = collections.deque(maxlen=1000)
    for line in log_lines(rng, n):
        m = LOG_RE.match(line)
        if not m:
            continue
        by_code[m["code"]] += 1
        by_path[m["path"].rsplit("/", 1)[0]].append(int(m["size"]))
        sizes.append(int(m["size"]))
    top = heapq.nlargest(5, ((len(v), k) for k, v in by_path.items()))
    return sorted(by_code.items()), top, statistics.median(sizes)


def csv_report(orders):
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["id", "customer", "items", "total"])
    for o in orders:
        w.writerow([o.ident, o.customer, len(o.items), o.total])
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    per_customer = collections.OrderedDict()
    for r in rows:
        per_customer[r["customer"]] = per_customer.get(r["customer"], decimal.Decimal(0)) + decimal.Decimal(r["total"])
    return len(rows), max(per_customer.values())


def numeric(n):
    decimal.getcontext().prec = 50
    acc = decimal.Decimal(0)
    frac = fractions.Fraction(0)
    for k in range(1, n):
        acc += decimal.Decimal(1) / decimal.Decimal(k * k)
        if k < 300:
            frac += fractions.Fraction(1, k * (k + 1))
    return str(acc)[:20], frac


def text_work(rng, n):
    words = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randrange(2, 10)))
             for _ in range(n)]
    para = " ".join(words)
    wrapped = textwrap.wrap(para, 72)
    a = wrapped[: len(wrapped) // 2]
    b = [line.upper() if i % 7 == 0 else line for i, line in enumerate(a)]
    diff = list(difflib.unified_diff(a, b, lineterm=""))
    digest = hashlib.sha256("\n".join(wrapped).encode()).hexdigest()[:16]
    pairs = sum(1 for _ in itertools.combinations(words[:120], 2))
    return len(wrapped), len(diff), digest, pairs


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    rng = random.Random(42)
    orders = make_orders(rng, int(2000 * scale))
    results = [
        json_roundtrip(orders),
        parse_logs(rng, int(10000 * scale)),
        csv_report(orders),
        numeric(int(6000 * scale)),
        text_work(rng, int(12000 * scale)),
    ]
    digest = hashlib.sha256(repr(results).encode()).hexdigest()[:16]
    print("bench-result: python3 digest=%s" % digest)


main()
