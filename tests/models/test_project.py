"""Model files: headers, dependencies from the SQL, order, and documented columns = real columns."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from idbx.errors import ModelError
from idbx.lake.store import Lake
from idbx.models import settings
from idbx.models.project import parse_model, read_project
from idbx.models.runner import describe
from tests.models.tiny_lake import KEY

HEADER = """/*
description: test
grain: [k]
materialized: table
columns:
  k: a key
*/
"""


def model_file(root: Path, layer: str, name: str, sql: str, header: str = HEADER) -> Path:
    path = root / layer / f"{name}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + sql, encoding="utf-8")
    return path


def test_dependencies_come_from_the_sql_and_order_the_build(tmp_path):
    model_file(tmp_path, "marts", "m", "WITH x AS (SELECT k FROM b) SELECT k FROM x JOIN a USING (k), unnest([1]) AS u(i)")
    model_file(tmp_path, "intermediate", "b", "SELECT k FROM a WHERE k IN (SELECT k FROM auth_user)")
    model_file(tmp_path, "staging", "a", "SELECT id AS k FROM auth_user")
    project = read_project(tmp_path)
    assert list(project.models) == ["a", "b", "m"]
    assert project.models["m"].refs == {"a", "b"}  # the CTE and the table function are not tables
    assert project.upstream("m") == {"a", "b"}
    assert project.sources("m") == {"auth_user"}
    assert [m.name for m in project.selection(["b"])] == ["a", "b"]


def test_a_cycle_names_the_models(tmp_path):
    model_file(tmp_path, "staging", "a", "SELECT k FROM b")
    model_file(tmp_path, "staging", "b", "SELECT k FROM a")
    with pytest.raises(ModelError, match="cycle: a, b"):
        read_project(tmp_path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("SELECT 1 AS k", "must start with a /\\* ... \\*/ header"),
        (HEADER.replace("materialized: table", "materialized: tabel") + "SELECT 1 AS k", "materialized must be one of"),
        (HEADER.replace("  k: a key", "  k: ''") + "SELECT 1 AS k", "columns must map every output column"),
        (HEADER.replace("grain: [k]\n", "") + "SELECT 1 AS k", "missing \\['grain'\\]"),
        (HEADER.replace("grain: [k]", "grain: one row per k") + "SELECT 1 AS k", "grain must list the output columns"),
        (HEADER.replace("grain: [k]", "grain: []") + "SELECT 1 AS k", "grain must list the output columns"),
        (HEADER.replace("grain: [k]", "grain: [k, j]") + "SELECT 1 AS k", "grain names j, not one of its columns"),
        (HEADER + "SELECT 1 AS k; SELECT 2 AS k", "exactly one SELECT"),
        (HEADER + "SELECT k FROM main.auth_user", "without a schema"),
        (
            HEADER.replace("materialized: table", "materialized: incremental") + "SELECT 1 AS k",
            "an incremental model, and only one",
        ),
        (
            HEADER.replace("materialized: table", "materialized: incremental\npartition_by: log_date") + "SELECT 1 AS k",
            "partition_by log_date must be one of its columns",
        ),
        (
            HEADER.replace("materialized: table", "materialized: table\npartition_by: event_date") + "SELECT 1 AS k",
            "an incremental model, and only one",
        ),
        (
            HEADER.replace("materialized: table", "materialized: table\nmerge_by: [k]") + "SELECT 1 AS k",
            "an incremental model, and only one",
        ),
        (
            HEADER.replace("materialized: table", "materialized: incremental\nmerge_by: [j]") + "SELECT 1 AS k",
            "merge_by must list some of the grain",
        ),
        (
            HEADER.replace("materialized: table", "materialized: incremental\nmerge_by: [k]\npartition_by: log_date")
            + "SELECT 1 AS k",
            "an incremental model, and only one",
        ),
        (
            HEADER.replace("materialized: table", "materialized: incremental\nmerge_by: [k]") + "SELECT 1 AS k",
            "a merged model is kept one file per course: its merge_by starts with course_key",
        ),
        (HEADER + "SELEC k FROM a", "does not parse|exactly one SELECT"),
    ],
)
def test_a_malformed_model_names_its_file(text, message):
    with pytest.raises(ModelError, match=message) as caught:
        parse_model("m", "marts", Path("m.sql"), text)
    assert str(caught.value).startswith("idbx/sql/marts/m.sql: ")


def test_a_merged_model_checks_its_rows_have_a_course():
    header = HEADER.replace("grain: [k]", "grain: [course_key, k]").replace("materialized: table", "materialized: incremental")
    header = header.replace("  k: a key", "  k: a key\n  course_key: the course").replace("*/", "merge_by: [course_key]\n*/")
    model = parse_model("m", "marts", Path("m.sql"), header + "SELECT 'c' AS course_key, 1 AS k")
    assert model.not_null == ("course_key",) and model.output_partition == "course_key"


@pytest.fixture(scope="module")
def bound(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, str]]]:
    """Every shipped model bound against an empty lake: its columns and types."""
    return describe(Lake(tmp_path_factory.mktemp("empty") / "lake"), key=KEY)


def test_documented_columns_are_the_real_ones(bound):
    """Each model's header lists its output columns, in order, as DuckDB binds them (marts also
    get the runner's computed_at, data_through and definitions_version)."""
    for name, model in read_project().models.items():
        documented = list(model.columns) + (list(settings.MART_COLUMNS) if model.is_mart else [])
        assert [column for column, _ in bound[name]] == documented, model.label


def test_the_interface_other_tools_rely_on(bound):
    real = {name: dict(columns) for name, columns in bound.items()}
    assert {"course_id", "learner_id", "country", "country_by_ip", "country_source"} <= set(real["person_course"])
    assert {k: real["weekly_active"][k] for k in ("course_id", "week_start", "label", "learners")} == {
        "course_id": "VARCHAR",
        "week_start": "DATE",
        "label": "VARCHAR",
        "learners": "BIGINT",
    }
    assert {k: real["enrollment_daily"][k] for k in ("course_id", "date", "mode", "enrolled", "cumulative")} == {
        "course_id": "VARCHAR",
        "date": "DATE",
        "mode": "VARCHAR",
        "enrolled": "BIGINT",
        "cumulative": "BIGINT",
    }
    assert list(real["general_report"])[:13] == [
        "id",
        "name",
        "sme",
        "start_date",
        "end_date",
        "total_users",
        "active_users",
        "approved_users",
        "certified_users",
        "failed_users",
        "male",
        "female",
        "countries",
    ]
    assert "course_report" in real


def test_no_mart_column_is_a_double_made_of_a_count(bound):
    """DuckDB sums integers into HUGEINT, which Parquet stores as DOUBLE: counts are cast back."""
    for name, columns in bound.items():
        assert not [c for c, type_ in columns if type_ in ("HUGEINT", "DECIMAL(38,0)")], name


def test_the_shipped_models_parse_without_a_cache(tmp_path):
    parsed: dict[str, list[str]] = {}
    first = read_project(parsed=parsed)
    assert len(parsed) == len(first.models)
    shutil.copytree(settings.sql_root(), tmp_path / "sql")
    assert read_project(tmp_path / "sql", parsed=parsed).models.keys() == first.models.keys()


def test_a_project_read_again_in_the_process_is_not_parsed_again_but_a_changed_model_is(tmp_path, monkeypatch):
    from idbx.models import project

    shutil.copytree(settings.sql_root(), tmp_path / "sql")
    first = read_project(tmp_path / "sql")
    monkeypatch.setattr(project, "_table_refs", lambda label, sql: pytest.fail(f"{label} parsed again"))
    assert read_project(tmp_path / "sql").models.keys() == first.models.keys()
    monkeypatch.undo()
    changed = tmp_path / "sql" / "marts" / "general_report.sql"
    text = changed.read_text(encoding="utf-8")
    assert "FROM course_report" in text
    joined = "FROM course_report CROSS JOIN (SELECT 1 FROM weekly_active LIMIT 1) AS w"
    changed.write_text(text.replace("FROM course_report", joined), encoding="utf-8")
    again = read_project(tmp_path / "sql")
    assert again.models["general_report"].refs == first.models["general_report"].refs | {"weekly_active"}
