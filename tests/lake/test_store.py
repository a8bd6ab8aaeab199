"""The lake's own guarantees: atomic partitions, manifest records, scratch hygiene."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

from idbx.lake.store import TMP_MARKER, Lake, ManifestRecord


def test_publish_replaces_a_partition_in_one_rename(tmp_path):
    lake = Lake(tmp_path)
    con = duckdb.connect()
    partition = lake.partition_dir("t", snapshot_date="2016-01-01", course="c")
    first = lake.stage_partition(con.sql("SELECT 1 AS x"), partition)
    assert not (partition / "data.parquet").exists(), "staged data is invisible until published"
    lake.move_into_place([first])
    second = lake.stage_partition(con.sql("SELECT 2 AS x UNION ALL SELECT 3"), partition)
    assert con.execute(f"SELECT sum(x) FROM '{partition}/data.parquet'").fetchall() == [(1,)]
    lake.move_into_place([second])
    assert con.execute(f"SELECT sum(x) FROM '{partition}/data.parquet'").fetchall() == [(5,)]
    assert [p.name for p in partition.iterdir()] == ["data.parquet"]


def test_manifest_round_trip(tmp_path):
    lake = Lake(tmp_path)
    record = ManifestRecord(
        key="events/a.log.gz",
        kind="events",
        source="/x/a.log.gz",
        size=3,
        sha256="ab",
        status="ingested",
        rows=2,
        partitions=["bronze/events/log_date=2016-01-01"],
    )
    lake.manifest_put(record)
    assert lake.manifest_get("events/a.log.gz") == record
    assert lake.manifest_get("events/b.log.gz") is None


HOLD_RUN = """
import os, signal, sys
from pathlib import Path
import duckdb
from idbx.lake.store import Lake
lake = Lake(Path(sys.argv[1]))
with lake.run("a test run") as run:
    (run.scratch / "decrypted.tsv").write_text("learner PII")
    lake.stage_partition(duckdb.connect().sql("SELECT 1 AS x"), lake.partition_dir("t", snapshot_date="2016-01-01", course="c"))
    lake.aside(lake.catalog_path).write_bytes(b"catalog being built")
    print("ready", flush=True)
    if sys.argv[2] == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()
"""


def leftovers(lake: Lake) -> set[Path]:
    """Files written aside and scratch folders."""
    return {p for p in lake.root.rglob("*") if TMP_MARKER in p.name} | set((lake.root / "_scratch").glob("*"))


def test_a_dead_runs_leftovers_are_swept_and_a_live_runs_kept_whatever_their_age(tmp_path):
    lake = Lake(tmp_path / "lake")
    args = [sys.executable, "-c", HOLD_RUN, str(lake.root)]
    live = subprocess.Popen([*args, "wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert live.stdout.readline() == "ready\n"
        of_live = leftovers(lake)
        a_day_ago = time.time() - 24 * 3600
        for path in of_live:
            os.utime(path, (a_day_ago, a_day_ago))
        dead = subprocess.run([*args, "die"], capture_output=True, text=True)
        assert dead.returncode == -signal.SIGKILL and dead.stdout == "ready\n"
        of_dead = leftovers(lake) - of_live
        assert len(of_dead) == 3  # scratch, staged partition, catalog being built
        with lake.run("the next run") as run:
            assert leftovers(lake) == of_live | {run.scratch}
            assert oct(run.scratch.stat().st_mode & 0o777) == "0o700"
        assert leftovers(lake) == of_live
    finally:
        live.communicate("")
    assert live.returncode == 0
    assert leftovers(lake) == set() and list((lake.root / "_state" / "runs").iterdir()) == []


def test_runs_starting_at_once_sweep_without_tripping_over_each_other(tmp_path):
    lake = Lake(tmp_path / "lake")
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    children = []
    for _ in range(12):  # runs alive at once, then all gone without unwinding (forked, os._exit)
        pid = os.fork()
        if pid == 0:
            try:
                os.close(go_w)  # so that the parent closing it is the signal to go
                with lake.run("dies") as run:
                    (run.scratch / "decrypted.tsv").write_text("learner PII")
                    for n in range(20):
                        target = lake.partition_dir("t", snapshot_date="2016-01-01", course=f"c{n}") / "data.parquet"
                        target.parent.mkdir(parents=True, exist_ok=True)
                        lake.aside(target).write_bytes(b"x")
                    os.write(ready_w, b".")
                    os.read(go_r, 1)
                    os._exit(0)  # inside the run: it never ends
            finally:
                os.write(ready_w, b"!")  # reached only if the run could not be made
                os._exit(0)
        children.append(pid)
    assert b"".join(os.read(ready_r, 1) for _ in children) == b"." * 12
    os.close(go_w)
    for pid in children:
        os.waitpid(pid, 0)
    assert len(leftovers(lake)) == 12 * 21
    errors = []

    def start_a_run():
        try:
            with Lake(lake.root).run("starts at once"):
                pass
        except Exception as exc:  # noqa: BLE001 - any error is the failure this test looks for
            errors.append(exc)

    threads = [threading.Thread(target=start_a_run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and leftovers(lake) == set()
