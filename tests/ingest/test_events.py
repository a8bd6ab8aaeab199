"""Tracking logs -> lake -> DuckDB: encrypted, gzip and plain inputs, reprocessing, bad files."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import duckdb
import pytest

from idbx.errors import ConfigError
from idbx.ingest.events import ingest_events
from idbx.lake import Lake
from idbx.sample import DIRTY_LINES, SampleKey, sample_course_ids, write_event_log


def catalog(lake):
    return duckdb.connect(str(lake.catalog_path), read_only=True)


def rows(con, sql):
    return con.execute(sql).fetchall()


def test_encrypted_days_land_with_every_shape(sample, gpg, lake):
    summary = ingest_events(sample.event_logs, lake, gpg)
    assert summary.count("ingested") == 3 and not summary.failed
    con = catalog(lake)
    days = rows(con, "SELECT log_date, count(*) FROM events GROUP BY 1 ORDER BY 1")
    assert [d for d, _ in days] == [date(2016, 7, 1), date(2016, 7, 2), date(2016, 7, 3)]
    assert sum(n for _, n in days) == summary.rows
    sources = {s for (s,) in rows(con, "SELECT DISTINCT event_source FROM events")}
    assert sources == {"browser", "server", "mobile"}
    types = {t for (t,) in rows(con, "SELECT DISTINCT event_type FROM events WHERE event_type NOT LIKE '/courses/%'")}
    assert {"play_video", "pause_video", "problem_check", "seq_goto", "edx.course.enrollment.activated",
            "edx.forum.thread.created", "/dashboard", "edx.video.played"} <= types
    # implicit page events carry no course in their context: resolved from the event_type path
    implicit = rows(con, "SELECT count(*), count(course_id), count(course_key) FROM events WHERE event_type LIKE '/courses/%'")[0]
    assert implicit[0] > 0 and implicit[0] == implicit[1] == implicit[2]
    assert rows(con, "SELECT count(*) FROM events WHERE event_type = '/dashboard' AND course_id IS NOT NULL") == [(0,)]
    keys = {k for (k,) in rows(con, "SELECT DISTINCT course_key FROM events WHERE course_key IS NOT NULL")}
    assert keys == {"idb1x_2t2014", "idb6x_2016_t1", "idb4_1x_2015_t4"}
    # browser events carry their body as a JSON string: it lands as the JSON object
    assert rows(con, "SELECT json_type(event) FROM events WHERE event_type = 'play_video' LIMIT 1") == [("OBJECT",)]
    assert rows(con, "SELECT count(*) FROM events WHERE event_source = 'mobile' AND received_at IS NULL") == [(0,)]
    assert rows(con, "SELECT count(*) FROM events WHERE user_id IS NULL AND event_type <> '/dashboard'") == [(0,)]
    assert rows(con, "SELECT sum(events) FROM event_types") == [(summary.rows,)]


def test_dirty_lines_go_to_rejects_with_line_and_reason(sample, gpg, lake, tmp_path):
    ingest_events(sample.event_logs[:1], lake, gpg)
    con = catalog(lake)
    rejects = rows(con, "SELECT source_file, line_number, reason, raw FROM event_rejects ORDER BY line_number")
    assert [r[2] for r in rejects] == ["malformed JSON", "NUL byte", "invalid UTF-8", "missing time", "unparseable time: yesterday at noon"]
    assert all(r[0] == sample.event_logs[0].name for r in rejects)
    with gzip.open(_plain_copy(sample, sample.event_logs[0], tmp_path)) as log:
        lines = log.read().split(b"\n")
    assert [lines[r[1] - 1] for r in rejects] == list(DIRTY_LINES)


def _plain_copy(sample, encrypted: Path, folder: Path) -> Path:
    from idbx.config import GpgSettings
    from idbx.ingest.crypto import Decryptor

    target = folder / encrypted.name.removesuffix(".gpg")
    with Decryptor(GpgSettings(sample.key_file, sample.passphrase)) as decryptor, open(encrypted, "rb") as src:
        decryptor.decrypt(src, target, encrypted.name)
    return target


def test_late_events_and_duplicates_are_counted(sample, gpg, lake):
    summary = ingest_events(sample.event_logs[2:], lake, gpg)
    outcome = summary.files[0]
    assert any("duplicate" in note for note in outcome.notes)
    manifest = lake.manifest_get(f"events/{sample.event_logs[2].name}")
    assert manifest.details["duplicate"] == 1
    assert manifest.details["max_days_late"] == 2
    assert manifest.details["late_events"] >= 1
    con = catalog(lake)
    late = rows(con, "SELECT count(*), min(time) FROM events WHERE log_date = DATE '2016-07-03' AND time < DATE '2016-07-03'")[0]
    assert late[0] == manifest.details["late_events"] and late[1].date() == date(2016, 7, 1)
    accounted = manifest.details
    assert accounted["lines"] == accounted["accepted"] + accounted["rejected"] + accounted["blank"] + accounted["duplicate"]


def test_reprocessing_replaces_exactly_one_day(sample, gpg, lake, tmp_path):
    ingest_events(sample.event_logs, lake, gpg)
    parts = {p: p.stat().st_mtime_ns for p in lake.bronze.rglob("*.parquet")}
    again = ingest_events(sample.event_logs, lake, gpg)
    assert again.count("unchanged") == 3 and again.count("ingested") == 0
    assert {p: p.stat().st_mtime_ns for p in lake.bronze.rglob("*.parquet")} == parts
    # a re-delivered 2016-07-02 with other content replaces that day only
    key = SampleKey(sample.root)
    try:
        redelivered = write_event_log(key, tmp_path, sample.course_ids, 20, date(2016, 7, 2), 100, dirty=False)
    finally:
        key.close()
    summary = ingest_events([redelivered], lake, gpg)
    assert summary.count("ingested") == 1
    changed = [p for p in lake.bronze.rglob("*.parquet") if parts.get(p) != p.stat().st_mtime_ns]
    assert [p.parent.name for p in changed] == ["log_date=2016-07-02"]
    assert not (lake.bronze / "rejects" / "events" / "log_date=2016-07-02" / "data.parquet").exists()
    con = catalog(lake)
    assert rows(con, "SELECT count(*) FROM events WHERE log_date = DATE '2016-07-02'") == [(100,)]
    assert rows(con, "SELECT count(DISTINCT log_date) FROM events") == [(3,)]


def test_gzip_and_plain_logs_and_dates_from_events(tmp_path, lake):
    gz = write_event_log(None, tmp_path, sample_course_ids(2), 10, date(2016, 5, 1), 50, dirty=False)
    plain = tmp_path / "tracking.log"
    plain.write_bytes(gzip.decompress(gz.read_bytes()))
    summary = ingest_events([gz], lake)
    assert summary.files[0].partition.endswith("log_date=2016-05-01")
    summary = ingest_events([plain], lake, log_date=date(2016, 4, 30))
    assert summary.files[0].partition.endswith("log_date=2016-04-30") and summary.rows == 50
    summary = ingest_events([plain], Lake(tmp_path / "lake2"))
    assert summary.files[0].partition.endswith("log_date=2016-05-01")  # the earliest event's day


def test_two_files_for_one_day_are_refused(tmp_path, lake):
    first = write_event_log(None, tmp_path, sample_course_ids(1), 10, date(2016, 5, 1), 20, dirty=False)
    copy = tmp_path / "copy" / "tracking.log.gz"
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    summary = ingest_events([first, copy], lake)
    assert summary.count("ingested") == 1 and len(summary.failed) == 1
    assert "already holds the events of 2016-05-01" in summary.failed[0].error


def test_unreadable_file_fails_alone_and_keeps_its_day(sample, gpg, lake, tmp_path):
    ingest_events(sample.event_logs, lake, gpg)
    before = rows(catalog(lake), "SELECT count(*) FROM events WHERE log_date = DATE '2016-07-01'")
    broken = tmp_path / sample.event_logs[0].name
    broken.write_bytes(sample.event_logs[0].read_bytes()[:5000])
    summary = ingest_events([broken, *sample.event_logs[1:]], lake, gpg)
    assert [Path(f.name).name for f in summary.failed] == [broken.name]
    assert "truncated or corrupt" in summary.failed[0].error
    assert rows(catalog(lake), "SELECT count(*) FROM events WHERE log_date = DATE '2016-07-01'") == before
    assert not list(lake.bronze.rglob("*.tmp-*"))


def test_gzip_truncated_after_decryption_is_a_failed_file(tmp_path, lake):
    gz = write_event_log(None, tmp_path, sample_course_ids(1), 10, date(2016, 5, 1), 2000, dirty=False)
    gz.write_bytes(gz.read_bytes()[: gz.stat().st_size // 2])
    summary = ingest_events([gz], lake)
    assert summary.failed[0].error == f"{gz.name}: OSError: Truncated compressed stream"
    assert not (lake.bronze / "events").exists() or not list((lake.bronze / "events").rglob("data.parquet"))
    record = lake.manifest_get(f"events/{gz.name}")
    assert record.status == "failed" and gz.name in record.details["last_failure"]["error"]
    assert catalog(lake).execute("SELECT status FROM ingest_manifest").fetchall() == [("failed",)]


def test_encrypted_logs_without_key(sample, lake):
    with pytest.raises(ConfigError, match="--gpg-key"):
        ingest_events(sample.event_logs, lake)


def test_corpus_logs(corpus, lake):
    for number, log in enumerate(sorted((corpus / "events").glob("*.log"))):
        summary = ingest_events([log], lake, log_date=date(2000, 1, 1 + number))
        assert summary.count("ingested") == 1, summary.files
    con = catalog(lake)
    lines = sum(1 for log in (corpus / "events").glob("*.log") for line in log.read_bytes().split(b"\n")
                if line.strip() and not line.startswith(b"#"))
    stored = rows(con, "SELECT count(*) FROM events")[0][0]
    assert stored <= lines and stored > 0.9 * lines
    forum = rows(con, "SELECT count(*) FROM events WHERE event_type LIKE 'edx.forum.%'")[0][0]
    assert forum > 0
    assert rows(con, "SELECT count(*) FROM event_rejects WHERE reason <> 'comment line'") == [(0,)]


def test_cli_exit_codes(sample, tmp_path, gpg_env):
    import subprocess
    import sys

    idbx = str(Path(sys.executable).with_name("idbx"))
    ok = subprocess.run([idbx, "ingest", "events", str(sample.root), "--lake", str(tmp_path / "lake")],
                        capture_output=True, text=True, env=gpg_env)
    assert ok.returncode == 0, ok.stderr  # rejected lines are reported, not fatal
    assert "event_rejects" in ok.stderr and "2 day(s) late" in ok.stderr
    assert "idbx-edx-events-2016-07-02.log.gz.gpg -> bronze/events/log_date=2016-07-02: 601 accepted; 5 rejected" in ok.stderr
    broken = tmp_path / "idbx-edx-events-2016-07-09.log.gz.gpg"
    broken.write_bytes(b"not encrypted at all")
    bad = subprocess.run([idbx, "ingest", "events", str(broken), "--lake", str(tmp_path / "lake")],
                         capture_output=True, text=True, env=gpg_env)
    assert bad.returncode == 1 and "not a GPG-encrypted file" in bad.stderr


def test_a_file_with_no_readable_event_fails_and_keeps_its_day(tmp_path, lake):
    good = write_event_log(None, tmp_path, sample_course_ids(1), 10, date(2016, 5, 1), 20, dirty=False)
    ingest_events([good], lake)
    garbage = tmp_path / "other" / good.name
    garbage.parent.mkdir()
    garbage.write_bytes(gzip.compress(b"\x00\x01 binary junk\n" * 50))
    summary = ingest_events([garbage], lake)
    assert len(summary.failed) == 1
    assert "none of its 50 lines is a readable event; line 1: NUL byte" in summary.failed[0].error
    assert rows(catalog(lake), "SELECT count(*) FROM events WHERE log_date = DATE '2016-05-01'") == [(20,)]
