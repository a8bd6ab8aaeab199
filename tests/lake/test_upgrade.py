"""Event files landed before the body fields were kept beside the bodies: upgraded in place, sealed
again, and read by the models as if landed today."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import duckdb

from idbx.ingest.events import ingest_events
from idbx.lake.check import check_lake
from idbx.lake.store import Lake, footer_metadata, parquet_options
from idbx.lake.upgrade import event_files_to_upgrade, upgrade_event_files
from idbx.local.sample import sample_course_ids, write_event_log
from idbx.models.runner import build
from idbx.parsers.event_fields import DERIVED_EVENT_COLUMNS
from idbx.quoting import sql_string
from tests.cli.test_cli import run
from tests.models import scenario, tiny_lake

DERIVED = ", ".join(DERIVED_EVENT_COLUMNS)


def _without_derived(path: Path, target: Path, footer: dict[str, str]) -> None:
    rows = f"read_parquet({sql_string(str(path))}, hive_partitioning = false)"
    duckdb.execute(f"COPY (SELECT * EXCLUDE ({DERIVED}) FROM {rows}) TO {sql_string(str(target))} ({parquet_options(footer)})")


def _as_landed_before(lake: Lake, path: Path) -> None:
    """Rewrite a landed file without the derived columns, sealed so: what an older idbx landed."""
    tmp = lake.aside(path)
    _without_derived(path, tmp, footer_metadata(path))
    lake.replace_sealed(tmp, path)


def _rows(path: Path) -> list[tuple]:
    return duckdb.sql(f"SELECT * FROM read_parquet({sql_string(str(path))}) ORDER BY line_number").fetchall()


def test_an_old_file_gets_the_columns_it_would_have_had_and_stays_sealed(tmp_path, lake):
    log = write_event_log(None, tmp_path, sample_course_ids(2), 10, date(2016, 5, 1), 40, dirty=True)
    assert not ingest_events([log], lake).failed
    [path] = sorted((lake.bronze / "events").glob("log_date=*/*.parquet"))
    landed = _rows(path)
    _as_landed_before(lake, path)
    assert event_files_to_upgrade(lake) == [path]
    assert not check_lake(lake).needs_rerun

    assert upgrade_event_files(lake) == 1
    assert _rows(path) == landed  # every column, the derived ones as ingestion derives them
    report = check_lake(lake)
    assert not report.needs_rerun, [p.message for p in report.problems]
    assert upgrade_event_files(lake) == 0 and event_files_to_upgrade(lake) == []


def test_the_build_upgrades_first_and_builds_the_same_marts(tmp_path):
    new, old = Lake(tmp_path / "new"), Lake(tmp_path / "old")
    for lake in (new, old):
        tiny_lake.events(lake, date(2016, 7, 1), _video_day())
    _strip(old)
    assert event_files_to_upgrade(old) and not event_files_to_upgrade(new)

    built_new = build(new, key=tiny_lake.KEY)
    done = run("build", "--lake", str(old.root), env={**os.environ, "IDBX_PSEUDONYM_KEY": tiny_lake.KEY})  # as staff run it
    assert done.returncode == 0, done.stderr
    assert "upgraded 1 event file(s) landed before their body fields were kept" in done.stderr
    assert not built_new.failed and built_new.upgraded_event_files == 0
    for mart in ("video_segments", "learner_engagement", "person_course"):
        query = f"SELECT COLUMNS(lambda c: c <> 'computed_at') FROM {mart} ORDER BY ALL"
        assert tiny_lake.rows(old, query) == tiny_lake.rows(new, query), mart
    assert tiny_lake.rows(new, "SELECT sum(num_views) FROM video_segments")[0][0] > 0  # the day has work in it
    assert build(old, key=tiny_lake.KEY).upgraded_event_files == 0


def _strip(lake: Lake) -> None:
    for path in (lake.bronze / "events").glob("log_date=*/*.parquet"):
        tmp = path.with_name("stripped.parquet")
        _without_derived(path, tmp, {})
        tmp.replace(path)


def _video_day() -> list[dict]:
    base = {"course_id": scenario.A, "username": "ana", "user_id": 7}

    def at(second: int) -> datetime:
        return datetime(2016, 7, 1, 10, 0, second)

    return [
        {**base, "time": at(0), "event_type": "play_video", "event_source": "browser", "event": {"id": "v1", "currentTime": 0}},
        {
            **base,
            "time": at(30),
            "event_type": "pause_video",
            "event_source": "browser",
            "event": {"id": "v1", "currentTime": 30},
        },
        {**base, "time": at(40), "event_type": "edx.course.enrollment.activated", "event": {"user_id": 7, "mode": "audit"}},
    ]


def test_a_file_changed_since_it_was_sealed_is_not_resealed_by_an_upgrade(tmp_path, lake):
    log = write_event_log(None, tmp_path, sample_course_ids(2), 10, date(2016, 5, 1), 40, dirty=False)
    assert not ingest_events([log], lake).failed
    [path] = sorted((lake.bronze / "events").glob("log_date=*/*.parquet"))
    _as_landed_before(lake, path)
    forged = path.with_name("forged.parquet")
    rows = f"read_parquet({sql_string(str(path))}, hive_partitioning = false)"
    duckdb.execute(f"COPY (SELECT * FROM {rows}) TO {sql_string(str(forged))} (FORMAT parquet)")  # behind the engine's back
    forged.replace(path)
    before = path.read_bytes()
    assert event_files_to_upgrade(lake) == [] and upgrade_event_files(lake) == 0
    assert path.read_bytes() == before
    assert check_lake(lake).needs_rerun  # still reported as not what was landed
