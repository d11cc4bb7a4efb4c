"""Writes the SQL script of the sqlite3 workload.

    python3 gensql.py SCALE OUT.sql
    sqlite3 :memory: < OUT.sql

An in-memory database: tables filled by many small INSERT statements (each
parsed and prepared: the shell's and the parser's allocations) and by a
recursive CTE, indexes, joins, grouping, string functions, a window
function, updates and deletes. Deterministic; the last statement prints one
"bench-result|..." line.
"""
import random
import sys


def main():
    scale = float(sys.argv[1])
    out = sys.argv[2]
    rng = random.Random(7)
    n_customers = max(50, int(2500 * scale))
    n_orders = max(200, int(25000 * scale))
    n_series = max(1000, int(100000 * scale))
    lines = [
        "PRAGMA journal_mode=OFF;",
        "CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, city TEXT, score REAL);",
        "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, sku TEXT, qty INTEGER, price REAL, note TEXT);",
        "BEGIN;",
    ]
    cities = ["Lyon", "Oslo", "Porto", "Kyoto", "Quito", "Perth", "Tunis", "Riga"]
    for i in range(n_customers):
        name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(5, 12)))
        lines.append("INSERT INTO customer VALUES(%d,'%s','%s',%.3f);"
                     % (i, name, rng.choice(cities), rng.random() * 100))
    for i in range(n_orders):
        lines.append("INSERT INTO orders(customer,sku,qty,price,note) VALUES(%d,'SKU-%05d',%d,%.2f,'%s');"
                     % (rng.randrange(n_customers), rng.randrange(3000), rng.randrange(1, 20),
                        rng.random() * 500, "x" * rng.randrange(0, 40)))
    lines += [
        "COMMIT;",
        "CREATE INDEX orders_customer ON orders(customer);",
        "CREATE INDEX orders_sku ON orders(sku, qty);",
        "CREATE TABLE series AS WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %d)"
        " SELECT n, n * 7919 %% 10007 AS k, printf('row-%%08d-%%s', n, hex(n * 31)) AS label FROM s;" % n_series,
        "CREATE INDEX series_k ON series(k);",
        "CREATE TEMP TABLE city_totals AS SELECT c.city, count(*) AS n, sum(o.qty * o.price) AS total"
        " FROM orders o JOIN customer c ON c.id = o.customer GROUP BY c.city;",
        "CREATE TEMP TABLE top_customers AS SELECT customer, sum(qty * price) AS spent,"
        " rank() OVER (ORDER BY sum(qty * price) DESC) AS r FROM orders GROUP BY customer;",
        "UPDATE orders SET note = upper(note) || substr(sku, 5) WHERE qty % 3 = 0;",
        "DELETE FROM orders WHERE price < 25;",
        "CREATE TEMP TABLE sku_stats AS SELECT sku, count(DISTINCT customer) AS buyers,"
        " group_concat(qty, ',') AS qtys FROM orders GROUP BY sku HAVING buyers > 1;",
        "CREATE TEMP TABLE joined AS SELECT s.k, count(*) AS n, max(length(s.label)) AS w"
        " FROM series s JOIN series t ON t.k = s.n % 10007 WHERE s.n % 5 = 0 GROUP BY s.k;",
        "SELECT 'bench-result', (SELECT count(*) FROM orders), (SELECT count(*) FROM sku_stats),"
        " (SELECT round(sum(total), 2) FROM city_totals), (SELECT customer FROM top_customers WHERE r = 1),"
        " (SELECT sum(n) FROM joined), (SELECT sum(length(label)) FROM series);",
    ]
    with open(out, "w") as f:
        f.write("\n".join(lines))
        f.write("\n")


main()
