"""The `idbx` console script as an operator runs it: exit codes, CSV output, messages."""

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

IDBX = [str(Path(sys.executable).with_name("idbx"))]


def run(*args, env=None, cwd=None):
    return subprocess.run(IDBX + list(args), capture_output=True, text=True, env=env or os.environ.copy(), cwd=cwd)


def test_ingest_then_query_csv(sample, tmp_path, gpg_env):
    lake = tmp_path / "lake"
    done = run("ingest", "package", str(sample.package), "--lake", str(lake), env=gpg_env)
    assert done.returncode == 0, done.stderr
    assert "ingested" in done.stderr and "30" in done.stderr and "not handled" not in done.stderr
    out = run(
        "query",
        "SELECT course_key, count(*) AS n FROM student_courseenrollment GROUP BY 1 ORDER BY 1",
        "--lake",
        str(lake),
        "--csv",
    )
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == ["course_key", "n"]
    assert [r[0] for r in rows[1:]] == ["idb1x_2t2014", "idb4_1x_2015_t4", "idb6x_2016_t1"]
    assert all(int(r[1]) > 0 for r in rows[1:])


def test_wrong_passphrase_exits_non_zero_with_a_clear_message(sample, tmp_path, gpg_env):
    env = {**gpg_env, "IDBX_GPG_PASSPHRASE": "nope"}
    done = run("ingest", "package", str(sample.package), "--lake", str(tmp_path / "lake"), env=env)
    assert done.returncode == 2
    assert "wrong passphrase" in done.stderr and str(sample.key_file) in done.stderr
    assert not (tmp_path / "lake" / "bronze").exists()


def test_a_file_whose_rows_are_all_rejected_makes_a_non_zero_exit(tmp_path):
    folder = tmp_path / "idbx-2016-08-01"
    folder.mkdir()
    (folder / "IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql").write_text(
        "id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n1\tx\tc\t2016-01-01 00:00:00\t1\thonor\n"
    )
    done = run("ingest", "package", str(folder), "--lake", str(tmp_path / "lake"))
    assert done.returncode == 1
    assert "all 1 rows rejected; line 2: CAST (user_id); nothing was published" in done.stderr


def test_the_corpus_package_lands_with_its_two_rejected_rows_named(corpus, tmp_path):
    """Two impossible dates in a 4-row table are within IDBX_MAX_REJECT_RATE: a warning, exit 0;
    with a stricter rate the table fails (exit 1) and the other files still land."""
    package = corpus / "package" / "edX-DemoX-Demo_Course"
    done = run("ingest", "package", str(package), "--snapshot-date", "2015-11-06", "--lake", str(tmp_path / "lake"))
    assert done.returncode == 0, done.stderr
    assert (
        "warning edX-DemoX-Demo_Course-teams-acceptance.sql: 2 of 4 rows rejected: line 3 (CAST (last_activity_at)), "
        "line 4 (CAST (last_activity_at)), within IDBX_MAX_REJECT_RATE"
    ) in done.stderr
    strict = run(
        "ingest",
        "package",
        str(package),
        "--snapshot-date",
        "2015-11-06",
        "--lake",
        str(tmp_path / "strict"),
        env={**os.environ, "IDBX_MAX_REJECT_RATE": "0.01"},
    )
    assert strict.returncode == 1
    assert (
        "failed edX-DemoX-Demo_Course-teams-acceptance.sql: 2 of 4 rows rejected (50.0%), over IDBX_MAX_REJECT_RATE=0.01"
        in strict.stderr
    )
    bronze = tmp_path / "strict" / "bronze"
    assert not [p for p in bronze.rglob("*") if "/teams/" in str(p) and p.is_file()]
    assert list((bronze / "auth_user").rglob("*.parquet"))


def test_bad_sql_is_reported(tmp_path, corpus):
    (tmp_path / "lake").mkdir()
    run("catalog", "refresh", "--lake", str(tmp_path / "lake"))
    done = run("query", "SELECT * FROM no_such_view", "--lake", str(tmp_path / "lake"))
    assert done.returncode == 1 and "no_such_view" in done.stderr


def test_courses_check_and_list(corpus, tmp_path):
    ok = run("courses", "check")
    assert ok.returncode == 0 and "50 course runs (32 included)" in ok.stderr
    bad = run("courses", "check", "--registry", str(corpus.parent / "data" / "seed_courses.csv"))
    assert bad.returncode == 1 and "row 15 (idb5_1x_3t2016)" in bad.stderr
    listed = run("courses", "list")
    assert listed.returncode == 0 and "idb1x_2t2014" in listed.stdout and "idb14x_3t2016" not in listed.stdout


def test_help_lists_the_commands():
    done = run("--help")
    assert done.returncode == 0
    for command in ("ingest", "query", "courses", "catalog", "lake", "sample"):
        assert command in done.stdout


def test_lake_check_says_whether_a_re_run_is_needed(tmp_path):
    folder = tmp_path / "idbx-2016-08-01"
    folder.mkdir()
    (folder / "IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql").write_text(
        "id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n1\t1\tc\t2016-01-01 00:00:00\t1\thonor\n"
    )
    lake = tmp_path / "lake"
    assert run("ingest", "package", str(folder), "--lake", str(lake)).returncode == 0
    ok = run("lake", "check", "--lake", str(lake))
    assert ok.returncode == 0 and "lake consistent: 1 source files recorded, 1 Parquet files checked" in ok.stdout
    dead_run = lake / "_scratch" / ("0" * 16)  # a scratch folder of a run that is gone
    dead_run.mkdir()
    leftover = run("lake", "check", "--lake", str(lake))
    assert leftover.returncode == 0, "the next run removes a leftover: nothing to re-run"
    assert (
        f"leftover _scratch/{'0' * 16}" in leftover.stdout
        and "lake consistent (1 leftover(s) the next run removes)" in leftover.stdout
    )
    dead_run.rmdir()
    next(lake.rglob("data.parquet")).unlink()
    bad = run("lake", "check", "--lake", str(lake))
    assert bad.returncode == 1
    assert "missing course_data/2016-08-01/IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql" in bad.stdout
    assert "the lake needs a re-run (1 missing)" in bad.stdout
    nowhere = run("lake", "check", "--lake", str(tmp_path / "nowhere"))
    assert nowhere.returncode == 2 and "no lake at" in nowhere.stderr  # a usage error


def test_a_folder_with_nothing_to_ingest_is_an_error(tmp_path):
    """Another folder given by mistake: one line, exit 1, no lake made (it used to land nothing and exit 0)."""
    empty, other = tmp_path / "idbx-2016-08-01", tmp_path / "downloads"
    empty.mkdir()
    other.mkdir()
    (other / "notes.txt").write_text("hello\n")
    (other / "grades.csv").write_text("a,b\n")
    lake = tmp_path / "lake"
    for command, folder, said in [
        ("package", empty, "idbx-2016-08-01: nothing to ingest: it holds no file"),
        ("events", empty, f"{empty}: nothing to ingest: it holds no file"),
        ("package", other, "downloads: nothing to ingest: none of its 2 file(s) (grades.csv, notes.txt) is a course-data file"),
        ("events", other, f"{other}: nothing to ingest: none of its 2 file(s) is a tracking log"),
    ]:
        done = run("ingest", command, str(folder), "--lake", str(lake))
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode == 1 and len(lines) == 1 and lines[0].startswith(f"error: {said}"), (command, done.stderr)
        assert not lake.exists()
