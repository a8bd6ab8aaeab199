"""The build's DuckDB connection for models built side by side: each worker thread ("lane") has
its own cursor of the build's one database.

A lane's cursor has its own temporary views, tables and macros, so a step's views in place of
others (the events of some days, the inputs filtered to some keys) are seen by that step alone;
the database's tables, its views of the outputs and its Python functions are shared.
"""

from __future__ import annotations

import threading

import duckdb

from idbx import stopping


class Lanes:
    """The build's connection as the calling thread sees it: a lane's own cursor in a worker
    thread that opened one (`open`), the main connection anywhere else."""

    def __init__(self, con: duckdb.DuckDBPyConnection, setup: list[str]):
        self.main = con
        self._setup = setup  # run on the main connection and every lane's cursor: temporary macros
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        for statement in setup:
            con.execute(statement)

    def open(self) -> None:
        cursor = stopping.watch(self.main.cursor())
        for statement in self._setup:
            cursor.execute(statement)
        self._local.con = cursor
        self._cursors.append(cursor)

    def __enter__(self) -> Lanes:
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the lanes' cursors (once their threads have ended)."""
        for cursor in self._cursors:
            cursor.close()
        self._cursors.clear()

    @property
    def current(self) -> duckdb.DuckDBPyConnection:
        return getattr(self._local, "con", self.main)

    def __getattr__(self, name: str):
        return getattr(self.current, name)
