"""Lakes for the publish tests: marts of a copied lake (copy_lake) changed in place (the catalog
views read the same files), and a larger learner set made by replicating learners."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from idbx.lake import seals
from idbx.lake.store import PARTITION_FILE, Lake
from idbx.quoting import sql_string
from tests.conftest import copy_lake


def rewrite_mart(lake: Lake, mart: str, select: str) -> None:
    """Replace the mart's file with `select`, which reads the current one as `mart`, sealed as a
    build seals what it writes (else publish refuses it as tampered)."""
    path = lake.marts / mart / PARTITION_FILE
    tmp = path.with_name("rewritten.parquet")
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW mart AS SELECT * FROM read_parquet({sql_string(str(path))})")
        con.execute(f"COPY ({select}) TO {sql_string(str(tmp))} (FORMAT parquet)")
    os.replace(tmp, path)
    sealed = seals.read_output_seals(lake)
    sealed[mart] = seals.reseal(lake, lake.marts / mart, {})
    seals.write_output_seals(lake, sealed)


def with_more_learners(lake: Lake, root: Path, copies: int) -> Lake:
    """A copy of `lake` whose person_course has each learner `copies` times (other ids)."""
    bigger = copy_lake(lake, root)
    rewrite_mart(
        bigger,
        "person_course",
        f"SELECT mart.* REPLACE (learner_id || '-' || copy AS learner_id) FROM mart, range({copies}) AS copies(copy)",
    )
    return bigger
