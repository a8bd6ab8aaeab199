"""Every model carries over to Spark SQL (sqlglot only, no JVM): what has no mapping fails here,
naming the model, before a Spark build would start."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from idbx.errors import ModelError
from idbx.models import functions
from idbx.models.project import parse_model, read_project
from idbx.models.spark import spark_sql

HEADER = "/*\ndescription: d\ngrain: [a]\nmaterialized: table\ncolumns:\n  a: x\n*/\n"


def model(sql: str):
    return parse_model("m", "marts", Path("m.sql"), HEADER + sql)


@pytest.mark.parametrize("name", list(read_project().models))
def test_every_model_transpiles_to_spark_sql(name):
    model = read_project().models[name]
    spark = spark_sql(model, model.sql)
    tree = sqlglot.parse_one(spark, read="spark")  # Spark's own dialect reads it back
    called = {f.name.lower() for f in tree.find_all(exp.Anonymous)}
    # Anything sqlglot passed through untouched is a function the Spark build defines itself.
    assert called <= functions.RUNNER_FUNCTIONS | {"map", "sort_array"}, called


def test_a_duckdb_only_function_is_refused_naming_the_model():
    with pytest.raises(ModelError, match=r"idbx/sql/marts/m.sql.*list_sum.*functions.py"):
        spark_sql(model("SELECT list_sum([1, 2]) AS a"), "SELECT list_sum([1, 2]) AS a")


def test_an_ordered_list_needs_the_struct_s_first_field_as_its_order():
    sql = "SELECT list(struct_pack(k := a, v := b) ORDER BY b) AS a FROM t"
    with pytest.raises(ModelError, match="first field"):
        spark_sql(model(sql), sql)
    ordered = spark_sql(None, "SELECT list(struct_pack(k := a, v := b) ORDER BY a) FILTER (WHERE b > 0) AS a FROM t")
    assert "ARRAY_SORT(COLLECT_LIST(STRUCT(a AS k, b AS v)) FILTER(WHERE b > 0), (l, r) ->" in ordered


def test_the_engine_specific_constructs_are_rewritten_for_spark():
    days = read_project().models["int__events__learner_course_day"]
    assert "SUM_OF_SHORT_GAPS(learner_days.counted_times, 300000000)" in spark_sql(days, days.sql)
    empty_map = spark_sql(None, "SELECT CAST(MAP {} AS MAP(VARCHAR, BIGINT)) AS m")
    assert empty_map == "SELECT CAST(MAP() AS MAP<STRING, BIGINT>) AS m"
    calendar = spark_sql(None, "SELECT CAST(unnest(generate_series(a, b, INTERVAL 1 DAY)) AS DATE) AS d FROM t")
    assert "EXPLODE(CAST(SEQUENCE(a, b, INTERVAL '1' DAY) AS ARRAY<DATE>))" in calendar


def test_each_engine_defines_the_runner_functions():
    spark_defined = {statement.split("FUNCTION ", 1)[1].split("(", 1)[0] for statement in functions.spark_statements(b"k" * 16)}
    assert spark_defined | set(functions.DUCKDB_ON_SPARK) == functions.RUNNER_FUNCTIONS
