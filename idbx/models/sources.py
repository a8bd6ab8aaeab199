"""What the models read from the lake (I/O): the source views of the build's connection, the
files behind each source (to tell whether it changed), the tracking-log files and the event days
each holds, and the course registry written as a lake table."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from idbx.lake import catalog
from idbx.lake.store import PARTITION_FILE, TMP_MARKER, Lake
from idbx.models import settings
from idbx.parsers.tables import TABLES
from idbx.quoting import quote_ident, sql_string
from idbx.registry import Registry

FileStat = tuple[int, int]  # size, mtime in ns


def source_views(lake: Lake) -> dict[str, str]:
    """Source name -> SELECT: the catalog's bronze views (empty and typed for datasets the lake
    does not hold, such as course_blocks before a delivery has a course structure) and the
    registry seed."""
    views = catalog.bronze_view_statements(lake)
    seed = registry_seed_path(lake)
    views[settings.REGISTRY_SOURCE] = (
        f"SELECT * FROM read_parquet({sql_string(str(seed))})" if seed.exists() else _empty(_REGISTRY_COLUMNS)
    )
    return views


def _empty(columns: dict[str, str]) -> str:
    return (
        "SELECT "
        + ", ".join(f"CAST(NULL AS {type_}) AS {quote_ident(column)}" for column, type_ in columns.items())
        + " WHERE false"
    )


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and TMP_MARKER not in path.name


def source_files(lake: Lake, name: str) -> list[Path]:
    """The files a source view reads (what must not change for a model built from it to stay valid)."""
    if name == settings.REGISTRY_SOURCE:
        return [registry_seed_path(lake)]
    if name == "ingest_manifest":
        return sorted(lake.state.glob("manifest/*.json"))
    if name in ("events", "event_types"):
        return event_files(lake)
    if name == "event_rejects":
        folder = lake.bronze / "rejects" / "events"
    elif name == "table_rejects":
        return sorted(p for p in (lake.bronze / "rejects").glob("*/snapshot_date=*/**/*.parquet") if _visible(p))
    else:
        folder = lake.bronze / name.removesuffix("_history")
    return sorted(p for p in folder.rglob("*.parquet") if _visible(p)) if folder.is_dir() else []


def event_files(lake: Lake) -> list[Path]:
    """Every tracking-log partition file (one or several per `log_date=D/` folder)."""
    return sorted(p for p in (lake.bronze / "events").glob("log_date=*/*.parquet") if _visible(p))


def file_stats(lake: Lake, files: list[Path]) -> dict[str, FileStat]:
    stats = {}
    for path in files:
        info = path.stat()
        stats[lake.relative(path)] = (info.st_size, info.st_mtime_ns)
    return stats


def stats_fingerprint(stats: dict[str, FileStat]) -> str:
    return hashlib.sha256(json.dumps(sorted(stats.items())).encode()).hexdigest()


def latest_snapshot(lake: Lake, sources: set[str]) -> date | None:
    """The latest snapshot date among the course-table sources named (from the partition folders)."""
    latest = None
    for name in sources:
        folder = lake.bronze / name.removesuffix("_history")
        if name.removesuffix("_history") not in TABLES:
            continue
        for partition in folder.glob("snapshot_date=*"):
            try:
                day = date.fromisoformat(partition.name.split("=", 1)[1])
            except ValueError:
                continue
            latest = day if latest is None or day > latest else latest
    return latest


def event_dates(con: duckdb.DuckDBPyConnection, lake: Lake, relpaths: list[str]) -> dict[str, dict[str, int]]:
    """For each event file, how many of its events fall on each UTC day (late events included)."""
    if not relpaths:
        return {}
    files = "[" + ", ".join(sql_string(str(lake.root / rel)) for rel in relpaths) + "]"
    rows = con.execute(
        f"SELECT filename, CAST(CAST(time AS DATE) AS VARCHAR), count(*) FROM read_parquet({files}, filename = true) "
        "WHERE time IS NOT NULL GROUP BY ALL"
    ).fetchall()
    found: dict[str, dict[str, int]] = {rel: {} for rel in relpaths}
    by_path = {str(lake.root / rel): rel for rel in relpaths}
    for filename, day, count in rows:
        found[by_path[filename]][day] = count
    return found


def registry_seed_path(lake: Lake) -> Path:
    return lake.seeds / settings.REGISTRY_SOURCE / PARTITION_FILE


_REGISTRY_COLUMNS = {
    "course_key": "VARCHAR",
    "name": "VARCHAR",
    "sme": "VARCHAR",
    "start_date": "DATE",
    "end_date": "DATE",
    "excluded": "BOOLEAN",
    "passing_grade": "DOUBLE",
    "notes": "VARCHAR",
}
_ARROW_TYPES = {"VARCHAR": pa.string(), "DATE": pa.date32(), "BOOLEAN": pa.bool_(), "DOUBLE": pa.float64()}
_REGISTRY_SCHEMA = pa.schema([(name, _ARROW_TYPES[type_]) for name, type_ in _REGISTRY_COLUMNS.items()])


def write_registry_seed(lake: Lake, registry: Registry) -> None:
    """The validated registry as `seeds/course_registry/data.parquet`, rewritten only when it changed
    (so that models built from it stay up to date)."""
    courses = list(registry.courses.values())
    table = pa.table(
        {
            "course_key": [c.course_key for c in courses],
            "name": [c.name or None for c in courses],
            "sme": [c.sme or None for c in courses],
            "start_date": [c.start_date for c in courses],
            "end_date": [c.end_date for c in courses],
            "excluded": [c.excluded for c in courses],
            "passing_grade": [c.passing_grade for c in courses],
            "notes": [c.notes or None for c in courses],
        },
        schema=_REGISTRY_SCHEMA,
    )
    path = registry_seed_path(lake)
    if path.exists() and pq.read_table(path).equals(table):
        return
    with lake.writing(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
