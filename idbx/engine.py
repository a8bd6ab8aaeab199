"""DuckDB connections for ingestion work, configured once.

Insertion order is not kept (bronze partitions are sets of rows; rejects carry their own line
numbers), which lets DuckDB stream COPY without buffering, and memory is capped so that a large
file spills to disk instead of growing the process.
"""

from __future__ import annotations

import os

import duckdb

MEMORY_ENV = "IDBX_DUCKDB_MEMORY_LIMIT"
THREADS_ENV = "IDBX_DUCKDB_THREADS"
DEFAULT_MEMORY_LIMIT = "700MB"


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    config: dict[str, object] = {
        "preserve_insertion_order": False,
        "memory_limit": os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_LIMIT),
    }
    threads = threads or int(os.environ.get(THREADS_ENV, "0"))
    if threads:
        config["threads"] = threads
    return duckdb.connect(config=config)
