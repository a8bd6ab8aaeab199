"""`lake/catalog.duckdb`: views over the Parquet lake, so an analyst needs only `duckdb lake/catalog.duckdb`.

The catalog holds views, no data. It is rebuilt aside and swapped in with a rename, so an analyst
holding it open never blocks an ingestion and never sees a half-built catalog. Views use absolute
paths: after moving the lake, run `idbx catalog refresh`. Besides bronze, it has a view for every
model output the build wrote (`lake/seeds/`, `lake/silver/`, `lake/marts/`), so every refresh,
whoever triggers it, keeps them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from idbx.errors import CatalogError
from idbx.lake.store import PARTITION_FILE, REJECT_COLUMNS, Lake
from idbx.parsers.tables import LINEAGE_COLUMNS, RESERVED_NAMES, TABLES
from idbx.parsers.tracking_log import EVENT_COLUMNS
from idbx.quoting import quote_ident, sql_string

_STORAGE_COMPAT = "v1.0.0"


def _empty_view(columns: dict[str, str]) -> str:
    cast = ", ".join(f"CAST(NULL AS {type_}) AS {quote_ident(name)}" for name, type_ in columns.items())
    return f"SELECT {cast} WHERE false"


def _read_parquet(files: str, hive: bool = False, filename: bool = False, union: bool = True) -> str:
    """`union`: the files' columns matched by name across files that may differ (bronze written by
    earlier versions), at the price of reading every file's footer whenever a query is bound."""
    return (
        f"read_parquet({files}, union_by_name = {str(union).lower()}, "
        f"hive_partitioning = {str(hive).lower()}, filename = {str(filename).lower()})"
    )


def _scan(lake: Lake, pattern: str, hive: bool = False, filename: bool = False) -> str | None:
    """read_parquet over the lake's files matching `pattern` (relative to bronze), None if there are none."""
    if not any(lake.bronze.glob(pattern)):
        return None
    return _read_parquet(sql_string(str(lake.bronze / pattern)), hive, filename)


def view_statements(lake: Lake) -> dict[str, str]:
    """View name -> SELECT, for every dataset and model output the lake holds."""
    return bronze_view_statements(lake) | model_view_statements(lake)


def bronze_view_statements(lake: Lake) -> dict[str, str]:
    """View name -> SELECT for what ingestion lands (empty, typed views for datasets not landed yet)."""
    views: dict[str, str] = {}
    for name in [*TABLES, *_untyped_tables(lake)]:
        scan = _scan(lake, f"{name}/snapshot_date=*/course=*/{PARTITION_FILE}")
        if scan:
            views[f"{name}_history"] = f"SELECT * FROM {scan}"
        else:
            views[f"{name}_history"] = _empty_view({c.name: c.type for c in TABLES[name].columns} | LINEAGE_COLUMNS)
        views[name] = (
            f"SELECT * FROM {quote_ident(name + '_history')} "
            "QUALIFY snapshot_date = max(snapshot_date) OVER (PARTITION BY course_key)"
        )
    scan = _scan(lake, f"rejects/*/snapshot_date=*/course=*/{PARTITION_FILE}", hive=True, filename=True)
    views["table_rejects"] = (
        f"SELECT regexp_extract(filename, '/rejects/([^/]+)/', 1) AS table_name, CAST(snapshot_date AS DATE) AS snapshot_date, "
        f"course AS course_key, source_file, line_number, reason, raw FROM {scan}"
        if scan
        else _empty_view({"table_name": "VARCHAR", "snapshot_date": "DATE", "course_key": "VARCHAR"} | REJECT_COLUMNS)
    )
    views |= _event_views(lake)
    views["ingest_manifest"] = (
        f"SELECT * FROM read_json({sql_string(lake.manifest_glob())}, format = 'auto', union_by_name = true)"
        if any(lake.state.glob("manifest/*.json"))
        else _empty_view(
            {
                "key": "VARCHAR",
                "kind": "VARCHAR",
                "sha256": "VARCHAR",
                "status": "VARCHAR",
                "rows": "BIGINT",
                "partitions": "VARCHAR[]",
            }
        )
    )
    views["scrub_log"] = _scrub_log_view(lake)
    return views


def _untyped_tables(lake: Lake) -> list[str]:
    """Tables in the lake that tables.py does not declare (landed with every column as text)."""
    if not lake.bronze.is_dir():
        return []
    return sorted(
        path.name
        for path in lake.bronze.iterdir()
        if path.name not in TABLES
        and path.name not in RESERVED_NAMES
        and not path.name.endswith("_history")
        and any(path.glob(f"snapshot_date=*/course=*/{PARTITION_FILE}"))
    )


def _scrub_log_view(lake: Lake) -> str:
    """One row per partition file `idbx scrub` emptied of PII: when, which file, rows, columns."""
    columns = {
        "scrubbed_at": "TIMESTAMP",
        "cutoff": "DATE",
        "path": "VARCHAR",
        "dataset": "VARCHAR",
        "day": "DATE",
        "rows": "BIGINT",
        "columns": "VARCHAR[]",
    }
    if not any(lake.state.glob("scrub/*.json")):
        return _empty_view(columns)
    logs = sql_string(str(lake.state / "scrub" / "*.json"))
    return (
        "SELECT CAST(scrubbed_at AS TIMESTAMP) AS scrubbed_at, CAST(cutoff AS DATE) AS cutoff, f.path, f.dataset, CAST(f.day AS "
        "DATE) AS day, "
        "CAST(f.rows AS BIGINT) AS rows, CAST(f.columns AS VARCHAR[]) AS columns "
        f"FROM (SELECT scrubbed_at, cutoff, unnest(files) AS f FROM read_json({logs}, format = 'auto', union_by_name = true))"
    )


def _event_views(lake: Lake) -> dict[str, str]:
    """`events` (every day, `log_date` from the partition path), `event_types`, `event_rejects`.
    A day holds one file per source file: always read the day's folder, never a fixed file name."""
    events = events_select(_scan(lake, "events/log_date=*/*.parquet", hive=True))
    scan = _scan(lake, "rejects/events/log_date=*/*.parquet", hive=True)
    event_rejects = (
        f"SELECT CAST(log_date AS DATE) AS log_date, source_file, line_number, reason, raw FROM {scan}"
        if scan
        else _empty_view({"log_date": "DATE"} | REJECT_COLUMNS)
    )
    return {
        "events": events,
        "event_types": "SELECT log_date, event_type, event_source, count(*) AS events FROM events GROUP BY ALL",
        "event_rejects": event_rejects,
    }


def event_view_columns() -> dict[str, list[tuple[str, str]]]:
    """The columns (name, type) of the event views over files written by idbx.ingest.events, for
    `is_current`: a run that lands events changes no view of a catalog that already has these."""
    return {
        "events": [("log_date", "DATE"), *EVENT_COLUMNS.items()],
        "event_rejects": [("log_date", "DATE"), *REJECT_COLUMNS.items()],
    }


def events_select(scan: str | None) -> str:
    """The `events` view's SELECT over a read_parquet of event partitions (typed and empty for None)."""
    if scan is None:
        return _empty_view({"log_date": "DATE"} | EVENT_COLUMNS)
    return f"SELECT CAST(log_date AS DATE) AS log_date, * EXCLUDE (log_date) FROM {scan}"


def events_scan(files: list[Path]) -> str | None:
    """read_parquet over the given event partition files (the build reads only the days it needs)."""
    if not files:
        return None
    return _read_parquet("[" + ", ".join(sql_string(str(path)) for path in files) + "]", hive=True)


# A model output is `data.parquet`, or partitions `<column>=<value>/*.parquet` beside a zero-row
# `_schema.parquet` that gives the view its columns while there is no partition.
MODEL_SCHEMA_FILE = "_schema.parquet"


def model_output_scan(folder: Path) -> str | None:
    """SELECT over a model's output folder as written, whichever its layout: its `data.parquet`,
    its partitions, or (no partition yet) its zero-row schema; None when it holds none of them."""
    if (folder / PARTITION_FILE).exists():
        files = folder / PARTITION_FILE
    elif any(folder.glob(f"*=*/{PARTITION_FILE}")):
        files = folder / "*=*" / PARTITION_FILE
    elif (folder / MODEL_SCHEMA_FILE).exists():
        files = folder / MODEL_SCHEMA_FILE
    else:
        return None
    # Every file of an output has the columns of one definition (a changed one rewrites them all),
    # so no union by name: binding a view of 100 partitions reads one footer, not 100 (5-12 ms
    # less each time a model, a check or a comparison reading it is bound).
    return f"SELECT * FROM {_read_parquet(sql_string(str(files)), union=False)}"


def model_view_statements(lake: Lake) -> dict[str, str]:
    """A view per model output folder under seeds/, silver/ and marts/."""
    views: dict[str, str] = {}
    for layer in (lake.seeds, lake.silver, lake.marts):
        if not layer.is_dir():
            continue
        for folder in sorted(p for p in layer.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if scan := model_output_scan(folder):
                views[folder.name] = scan
    return views


def refresh(lake: Lake, extra_views: dict[str, str] | None = None) -> Path:
    """Rebuild the catalog aside, then swap it in; a lake that cannot take it says why."""
    try:
        lake.root.mkdir(parents=True, exist_ok=True)
        with lake.run("catalog refresh"), lake.writing(lake.catalog_path) as tmp:
            try:
                views = view_statements(lake) | (extra_views or {})
                with duckdb.connect(str(tmp), config={"storage_compatibility_version": _STORAGE_COMPAT}) as con:
                    con.begin()  # one commit, not two per view (each a write of the file): 40% of the refresh
                    for name, select in views.items():
                        con.execute(f"CREATE OR REPLACE VIEW {quote_ident(name)} AS {select}")
                        con.execute(f"COMMENT ON VIEW {quote_ident(name)} IS {sql_string(_digest(select))}")
                    con.commit()
            finally:
                Path(f"{tmp}.wal").unlink(missing_ok=True)
    except (OSError, duckdb.Error) as exc:
        cause = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
        raise CatalogError(f"{lake.catalog_path}: not rebuilt: {cause}") from None
    return lake.catalog_path


def _digest(select: str) -> str:
    """What a view was made of, kept as its comment (`is_current` compares it)."""
    return "idbx " + hashlib.sha256(select.encode()).hexdigest()[:32]


def is_current(lake: Lake, columns: dict[str, list[tuple[str, str]]]) -> bool:
    """Whether the catalog already holds every view a refresh would make, each from the same
    SELECT, and the views named in `columns` with those columns (names and types, in order): then
    files rewritten behind those views need no refresh (a refresh binds every view again, reading
    every bronze file's footer: about half a second on a large lake)."""
    if not lake.catalog_path.exists():
        return False
    try:
        with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
            made = dict(con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall())
            bound: dict[str, list[tuple[str, str]]] = {}
            for name, column, type_ in con.execute(
                "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE NOT internal ORDER BY table_name, "
                "column_index"
            ).fetchall():
                bound.setdefault(name, []).append((column, type_))
    except duckdb.Error:
        return False
    wanted = view_statements(lake)
    return made == {name: _digest(select) for name, select in wanted.items()} and all(
        bound.get(name) == list(cols) for name, cols in columns.items()
    )
