"""Benchmark: country by IP for N distinct addresses (default 1,000,000), whole process each.

Generates N distinct addresses (80% IPv4 across the whole space, so some are private or reserved;
20% IPv6 in the global unicast block) as Parquet, and a ranges CSV of RANGES rows in DB-IP's
`first,last,country` form covering the IPv4 space and the IPv6 /32s used. Then, each in its own
process (wall time and peak RSS of the process):
  package   idbx country_by_ip with the pinned iptocc (its batch call per DuckDB vector), result to Parquet
  csv       the same with IDBX_GEOIP_DB set to the ranges CSV (load + a binary search per vector)
  loop      iptocc.country_code called once per address in a Python loop, LOOP addresses, extrapolated
Target: package and csv under 10 s for 1,000,000 addresses on the 2-core machine.

    .venv/bin/python benchmarks/country_by_ip.py [--ips N] [--ranges R] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import duckdb
from measure import machine, timed

LOOP = 100_000

RESOLVE = """
import sys, duckdb
from idbx.privacy.geoip import country_by_ip
con = duckdb.connect()
found = country_by_ip(con, f"SELECT ip FROM read_parquet('{sys.argv[1]}')")
found.to_parquet(sys.argv[2])
"""

PER_ADDRESS = """
import sys, duckdb, iptocc
ips = [r[0] for r in duckdb.sql(f"SELECT ip FROM read_parquet('{sys.argv[1]}') LIMIT {sys.argv[2]}").fetchall()]
found = [iptocc.country_code(ip) for ip in ips]
"""

COUNTRIES = "['US','BR','MX','CO','AR','PE','CL','ES','DE','NL','CN','IN','ZA','KE','AU','JP']"


def make_inputs(work: Path, ips: int, ranges: int) -> tuple[Path, Path]:
    t = time.perf_counter()
    con = duckdb.connect()
    addresses = work / "ips.parquet"
    # Distinct by construction: IPv4 from a stride through the 32-bit space, IPv6 from a counter.
    v4 = ips * 4 // 5
    con.execute(f"""
        COPY (
          SELECT printf('%d.%d.%d.%d', a // 16777216, a // 65536 % 256, a // 256 % 256, a % 256) AS ip
          FROM (SELECT (i * 4294967291 // {v4}) AS a FROM range({v4}) r(i))
          UNION ALL
          SELECT printf('%x:%x:%x::%x', 8192 + i % 4096, (i // 4096) % 65536, hash(i) % 65536, i) FROM range({ips - v4}) r(i)
        ) TO '{addresses}' (FORMAT parquet)""")
    csv = work / "ranges.csv"
    v4_ranges = ranges * 9 // 10
    con.execute(f"""
        COPY (
          SELECT printf('%d.%d.%d.%d', s // 16777216, s // 65536 % 256, s // 256 % 256, s % 256),
                 printf('%d.%d.%d.%d', e // 16777216, e // 65536 % 256, e // 256 % 256, e % 256),
                 {COUNTRIES}[1 + (hash(i) % 16)::BIGINT]
          FROM (SELECT i, i * (4294967296 // {v4_ranges}) AS s,
              (i + 1) * (4294967296 // {v4_ranges}) - 1 AS e FROM range({v4_ranges}) r(i))
          UNION ALL
          SELECT printf('%x:%x::', 8192 + i // 65536, i % 65536), printf('%x:%x:ffff:ffff:ffff:ffff:ffff:ffff',
              8192 + i // 65536, i % 65536),
                 {COUNTRIES}[1 + (hash(i) % 16)::BIGINT]
          FROM range({ranges - v4_ranges}) r(i)
        ) TO '{csv}' (FORMAT csv, HEADER false)""")
    print(f"{ips:,} distinct addresses and {ranges:,} ranges generated in {time.perf_counter() - t:.1f} s")
    return addresses, csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ips", type=int, default=1_000_000)
    parser.add_argument("--ranges", type=int, default=500_000)
    parser.add_argument("--work", type=Path, default=Path("benchmarks/work/country_by_ip"))
    args = parser.parse_args()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    addresses, csv = make_inputs(work, args.ips, args.ranges)
    env = {k: v for k, v in os.environ.items() if k != "IDBX_GEOIP_DB"}

    results = []  # (label, addresses, seconds, peak MB)
    n = min(LOOP, args.ips)
    results.append(
        ("iptocc per address (loop)", n, *timed([sys.executable, "-P", "-c", PER_ADDRESS, str(addresses), str(n)], env))
    )
    results.append(
        (
            "idbx, package (iptocc)",
            args.ips,
            *timed([sys.executable, "-P", "-c", RESOLVE, str(addresses), str(work / "package.parquet")], env),
        )
    )
    results.append(
        (
            "idbx, ranges CSV",
            args.ips,
            *timed(
                [sys.executable, "-P", "-c", RESOLVE, str(addresses), str(work / "csv.parquet")],
                {**env, "IDBX_GEOIP_DB": str(csv)},
            ),
        )
    )

    print(machine())
    for label, count, seconds, mb in results:
        print(f"{label:<27}: {seconds:6.2f} s for {count:>9,}  {count / seconds:>10,.0f} addresses/s  peak {mb:,.0f} MB")
    con = duckdb.connect()
    for name in ("package", "csv"):
        rows, known = con.execute(f"SELECT count(*), count(country) FROM '{work / name}.parquet'").fetchall()[0]
        print(f"{name}: {rows:,} addresses, {known:,} with a country")


if __name__ == "__main__":
    main()
