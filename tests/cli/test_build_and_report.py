"""`idbx build` and `idbx report` as an operator runs them."""

from __future__ import annotations

import os
import re

import duckdb

from idbx.lake.store import Lake
from tests.cli.test_cli import run
from tests.conftest import SAMPLE_PSEUDONYM_KEY
from tests.exports.test_writer import PII


def env_with(**extra: str) -> dict[str, str]:
    return {**os.environ, "IDBX_PSEUDONYM_KEY": SAMPLE_PSEUDONYM_KEY, **extra}


def test_build_then_report(built_sample):
    done = run("build", "--lake", str(built_sample.root), env=env_with())
    assert done.returncode == 0, done.stderr
    assert re.search(r"person_course\s+│\s+unchanged", done.stderr) and "0 failed" in done.stderr
    report = run("report", "general", "--lake", str(built_sample.root), "--excel", "--course", "idb1x_2t2014", env=env_with())
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("\ufeffid,name,") and len(report.stdout.splitlines()) == 2
    assert "Introducción a la Gestión" in report.stdout


def test_no_learner_names_emails_or_ips_in_any_mart_or_silver_table(built_sample):
    con = duckdb.connect(str(built_sample.catalog_path), read_only=True)
    checked = 0
    for (view,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall():
        if not ((built_sample.silver / view).is_dir() or (built_sample.marts / view).is_dir()):
            continue
        columns = [c for (c,) in con.execute(f'SELECT column_name FROM (DESCRIBE "{view}")').fetchall()]
        text = " || '|' || ".join(f"coalesce(CAST(\"{c}\" AS VARCHAR), '')" for c in columns)
        found = con.execute(f'SELECT {text} FROM "{view}" WHERE regexp_matches({text}, ?) LIMIT 1', [PII.pattern]).fetchall()
        assert not found, f"{view}: {found[0][0][:200]}"
        checked += 1
    assert checked >= 25
    # The bronze tables do hold them: the search would find them.
    assert (
        con.execute("SELECT count(*) FROM auth_user WHERE regexp_matches(email || username, ?)", [PII.pattern]).fetchall()[0][0]
        > 0
    )


def test_reconciliation_of_the_sample_files_is_clean(built_sample):
    con = duckdb.connect(str(built_sample.catalog_path), read_only=True)
    statuses = dict(
        con.execute("SELECT status, count(*) FROM reconciliation WHERE check_name = 'file_rows' GROUP BY 1").fetchall()
    )
    assert statuses == {"ok": 18 + 3 + 3 + 3}  # 6 tables, a structure and a forum dump x 3 courses; 3 days of logs


def test_build_without_a_key_is_refused(tmp_path):
    env = env_with()
    del env["IDBX_PSEUDONYM_KEY"]
    done = run("build", "--lake", str(tmp_path / "lake"), env=env)
    assert done.returncode == 2 and "IDBX_PSEUDONYM_KEY" in done.stderr and "Traceback" not in done.stderr


def test_a_failing_model_makes_a_non_zero_exit(tmp_path):
    lake = Lake(tmp_path / "lake")
    partition = lake.partition_dir("student_courseenrollment", snapshot_date="2016-07-04", course="idb1x_2t2014")
    partition.mkdir(parents=True)
    duckdb.execute(
        f"COPY (SELECT 'x1' AS user_id, 'idb1x_2t2014' AS course_key, DATE '2016-07-04' AS snapshot_date) "
        f"TO '{partition / 'data.parquet'}' (FORMAT parquet)"
    )
    done = run("build", "--lake", str(lake.root), env=env_with())
    assert done.returncode == 1
    assert "error: idbx/sql/staging/stg__edx__user_pseudonyms.sql: " in done.stderr and "Traceback" not in done.stderr


def test_report_before_any_build_and_list_of_models(tmp_path):
    (tmp_path / "lake").mkdir()
    done = run("report", "general", "--lake", str(tmp_path / "lake"), env=env_with())
    assert done.returncode == 1 and "idbx build" in done.stderr
    listed = run("build", "--list")
    assert listed.returncode == 0
    assert re.search(r"marts\s+incremental\s+person_course", listed.stdout)
    assert re.search(r"marts\s+table\s+course_report", listed.stdout)
    assert re.search(r"intermediate\s+incremental\s+int__events__learner_course_day", listed.stdout)


def test_the_build_tells_the_reconciliation_checks_that_did_not_match(built_sample):
    """The reconciliation mart's `flags`: one line per check and status other than ok."""
    with duckdb.connect(str(built_sample.catalog_path), read_only=True) as con:
        flagged = con.execute(
            "SELECT check_name, status, count(*) FROM reconciliation WHERE status <> 'ok' GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    assert flagged  # the sample's snapshot and events differ for some runs
    done = run("build", "--lake", str(built_sample.root), env=env_with())
    assert done.returncode == 0, done.stderr
    told = [line for line in done.stderr.splitlines() if line.startswith("reconciliation: ")]
    assert told == [
        f"reconciliation: {rows} {check} check(s) {status} (see the reconciliation mart)" for check, status, rows in flagged
    ]
