"""What a build compares between builds: a table's rows told apart whatever their order."""

from __future__ import annotations

import duckdb

from idbx.models.inputs import rows_digest

ROWS = (
    "SELECT * FROM (VALUES ('a_2016', 'L1', 3, NULL), ('a_2016', 'L2', 0, 'x'), ('b_2016', 'L1', 1, 'y')) "
    "AS t(course_key, learner_id, n, s)"
)


def test_the_same_rows_in_another_order_digest_alike_and_any_change_does_not():
    con = duckdb.connect()
    same = rows_digest(con, ROWS)
    assert rows_digest(con, f"SELECT * FROM ({ROWS}) ORDER BY learner_id DESC, course_key") == same
    changed = [
        f"SELECT * REPLACE (CASE WHEN learner_id = 'L2' THEN 1 ELSE n END AS n) FROM ({ROWS})",  # a value
        f"SELECT * REPLACE (coalesce(s, '') AS s) FROM ({ROWS})",  # NULL becomes empty
        f"SELECT * FROM ({ROWS}) WHERE learner_id <> 'L2'",  # a row fewer
        f"SELECT * FROM ({ROWS}) UNION ALL SELECT * FROM ({ROWS}) WHERE learner_id = 'L2'",  # a row more, a copy
        f"SELECT course_key, n AS learner_id, learner_id AS n, s FROM ({ROWS})",  # columns swapped
    ]
    digests = [rows_digest(con, sql) for sql in changed]
    assert same not in digests and len(set(digests)) == len(digests)
