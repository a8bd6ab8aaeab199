"""Checks of a model's output at build time, as dbt and SQLMesh run them on real data: its grain
is unique, its `not_null` columns hold no NULL and its `accepted_values` columns no other value.

They read the output as staged, before it is moved into place: a failed check fails the model
with one line and the previous output stays. A model partitioned by day is checked on the days
this build rewrote (every grain of those models names the day, or an event's own line, which
falls on one day), a model merged by key on the keys it recomputed (its grain holds the key).
Examples in the message show the grain's values, except personal ones.
"""

from __future__ import annotations

import time

import duckdb

from idbx.errors import ModelError
from idbx.models.project import Model
from idbx.quoting import quote_ident, sql_string

# Grain columns whose values a message does not show (edX ids and addresses; learner keys and ids are pseudonymous).
_PERSONAL = {"user_id", "id", "ip", "username", "email", "name", "hash_id", "anonymous_user_id"}
_EXAMPLES = 3


def check_output(con: duckdb.DuckDBPyConnection, model: Model, scan: str) -> float:
    """Raise ModelError with the first check `scan` (a SELECT over the staged output) fails;
    return the CPU seconds the checks took."""
    started = time.process_time()
    _check_grain(con, model, scan)
    if model.not_null or model.accepted_values:
        _check_columns(con, model, scan)
    return time.process_time() - started


def _check_grain(con: duckdb.DuckDBPyConnection, model: Model, scan: str) -> None:
    grain = ", ".join(quote_ident(column) for column in model.grain)
    # First one 64-bit hash per row: equal grains hash alike, so as many distinct hashes as rows
    # proves the grain unique, at a third of the CPU of grouping by the columns (6 M rows of five
    # string and date columns: 0.8 vs 2.6 s). Fewer (a repeat, or a collision) takes the exact way.
    (repeats,) = con.execute(f"SELECT count(*) - count(DISTINCT hash({grain})) FROM ({scan}) AS output").fetchall()[0]
    if not repeats:
        return
    repeated = f"SELECT {grain}, count(*) AS copies FROM ({scan}) AS output GROUP BY ALL HAVING count(*) > 1"
    (keys,) = con.execute(f"SELECT count(*) FROM ({repeated}) AS repeated").fetchall()[0]
    if not keys:
        return
    shown = ", ".join("'…'" if column in _PERSONAL else f"CAST({quote_ident(column)} AS VARCHAR)" for column in model.grain)
    examples = con.execute(
        f"SELECT {shown} FROM ({repeated}) AS repeated ORDER BY copies DESC, {grain} LIMIT {_EXAMPLES}"
    ).fetchall()
    listed = "; ".join("(" + ", ".join("NULL" if v is None else str(v) for v in row) + ")" for row in examples)
    raise ModelError(model.label, f"grain ({', '.join(model.grain)}) not unique: {keys:,} duplicate key(s), e.g. {listed}")


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return sql_string(value) if isinstance(value, str) else repr(value)


def _outside(column: str, values: tuple) -> str:
    return f"{quote_ident(column)} NOT IN ({', '.join(_literal(v) for v in values)})"


def _check_columns(con: duckdb.DuckDBPyConnection, model: Model, scan: str) -> None:
    """Every not_null and accepted_values column in one scan of the output."""
    counts = [f"count(*) FILTER (WHERE {quote_ident(column)} IS NULL)" for column in model.not_null]
    counts += [f"count(*) FILTER (WHERE {_outside(c, values)})" for c, values in model.accepted_values.items()]
    found = con.execute(f"SELECT {', '.join(counts)} FROM ({scan}) AS output").fetchall()[0]
    nulls, others = found[: len(model.not_null)], found[len(model.not_null) :]
    for column, count in zip(model.not_null, nulls, strict=True):
        if count:
            raise ModelError(model.label, f"column {column} is declared not_null and holds {count:,} NULL(s)")
    for (column, values), count in zip(model.accepted_values.items(), others, strict=True):
        if count:
            seen = con.execute(
                f"SELECT DISTINCT CAST({quote_ident(column)} AS VARCHAR) AS value FROM ({scan}) AS output "
                f"WHERE {_outside(column, values)} ORDER BY value LIMIT {_EXAMPLES}"
            ).fetchall()
            raise ModelError(
                model.label,
                f"column {column} holds {count:,} row(s) outside its accepted_values, e.g. {', '.join(v for (v,) in seen)}",
            )


def staged_scan(files: list[str]) -> str:
    """SELECT over staged Parquet files (as the checks read them)."""
    return f"SELECT * FROM read_parquet([{', '.join(sql_string(f) for f in files)}], hive_partitioning = false)"


def flag_rows(con: duckdb.DuckDBPyConnection, model: Model, scan: str) -> tuple[list[tuple], list[str]]:
    """The rows of `scan` (the model's output) its `flags` count: (values of the line's columns...,
    count) and the lines telling them."""
    columns = model.flags.columns
    rows = con.execute(
        f"SELECT {', '.join(quote_ident(c) for c in columns)}, count(*) FROM ({scan}) AS output "
        f"WHERE {model.flags.where} GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    kind = "mart" if model.is_mart else "model"
    told = [model.flags.line.format(**dict(zip(columns, row, strict=False)), count=row[-1]) for row in rows]
    lines = [f"{model.name}: {line} (see the {model.name} {kind})" for line in told]
    return rows, lines
