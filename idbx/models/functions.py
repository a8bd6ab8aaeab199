"""The functions the models call that are not SQL both engines share, each defined once per engine.

The models are written in DuckDB's dialect and carried to Spark SQL by sqlglot. What sqlglot
cannot carry (DuckDB's list lambdas with a 1-based index, list slices, `list_sum`, `epoch_us`, and
the runner's own functions: the pseudonym, the default passing grade, the IP lookups) is called
by name, and each engine is given its definition here: DuckDB temp macros, Spark SQL temporary
functions (and, for the IP lookups, Arrow functions that run the DuckDB macros themselves on
Spark's workers, so both engines locate an address with the same code).
"""

from __future__ import annotations

from idbx.privacy import pseudonym
from idbx.registry import DEFAULT_PASSING_GRADE

# Every function a model may call that is neither DuckDB's nor Spark's under the same name and
# meaning (tests/models/test_portable.py fails on any other).
SUM_OF_SHORT_GAPS = "sum_of_short_gaps"
RUNNER_FUNCTIONS = frozenset(
    {
        pseudonym.MACRO,
        pseudonym.ID_MACRO,
        "default_passing_grade",
        "ip_country",
        "ip_is_public",
        "epoch_us",
        SUM_OF_SHORT_GAPS,
        "isfinite",
        "json_valid",
    }
)
# Computed on Spark by DuckDB itself (its macros or functions), a vector of values at a time
# (idbx/models/spark.py).
DUCKDB_ON_SPARK = {"ip_country": "STRING", "ip_is_public": "BOOLEAN", "json_valid": "BOOLEAN"}

# sum_of_short_gaps: the sum of the gaps between consecutive sorted times (a list) that are at most
# `longest`; DuckDB's lambda index is 1-based, Spark's 0-based, so times[i] is the previous time in both.
_DUCKDB = {
    SUM_OF_SHORT_GAPS: (
        f"CREATE OR REPLACE TEMP MACRO {SUM_OF_SHORT_GAPS}(times, longest) AS coalesce(list_sum(list_filter("
        "list_transform(times[2:], lambda t, i: t - times[i]), lambda gap: gap <= longest)), 0)"
    ),
}
_SPARK = {
    SUM_OF_SHORT_GAPS: (
        f"CREATE OR REPLACE TEMPORARY FUNCTION {SUM_OF_SHORT_GAPS}(times ARRAY<BIGINT>, longest BIGINT) RETURNS BIGINT "
        "RETURN coalesce(aggregate(filter(transform(slice(times, 2, greatest(size(times) - 1, 0)), (t, i) -> t - times[i]), "
        "gap -> gap <= longest), 0L, (total, gap) -> total + gap), 0L)"
    ),
    "epoch_us": "CREATE OR REPLACE TEMPORARY FUNCTION epoch_us(t TIMESTAMP_NTZ) RETURNS BIGINT RETURN unix_micros(CAST(t AS "
    "TIMESTAMP))",
    "isfinite": (
        "CREATE OR REPLACE TEMPORARY FUNCTION isfinite(x DOUBLE) RETURNS BOOLEAN "
        "RETURN NOT isnan(x) AND x NOT IN (double('Infinity'), double('-Infinity'))"
    ),
    "default_passing_grade": (
        f"CREATE OR REPLACE TEMPORARY FUNCTION default_passing_grade() RETURNS DOUBLE RETURN {DEFAULT_PASSING_GRADE}"
    ),
}


def duckdb_statements() -> list[str]:
    """The macros the DuckDB build defines besides the pseudonym, the IP lookups and the passing grade."""
    return list(_DUCKDB.values())


def spark_statements(key: bytes) -> list[str]:
    """Every SQL function the Spark build defines (the IP lookups are registered apart)."""
    return [*_SPARK.values(), *pseudonym.spark_functions_sql(key)]
