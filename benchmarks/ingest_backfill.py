"""Benchmark: a backfill of many days, by `idbx ingest events` and by the `sync-events` flow.

    .venv/bin/python benchmarks/ingest_backfill.py generate [--days 30] [--events 500000] [--work DIR]
    .venv/bin/python benchmarks/ingest_backfill.py folder [--runs 3] [--compare CHECKOUT] [--work DIR]
    .venv/bin/python benchmarks/ingest_backfill.py sync [--runs 2] [--workers 1 2] [--work DIR]

generate  DAYS days of EVENTS events each (the sample's shapes and dirty lines), encrypted as edX
          delivers them in WORK/encrypted, and the same gzip bytes in WORK/plain for DuckDB.
folder    each in its own process, alternated RUNS times: `idbx ingest events WORK/encrypted` into a
          fresh lake (its files in parallel, one per core), and DuckDB `read_json` over the glob
          WORK/plain/*.log.gz -> one Parquet file (no decryption, rejects, line numbers, course
          resolution or de-duplication: less work). With --compare, the same idbx command on
          another checkout (PYTHONPATH) too.
sync      the `sync-events` flow over the whole range from a local S3 server (moto) into a fresh
          lake, on a local Dask cluster of each --workers size (IDBX_DASK_WORKERS), alternated
          RUNS times; a local Prefect server records the runs. Fetching from S3 is included.
Prints wall seconds, events/s and peak RSS (see measure.py) per run and the medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from measure import machine, measured

from idbx.local.sample import SAMPLE_PASSPHRASE, SampleKey, sample_course_ids, write_event_log

FIRST_DAY = date(2016, 7, 1)
KEY_FILE = "partner-key.asc"

DUCKDB_GLOB = """
import duckdb, sys
con = duckdb.connect()
con.execute(
    f"COPY (SELECT * FROM read_json('{sys.argv[1]}', ignore_errors=true)) TO '{sys.argv[2]}' (FORMAT parquet, COMPRESSION zstd)"
)
"""

SYNC = """
import sys
from datetime import date
from flows.sync_events import sync_events
start, end = date.fromisoformat(sys.argv[1]), date.fromisoformat(sys.argv[2])
state = sync_events(start=start, end=end, lake=sys.argv[3], return_state=True)
sys.exit(0 if state.is_completed() else 1)
"""


def generate(work: Path, days: int, events: int) -> None:
    shutil.rmtree(work, ignore_errors=True)
    (work / "encrypted").mkdir(parents=True)
    (work / "plain").mkdir()
    key = SampleKey(work)
    try:
        for i in range(days):
            day = FIRST_DAY + timedelta(days=i)
            gz = write_event_log(None, work / "plain", sample_course_ids(20), max(100, events // 50), day, events, dirty=True)
            key.encrypt(gz, work / "encrypted" / (gz.name + ".gpg"))
    finally:
        key.close()
    (work / "days").write_text(f"{days} {events}\n")


def _plan(work: Path) -> tuple[int, int]:
    days, events = map(int, (work / "days").read_text().split())
    return days, events


def _report(label: str, events: int, runs: list) -> None:
    for run in runs:
        print(f"  {label:<34}: {run.seconds:7.2f} s  {events / run.seconds:>10,.0f} events/s  peak {run.peak_mb:,.0f} MB")
    seconds = statistics.median(run.seconds for run in runs)
    print(f"{label:<36}: median {seconds:7.2f} s  {events / seconds:>10,.0f} events/s")


def folder(work: Path, runs: int, compare: Path | None) -> None:
    days, events = _plan(work)
    total = days * events
    idbx = str(Path(sys.executable).with_name("idbx"))
    env = {**os.environ, "IDBX_GPG_PASSPHRASE": SAMPLE_PASSPHRASE}
    commands = {
        "idbx ingest events (folder)": (
            [idbx, "ingest", "events", str(work / "encrypted"), "--gpg-key", str(work / KEY_FILE)],
            env,
        ),
        "duckdb read_json (glob)": (
            [sys.executable, "-P", "-c", DUCKDB_GLOB, str(work / "plain" / "*.log.gz"), str(work / "duckdb.parquet")],
            None,
        ),
    }
    if compare:
        cmd, _ = commands["idbx ingest events (folder)"]
        commands[f"  same, {compare.name}"] = (cmd, {**env, "PYTHONPATH": str(compare.resolve())})
    results: dict[str, list] = {label: [] for label in commands}
    for _ in range(runs):
        for label, (cmd, cmd_env) in commands.items():
            lake = work / "lake"
            shutil.rmtree(lake, ignore_errors=True)
            run = measured([*cmd, "--lake", str(lake)] if cmd[0] == idbx else cmd, cmd_env)
            if run.returncode:
                raise RuntimeError(f"{label} exited with {run.returncode}: {run.stderr[-2000:]}")
            results[label].append(run)
    print(machine(), f"{days} days x {events:,} events")
    for label, label_runs in results.items():
        _report(label, total, label_runs)
    ours, duck = (statistics.median(r.seconds for r in results[k]) for k in list(commands)[:2])
    print(f"ratio idbx/duckdb (medians)         : {duck / ours:.2f}x")


def sync(work: Path, runs: int, workers: list[int]) -> None:
    from idbx.local.services import local_prefect_server, local_s3_server
    from idbx.sync.settings import SyncSettings
    from idbx.sync.upload import upload_as_delivered

    days, events = _plan(work)
    total = days * events
    with tempfile.TemporaryDirectory(prefix="idbx-backfill-") as tmp:
        home = Path(tmp)
        with local_s3_server(home / "moto.log") as s3, local_prefect_server(home / "prefect", home / "prefect.log") as prefect:
            env = {
                **os.environ,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ENDPOINT_URL_S3": s3.url,
                "IDBX_S3_EVENTS_BUCKET": "backfill-events",
                "IDBX_S3_COURSE_DATA_BUCKET": "backfill-course-data",
                "IDBX_GPG_KEY": str(work / KEY_FILE),
                "IDBX_GPG_PASSPHRASE": SAMPLE_PASSPHRASE,
                "PREFECT_API_URL": f"{prefect.url}/api",
                "PREFECT_HOME": str(home / "prefect-client"),
                "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]),
            }
            for name in ("IDBX_ORG", "IDBX_S3_EVENTS_PREFIX", "AWS_PROFILE", "AWS_ENDPOINT_URL", "IDBX_DASK_ADDRESS"):
                env.pop(name, None)
            os.environ.update({k: v for k, v in env.items() if k.startswith(("AWS_", "IDBX_S3_"))})
            upload_as_delivered(SyncSettings.resolve(), sorted((work / "encrypted").iterdir()))
            end = FIRST_DAY + timedelta(days=days)
            results: dict[int, list] = {n: [] for n in workers}
            for _ in range(runs):
                for n in workers:
                    lake = work / "sync-lake"
                    shutil.rmtree(lake, ignore_errors=True)
                    run = measured(
                        [sys.executable, "-P", "-c", SYNC, FIRST_DAY.isoformat(), end.isoformat(), str(lake)],
                        {**env, "IDBX_DASK_WORKERS": str(n), "PYTHONPATH": str(Path(__file__).resolve().parents[1])},  # flows/
                    )
                    if run.returncode:
                        raise RuntimeError(f"sync-events on {n} worker(s) failed: {run.stderr[-3000:]}")
                    results[n].append(run)
    print(machine(), f"{days} days x {events:,} events")
    for n, label_runs in results.items():
        _report(f"sync-events, Dask {n} worker(s)", total, label_runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["generate", "folder", "sync"])
    parser.add_argument("--work", type=Path, default=Path("benchmarks/work/backfill"))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--compare", type=Path, help="another checkout of idbx (before a change, say) to run side by side")
    args = parser.parse_args()
    work = args.work.resolve()
    if args.what == "generate":
        generate(work, args.days, args.events)
    elif args.what == "folder":
        folder(work, args.runs, args.compare)
    else:
        sync(work, args.runs, args.workers)


if __name__ == "__main__":
    main()
