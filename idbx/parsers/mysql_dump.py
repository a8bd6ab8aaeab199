"""MySQL dump files (`CREATE TABLE` + `INSERT INTO ... VALUES`), as self-hosted Open edX produces.

sqlglot parses the statements; the rows are re-written in the edX TSV dialect so that both kinds of
input go through the one table parser and land exactly the same columns and types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from idbx.errors import SourceFormatError
from idbx.parsers import RAW_CLIP


@dataclass
class DumpTable:
    name: str
    columns: list[str]
    rows: list[list[str | None]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)
    tsv: Path | None = None

    def write_tsv(self, destination: Path) -> None:
        """The rows in the edX TSV dialect, line i + 2 holding row i."""
        with open(destination, "w", encoding="utf-8", newline="\n") as out:
            out.write("\t".join(self.columns) + "\n")
            for row in self.rows:
                out.write(tsv_line(row) + "\n")
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
        """Rejects of the re-written TSV pointed back at the dump's lines, plus rows sqlglot could not align."""
        tsv_rejects.create_view("tsv_rejects")
        con.register("dump_lines", pa.table({"tsv_line": list(range(2, len(self.lines) + 2)), "dump_line": self.lines}))
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


def read_dump(path: Path, source: str) -> dict[str, DumpTable]:
    """Every table with rows in the dump, its columns from the INSERT or the CREATE TABLE."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        statements = sqlglot.parse(text, read="mysql")
    except ParseError as exc:
        detail = exc.errors[0] if exc.errors else {}
        raise SourceFormatError(
            source, f"line {detail.get('line', '?')}: not a readable MySQL dump ({detail.get('description', exc)})"
        ) from exc
    created: dict[str, list[str]] = {}
    tables: dict[str, DumpTable] = {}
    for statement in statements:
        if isinstance(statement, exp.Create) and isinstance(statement.this, exp.Schema):
            created[statement.this.this.name] = [
                column.name for column in statement.this.expressions if isinstance(column, exp.ColumnDef)
            ]
        elif isinstance(statement, exp.Insert):
            _collect_insert(statement, created, tables, source)
    return tables


def _collect_insert(statement: exp.Insert, created: dict[str, list[str]], tables: dict[str, DumpTable], source: str) -> None:
    target = statement.this
    name = target.find(exp.Table).name
    columns = [column.name for column in target.expressions] if isinstance(target, exp.Schema) else created.get(name)
    if not columns:
        raise SourceFormatError(source, f"INSERT INTO {name} names no columns and the dump has no CREATE TABLE {name}")
    table = tables.setdefault(name, DumpTable(name, columns))
    values = statement.expression
    if not isinstance(values, exp.Values):
        return
    for row in values.expressions:
        line = _line_of(row, 0)
        cells = [_value(node) for node in row.expressions]
        if len(cells) != len(columns):
            raw = row.sql(dialect="mysql")[:RAW_CLIP]
            table.rejects.append((line, f"expected {len(columns)} values, found {len(cells)}", raw))
            continue
        aligned = dict(zip(columns, cells, strict=True))
        table.rows.append([aligned.get(column) for column in table.columns])
        table.lines.append(line)


def tsv_line(row: list[str | None]) -> str:
    """One row in the edX TSV dialect (no newline)."""
    return "\t".join(_escape(value) for value in row)


def _escape(value: str | None) -> str:
    if value is None:
        return "NULL"
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r").replace("\0", "\\0")
