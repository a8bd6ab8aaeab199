"""`idbx scrub`: PII out of old bronze partitions, rows and every other column exactly as they were."""

import hashlib
import json
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from idbx.config import GpgSettings
from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.lake.check import check_lake
from idbx.lake.store import Lake
from idbx.local.sample import PII_PATTERN
from idbx.parsers.tables import TABLES
from idbx.parsers.tracking_log import EVENT_PII_COLUMNS, EVENT_PII_KEYS
from idbx.privacy.scrub import ALREADY, FAILED, NO_PII, SCRUBBED, scrub
from idbx.quoting import sql_string
from tests.cli.test_cli import run
from tests.conftest import copy_lake

DELIVERY = date(2016, 7, 4)  # the sample's snapshot; its logs are of 2016-07-01..03


@pytest.fixture
def lake(landed_sample, tmp_path) -> Lake:
    """The sample delivery and its three days of logs (2016-07-01..03), landed."""
    return copy_lake(landed_sample, tmp_path)


def files(lake: Lake) -> dict[str, str]:
    """Partition file -> sha256 of its bytes."""
    return {lake.relative(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(lake.bronze.rglob("*.parquet"))}


def rows_matching_pii(path: Path) -> int:
    con = duckdb.connect()
    scan = f"read_parquet({sql_string(str(path))}, hive_partitioning = false)"
    return con.execute(
        f"SELECT count(*) FROM {scan} t WHERE regexp_matches(to_json(t)::VARCHAR, {sql_string(PII_PATTERN)})"
    ).fetchall()[0][0]


def pii_of(relative: str) -> tuple[set[str], dict[str, tuple[str, ...]]]:
    dataset = relative.split("/")[1] if not relative.startswith("bronze/rejects/") else "rejects"
    if dataset == "events":
        return set(EVENT_PII_COLUMNS), EVENT_PII_KEYS
    if dataset == "rejects":
        return {"raw"}, {}
    return set(TABLES[dataset].pii_columns), {}


def assert_same_except_pii(before: Path, after: Path, relative: str) -> None:
    """Same rows in the same order; PII columns all NULL; PII keys gone from JSON; the rest identical."""
    old, new = pq.read_table(before), pq.read_table(after)
    assert new.num_rows == old.num_rows
    # Same columns and types (DuckDB may mark a column that holds no NULL as required when it rewrites it).
    assert [(f.name, f.type) for f in new.schema] == [(f.name, f.type) for f in old.schema]
    columns, keys = pii_of(relative)
    for name in old.column_names:
        if name in columns:
            assert new.column(name).null_count == new.num_rows, (relative, name)
        elif name in keys:
            for was, now in zip(old.column(name).to_pylist(), new.column(name).to_pylist(), strict=True):
                was_value = json.loads(was) if was is not None else None
                expected = (
                    {k: v for k, v in was_value.items() if k not in keys[name]} if isinstance(was_value, dict) else was_value
                )
                assert (json.loads(now) if now is not None else None) == expected
        else:
            assert new.column(name).equals(old.column(name)), (relative, name)


def test_everything_old_enough_loses_its_pii_and_nothing_else(lake, landed_sample):
    before = files(lake)
    assert any(rows_matching_pii(lake.root / f) for f in before)  # the sample does carry PII
    summary = scrub(lake, older_than_days=0, today=date(2016, 7, 5))
    with_pii = {f for f in before if any(pii_of(f))}
    assert {f.path for f in summary.with_status(SCRUBBED)} == with_pii  # courseware, enrollments: none
    assert {f.path for f in summary.with_status(NO_PII)} == set(before) - with_pii
    assert summary.with_status(FAILED) == []
    after = files(lake)
    assert {f for f in before if before[f] != after[f]} == with_pii
    for relative in before:
        assert_same_except_pii(landed_sample.root / relative, lake.root / relative, relative)
        assert rows_matching_pii(lake.root / relative) == 0, relative
    assert set(after) == set(before)  # no file added, removed or renamed, nothing left aside
    assert not [p for p in lake.root.rglob("*") if ".tmp-" in p.name]


def test_scrubbed_files_stay_scrubbed_when_their_sources_come_again(lake, sample):
    """A scrubbed file still names the source file and version it holds: the same delivery and
    logs ingested again are unchanged (not landed again with their PII), and the lake checks clean."""
    scrub(lake, older_than_days=0, today=date(2016, 7, 5))
    after = files(lake)
    gpg = GpgSettings(sample.key_file, sample.passphrase)
    assert ingest_package([sample.package], lake, gpg).count("ingested") == 0
    assert ingest_events(sample.event_logs, lake, gpg).count("ingested") == 0
    assert files(lake) == after and check_lake(lake).problems == []


def test_a_second_run_is_a_no_op(lake):
    scrub(lake, older_than_days=0, today=date(2016, 7, 5))
    after_first = files(lake)
    again = scrub(lake, older_than_days=0, today=date(2016, 7, 5))
    assert {f.status for f in again.files} == {ALREADY, NO_PII} and files(lake) == after_first
    assert len(list((lake.state / "scrub").glob("*.json"))) == 1  # a run that removed nothing leaves no log


def test_only_partitions_older_than_the_retention_are_touched(lake):
    before = files(lake)
    summary = scrub(lake, older_than_days=2, today=DELIVERY)  # cutoff 2016-07-02: only the first day's logs
    scrubbed = {f.path for f in summary.files}
    assert scrubbed and all("log_date=2016-07-01" in path for path in scrubbed)
    assert {p for p in scrubbed if "/rejects/" in p}  # the day's rejected lines too (their raw text)
    after = files(lake)
    assert {p for p in before if before[p] != after[p]} == scrubbed


def test_views_manifest_and_log_stay_consistent(lake):
    con = duckdb.connect(str(lake.catalog_path), read_only=True)
    counts = (
        "SELECT (SELECT count(*) FROM auth_user), (SELECT count(*) FROM events), (SELECT count(*) FROM event_rejects), "
        "(SELECT sum(rows) FROM ingest_manifest)"
    )
    before = con.execute(counts).fetchall()
    con.close()
    summary = scrub(lake, older_than_days=0, today=date(2016, 7, 5))
    con = duckdb.connect(str(lake.catalog_path), read_only=True)
    assert con.execute(counts).fetchall() == before
    assert con.execute("SELECT count(*) FROM auth_user WHERE email IS NOT NULL OR username IS NOT NULL").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM events WHERE ip IS NOT NULL OR username IS NOT NULL").fetchall() == [(0,)]
    logged = con.execute("SELECT path, rows, columns FROM scrub_log ORDER BY path").fetchall()
    assert [(p, r) for p, r, _ in logged] == sorted((f.path, f.rows) for f in summary.with_status(SCRUBBED))
    assert (
        dict((p, c) for p, _, c in logged)[next(p for p, _, _ in logged if "/auth_user/" in p)] == TABLES["auth_user"].pii_columns
    )


def test_dry_run_changes_nothing(lake):
    before = files(lake)
    summary = scrub(lake, older_than_days=0, today=date(2016, 7, 5), dry_run=True)
    assert len(summary.with_status(SCRUBBED)) == len([f for f in before if any(pii_of(f))]) and files(lake) == before
    assert not (lake.state / "scrub").exists()


def test_any_parquet_file_of_an_old_partition_and_untyped_tables(lake):
    """Several files in one day (one per source file) and a table with no declared schema (PII by column name)."""
    con = duckdb.connect()
    day = lake.bronze / "events" / "log_date=2016-07-01"
    other = day / "idbx-edx-events-2016-07-01-redelivered.parquet"
    con.execute(f"COPY (SELECT * FROM read_parquet('{day}/*.parquet', hive_partitioning = false) LIMIT 7) TO '{other}'")
    untyped = lake.bronze / "survey_answers" / "snapshot_date=2016-01-04" / "course=idb1x_2t2014" / "data.parquet"
    untyped.parent.mkdir(parents=True)
    con.execute(
        f"COPY (SELECT 1 AS id, 'learner1' AS username, 'learner1@example.org' AS email, 'team A' AS team) TO '{untyped}'"
    )
    summary = scrub(lake, older_than_days=2, today=DELIVERY)
    scrubbed = {f.path: f for f in summary.with_status(SCRUBBED)}
    assert lake.relative(other) in scrubbed and rows_matching_pii(other) == 0
    assert scrubbed[lake.relative(untyped)].columns == ["username", "email"]
    assert con.execute(f"SELECT * FROM read_parquet('{untyped}', hive_partitioning = false)").fetchall() == [
        (1, None, None, "team A")
    ]


def test_a_file_without_pii_is_left_alone(lake):
    plain = lake.bronze / "course_stats" / "snapshot_date=2016-01-04" / "course=idb1x_2t2014" / "data.parquet"
    plain.parent.mkdir(parents=True)
    duckdb.connect().execute(f"COPY (SELECT 1 AS id, 'x' AS note) TO '{plain}'")
    before = plain.read_bytes()
    summary = scrub(lake, older_than_days=2, today=DELIVERY)
    assert [f.status for f in summary.files if f.path == lake.relative(plain)] == [NO_PII] and plain.read_bytes() == before


def test_an_unreadable_file_fails_alone_and_stays_as_it_was(lake):
    broken = lake.bronze / "auth_user" / "snapshot_date=2016-01-04" / "course=idb1x_2t2014" / "data.parquet"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"PAR1 not really")
    summary = scrub(lake, older_than_days=2, today=DELIVERY)
    failed = summary.with_status(FAILED)
    assert [f.path for f in failed] == [lake.relative(broken)] and lake.relative(broken) in failed[0].error
    assert broken.read_bytes() == b"PAR1 not really"
    assert summary.with_status(SCRUBBED)  # the other old files were still scrubbed
    assert any("catalog" in note for note in summary.notes)  # the catalog cannot read that file either


def test_cli(lake, tmp_path):
    dry = run("scrub", "--lake", str(lake.root), "--older-than", "0", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would scrub" in dry.stderr and not (lake.state / "scrub").exists()
    done = run("scrub", "--lake", str(lake.root), "--older-than", "0")
    assert done.returncode == 0, done.stderr
    assert "scrubbed" in done.stderr and len(list((lake.state / "scrub").glob("*.json"))) == 1
    again = run("scrub", "--lake", str(lake.root), "--older-than", "0")
    assert again.returncode == 0 and "already scrubbed" in again.stderr
    missing = run("scrub", "--lake", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no lake at" in missing.stderr and not (tmp_path / "nowhere").exists()


def test_the_learner_a_vote_was_for_goes_from_the_body_and_from_the_fields_derived_from_it(lake, corpus: Path):
    """edX's forum votes name the learner voted for (`target_username`); scrubbed, neither the body
    nor the body fields kept beside it at landing still do."""
    assert not ingest_events([corpus / "events" / "student_forum_activity.log"], lake).failed
    events = f"read_parquet({sql_string(str(lake.bronze / 'events' / '**' / '*.parquet'))}, hive_partitioning = false)"
    named = (
        f"SELECT count(*) FILTER (WHERE json_exists(event, '$.target_username')), "
        f"count(*) FILTER (WHERE event_fields.target_username IS NOT NULL) FROM {events}"
    )
    before = duckdb.sql(named).fetchall()[0]
    assert before[0] > 0 and before[1] == before[0]
    summary = scrub(lake, older_than_days=0, today=date(2030, 1, 1))
    assert summary.with_status(FAILED) == [] and summary.with_status(SCRUBBED)
    assert duckdb.sql(named).fetchall()[0] == (0, 0)
    assert duckdb.sql(f"SELECT count(*) FROM {events} WHERE event_fields.vote_value IS NOT NULL").fetchall()[0][0] == before[0]
