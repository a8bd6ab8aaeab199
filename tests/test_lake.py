"""The lake's own guarantees: atomic partitions, manifest records, scratch hygiene."""

import os
import time

import duckdb

from idbx.lake import Lake, ManifestRecord


def test_publish_replaces_a_partition_in_one_rename(tmp_path):
    lake = Lake(tmp_path)
    con = duckdb.connect()
    partition = lake.partition_dir("t", snapshot_date="2016-01-01", course="c")
    first = lake.stage_partition(con.sql("SELECT 1 AS x"), partition)
    assert not (partition / "data.parquet").exists(), "staged data is invisible until published"
    lake.publish([first])
    second = lake.stage_partition(con.sql("SELECT 2 AS x UNION ALL SELECT 3"), partition)
    assert con.execute(f"SELECT sum(x) FROM '{partition}/data.parquet'").fetchall() == [(1,)]
    lake.publish([second])
    assert con.execute(f"SELECT sum(x) FROM '{partition}/data.parquet'").fetchall() == [(5,)]
    assert [p.name for p in partition.iterdir()] == ["data.parquet"]


def test_manifest_round_trip(tmp_path):
    lake = Lake(tmp_path)
    record = ManifestRecord(key="events/a.log.gz", kind="events", source="/x/a.log.gz", size=3, sha256="ab",
                            status="ingested", rows=2, partitions=["bronze/events/log_date=2016-01-01"])
    lake.manifest_put(record)
    assert lake.manifest_get("events/a.log.gz") == record
    assert lake.manifest_get("events/b.log.gz") is None


def test_stale_leftovers_of_killed_runs_are_swept(tmp_path):
    lake = Lake(tmp_path)
    old_scratch = tmp_path / "_scratch" / "deadbeef"
    old_scratch.mkdir(parents=True)
    (old_scratch / "decrypted.tsv").write_text("learner PII")
    old_tmp = lake.partition_dir("t", snapshot_date="2016-01-01", course="c") / ".data.parquet.tmp-1234"
    old_tmp.parent.mkdir(parents=True)
    old_tmp.write_bytes(b"half")
    a_day_ago = time.time() - 24 * 3600
    for path in (old_scratch, old_tmp):
        os.utime(path, (a_day_ago, a_day_ago))
    with lake.scratch() as live:
        fresh = live
        assert fresh.exists() and not old_scratch.exists() and not old_tmp.exists()
        assert oct(fresh.stat().st_mode & 0o777) == "0o700"
    assert not fresh.exists()
