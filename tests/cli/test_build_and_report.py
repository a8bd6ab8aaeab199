"""`idbx build` and `idbx report` as an operator runs them, on the encrypted sample delivery."""

from __future__ import annotations

import csv
import io
import os
import re

import duckdb
import pytest

from idbx.lake import Lake
from tests.cli.test_cli import run

KEY = "cli-tests-pseudonym-key-0123"
# What the sample's learners are called, write from and are reached at (idbx/sample.py).
PII = re.compile(r"learner[0-9]+|@example\.org|190\.[0-9]+\.[0-9]+\.7|181\.[0-9]+\.1\.9|Pérez|Gómez|Nuñez|da Silva|O'Neil")


def env_with(**extra: str) -> dict[str, str]:
    return {**os.environ, "IDBX_PSEUDONYM_KEY": KEY, **extra}


@pytest.fixture(scope="module")
def sample_lake(sample, tmp_path_factory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("cli") / "lake")
    env = env_with(IDBX_GPG_KEY=str(sample.key_file), IDBX_GPG_PASSPHRASE=sample.passphrase)
    assert run("ingest", "package", str(sample.package), "--lake", str(lake.root), env=env).returncode == 0
    assert run("ingest", "events", *map(str, sample.event_logs), "--lake", str(lake.root), env=env).returncode == 0
    done = run("build", "--lake", str(lake.root), env=env)
    assert done.returncode == 0, done.stderr
    assert "person_course" in done.stderr and "0 failed" in done.stderr
    return lake


def test_no_learner_names_emails_or_ips_in_any_mart_or_silver_table(sample_lake):
    con = duckdb.connect(str(sample_lake.catalog_path), read_only=True)
    checked = 0
    for (view,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall():
        if not ((sample_lake.silver / view).is_dir() or (sample_lake.marts / view).is_dir()):
            continue
        columns = [c for (c,) in con.execute(f'SELECT column_name FROM (DESCRIBE "{view}")').fetchall()]
        text = " || '|' || ".join(f"coalesce(CAST(\"{c}\" AS VARCHAR), '')" for c in columns)
        found = con.execute(f"SELECT {text} FROM \"{view}\" WHERE regexp_matches({text}, ?) LIMIT 1", [PII.pattern]).fetchall()
        assert not found, f"{view}: {found[0][0][:200]}"
        checked += 1
    assert checked >= 25
    # The bronze tables do hold them: the search would find them.
    assert con.execute("SELECT count(*) FROM auth_user WHERE regexp_matches(email || username, ?)", [PII.pattern]).fetchall()[0][0] > 0


def test_reconciliation_of_the_sample_files_is_clean(sample_lake):
    con = duckdb.connect(str(sample_lake.catalog_path), read_only=True)
    statuses = dict(con.execute("SELECT status, count(*) FROM reconciliation WHERE check_name = 'file_rows' GROUP BY 1").fetchall())
    assert statuses == {"ok": 18 + 3}  # 6 tables x 3 courses, 3 days of logs


@pytest.mark.parametrize("name, header", [
    ("general", "id,name,sme,start_date,end_date,total_users,active_users,approved_users,certified_users,failed_users,male,female,countries"),
    ("enrollments", "mooc_name,mooc_id,registration_date,gender,country,learner_id,mode,is_active"),
    ("active-users", "course_id,learner_id,repetitions,status,course_name"),
    ("masterfile", "country,gender,level_of_education,learner_id,year_of_birth,course_id,progress,grade,mode,status,"
                   "enrollment_mode,is_active,enrolled_at,course_name,sme,start_date,end_date"),
    ("person-course", "course_id,course_key,learner_id,enrolled,enrolled_at,unenrolled_at"),
])
def test_reports_have_the_predecessor_columns_and_no_pii(sample_lake, tmp_path, name, header):
    out = tmp_path / f"{name}.csv"
    done = run("report", name, "--lake", str(sample_lake.root), "--out", str(out), env=env_with())
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith(header)
    assert not PII.search(text)
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) > 1 and all(len(row) == len(rows[0]) for row in rows)


def test_excel_export_starts_with_a_byte_order_mark_and_keeps_accents(sample_lake):
    done = run("report", "general", "--lake", str(sample_lake.root), "--excel", "--course", "idb1x_2t2014", env=env_with())
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("\ufeffid,name,")
    assert "Introducción a la Gestión" in done.stdout and len(done.stdout.splitlines()) == 2


def test_build_without_a_key_is_refused(sample_lake):
    env = env_with()
    del env["IDBX_PSEUDONYM_KEY"]
    done = run("build", "--lake", str(sample_lake.root), env=env)
    assert done.returncode == 1 and "IDBX_PSEUDONYM_KEY" in done.stderr and "Traceback" not in done.stderr


def test_a_failing_model_makes_a_non_zero_exit(tmp_path):
    lake = Lake(tmp_path / "lake")
    partition = lake.partition_dir("student_courseenrollment", snapshot_date="2016-07-04", course="idb1x_2t2014")
    partition.mkdir(parents=True)
    duckdb.execute(f"COPY (SELECT 'x1' AS user_id, 'idb1x_2t2014' AS course_key, DATE '2016-07-04' AS snapshot_date) "
                   f"TO '{partition / 'data.parquet'}' (FORMAT parquet)")
    done = run("build", "--lake", str(lake.root), env=env_with())
    assert done.returncode == 1
    assert "error: idbx/sql/staging/stg__edx__user_pseudonyms.sql: " in done.stderr and "Traceback" not in done.stderr


def test_report_before_any_build(tmp_path):
    run("catalog", "refresh", "--lake", str(tmp_path / "lake"))
    done = run("report", "general", "--lake", str(tmp_path / "lake"), env=env_with())
    assert done.returncode == 1 and "run `idbx build` first" in done.stderr


def test_list_models():
    done = run("build", "--list")
    assert done.returncode == 0
    assert re.search(r"marts\s+table\s+person_course", done.stdout)
    assert re.search(r"intermediate\s+incremental\s+int__events__learner_course_day", done.stdout)
