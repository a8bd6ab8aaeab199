"""DuckDB connections for ingestion work, configured once.

Insertion order is not kept (bronze partitions are sets of rows; rejects carry their own line
numbers), which lets DuckDB stream COPY without buffering, and memory is capped so that a large
file spills to disk instead of growing the process. IDBX_DUCKDB_MEMORY_LIMIT (MB) sets the
budget of a whole run; parallel work splits it.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from idbx import stopping

MEMORY_ENV = "IDBX_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_MB = 700


def memory_limit_mb() -> int:
    return int(os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_MB))


def connect(spill_to: Path, threads: int | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A connection that spills to `spill_to` (the run's scratch folder, inside the lake), and
    whose queries a stop request interrupts."""
    config: dict[str, object] = {
        "preserve_insertion_order": False,
        "memory_limit": memory_limit or f"{memory_limit_mb()}MB",
        "temp_directory": str(spill_to),
    }
    if threads:
        config["threads"] = threads
    return stopping.watch(duckdb.connect(config=config))
