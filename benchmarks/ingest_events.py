"""Benchmark: `idbx ingest events` vs plain DuckDB read_json and a per-line Python loop, same day.

Generates one day of EVENTS tracking-log events (default 1,000,000, ~0.6 GB of JSON before gzip,
with the sample's dirty lines) as `.log.gz`, and an encrypted copy `.log.gz.gpg` of the same
bytes. Then, in the same run and each in its own process (so wall time and peak RSS are per
process):
  idbx      idbx ingest events on the .gpg (decrypt, hash, parse, type, reject, de-duplicate,
            write, manifest, catalog), end to end
  duckdb    COPY (SELECT * FROM read_json(.log.gz, ignore_errors=true)) TO parquet (zstd). It needs
            ignore_errors for the dirty lines, which it then writes silently as all-NULL rows: no
            rejects, no line numbers, no de-duplication, no decryption -- less work than idbx
  loop      json.loads per line of gzip.open(.log.gz), first LOOP_LINES lines, extrapolated
With --scale K > 1, idbx is also run on a day of K x EVENTS, to show whether its memory grows
with the file. Prints events/s, the idbx/duckdb ratio and peak RSS; append to RESULTS.md by hand.

    .venv/bin/python benchmarks/ingest_events.py [--events N] [--scale K] [--work DIR] [--compare CHECKOUT]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
from measure import machine, timed

from idbx.local.sample import DIRTY_LINES, SAMPLE_PASSPHRASE, SampleKey, sample_course_ids, write_event_log

DAY = date(2016, 7, 1)
LOOP_LINES = 200_000

BASELINE = """
import duckdb, sys
con = duckdb.connect()
con.execute(
    f"COPY (SELECT * FROM read_json('{sys.argv[1]}', ignore_errors=true)) TO '{sys.argv[2]}' (FORMAT parquet, COMPRESSION zstd)"
)
"""

LOOP = """
import gzip, itertools, json, sys
bad = 0
with gzip.open(sys.argv[1], "rb") as f:
    for line in itertools.islice(f, int(sys.argv[2])):
        try:
            json.loads(line)
        except ValueError:
            bad += 1
"""


def make_day(key: SampleKey, out_dir: Path, events: int) -> tuple[Path, Path]:
    """The day as .log.gz (for the baselines) and the same bytes encrypted (for idbx)."""
    out_dir.mkdir(parents=True)
    t = time.perf_counter()
    learners = max(100, events // 50)
    plain = write_event_log(None, out_dir, sample_course_ids(20), learners, DAY, events, dirty=True)
    encrypted = plain.with_name(plain.name + ".gpg")
    key.encrypt(plain, encrypted)
    print(
        f"{events:,} events: {plain.stat().st_size / 1e6:,.0f} MB gzip, "
        f"{encrypted.stat().st_size / 1e6:,.0f} MB gpg, generated in {time.perf_counter() - t:.0f} s"
    )
    return plain, encrypted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--scale", type=int, default=1, help="also run idbx on K x EVENTS")
    parser.add_argument("--work", type=Path, default=Path("benchmarks/work/events"))
    parser.add_argument("--compare", type=Path, help="another checkout of idbx (before a change, say) to run side by side")
    args = parser.parse_args()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    key = SampleKey(work)
    try:
        sizes = [1] + ([args.scale] if args.scale > 1 else [])
        days = {k: make_day(key, work / f"x{k}", k * args.events) for k in sizes}
    finally:
        key.close()
    env = {**os.environ, "IDBX_GPG_PASSPHRASE": SAMPLE_PASSPHRASE}
    idbx = str(Path(sys.executable).with_name("idbx"))
    plain = days[1][0]

    results = []  # (label, events, seconds, peak MB)
    n = min(LOOP_LINES, args.events)
    results.append(("python json.loads loop", n, *timed([sys.executable, "-P", "-c", LOOP, str(plain), str(n)])))
    results.append(
        (
            "duckdb read_json->parquet",
            args.events,
            *timed([sys.executable, "-P", "-c", BASELINE, str(plain), str(work / "baseline.parquet")]),
        )
    )
    for k, (_, encrypted) in days.items():
        lake = work / f"lake-x{k}"
        cmd = [idbx, "ingest", "events", str(encrypted), "--lake", str(lake), "--gpg-key", str(key.key_file)]
        results.append((f"idbx ingest events (gpg) {k}x", k * args.events, *timed(cmd, env)))
        if args.compare:
            cmd[cmd.index(str(lake))] = str(lake) + "-compare"
            results.append(
                (
                    f"  same, {args.compare.name} {k}x",
                    k * args.events,
                    *timed(cmd, {**env, "PYTHONPATH": str(args.compare.resolve())}),
                )
            )

    print(machine())
    for label, events, seconds, mb in results:
        print(f"{label:<29}: {seconds:7.2f} s for {events:>10,}  {events / seconds:>10,.0f} events/s  peak {mb:,.0f} MB")
    duckdb_rate = results[1][1] / results[1][2]
    idbx_rate = results[2][1] / results[2][2]
    print(f"ratio idbx/duckdb (1x)       : {idbx_rate / duckdb_rate:.2f}x")
    lines = args.events + len(DIRTY_LINES) + 2  # and a duplicated line and a late event
    rows, empty = (
        duckdb.connect()
        .execute(f"SELECT count(*), count(*) FILTER (username IS NULL AND event_type IS NULL) FROM '{work / 'baseline.parquet'}'")
        .fetchall()[0]
    )
    print(f"duckdb wrote {rows:,} rows for {lines:,} lines, {empty} of them all NULL; idbx's counts are in its table above")


if __name__ == "__main__":
    main()
