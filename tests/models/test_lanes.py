"""The build's lanes: each worker thread's own cursor of one DuckDB database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import duckdb

from idbx.lake.store import Lake
from idbx.models.lanes import Lanes
from idbx.models.project import read_project
from idbx.models.session import DuckSession
from tests.models import tiny_lake


def _on(pool: ThreadPoolExecutor, lanes: Lanes, sql: str) -> list[tuple]:
    return pool.submit(lambda: lanes.execute(sql).fetchall()).result()


def test_each_lane_has_its_own_temporary_objects_and_shares_the_database():
    with duckdb.connect() as con:
        lanes = Lanes(con, ["CREATE OR REPLACE TEMP MACRO twice(x) AS 2 * x"])
        con.execute("CREATE TABLE shared AS SELECT 1 AS one")
        with (
            lanes,
            ThreadPoolExecutor(max_workers=1, initializer=lanes.open) as first,
            ThreadPoolExecutor(max_workers=1, initializer=lanes.open) as second,
        ):
            _on(first, lanes, "CREATE TEMP TABLE own AS SELECT twice(21) AS n")
            _on(first, lanes, "CREATE TABLE main.made AS SELECT * FROM own")
            assert _on(first, lanes, "SELECT n FROM own") == [(42,)]
            assert _on(second, lanes, "SELECT n FROM made") == [(42,)]
            assert _on(second, lanes, "SELECT twice(one) FROM shared") == [(2,)]
            assert _on(second, lanes, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'own'") == [(0,)]
        assert lanes.current is con  # no lane on this thread: the main connection


def test_a_step_views_in_place_of_others_on_its_lane_only(tmp_path):
    con = duckdb.connect()
    session = DuckSession(Lake(tmp_path / "lake"), con, read_project(), tiny_lake.KEY.encode(), datetime(2016, 7, 8))
    con.execute("CREATE TABLE base AS SELECT range AS x FROM range(10)")
    con.execute("CREATE VIEW numbers AS SELECT * FROM base")
    con.execute("CREATE VIEW counted AS SELECT count(*) AS n FROM numbers")  # the database's view over it
    lanes = session.con
    count = "SELECT n FROM counted"
    with (
        lanes,
        ThreadPoolExecutor(max_workers=1, initializer=lanes.open) as first,
        ThreadPoolExecutor(max_workers=1, initializer=lanes.open) as second,
    ):

        def step() -> list[tuple]:
            with session.scoped_views({"numbers": "SELECT * FROM few"}, {"few": "SELECT * FROM base WHERE x < 3"}):
                return lanes.execute(count).fetchall() + _on(second, lanes, count) + con.execute(count).fetchall()

        assert first.submit(step).result() == [(3,), (10,), (10,)]
        assert _on(first, lanes, count) == [(10,)]  # its views dropped after the step
        assert _on(first, lanes, "SELECT ip_is_public('10.0.0.1'), length(learner_id_of(1))") == [(False, 15)]
    con.close()
