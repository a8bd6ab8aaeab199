"""The build's DuckDB session: views replaced for one step are put back however the step ends."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from idbx.lake.store import Lake
from idbx.models import settings
from idbx.models.project import read_project
from idbx.models.session import DuckSession
from tests.models.tiny_lake import KEY


def test_scoped_views_are_put_back_and_their_tables_dropped_even_when_the_step_fails(tmp_path):
    lake = Lake(tmp_path / "lake")
    lake.root.mkdir()
    project = read_project()
    with duckdb.connect() as con:
        session = DuckSession(lake, con, project, KEY.encode(), datetime(2026, 1, 1))
        person_course = project.models["person_course"]
        session.read_output(person_course, "SELECT 1 AS learners")
        with (
            pytest.raises(ZeroDivisionError),
            session.scoped_views(
                {"person_course": "SELECT * FROM _kept", settings.EVENTS_SOURCE: "SELECT 2 AS time"},
                {"_kept": "SELECT 3 AS learners"},
            ),
        ):
            assert con.execute("SELECT * FROM person_course").fetchall() == [(3,)]
            assert con.execute("SELECT * FROM events").fetchall() == [(2,)]
            raise ZeroDivisionError
        assert con.execute("SELECT * FROM person_course").fetchall() == [(1,)]
        views = {name for (name,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        tables = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert "events" not in views and "_kept" not in tables  # a source's view is made again when a model reads it
