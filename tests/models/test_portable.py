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
from idbx.models.spark_dialect import row_local_input, spark_sql

PROJECT = read_project()
HEADER = "/*\ndescription: d\ngrain: [a]\nmaterialized: table\ncolumns:\n  a: x\n*/\n"


def model(sql: str):
    return parse_model("m", "marts", Path("m.sql"), HEADER + sql)


@pytest.mark.parametrize("name", list(PROJECT.models))
def test_every_model_transpiles_to_spark_sql(name):
    model = PROJECT.models[name]
    try:
        spark = spark_sql(model, model.sql)
    except ModelError:  # DuckDB's JSON functions, hash(): run by DuckDB on Spark's workers, a batch at a time
        assert row_local_input(model), f"{model.label} has no Spark SQL and is not computed row by row"
        return
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
    days = PROJECT.models["int__events__learner_course_day"]
    assert "SUM_OF_SHORT_GAPS(learner_days.counted_times, 300000000)" in spark_sql(days, days.sql)
    empty_map = spark_sql(None, "SELECT CAST(MAP {} AS MAP(VARCHAR, BIGINT)) AS m")
    assert empty_map == "SELECT CAST(MAP() AS MAP<STRING, BIGINT>) AS m"
    calendar = spark_sql(None, "SELECT CAST(unnest(generate_series(a, b, INTERVAL 1 DAY)) AS DATE) AS d FROM t")
    assert "EXPLODE(CAST(SEQUENCE(a, b, INTERVAL '1' DAY) AS ARRAY<DATE>))" in calendar


def test_a_row_local_model_reads_one_relation_without_aggregates_windows_or_joins():
    assert row_local_input(PROJECT.models["stg__edx__events"]) == "events"
    assert row_local_input(model("SELECT a, hash(b) AS h FROM t, unnest(json_keys(c)) AS k(key) WHERE a > 0")) == "t"
    # A per-value lookup joined back on its key (the pseudonym once per learner) keeps it row by row.
    lookup = (
        "WITH ids AS (SELECT u, learner_pseudonym(u) AS l FROM (SELECT DISTINCT u FROM t) AS d) "
        "SELECT t.a, ids.l FROM t JOIN ids ON ids.u = t.u"
    )
    assert row_local_input(model(lookup)) == "t"
    assert row_local_input(PROJECT.models["int__events__problem_responses"]) == "stg__edx__events"
    assert row_local_input(model(lookup.replace("ids.u = t.u", "ids.u = t.v"))) is None  # not on its key
    assert row_local_input(model(lookup.replace("JOIN ids", "LEFT JOIN ids"))) is None
    for sql in (
        "SELECT count(*) AS a FROM t",
        "SELECT DISTINCT a FROM t",
        "SELECT lag(a) OVER (ORDER BY b) AS a FROM t",
        "SELECT t.a FROM t JOIN u ON t.a = u.a",
        "SELECT a FROM t LIMIT 1",
    ):
        assert row_local_input(model(sql)) is None, sql


def test_each_engine_defines_the_runner_functions():
    spark_defined = {statement.split("FUNCTION ", 1)[1].split("(", 1)[0] for statement in functions.spark_statements(b"k" * 16)}
    assert spark_defined | set(functions.DUCKDB_ON_SPARK) == functions.RUNNER_FUNCTIONS


def test_duckdb_s_list_and_storage_idioms_are_rewritten_for_spark():
    assert "SIZE(ARRAY_DISTINCT(FLATTEN(COLLECT_LIST(x))))" in spark_sql(
        None, "SELECT len(list_distinct(flatten(list(x)))) FROM t"
    )
    assert "MATERIALIZED" not in spark_sql(None, "WITH a AS MATERIALIZED (SELECT 1 AS x) SELECT x FROM a")
    # DuckDB's lists count from 1, Spark's arrays from 0: sqlglot shifts literal indexes only
    assert spark_sql(None, "SELECT names[n].id, names[2] FROM t") == "SELECT names[(n) - 1].id, names[1] FROM t"
    assert "- 1" not in spark_sql(None, "SELECT names[n:] FROM t")  # a slice is not an index
