"""The run's one database: each piece of work a connection of its own, all closed with it."""

from __future__ import annotations

import duckdb
import pytest

from idbx import engine


def test_a_run_s_connections_keep_their_own_tables_and_close_with_its_database(tmp_path):
    database = engine.Database(tmp_path, memory_limit="300MB")
    first, second = database.connect(), database.connect()
    first.execute("CREATE TEMP TABLE rows_of_first AS SELECT 1 AS n")
    with pytest.raises(duckdb.CatalogException):  # what one file's work made is not another's
        second.execute("SELECT * FROM rows_of_first")
    assert first.execute("SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchall() == [
        (second.execute("SELECT current_setting('memory_limit')").fetchall()[0][0], str(tmp_path))
    ]
    assert first.execute("SELECT current_setting('preserve_insertion_order')").fetchall() == [(False,)]
    second.close()
    assert first.execute("SELECT n FROM rows_of_first").fetchall() == [(1,)]  # closing one leaves the others
    database.close()
    with pytest.raises(duckdb.ConnectionException):
        first.execute("SELECT 1")
