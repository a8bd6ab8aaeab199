"""MySQL dump files (`CREATE TABLE` + `INSERT INTO ... VALUES`), as self-hosted Open edX produces.

The rows are re-written in the edX TSV dialect so that both kinds of input go through the one table
parser and land exactly the same columns and types. A line holding one whole INSERT (how mysqldump
writes them) is split and unescaped in DuckDB (mysql_inserts.py) and its rows spooled to Parquet in
scratch; sqlglot reads everything else, between those lines: the `CREATE TABLE`s (the columns of
an INSERT that names none), and any INSERT the fast path refuses. Either way a row keeps its line.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from idbx import engine
from idbx.errors import SourceFormatError
from idbx.parsers import RAW_CLIP
from idbx.parsers.mysql_inserts import classified_lines_sql, column_names, tsv_line_sql, tuples_sql
from idbx.parsers.tracking_log import read_lines
from idbx.quoting import quote_ident, sql_string

# mysqldump's lines are about a megabyte (its net_buffer_length); one over this is refused
# (sqlglot would need some 100 times its size).
_MAX_LINE = 1 << 30
# Lines a row group of the classified lines: DuckDB splits the work between threads by row group.
_LINES_A_GROUP = 16
# Rows a row group of the spool: the writer holds a group per thread; 20,000 halves the peak of the default.
_ROWS_A_GROUP = 20_000


class _Spool:
    """A folder in scratch holding a dump's rows as Parquet, removed with the last table read from it."""

    def __init__(self, scratch: Path | None):
        self.path = Path(tempfile.mkdtemp(prefix="mysql-dump-", dir=scratch))
        weakref.finalize(self, shutil.rmtree, self.path, True)

    def connect(self) -> duckdb.DuckDBPyConnection:
        con = engine.connect(self.path)
        con.execute("SET preserve_insertion_order = true")
        return con


class DumpTable:
    """A table's rows as read from a dump, each with its line in the dump. Rows read by the fast
    path stay in a Parquet spool (line, ordinal, cells) and come into Python only when asked for
    (a many-course dump is split by course in Python); rows given here are kept as they are."""

    def __init__(
        self,
        name: str,
        columns: list[str],
        rows: list[list[str | None]] | None = None,
        lines: list[int] | None = None,
        rejects: list[tuple[int, str, str]] | None = None,
        spooled: Path | None = None,
        spool: _Spool | None = None,
    ):
        self.name = name
        self.columns = columns
        self.rejects = [] if rejects is None else rejects
        self.tsv: Path | None = None
        self._rows = [] if rows is None else rows
        self._lines = [] if lines is None else lines
        self._spooled = spooled
        self._spool = spool

    def _load(self) -> None:
        if self._spooled is None:
            return
        con = self._spool.connect()
        try:
            rows = con.sql(f"SELECT line, cells FROM {self._spooled_rows()} ORDER BY line, ordinal").to_arrow_table()
        finally:
            con.close()
        self._lines, self._rows, self._spooled = rows["line"].to_pylist(), rows["cells"].to_pylist(), None

    def _spooled_rows(self) -> str:
        """The spool's rows, `row` their place in it, which is their place in the TSV."""
        return f"(SELECT file_row_number AS row, * FROM read_parquet({sql_string(str(self._spooled))}, file_row_number = true))"

    @property
    def rows(self) -> list[list[str | None]]:
        self._load()
        return self._rows

    @property
    def lines(self) -> list[int]:
        self._load()
        return self._lines

    def write_tsv(self, destination: Path) -> None:
        """The rows in the edX TSV dialect, line i + 2 holding row i."""
        if self._spooled is None:
            with open(destination, "w", encoding="utf-8", newline="\n") as out:
                out.write("\t".join(self.columns) + "\n")
                for row in self._rows:
                    out.write(tsv_line(row) + "\n")
        else:
            con = self._spool.connect()
            try:
                # One column named as the header line, in the spool's order: no sort.
                con.execute(
                    f"COPY (SELECT {tsv_line_sql('cells')} AS {quote_ident(chr(9).join(self.columns))} "
                    f"FROM {self._spooled_rows()}) TO {sql_string(str(destination))} "
                    "(FORMAT csv, HEADER true, QUOTE '', ESCAPE '', DELIMITER chr(1))"
                )
            finally:
                con.close()
        self.tsv = destination

    def split(self, keys_of: Callable[[list[str | None]], Iterable[str]]) -> tuple[dict[str, DumpTable], list[tuple[int, list]]]:
        """The rows grouped by the key(s) `keys_of` gives each (a row may go to several groups),
        each group keeping the rows' dump lines; rows given no key come back apart, with their line."""
        groups: dict[str, DumpTable] = {}
        keyless: list[tuple[int, list]] = []
        for row, line in zip(self.rows, self.lines, strict=True):
            keys = list(keys_of(row))
            if not keys:
                keyless.append((line, row))
            for key in keys:
                group = groups.setdefault(key, DumpTable(self.name, self.columns))
                group.rows.append(row)
                group.lines.append(line)
        return groups, keyless

    def rejects_in_dump_lines(
        self, con: duckdb.DuckDBPyConnection, tsv_rejects: duckdb.DuckDBPyRelation, source: str
    ) -> duckdb.DuckDBPyRelation:
        """Rejects of the re-written TSV pointed back at the dump's lines, plus rows that could not be aligned."""
        tsv_rejects.create_view("tsv_rejects")
        if self._spooled is None:
            con.register("dump_lines", pa.table({"tsv_line": list(range(2, len(self._lines) + 2)), "dump_line": self._lines}))
        else:
            con.execute(
                f"CREATE TEMP VIEW dump_lines AS SELECT row + 2 AS tsv_line, line AS dump_line FROM {self._spooled_rows()}"
            )
        con.register(
            "dump_rejects",
            pa.table(
                {
                    "source_file": [source] * len(self.rejects),
                    "line_number": pa.array([line for line, _, _ in self.rejects], pa.int64()),
                    "reason": [reason for _, reason, _ in self.rejects],
                    "raw": [raw for _, _, raw in self.rejects],
                }
            ),
        )
        return con.sql(
            """
            SELECT r.source_file, m.dump_line AS line_number, r.reason, r.raw
            FROM tsv_rejects r JOIN dump_lines m ON r.line_number = m.tsv_line
            UNION ALL
            SELECT source_file, line_number, reason, raw FROM dump_rejects
            """
        )


class _Reader:
    """Tables from the fast path's lines and sqlglot's statements, in the order of the dump."""

    def __init__(self, con: duckdb.DuckDBPyConnection, spool: _Spool, source: str, statements: list[tuple[int, exp.Expression]]):
        self.con, self.spool, self.source = con, spool, source
        created: dict[str, list[str]] = {}
        self.created: list[tuple[str, int, list[str]]] = []  # each CREATE TABLE: table, line, columns
        # Each INSERT sqlglot read, and each kind of fast line (table, column list, the CREATE
        # TABLE before it): first line, table, columns, sqlglot's rows | SQL choosing the lines.
        self.inserts: list[tuple[int, str, list[str] | None, list | str]] = []
        for offset, statement in statements:
            line = _line_of(statement, 0) + offset
            if isinstance(statement, exp.Create) and isinstance(statement.this, exp.Schema):
                created[statement.this.this.name] = _created_columns(statement)
                self.created.append((statement.this.this.name, line, created[statement.this.this.name]))
            elif isinstance(statement, exp.Insert):
                name, columns, rows = _insert(statement, created, offset)
                self.inserts.append((line, name, columns, rows))

    def tables(self) -> dict[str, DumpTable]:
        self.inserts += self._fast_groups()
        self.inserts.sort(key=lambda insert: insert[0])
        tables: dict[str, DumpTable] = {}
        for _, name, columns, _ in self.inserts:
            if not columns:
                raise SourceFormatError(self.source, _no_columns(name))
            tables.setdefault(name, DumpTable(name, columns, spool=self.spool))
        for number, table in enumerate(tables.values()):
            self._spool_rows(table, self.spool.path / f"table-{number}.parquet")
        return tables

    def _fast_groups(self) -> list[tuple[int, str, list[str] | None, str]]:
        """The fast lines grouped by table and columns: those they name, else the latest CREATE TABLE's."""
        self.con.register(
            "creates",
            pa.table(
                {
                    "name": pa.array([name for name, _, _ in self.created], pa.string()),
                    "line": pa.array([line for _, line, _ in self.created], pa.int64()),
                    "create_id": pa.array(range(len(self.created)), pa.int64()),
                }
            ),
        )
        groups = self.con.execute(
            """
            WITH l AS (
                SELECT f.line_number, f.name, f.columns, CASE WHEN f.columns = '' THEN c.create_id END AS create_id
                FROM (SELECT line_number, name, columns FROM classified WHERE fast) f
                ASOF LEFT JOIN creates c ON f.name = c.name AND f.line_number >= c.line
            )
            SELECT name, columns, create_id, min(line_number) FROM l GROUP BY name, columns, create_id
            """
        ).fetchall()
        self.con.unregister("creates")
        return [
            (
                first_line,
                name,
                column_names(columns) if columns else (self.created[create_id][2] if create_id is not None else None),
                self._lines_of(name, columns, create_id),
            )
            for name, columns, create_id, first_line in groups
        ]

    def _lines_of(self, name: str, columns: str, create_id: int | None) -> str:
        """SQL choosing a group's lines by what they say and where they are (the CREATE TABLE
        before them, and the next one of that table): a filter on the scan, no join."""
        where = f"fast AND name = {sql_string(name)} AND columns = {sql_string(columns)}"
        if create_id is None:
            return where
        where += f" AND line_number > {self.created[create_id][1]}"
        later = [line for other, line, _ in self.created[create_id + 1 :] if other == name]
        return where + (f" AND line_number < {later[0]}" if later else "")

    def _spool_rows(self, table: DumpTable, spooled: Path) -> None:
        """The table's rows to `spooled`, aligned with its columns; rows with the wrong number of
        values to its rejects."""
        by_sqlglot = DumpTable(table.name, table.columns)
        parts = []
        for _, name, columns, rows in self.inserts:
            if name != table.name:
                continue
            if isinstance(rows, list):
                _add_rows(by_sqlglot, columns, rows)
                continue
            at = {column: at for at, column in enumerate(columns, start=1)}  # the last of a name, as dict() keeps it
            if table.columns == columns:
                aligned = "cells"
            else:
                cells = [f"cells[{at[column]}]" if column in at else "NULL::VARCHAR" for column in table.columns]
                aligned = f"[{', '.join(cells)}]"
            expected = len(columns)
            parts.append(
                f"SELECT line_number AS line, ordinal, CASE WHEN len(cells) = {expected} THEN {aligned} END AS cells, "
                f"CASE WHEN len(cells) <> {expected} THEN tuple END AS refused, len(cells) AS found, {expected} AS expected "
                f"FROM ({tuples_sql(f'(SELECT line_number, tuples FROM classified WHERE {rows})')})"
            )
        self.con.register(
            "sqlglot_rows",
            pa.table(
                {"line": by_sqlglot.lines, "ordinal": range(len(by_sqlglot.lines)), "cells": by_sqlglot.rows},
                pa.schema([("line", pa.int64()), ("ordinal", pa.int64()), ("cells", pa.list_(pa.string()))]),
            ),
        )
        parts.append(
            "SELECT line, ordinal, cells, NULL::VARCHAR AS refused, NULL::BIGINT AS found, NULL::BIGINT AS expected "
            "FROM sqlglot_rows"
        )
        # No ORDER BY and no join (either would hold the dump in memory): the spool's rows are in
        # the order DuckDB writes them (the dump's, as a rule), and a row's place in the TSV is its
        # place in the spool (see DumpTable).
        self.con.execute(
            f"COPY ({' UNION ALL '.join(parts)}) TO {sql_string(str(spooled))} (FORMAT parquet, ROW_GROUP_SIZE {_ROWS_A_GROUP})"
        )
        self.con.unregister("sqlglot_rows")
        refused = self.con.execute(
            f"SELECT line, refused, found, expected FROM read_parquet({sql_string(str(spooled))}) WHERE refused IS NOT NULL"
        ).fetchall()
        if refused:  # rare: the spool again without them
            kept = spooled.with_suffix(".kept.parquet")
            self.con.execute(
                f"COPY (SELECT * FROM read_parquet({sql_string(str(spooled))}) WHERE refused IS NULL) "
                f"TO {sql_string(str(kept))} (FORMAT parquet, ROW_GROUP_SIZE {_ROWS_A_GROUP})"
            )
            spooled = kept  # scratch: the first spool goes with the run's folder
        rejects = by_sqlglot.rejects + [
            (line, f"expected {expected} values, found {found}", _tuple_sql(tuple_text))
            for line, tuple_text, found, expected in refused
        ]
        table.rejects = sorted(rejects, key=lambda reject: reject[0])
        table._spooled = spooled


def _tuple_sql(text: str) -> str:
    """A refused tuple as sqlglot writes it back, as the rejects of its rows read by sqlglot show it."""
    return (
        sqlglot.parse_one(f"INSERT INTO t VALUES {text}", read="mysql").expression.expressions[0].sql(dialect="mysql")[:RAW_CLIP]
    )


def _value(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Literal):
        return node.this
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return "-" + node.this.this
    if isinstance(node, exp.Boolean):
        return "1" if node.this else "0"
    return node.sql(dialect="mysql")


def _line_of(node: exp.Expression, default: int) -> int:
    for leaf in node.walk():
        line = leaf.meta.get("line") if hasattr(leaf, "meta") else None
        if line:
            return line
    return default


def read_dump(path: Path, source: str, scratch: Path | None = None) -> dict[str, DumpTable]:
    """Every table with rows in the dump, its columns from the first INSERT or the CREATE TABLE
    before it; rows spooled in `scratch` (the system's temporary folder when not given)."""
    spool = _Spool(scratch)
    con = spool.connect()
    try:
        lines = spool.path / "lines.parquet"
        con.register("dump_lines", read_lines(path, max_line=_MAX_LINE))
        con.execute(
            f"COPY ({classified_lines_sql('dump_lines')}) TO {sql_string(str(lines))} "
            f"(FORMAT parquet, ROW_GROUP_SIZE {_LINES_A_GROUP})"
        )
        con.unregister("dump_lines")
        con.execute(f"CREATE VIEW classified AS SELECT * FROM read_parquet({sql_string(str(lines))})")
        overlong = con.execute("SELECT min(line_number) FROM classified WHERE overlong IS NOT NULL").fetchall()[0][0]
        if overlong:
            raise SourceFormatError(source, f"line {overlong}: longer than {_MAX_LINE >> 20:,} MB, not a mysqldump line")
        statements = _sqlglot_statements(con, source)
        if statements is None:
            # A line taken for a whole INSERT lay inside a string or comment of the text around it
            # (sqlglot could not read that text alone): read the whole dump with sqlglot.
            return _read_whole(path, source)
        return _Reader(con, spool, source, statements).tables()
    finally:
        con.close()


def _read_whole(path: Path, source: str) -> dict[str, DumpTable]:
    """The dump read by sqlglot alone, its rows in memory."""
    statements = _parse(path.read_text(encoding="utf-8", errors="replace"), source, 0)
    created: dict[str, list[str]] = {}
    tables: dict[str, DumpTable] = {}
    for statement in statements:
        if isinstance(statement, exp.Create) and isinstance(statement.this, exp.Schema):
            created[statement.this.this.name] = _created_columns(statement)
        elif isinstance(statement, exp.Insert):
            name, columns, rows = _insert(statement, created, 0)
            if not columns:
                raise SourceFormatError(source, _no_columns(name))
            table = tables.setdefault(name, DumpTable(name, columns))
            _add_rows(table, columns, rows)
    return tables


def _parse(text: str, source: str, offset: int, tokens: list | None = None) -> list[exp.Expression]:
    """sqlglot's statements of `text` (or of its `tokens`), whose first line is line `offset` + 1 of the dump."""
    dialect = Dialect.get_or_raise("mysql")
    try:
        parsed = dialect.parser().parse(dialect.tokenize(text) if tokens is None else tokens, text)
    except ParseError as exc:
        detail = exc.errors[0] if exc.errors else {}
        line = detail.get("line")
        raise SourceFormatError(
            source,
            f"line {line + offset if line else '?'}: not a readable MySQL dump ({detail.get('description', exc)})",
        ) from exc
    except TokenError as exc:  # its message quotes the text around: a learner's data, kept out
        raise SourceFormatError(source, "not a readable MySQL dump (a quoted string or a comment is never closed)") from exc
    return [statement for statement in parsed if statement is not None]


def _created_columns(statement: exp.Create) -> list[str]:
    return [column.name for column in statement.this.expressions if isinstance(column, exp.ColumnDef)]


def _no_columns(name: str) -> str:
    return f"INSERT INTO {name} names no columns and the dump has no CREATE TABLE {name}"


def _insert(
    statement: exp.Insert, created: dict[str, list[str]], offset: int
) -> tuple[str, list[str] | None, list[tuple[int, exp.Expression]]]:
    """An INSERT's table, its columns (None when neither it nor a CREATE TABLE before it names
    them) and its rows with their dump lines."""
    target = statement.this
    name = target.find(exp.Table).name
    columns = [column.name for column in target.expressions] if isinstance(target, exp.Schema) else created.get(name)
    values = statement.expression
    rows = values.expressions if isinstance(values, exp.Values) else []
    return name, columns, [(_line_of(row, 0) + (offset if _line_of(row, 0) else 0), row) for row in rows]


def _add_rows(table: DumpTable, columns: list[str], rows: list[tuple[int, exp.Expression]]) -> None:
    """Rows in the table's column order; a row with the wrong number of values is a reject."""
    for line, row in rows:
        cells = [_value(node) for node in row.expressions]
        if len(cells) != len(columns):
            raw = row.sql(dialect="mysql")[:RAW_CLIP]
            table.rejects.append((line, f"expected {len(columns)} values, found {len(cells)}", raw))
            continue
        aligned = dict(zip(columns, cells, strict=True))
        table.rows.append([aligned.get(column) for column in table.columns])
        table.lines.append(line)


def _sqlglot_statements(con: duckdb.DuckDBPyConnection, source: str) -> list[tuple[int, exp.Expression]] | None:
    """sqlglot's statements of the lines the fast path left, each with its offset (the line before
    its text's first), read a run of lines between two fast lines at a time. None when a run's
    text is not whole statements (an open string or comment, or no `;` before the fast line
    after it): then the fast lines were not statements of their own."""
    runs = con.execute(
        """
        SELECT list(line_number ORDER BY line_number), list(raw ORDER BY line_number),
               segment < (SELECT count(*) FILTER (fast) FROM classified) AS fast_follows
        FROM (SELECT line_number, fast, raw, count(*) FILTER (fast) OVER (ORDER BY line_number) AS segment FROM classified)
        WHERE NOT fast GROUP BY segment ORDER BY segment
        """
    ).fetchall()
    dialect = Dialect.get_or_raise("mysql")
    statements = []
    for numbers, raws, fast_follows in runs:
        offset = numbers[0] - 1
        text = "".join(  # empty lines are not in the cut: put them back, for sqlglot's line numbers
            "\n" * (number - previous) + raw.decode("utf-8", errors="replace")
            for previous, number, raw in zip([numbers[0], *numbers], numbers, raws, strict=False)
        )
        try:
            tokens = dialect.tokenize(text)
        except TokenError:
            return None
        if fast_follows and tokens and tokens[-1].token_type != TokenType.SEMICOLON:
            return None
        statements += [(offset, statement) for statement in _parse(text, source, offset, tokens)]
    return statements


def tsv_line(row: list[str | None]) -> str:
    """One row in the edX TSV dialect (no newline)."""
    return "\t".join(_escape(value) for value in row)


def _escape(value: str | None) -> str:
    if value is None:
        return "NULL"
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r").replace("\0", "\\0")
