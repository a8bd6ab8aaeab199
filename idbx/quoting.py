"""The one way to put names and values into SQL text: DuckDB statements are built from lake paths,
file names and course ids that come from outside, so nothing is pasted in unquoted."""

from __future__ import annotations


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
