"""What an events run pays besides its lines: the catalog kept when it already reads the new day,
and no MongoDB client loaded by a command that never talks to MongoDB."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import duckdb

from idbx.ingest.events import ingest_events
from idbx.lake import catalog
from idbx.local.sample import sample_course_ids, write_event_log


def _events_by_day(lake) -> dict:
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
        return dict(con.execute("SELECT log_date, count(*) FROM events GROUP BY 1").fetchall())


def test_a_new_day_keeps_a_catalog_that_already_reads_it(tmp_path, lake):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first = write_event_log(None, tmp_path / "a", sample_course_ids(2), 10, date(2016, 5, 1), 30, dirty=True)
    second = write_event_log(None, tmp_path / "b", sample_course_ids(2), 10, date(2016, 5, 2), 20, dirty=True)
    ingest_events([first], lake)
    before = lake.catalog_path.stat()
    summary = ingest_events([second], lake)
    assert summary.rows == 21 and summary.rejects > 0  # the dirty day has one late event more
    after = lake.catalog_path.stat()
    assert after.st_ino == before.st_ino
    # Touched, so that the next build does not take the new day's files for ones it missed.
    assert after.st_mtime_ns >= max(path.stat().st_mtime_ns for path in lake.bronze.rglob("*.parquet"))
    assert _events_by_day(lake) == {date(2016, 5, 1): 31, date(2016, 5, 2): 21}
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM event_rejects WHERE log_date = '2016-05-02'").fetchone()[0] == summary.rejects


def test_a_catalog_without_the_event_views_is_rebuilt(tmp_path, lake):
    catalog.refresh(lake)  # an empty lake: the events view is the typed empty one
    log = write_event_log(None, tmp_path, sample_course_ids(2), 10, date(2016, 5, 1), 30, dirty=False)
    ingest_events([log], lake)
    assert _events_by_day(lake) == {date(2016, 5, 1): 30}


def test_a_catalog_bound_to_other_event_columns_is_rebuilt(tmp_path, lake):
    """A day written with other columns (an older version's files) changed the view's columns:
    the catalog a run finds is then not the one its files need."""
    log = write_event_log(None, tmp_path, sample_course_ids(2), 10, date(2016, 5, 1), 30, dirty=False)
    ingest_events([log], lake)
    (tmp_path / "b").mkdir()
    day = lake.bronze / "events" / "log_date=2016-04-30"
    day.mkdir()
    duckdb.sql(f"COPY (SELECT TIMESTAMP '2016-04-30 10:00' AS time, 'older' AS extra) TO '{day / 'old.parquet'}'")
    catalog.refresh(lake)
    before = lake.catalog_path.stat()
    later = write_event_log(None, tmp_path / "b", sample_course_ids(2), 10, date(2016, 5, 2), 5, dirty=False)
    ingest_events([later], lake)
    assert lake.catalog_path.stat().st_ino != before.st_ino
    assert _events_by_day(lake) == {date(2016, 4, 30): 1, date(2016, 5, 1): 30, date(2016, 5, 2): 5}


def test_the_command_line_starts_without_the_mongodb_client():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, idbx.cli; print('pymongo' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"
