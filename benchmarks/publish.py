"""Benchmark: `idbx publish` of 200,000 learner documents to a local MongoDB-wire server, whole
process each (wall time and peak RSS of the `idbx` process; the server runs apart).

Builds the generated sample (4 course runs, 300 learners) into a lake, then replicates its
person_course mart until it holds LEARNERS rows (other pseudonymous ids), and starts SecantusDB
(the idbx[local] extra) on a free port, or uses --mongo-uri. Runs, in order:
  first       an empty database: every document written
  no change   the same marts again: hashes read, nothing written
  one course  one course's learners changed: that course's learner set rewritten
Target: the no-change run under 10% of the first run's time, memory bounded whatever LEARNERS.

    .venv/bin/python benchmarks/publish.py [--learners N] [--work DIR] [--mongo-uri URI]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
from measure import machine, timed

from idbx.config import GpgSettings
from idbx.lake import atomic, catalog
from idbx.lake.store import PARTITION_FILE, Lake
from idbx.local import mongo as local_mongo
from idbx.local.sample import write_sample
from idbx.quoting import sql_string

IDBX = str(Path(sys.executable).with_name("idbx"))
KEY = "benchmark-pseudonym-key-0123456789"


def build_lake(work: Path, learners: int) -> Lake:
    from idbx.ingest.course_data import ingest_package
    from idbx.ingest.events import ingest_events
    from idbx.models.runner import build

    sample = write_sample(work / "sample", courses=4, learners=300, snapshot=date(2016, 7, 4))
    lake = Lake(work / "lake")
    gpg = GpgSettings(key_file=sample.key_file, passphrase=sample.passphrase)
    ingest_package([sample.package], lake, gpg)
    ingest_events(sample.event_logs, lake, gpg)
    build(lake, key=KEY)
    person_course = lake.marts / "person_course" / PARTITION_FILE
    with duckdb.connect() as con:
        rows = con.execute(f"SELECT count(*) FROM read_parquet({sql_string(str(person_course))})").fetchall()[0][0]
        copies = -(-learners // rows)
        with atomic.writing(person_course) as tmp:
            con.execute(
                f"COPY (SELECT mart.* REPLACE (learner_id || '-' || copy AS learner_id) "
                f"FROM read_parquet({sql_string(str(person_course))}) AS mart, range({copies}) AS copies(copy) LIMIT {learners}) "
                f"TO {sql_string(str(tmp))} (FORMAT parquet)"
            )
    catalog.refresh(lake)
    return lake


def change_one_course(lake: Lake) -> tuple[str, int]:
    """Add an event to every learner of the smallest course with learners; returns it and its size."""
    person_course = lake.marts / "person_course" / PARTITION_FILE
    source = f"read_parquet({sql_string(str(person_course))})"
    with duckdb.connect() as con:
        course, size = con.execute(f"SELECT course_key, count(*) FROM {source} GROUP BY 1 ORDER BY 2 LIMIT 1").fetchall()[0]
        with atomic.writing(person_course) as tmp:
            con.execute(
                f"COPY (SELECT * REPLACE (CASE WHEN course_key = {sql_string(course)} THEN nevents + 1 ELSE nevents END "
                f"AS nevents) FROM {source}) TO {sql_string(str(tmp))} (FORMAT parquet)"
            )
    return course, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/idbx-bench-publish"))
    parser.add_argument("--mongo-uri", help="publish there instead of a local SecantusDB")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    print(machine())

    started = time.perf_counter()
    lake = build_lake(args.work, args.learners)
    print(f"lake with {args.learners:,} person_course rows built in {time.perf_counter() - started:.1f} s")

    server = None if args.mongo_uri else local_mongo.start(args.work / "mongo")
    uri = args.mongo_uri or server.uri
    env = {**os.environ, "IDBX_MONGO_URI": uri, "IDBX_MONGO_DB": "idbx_benchmark"}
    try:
        if args.mongo_uri:
            subprocess.run(
                [sys.executable, "-P", "-c", f"import pymongo; pymongo.MongoClient({uri!r}).drop_database('idbx_benchmark')"],
                check=True,
            )
        publish = [IDBX, "publish", "--lake", str(lake.root)]
        first, first_mb = timed(publish, env)
        print(f"first:      {first:7.1f} s, {args.learners / first:8,.0f} learner docs/s, peak {first_mb:.0f} MB")
        again, again_mb = timed(publish, env)
        print(f"no change:  {again:7.1f} s ({again / first:.1%} of the first), peak {again_mb:.0f} MB")
        course, size = change_one_course(lake)
        one, one_mb = timed(publish, env)
        print(f"one course: {one:7.1f} s for {size:,} learner docs of {course}, peak {one_mb:.0f} MB")
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
