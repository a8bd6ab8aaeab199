"""A course's structure (`…-course_structure-prod-analytics.json`) into one typed row per block.

The file is one JSON object: block id → `{"category", "children": [ids…], "metadata": {…}}`.
DuckDB reads it whole (a course has thousands of blocks, not millions) and a recursive query walks
the children lists down from the roots, carrying each block's depth and the chapter and sequential
it sits in; a block's position is its 1-based place in its parent's children list.

Real structures have quirks: a child listed that the file does not hold (dropped, and counted), a
block listed under two parents (the first parent in the file keeps it), and fragments without a
course block (the roots then take the depth their category has in a course: chapter 1,
sequential 2, vertical 3). Blocks no root reaches (cycles) still get their row, without a place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from idbx.errors import SourceFormatError
from idbx.parsers.tracking_log import time_utc_sql
from idbx.quoting import sql_string

# Depth of a root block by its category, for structures that are not a whole course.
_ROOT_DEPTH = "CASE category WHEN 'course' THEN 0 WHEN 'chapter' THEN 1 WHEN 'sequential' THEN 2 WHEN 'vertical' THEN 3 END"


@dataclass
class StructureCounts:
    blocks: int
    missing_children: int
    unplaced: int


def check_structure(con: duckdb.DuckDBPyConnection, path: Path, source: str) -> None:
    """Refuse a file that is not one JSON object of block objects, naming the line at fault."""
    valid, kind = con.execute(
        "SELECT json_valid(content), CASE WHEN json_valid(content) THEN json_type(content) END FROM "
        f"read_text({sql_string(str(path))})"
    ).fetchall()[0]
    if not valid:
        try:
            json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except json.JSONDecodeError as exc:
            raise SourceFormatError(source, f"line {exc.lineno}: not valid JSON ({exc.msg})") from exc
        raise SourceFormatError(source, "not valid JSON")
    if kind != "OBJECT":
        raise SourceFormatError(source, f"a course structure is a JSON object of blocks, not {kind or 'empty'}")
    bad = con.execute(
        f"SELECT key FROM read_text({sql_string(str(path))}) t, json_each(t.content) WHERE type <> 'OBJECT' LIMIT 1"
    ).fetchall()
    if bad:
        raise SourceFormatError(source, f"block {bad[0][0]!r} is not a JSON object")


def _walk_sql(path: Path) -> str:
    """The WITH clause: `blocks` as listed, `listed` children, `placed` blocks with their place."""
    return f"""
WITH RECURSIVE
  blocks AS (
    SELECT b.key AS block_id, b.id AS ordinal, b.value ->> 'category' AS category, b.value -> 'metadata' AS metadata,
           b.value -> 'children' AS children
    FROM read_text({sql_string(str(path))}) t, json_each(t.content) b),
  listed AS (
    SELECT p.block_id AS parent_id, p.ordinal, c.value ->> '$' AS child_id, CAST(c.key AS INTEGER) + 1 AS position
    FROM blocks p, json_each(p.children) c
    WHERE json_type(p.children) = 'ARRAY'),
  parent_of AS (
    SELECT l.* FROM listed l SEMI JOIN blocks b ON b.block_id = l.child_id
    QUALIFY row_number() OVER (PARTITION BY child_id ORDER BY ordinal, position) = 1),
  placed AS (
    SELECT block_id, CAST(NULL AS VARCHAR) AS parent_id, CAST(NULL AS INTEGER) AS position, {_ROOT_DEPTH} AS depth,
           CASE WHEN category = 'chapter' THEN block_id END AS chapter_id,
           CASE WHEN category = 'sequential' THEN block_id END AS sequential_id
    FROM blocks ANTI JOIN parent_of ON parent_of.child_id = blocks.block_id
    UNION ALL
    SELECT c.block_id, e.parent_id, e.position, p.depth + 1,
           CASE WHEN c.category = 'chapter' THEN c.block_id ELSE p.chapter_id END,
           CASE WHEN c.category = 'sequential' THEN c.block_id ELSE p.sequential_id END
    FROM placed p JOIN parent_of e ON e.parent_id = p.block_id JOIN blocks c ON c.block_id = e.child_id)"""


def blocks_sql(path: Path) -> str:
    """SELECT of one row per block of the structure file, with the course_blocks columns."""
    return f"""{_walk_sql(path)}
SELECT b.block_id, b.category AS block_type, b.metadata ->> 'display_name' AS display_name,
       p.parent_id, p.position, CAST(p.depth AS INTEGER) AS depth, p.chapter_id, p.sequential_id,
       TRY_CAST(b.metadata ->> 'graded' AS BOOLEAN) AS graded, b.metadata ->> 'format' AS format,
       {time_utc_sql("(b.metadata ->> 'due')")} AS due, {time_utc_sql("(b.metadata ->> 'start')")} AS start,
       b.metadata
FROM blocks b LEFT JOIN placed p USING (block_id)"""


def structure_counts(con: duckdb.DuckDBPyConnection, path: Path) -> StructureCounts:
    """Blocks in the file, children listed that it does not hold, and blocks no root reaches."""
    blocks, missing, unplaced = con.execute(
        f"""{_walk_sql(path)}
        SELECT (SELECT count(*) FROM blocks),
               (SELECT count(*) FROM listed ANTI JOIN blocks ON blocks.block_id = listed.child_id),
               (SELECT count(*) FROM blocks ANTI JOIN placed USING (block_id))"""
    ).fetchall()[0]
    return StructureCounts(blocks, missing, unplaced)
