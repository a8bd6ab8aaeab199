"""What an operator's typo or an analyst's query must not do: write into the lake, create lakes
or folders nobody asked for, or end in a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

IDBX = str(Path(sys.executable).with_name("idbx"))


def idbx(*args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([IDBX, *map(str, args)], capture_output=True, text=True, env={**os.environ, **(env or {})})


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*")}


@pytest.fixture(scope="module")
def catalog_lake(tmp_path_factory) -> Path:
    lake = tmp_path_factory.mktemp("guard") / "lake"
    lake.mkdir()
    assert idbx("catalog", "refresh", "--lake", lake).returncode == 0
    return lake


@pytest.mark.parametrize(
    "sql, kind",
    [
        ("COPY (SELECT 1 AS x) TO '{target}/forged.parquet'", "COPY"),
        ("SELECT 1; COPY (SELECT 1 AS x) TO '{target}/forged.csv'", "COPY"),
        ("EXPORT DATABASE '{target}/export'", "EXPORT"),
        ("EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{target}/forged.csv'", "COPY"),
        ("ATTACH '{target}/other.duckdb' AS other", "ATTACH"),
        ("INSTALL httpfs", "LOAD"),
        ("LOAD httpfs", "LOAD"),
        ("COPY FROM DATABASE memory TO other", "PRAGMA"),
        ("SET enable_external_access = false", "SET"),
    ],
)
def test_a_query_that_would_write_is_refused_and_writes_nothing(catalog_lake, tmp_path, sql, kind):
    before = files_under(catalog_lake)
    run = idbx("query", sql.format(target=tmp_path), "--lake", catalog_lake)
    assert run.returncode == 1
    assert run.stderr.strip().startswith("error: idbx query runs queries only") and f"not {kind}:" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())
    assert files_under(catalog_lake) == before


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 42 AS answer",
        "WITH a AS (SELECT 42 AS answer) SELECT * FROM a",
        "FROM (SELECT 42 AS answer)",
        "DESCRIBE SELECT 42 AS answer",
        "SUMMARIZE SELECT 42 AS answer",
        "EXPLAIN SELECT 42 AS answer",
    ],
)
def test_queries_still_run(catalog_lake, sql):
    run = idbx("query", sql, "--lake", catalog_lake, "--csv")
    assert run.returncode == 0, run.stderr
    assert "42" in run.stdout or "answer" in run.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["build"],
        ["query", "SELECT 1"],
        ["report", "general"],
        ["dashboard"],
        ["publish"],
        ["catalog", "refresh"],
        ["lake", "check"],
        ["scrub", "--dry-run"],
    ],
)
def test_commands_that_read_a_lake_do_not_create_one(tmp_path, command):
    typo = tmp_path / "typo"
    run = idbx(*command, "--lake", typo, env={"IDBX_PSEUDONYM_KEY": "k" * 32, "IDBX_MONGO_URI": "mongodb://127.0.0.1:9"})
    assert run.returncode == 2, run.stderr
    assert (
        run.stderr.strip() == f"error: no lake at {typo}: check --lake (or IDBX_LAKE); `idbx ingest` and `idbx sync` create one"
    )
    assert not typo.exists()


def test_report_out_into_a_missing_folder_is_refused(catalog_lake, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "x.csv"
    run = idbx("report", "general", "--lake", catalog_lake, "--out", target)
    assert run.returncode == 2
    assert run.stderr.strip() == f"error: --out {target}: there is no folder {target.parent} (create it first)"
    assert not (tmp_path / "no").exists()


def test_dashboard_out_into_a_missing_folder_is_refused(catalog_lake, tmp_path):
    target = tmp_path / "no" / "site"
    run = idbx("dashboard", "--lake", catalog_lake, "--out", target)
    assert run.returncode == 2
    assert run.stderr.strip() == f"error: --out {target}: there is no folder {target.parent} (create it first)"
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("name", ["a.b", "a b", "x$y"])
def test_an_impossible_database_name_is_one_line(catalog_lake, name):
    for args, env in ((["--db", name], {}), ([], {"IDBX_MONGO_DB": name})):
        run = idbx("publish", "--lake", catalog_lake, *args, env=env)
        assert run.returncode == 2
        assert run.stderr.strip().startswith(f"error: {name!r} cannot be a MongoDB database name")
        assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_a_mart_with_a_wrong_schema_is_named(tmp_path):
    import duckdb

    lake = tmp_path / "lake"
    mart = lake / "marts" / "person_course"
    mart.mkdir(parents=True)
    duckdb.sql(f"COPY (SELECT 1 AS something_else) TO '{mart / 'data.parquet'}' (FORMAT parquet)")
    assert idbx("catalog", "refresh", "--lake", lake).returncode == 0
    run = idbx("report", "person-course", "--lake", lake)
    assert run.returncode == 1
    assert run.stderr.strip().startswith("error: person-course: the person_course mart cannot be read as this export needs (")
    assert run.stderr.strip().endswith("rebuild it: idbx build --select person_course")
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
