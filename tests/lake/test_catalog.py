"""The catalog as analysts use it: the DuckDB command-line client, no Python."""

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb

from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.lake import catalog
from idbx.parsers.naming import COURSE_TABLES

DUCKDB_CLI = shutil.which("duckdb", path=str(Path(sys.executable).parent))


def test_empty_lake_has_every_view_typed(lake):
    catalog.refresh(lake)
    con = duckdb.connect(str(lake.catalog_path), read_only=True)
    views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    expected = set(COURSE_TABLES) | {f"{t}_history" for t in COURSE_TABLES}
    assert expected | {"events", "event_types", "event_rejects", "table_rejects", "ingest_manifest"} <= views
    columns = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE events)").fetchall())
    assert columns["time"] == "TIMESTAMP" and columns["event"] == "JSON" and columns["log_date"] == "DATE"
    assert con.execute("SELECT count(*) FROM auth_user").fetchall() == [(0,)]
    blocks = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE course_blocks)").fetchall())
    assert (blocks["position"], blocks["depth"], blocks["due"], blocks["snapshot_date"]) == (
        "INTEGER",
        "INTEGER",
        "TIMESTAMP",
        "DATE",
    )
    posts = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE forum_posts_history)").fetchall())
    assert (posts["author_id"], posts["created_at"], posts["anonymous"]) == ("BIGINT", "TIMESTAMP", "BOOLEAN")


def test_the_duckdb_cli_reads_the_catalog(sample, gpg, lake):
    assert DUCKDB_CLI, "the duckdb CLI (duckdb-cli, a dev dependency) should be installed"
    ingest_package([sample.package], lake, gpg)
    ingest_events(sample.event_logs, lake, gpg)
    sql = (
        "SELECT count(*) FROM student_courseenrollment; SELECT count(DISTINCT log_date) FROM events; "
        "SELECT count(*) FROM auth_user_history WHERE snapshot_date = DATE '2016-07-04';"
    )
    done = subprocess.run(
        [DUCKDB_CLI, "-readonly", "-csv", "-noheader", str(lake.catalog_path)], input=sql, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    enrollments, days, users = (int(line) for line in done.stdout.split())
    con = duckdb.connect(str(lake.catalog_path), read_only=True)
    assert enrollments == con.execute("SELECT count(*) FROM student_courseenrollment").fetchall()[0][0] > 0
    assert days == 3 and users > 0


def test_latest_snapshot_view_keeps_history(sample, gpg, lake, tmp_path):
    ingest_package([sample.package], lake, gpg)
    ingest_package([sample.package], lake, gpg, snapshot_date=date(2016, 7, 11))
    con = duckdb.connect(str(lake.catalog_path), read_only=True)
    assert con.execute("SELECT DISTINCT snapshot_date FROM auth_user").fetchall() == [(date(2016, 7, 11),)]
    history = con.execute("SELECT count(DISTINCT snapshot_date), count(*) FROM auth_user_history").fetchall()[0]
    latest = con.execute("SELECT count(*) FROM auth_user").fetchall()[0][0]
    assert history == (2, 2 * latest)
