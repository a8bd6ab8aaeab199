"""Lakes for the publish tests: marts of a copied lake (copy_lake) changed in place (the catalog
views read the same files), and a larger learner set made by replicating learners."""

from __future__ import annotations

from pathlib import Path

import duckdb

from idbx.lake import seals
from idbx.lake.store import PARTITION_FILE, Lake
from idbx.models import writer
from idbx.models.settings import MERGED_PARTITION
from tests.conftest import copy_lake


def rewrite_mart(lake: Lake, mart: str, select: str) -> None:
    """Replace the mart's rows with `select`, which reads the current ones as `mart`, written as the
    build writes (one file, or a file per course) and sealed as it seals them (else publish refuses
    them as tampered)."""
    folder = lake.marts / mart
    with duckdb.connect() as con, lake.run("a test rewrites a mart"):
        con.execute(f"CREATE VIEW mart AS {writer.output_scan(folder)}")
        con.execute(f"CREATE TABLE rewritten AS {select}")
        if (folder / PARTITION_FILE).exists():
            writer.write_table(con, lake, "SELECT * FROM rewritten", folder)
        else:
            writer.write_partitions(con, lake, "SELECT * FROM rewritten", folder, MERGED_PARTITION, None)
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
