"""DuckDB's dialect to Spark SQL (pure sqlglot, no JVM): what `idbx build --engine spark` runs.

sqlglot carries most of a model over. What it cannot is rewritten here (Spark's explode inside a
cast, an ordered list of structs, an empty map, `len` of a list, a CTE's MATERIALIZED hint), named
as a function the Spark build defines (idbx/models/functions.py), or refused, naming the model;
a model computed row by row is run by DuckDB itself on Spark's workers (`row_local_input`).
"""

from __future__ import annotations

import re

from idbx.errors import ModelError
from idbx.models import functions
from idbx.models.project import Model


def spark_sql(model: Model | None, sql: str) -> str:
    """`sql` (DuckDB's dialect) as Spark SQL; ModelError naming the model's file for a construct
    that has no mapping: a function neither engine-neutral nor defined by the runner for Spark
    (idbx/models/functions.py), or one sqlglot cannot write for Spark."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel, UnsupportedError

    label = model.label if model else "SQL"
    tree = sqlglot.parse_one(sql, read="duckdb")
    unknown = sorted({f.name.lower() for f in tree.find_all(exp.Anonymous)} - functions.RUNNER_FUNCTIONS)
    if unknown:
        raise ModelError(
            label,
            f"calls {', '.join(unknown)}, which Spark lacks: define it for each engine in "
            "idbx/models/functions.py, or write it in the portable subset (idbx/sql/README.md)",
        )
    for cast in list(tree.find_all(exp.Cast)):  # CAST(MAP {} AS MAP(...)): Spark's empty map is map()
        if isinstance(cast.this, exp.ToMap) and not cast.this.this.expressions:
            cast.this.replace(exp.Anonymous(this="map", expressions=[]))
    for cte in tree.find_all(exp.CTE):  # AS MATERIALIZED: a DuckDB planning hint Spark does not take
        cte.set("materialized", None)
    _cast_inside_unnest(tree)
    _one_based_indexes(tree)
    for length in list(tree.find_all(exp.Length)):  # DuckDB's len() of a list is Spark's size()
        if isinstance(length.this, _list_functions()):
            length.replace(exp.ArraySize(this=length.this.copy()))
    for aggregate in list(tree.find_all(exp.ArrayAgg)):
        if isinstance(aggregate.this, exp.Order):
            replaced, replacement = _sorted_list(label, aggregate)
            replaced.replace(replacement)
    try:
        return tree.sql("spark", unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise ModelError(label, f"no Spark SQL for it: {str(exc).splitlines()[0]}") from None


def _sorted_list(label: str, aggregate):
    """`list(struct_pack(k := x, ...) ORDER BY x)` as `array_sort(collect_list(struct(x AS k, ...)),
    <by k>)`: Spark's collect_list has no order. Only that form (ascending by the struct's first
    field, NULLs last as DuckDB's default) has a mapping. Returns (node to replace, replacement)."""
    import sqlglot
    from sqlglot import exp

    order = aggregate.this
    value = order.this
    first = value.expressions[0] if isinstance(value, exp.Struct) and value.expressions else None
    keys = order.expressions
    if (
        first is None
        or len(keys) != 1
        or keys[0].args.get("desc")
        or not isinstance(first, exp.PropertyEQ)
        or first.expression != keys[0].this
    ):
        raise ModelError(
            label,
            "list(... ORDER BY ...) carries over to Spark only as a list of structs ordered by their first field, ascending",
        )
    key = first.this.name
    collected = exp.ArrayAgg(this=value.copy())
    if isinstance(aggregate.parent, exp.Filter):  # FILTER (WHERE ...) belongs to the aggregate
        aggregate, collected = aggregate.parent, exp.Filter(this=collected, expression=aggregate.parent.expression.copy())
    left, right = f"l.{key}", f"r.{key}"
    sort = sqlglot.parse_one(
        f"array_sort(entries, (l, r) -> CASE WHEN {left} IS NULL AND {right} IS NULL THEN 0 WHEN {left} IS NULL THEN 1 "
        f"WHEN {right} IS NULL THEN -1 WHEN {left} < {right} THEN -1 WHEN {left} > {right} THEN 1 ELSE 0 END)",
        read="spark",
    )
    next(column for column in sort.find_all(exp.Column) if column.name == "entries").replace(collected)
    return aggregate, sort


def _list_functions():
    from sqlglot import exp

    return (exp.ArrayDistinct, exp.Flatten, exp.ArrayAgg, exp.Array, exp.ArrayConcat, exp.ArrayFilter, exp.ArraySort)


def _one_based_indexes(tree) -> None:
    """`list[i]` with an index that is not a literal as `list[i - 1]` (a slice is left as it is):
    DuckDB's lists count from 1, Spark's arrays from 0, and sqlglot shifts only literal indexes. A
    map looked up by a column would be shifted too: the models look maps up by literal keys only
    (the Spark-vs-DuckDB tests of every model would fail on one that did not)."""
    from sqlglot import exp

    for bracket in list(tree.find_all(exp.Bracket)):
        [index] = bracket.expressions if len(bracket.expressions) == 1 else [None]
        if index is not None and not isinstance(index, (exp.Literal, exp.Slice)):
            index.replace(exp.Sub(this=exp.Paren(this=index.copy()), expression=exp.Literal.number(1)))


def _cast_inside_unnest(tree) -> None:
    """`CAST(unnest(list) AS T)` as `unnest(CAST(list AS T[]))`: Spark's explode cannot be nested in
    an expression."""
    from sqlglot import exp

    for cast in list(tree.find_all(exp.Cast)):
        if isinstance(cast.this, exp.Explode):
            array = exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[cast.to.copy()], nested=True)
            cast.replace(exp.Explode(this=exp.Cast(this=cast.this.this.copy(), to=array)))


def spark_type(duckdb_type: str) -> str:
    """Spark's type for a DuckDB type (JSON is text on Spark, as DuckDB writes it to Parquet)."""
    from sqlglot import exp

    # A struct's field names quoted: one named like a SQL function (current_time) is a name here.
    quoted = _STRUCT_FIELD.sub(r'\1"\2"\3', duckdb_type)
    built = exp.DataType.build(quoted, dialect="duckdb")
    for node in list(built.find_all(exp.DataType)):
        if node.this == exp.DataType.Type.JSON:
            node.set("this", exp.DataType.Type.TEXT)
        elif node.this.name in _WIDER:  # Spark has no unsigned nor 128-bit integers
            wider = exp.DataType.build(_WIDER[node.this.name])
            built = wider if node is built else built
            node.replace(wider)
    return built.sql("spark")


_STRUCT_FIELD = re.compile(r"([(,]\s*)([A-Za-z_][A-Za-z0-9_]*)(\s+[A-Z])")

_WIDER = {
    "UTINYINT": "SMALLINT",
    "USMALLINT": "INT",
    "UINT": "BIGINT",
    "UBIGINT": "DECIMAL(20, 0)",
    "INT128": "DECIMAL(38, 0)",
    "UINT128": "DECIMAL(38, 0)",
}


def row_local_input(model: Model) -> str | None:
    """The one relation a model reads if it computes each output row from one input row (or a
    row into several, with unnest): no aggregate, window, DISTINCT, GROUP BY, ORDER BY, LIMIT,
    nor a join of two relations, but for a per-value lookup (`_lookups`). Such a model runs on
    Spark as DuckDB itself, a batch of rows at a time on the workers, when its SQL has no Spark
    mapping (DuckDB's JSON functions, `hash`)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(model.sql, read="duckdb")
    for cte, join in _lookups(tree):
        join.pop()
        cte.pop()
    if any(tree.find_all(exp.AggFunc, exp.Window, exp.Distinct, exp.Group, exp.Order, exp.Limit)):
        return None
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    read = {t.name for t in tree.find_all(exp.Table) if isinstance(t.this, exp.Identifier) and t.name not in ctes}
    joins = [j for j in tree.find_all(exp.Join) if not isinstance(j.this, (exp.Unnest, exp.Lateral))]
    return read.pop() if len(read) == 1 and not joins else None


def _lookups(tree) -> list:
    """(CTE, join) pairs of a per-value lookup: `c AS (SELECT k, f(k) AS v FROM (SELECT DISTINCT k
    FROM x))` joined `JOIN c ON c.k = y.k` (the pseudonym computed once per learner). Within any
    batch of rows, every k of the batch finds its row, so the lookup keeps the model row by row."""
    from sqlglot import exp

    found = []
    for cte in tree.find_all(exp.CTE):
        body, name = cte.this, cte.alias_or_name
        source = body.args.get("from_") or body.args.get("from")
        inner = source.this if source else None
        inner = inner.this if isinstance(inner, exp.Subquery) else None
        if not (
            isinstance(body, exp.Select)
            and isinstance(inner, exp.Select)
            and inner.args.get("distinct")
            and len(inner.expressions) == 1
            and isinstance(inner.expressions[0], exp.Column)
            and not any(body.find_all(exp.AggFunc, exp.Window, exp.Join))
            and not body.args.get("where")
        ):
            continue
        key = inner.expressions[0].name
        if not any(isinstance(e, exp.Column) and e.name == key for e in body.expressions):
            continue
        for join in tree.find_all(exp.Join):
            condition = join.args.get("on")
            if (
                isinstance(join.this, exp.Table)
                and join.this.name == name
                and not join.args.get("side")
                and isinstance(condition, exp.EQ)
                and {c.name for c in condition.find_all(exp.Column)} == {key}
                and {c.table for c in condition.find_all(exp.Column)} >= {join.this.alias_or_name}
            ):
                found.append((cte, join))
    return found
