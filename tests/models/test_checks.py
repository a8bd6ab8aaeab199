"""Checks at build time: a model whose output breaks its grain, a not_null or an accepted_values
fails with one line, the models reading it are skipped, and its previous output stays."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from idbx.errors import ModelError
from idbx.lake.store import Lake
from idbx.models import settings
from idbx.models.project import read_project
from idbx.models.runner import BUILT, FAILED, SKIPPED, build
from tests.models import scenario, tiny_lake

CHECKED = """/*
description: one row per registered course run (or not, when broken)
grain: [course_key]
materialized: table
not_null: [course_key]
accepted_values:
  excluded: [false, true]
columns:
  course_key: Short key of the course run.
  excluded: Whether the registry excludes it.
*/
"""
ABOVE = """/*
description: reads the checked one
grain: [course_key]
materialized: table
columns:
  course_key: Short key of the course run.
*/
SELECT DISTINCT course_key FROM zz_checked
"""
GOOD = "SELECT course_key, excluded FROM course_registry"


def project_with(tmp_path: Path, sql: str, name: str, header: str = CHECKED):
    root = tmp_path / name
    shutil.copytree(settings.sql_root(), root)
    (root / "marts" / "zz_checked.sql").write_text(header + sql, encoding="utf-8")
    (root / "marts" / "zz_above.sql").write_text(ABOVE, encoding="utf-8")
    return read_project(root)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(tmp_path / "lake")
    lake.root.mkdir()
    summary = build(lake, select=["zz_above"], project=project_with(tmp_path, GOOD, "good"))
    assert summary.outcome("zz_checked").status == BUILT and summary.outcome("zz_above").status == BUILT
    return lake


@pytest.mark.parametrize(
    "sql, error",
    [
        (
            "SELECT course_key, excluded FROM course_registry UNION ALL "
            "SELECT course_key, excluded FROM course_registry WHERE course_key IN ('idb10x_2015_t4', 'idb10x_3t2016')",
            "idbx/sql/marts/zz_checked.sql: grain (course_key) not unique: 2 duplicate key(s), "
            "e.g. (idb10x_2015_t4); (idb10x_3t2016)",
        ),
        (
            "SELECT CASE WHEN course_key = 'idb10x_2015_t4' THEN NULL ELSE course_key END AS course_key, excluded "
            "FROM course_registry",
            "idbx/sql/marts/zz_checked.sql: column course_key is declared not_null and holds 1 NULL(s)",
        ),
        (
            "SELECT course_key, CASE WHEN course_key LIKE 'idb1%' THEN NULL ELSE excluded END AS excluded FROM course_registry "
            "UNION ALL SELECT 'zz', NULL",
            None,  # NULL is not a value outside the accepted ones (not_null says whether NULLs are allowed)
        ),
    ],
)
def test_a_failed_check_fails_the_model_skips_its_readers_and_keeps_its_output(lake, tmp_path, sql, error):
    output = lake.marts / "zz_checked" / "data.parquet"
    before = output.read_bytes()
    summary = build(lake, select=["zz_above"], project=project_with(tmp_path, sql, "broken"))
    checked = summary.outcome("zz_checked")
    if error is None:
        assert checked.status == BUILT and checked.check_cpu_seconds > 0
        return
    assert checked.status == FAILED and checked.error == error
    above = summary.outcome("zz_above")
    assert above.status == SKIPPED and above.notes == ["not built: zz_checked failed"]
    assert output.read_bytes() == before
    assert not list(lake.root.glob("**/*.tmp-*"))
    # The next build with the model mended rebuilds it (its failure left no record of a good build).
    again = build(lake, select=["zz_above"], project=project_with(tmp_path, GOOD, "mended"))
    assert again.outcome("zz_checked").status == BUILT


def test_a_value_outside_accepted_values_fails_naming_it(lake, tmp_path):
    header = CHECKED.replace("excluded: [false, true]", "course_key: [idb10x_2015_t4, idb10x_3t2016]")
    summary = build(lake, select=["zz_above"], project=project_with(tmp_path, GOOD, "accepted", header))
    assert summary.outcome("zz_checked").error == (
        "idbx/sql/marts/zz_checked.sql: column course_key holds 48 row(s) outside its accepted_values, "
        "e.g. idb12x_1t2017, idb12x_2016_t2, idb13_1x_3t2016"
    )
    assert summary.outcome("zz_above").status == SKIPPED


def test_a_partitioned_model_is_checked_on_the_days_it_writes(tmp_path):
    """A daily aggregate whose day repeats a learner: its partitions stay as they were."""
    lake = Lake(tmp_path / "lake")
    tiny_lake.events(lake, date(2016, 7, 1), scenario.DAY_1)
    assert not build(lake).failed
    daily = lake.silver / "int__events__learner_course_day"
    before = {p: p.read_bytes() for p in daily.rglob("*.parquet")}
    root = tmp_path / "sql"
    shutil.copytree(settings.sql_root(), root)
    model = root / "intermediate" / "int__events__learner_course_day.sql"
    text = model.read_text(encoding="utf-8")
    body = text[text.index("*/") + 2 :]
    model.write_text(text[: text.index("*/") + 2] + f"\nSELECT * FROM ({body}) AS once UNION ALL SELECT * FROM ({body}) AS twice")
    summary = build(lake, project=read_project(root))
    failed = summary.outcome("int__events__learner_course_day")
    assert failed.status == FAILED
    assert failed.error.startswith(
        "idbx/sql/intermediate/int__events__learner_course_day.sql: grain (course_key, learner_key, event_date) not unique: "
    )
    assert summary.outcome("person_course").status == SKIPPED
    assert {p: p.read_bytes() for p in daily.rglob("*.parquet")} == before


def test_malformed_check_keys_name_the_file(tmp_path):
    root = tmp_path / "sql"
    shutil.copytree(settings.sql_root(), root)
    (root / "marts" / "zz_checked.sql").write_text(CHECKED.replace("not_null: [course_key]", "not_null: [nope]") + GOOD)
    with pytest.raises(ModelError, match=r"zz_checked.sql: not_null names nope, not one of its columns"):
        read_project(root)
    (root / "marts" / "zz_checked.sql").write_text(CHECKED.replace("  excluded: [false, true]", "  excluded: yes") + GOOD)
    with pytest.raises(ModelError, match=r"zz_checked.sql: accepted_values must map output columns to their values"):
        read_project(root)


def test_the_shipped_checks_hold_on_the_sample_lake(built_sample):
    """Every stored model declares checks its rows meet (the build that made this lake ran them)."""
    with duckdb.connect(str(built_sample.catalog_path), read_only=True) as con:
        modes = {mode for (mode,) in con.execute("SELECT DISTINCT mode FROM person_course WHERE mode IS NOT NULL").fetchall()}
    assert modes and modes <= set(read_project().models["person_course"].accepted_values["mode"])


MERGED = """/*
description: one row per learner (wrongly, one per learner and active day)
grain: [course_key, learner_key]
materialized: incremental
merge_by: [course_key, learner_key]
columns:
  course_key: Short key of the course run.
  learner_key: Pseudonymous learner key.
  event_date: A day the learner was active.
*/
SELECT course_key, learner_key, event_date FROM int__events__learner_course_day
"""


def test_a_merged_model_recomputed_by_key_is_checked(tmp_path):
    """One active day per learner at first; a new day of learner 1 breaks the grain on that key
    (recomputed by key: the day's aggregate tells which keys changed)."""
    lake = Lake(tmp_path / "lake")
    tiny_lake.events(lake, date(2016, 7, 1), scenario.DAY_1)
    root = tmp_path / "sql"
    shutil.copytree(settings.sql_root(), root)
    (root / "marts" / "zz_merged.sql").write_text(MERGED, encoding="utf-8")
    (root / "marts" / "zz_above.sql").write_text(ABOVE.replace("zz_checked", "zz_merged"), encoding="utf-8")
    first = build(lake, select=["zz_above"], project=read_project(root))
    assert first.outcome("zz_merged").status == BUILT and not first.failed
    output = lake.marts / "zz_merged" / "course_key=ra_2016_t1" / "data.parquet"  # the learner's course
    before = output.read_bytes()
    tiny_lake.events(lake, date(2016, 7, 7), [scenario.ev(1, "play_video", scenario.t(7, 8, 0))])
    summary = build(lake, select=["zz_above"], project=read_project(root))
    assert summary.outcome("int__events__learner_course_day").notes == [
        "recomputed 1 event day(s) of 1 learner(s): 1 partition(s) written, 0 removed"
    ]
    merged = summary.outcome("zz_merged")
    assert merged.status == FAILED
    assert merged.error == (
        "idbx/sql/marts/zz_merged.sql: grain (course_key, learner_key) not unique: 1 duplicate key(s), "
        f"e.g. (ra_2016_t1, {tiny_lake.learner_key(1)})"
    )
    assert summary.outcome("zz_above").status == SKIPPED
    assert output.read_bytes() == before
