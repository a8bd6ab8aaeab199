"""Tracking logs -> lake -> DuckDB: encrypted, gzip and plain inputs, reprocessing, bad files."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import duckdb
import pytest

from idbx.errors import ConfigError, IdbxError
from idbx.ingest.events import ingest_events
from idbx.lake.store import Lake
from idbx.local.sample import DIRTY_LINES, SampleKey, sample_course_ids, write_event_log


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
    assert {
        "play_video",
        "pause_video",
        "problem_check",
        "seq_goto",
        "edx.course.enrollment.activated",
        "edx.forum.thread.created",
        "/dashboard",
        "edx.video.played",
    } <= types
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
    assert [r[2] for r in rejects] == [
        "malformed JSON",
        "NUL byte",
        "invalid UTF-8",
        "missing time",
        "unparseable time: yesterday at noon",
    ]
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
    assert summary.files[0].partition.endswith("log_date=2016-05-01")  # the day its events fall on
    assert summary.files[0].notes[0].startswith("dated 2016-05-01 by its events (49 of 50)")  # one is after midnight UTC


def day_counts(lake) -> dict[date, int]:
    return dict(rows(catalog(lake), "SELECT log_date, count(*) FROM events GROUP BY 1"))


def test_an_undated_log_takes_the_day_most_of_its_events_fall_on(sample, gpg, lake, tmp_path):
    """A late event of an earlier day (the sample's third day has one from two days before) must
    not date the file, and the undated copy must not replace the day the dated file landed."""
    ingest_events(sample.event_logs, lake, gpg)
    before = day_counts(lake)
    undated = tmp_path / "tracking.log.gz"
    undated.write_bytes(_plain_copy(sample, sample.event_logs[2], tmp_path).read_bytes())
    outcome = ingest_events([undated], lake).files[0]
    assert outcome.status == "ingested" and outcome.partition.endswith("log_date=2016-07-03")
    assert any(note.startswith("dated 2016-07-03 by its events") for note in outcome.notes)
    # every event of the copy is also in the dated file of that day: counted, and both files keep their rows
    assert any(f"{outcome.rows:,} event(s) also in other files of 2016-07-03" in note for note in outcome.notes)
    after = day_counts(lake)
    assert after[date(2016, 7, 1)] == before[date(2016, 7, 1)]
    assert after[date(2016, 7, 3)] == before[date(2016, 7, 3)] + outcome.rows
    again = ingest_events([*sample.event_logs, undated], lake, gpg)
    assert again.count("unchanged") == 4 and day_counts(lake) == after


def test_several_files_for_one_day_each_keep_their_rows(tmp_path, lake):
    """edX delivers edx and edge logs for one day; a self-hosted platform one log per server."""
    day = date(2016, 5, 1)
    edx = write_event_log(None, tmp_path, sample_course_ids(2), 10, day, 30, dirty=False)
    edge = tmp_path / "edge" / edx.name.replace("-edx-events-", "-edge-events-")
    edge.parent.mkdir()
    edge.write_bytes(write_event_log(None, tmp_path / "edge", sample_course_ids(3)[2:], 5, day, 20, dirty=False).read_bytes())
    server = tmp_path / "tracking.log-server2"
    server.write_bytes(
        gzip.decompress(write_event_log(None, tmp_path / "edge", sample_course_ids(1), 5, day, 7, dirty=False).read_bytes())
    )
    first = ingest_events([edx], lake)
    second = ingest_events([edge, server], lake)
    assert [f.status for f in first.files + second.files] == ["ingested"] * 3
    assert all(f.partition.endswith("log_date=2016-05-01") for f in first.files + second.files)
    con = catalog(lake)
    assert dict(rows(con, "SELECT source_file, count(*) FROM events GROUP BY 1")) == {edx.name: 30, edge.name: 20, server.name: 7}
    manifest = dict(rows(con, "SELECT key, rows FROM ingest_manifest"))
    assert sum(manifest.values()) == 57 == rows(con, "SELECT count(*) FROM events")[0][0]
    # a re-delivered edge file replaces its own rows only
    edge.write_bytes(write_event_log(None, tmp_path / "edge", sample_course_ids(3)[2:], 5, day, 4, dirty=False).read_bytes())
    assert ingest_events([edge], lake).files[0].status == "ingested"
    assert dict(rows(catalog(lake), "SELECT source_file, count(*) FROM events GROUP BY 1")) == {
        edx.name: 30,
        edge.name: 4,
        server.name: 7,
    }
    assert len(list((lake.bronze / "events" / "log_date=2016-05-01").glob("*.parquet"))) == 3


def test_the_same_name_twice_in_one_call(tmp_path, lake):
    first = write_event_log(None, tmp_path, sample_course_ids(1), 10, date(2016, 5, 1), 20, dirty=False)
    copy = tmp_path / "copy" / first.name
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    summary = ingest_events([first, copy], lake)  # the same file twice: landed once
    assert [f.status for f in summary.files] == ["ingested", "unchanged"]
    assert "same file as" in summary.files[1].notes[0]
    assert rows(catalog(lake), "SELECT count(*) FROM events") == [(20,)]
    other = tmp_path / "other" / first.name
    other.parent.mkdir()
    other.write_bytes(
        write_event_log(None, tmp_path / "other", sample_course_ids(1), 10, date(2016, 5, 1), 5, dirty=False).read_bytes()
    )
    with pytest.raises(IdbxError, match="two different files named") as refused:
        ingest_events([copy, other], lake)
    assert str(copy) in str(refused.value) and str(other) in str(refused.value)
    assert rows(catalog(lake), "SELECT count(*) FROM events") == [(20,)]


@pytest.mark.parametrize("content", [b"", gzip.compress(b""), b"\n \n"], ids=["0-byte", "empty-gzip", "blank-lines"])
@pytest.mark.parametrize("suffix", [".log.gz", ".log"])
def test_a_log_with_no_event_fails_and_keeps_its_day(tmp_path, lake, content, suffix):
    good = write_event_log(None, tmp_path, sample_course_ids(1), 10, date(2016, 5, 1), 20, dirty=False)
    name = good.name.removesuffix(".gz") if suffix == ".log" else good.name
    if suffix == ".log":
        (tmp_path / name).write_bytes(gzip.decompress(good.read_bytes()))
    ingest_events([tmp_path / name], lake)
    empty = tmp_path / "redelivered" / name
    empty.parent.mkdir()
    empty.write_bytes(content)
    summary = ingest_events([empty], lake)
    assert len(summary.failed) == 1 and "no event" in summary.failed[0].error and name in summary.failed[0].error
    assert rows(catalog(lake), "SELECT count(*) FROM events WHERE log_date = DATE '2016-05-01'") == [(20,)]
    record = lake.manifest_get(f"events/{name}")
    assert record.status == "ingested" and record.rows == 20


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
    lines = sum(
        1
        for log in (corpus / "events").glob("*.log")
        for line in log.read_bytes().split(b"\n")
        if line.strip() and not line.startswith(b"#")
    )
    stored = rows(con, "SELECT count(*) FROM events")[0][0]
    assert stored <= lines and stored > 0.9 * lines
    forum = rows(con, "SELECT count(*) FROM events WHERE event_type LIKE 'edx.forum.%'")[0][0]
    assert forum > 0
    assert rows(con, "SELECT count(*) FROM event_rejects WHERE reason <> 'comment line'") == [(0,)]


def test_cli_exit_codes(sample, tmp_path, gpg_env):
    import subprocess
    import sys

    idbx = str(Path(sys.executable).with_name("idbx"))
    ok = subprocess.run(
        [idbx, "ingest", "events", str(sample.root), "--lake", str(tmp_path / "lake")],
        capture_output=True,
        text=True,
        env=gpg_env,
    )
    assert ok.returncode == 0, ok.stderr  # rejected lines are reported, not fatal
    assert "event_rejects" in ok.stderr and "2 day(s) late" in ok.stderr
    assert "idbx-edx-events-2016-07-02.log.gz.gpg -> bronze/events/log_date=2016-07-02: 601 accepted; 5 rejected" in ok.stderr
    broken = tmp_path / "idbx-edx-events-2016-07-09.log.gz.gpg"
    broken.write_bytes(b"not encrypted at all")
    bad = subprocess.run(
        [idbx, "ingest", "events", str(broken), "--lake", str(tmp_path / "lake")], capture_output=True, text=True, env=gpg_env
    )
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


def test_lines_missing_from_what_landed_fail_the_file(tmp_path, lake, monkeypatch):
    """The lines of a log are counted apart from the parse; a parse that loses one fails the file."""
    from idbx.parsers import tracking_log

    log = write_event_log(None, tmp_path, sample_course_ids(1), 10, date(2016, 5, 1), 40, dirty=True)
    split = tracking_log._split

    def losing_a_line(*args):
        batch, count = split(*args)
        return batch.slice(1), count

    monkeypatch.setattr(tracking_log, "_split", losing_a_line)
    summary = ingest_events([log], lake)
    assert summary.failed[0].error == (
        f"{log.name}: 47 lines in the file, but 41 landed, 5 were rejected and 0 were blank or duplicates; nothing was published"
    )
    assert not (lake.bronze / "events").exists() or not list((lake.bronze / "events").rglob("*.parquet"))
    assert lake.manifest_get(f"events/{log.name}").status == "failed"
