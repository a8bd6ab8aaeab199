"""Bronze event files landed before their body fields were kept beside the bodies, brought up to
the current shape (idbx/parsers/event_fields.py) so that every file holds the columns the models
read. Each file is rewritten aside with the columns computed from its own bodies, every other
column and the row order as they were, then renamed over the original and sealed again in its
source's manifest record (`Lake.replace_sealed`), as an erasure rewrites a file. A file replaced
while it was rewritten (an ingestion of that day) is left alone: the new version has the columns.

The build runs this first (the models read `event_fields`); it is a no-op on a lake whose files
all have them, at the cost of reading each event file's footer."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from idbx import engine
from idbx.lake.seals import broken
from idbx.lake.store import Lake, footer_metadata
from idbx.parsers.event_fields import DERIVED_EVENT_COLUMNS, with_event_fields
from idbx.quoting import sql_string


def event_files_to_upgrade(lake: Lake) -> list[Path]:
    """The bronze event files (rejects aside) without the derived body columns, as their ingestion
    sealed them: a file changed since, or unreadable, is not resealed by an upgrade (the build then
    refuses it, naming it, as it refuses any file not as it was landed)."""
    seals = lake.bronze_seals()
    found = []
    for path in sorted((lake.bronze / "events").glob("log_date=*/*.parquet")):
        seal = seals.get(lake.relative(path))
        if path.name.startswith(".") or (seal and broken(path, seal, digest=False)):
            continue
        try:
            names = pq.read_schema(path).names
        except (OSError, pa.ArrowException):
            continue
        if not set(DERIVED_EVENT_COLUMNS) <= set(names):
            found.append(path)
    return found


def upgrade_event_files(lake: Lake) -> int:
    """Rewrite the event files that lack the derived columns; the number rewritten."""
    paths = event_files_to_upgrade(lake)
    if not paths:
        return 0
    with lake.run("upgrade event files"), lake.scratch() as scratch, engine.connect(scratch) as con:
        return sum(_rewrite(con, lake, path) for path in paths)


def _rewrite(con: duckdb.DuckDBPyConnection, lake: Lake, path: Path) -> bool:
    rows = f"read_parquet({sql_string(str(path))}, hive_partitioning = false, file_row_number = true)"
    upgraded = f"SELECT * EXCLUDE (file_row_number) FROM ({with_event_fields(rows)}) AS upgraded ORDER BY file_row_number"
    # False when replaced meanwhile (an ingestion of that day): the new version has the columns
    return lake.rewrite_landed(con, path, upgraded, footer_metadata(path))
