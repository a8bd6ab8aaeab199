"""`idbx scrub`: remove learner PII from bronze partitions older than a retention period.

Every Parquet file of a dated partition (`snapshot_date=D` or `log_date=D`, rejects included)
whose date is before the cutoff is rewritten aside without its PII (idbx/privacy/pii.py), then
renamed over the original: readers and crashes see the file before or after, never half of it.
Row counts, row order, file names and every other column stay as they were, so the manifest's
counts and the catalog's views remain true. What was removed is recorded twice: in the file's own
Parquet metadata (`idbx_scrub`), which makes a re-run skip it, and in a log under `_state/scrub/`
(catalog view `scrub_log`).

The encrypted deliveries in `landing/` are not touched: re-ingesting an old delivery brings its
PII back into bronze until the next scrub.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from idbx import engine
from idbx.errors import CatalogError, ConfigError
from idbx.lake import catalog
from idbx.lake.store import Lake, footer_metadata
from idbx.parsers.event_fields import derives_event_fields, with_event_fields
from idbx.privacy.pii import PiiSpec, pii_spec, scrubbed_select
from idbx.quoting import sql_string

MARKER = b"idbx_scrub"
DEFAULT_RETENTION_DAYS = 365
_DATED = re.compile(r"^(snapshot_date|log_date)=(\d{4}-\d{2}-\d{2})$")

SCRUBBED = "scrubbed"
ALREADY = "already scrubbed"
NO_PII = "no PII"
FAILED = "failed"


@dataclass
class ScrubOutcome:
    path: str
    dataset: str
    day: str
    rows: int = 0
    status: str = ""
    columns: list[str] = field(default_factory=list)
    keys: dict[str, list[str]] = field(default_factory=dict)
    error: str = ""


@dataclass
class ScrubSummary:
    cutoff: date
    dry_run: bool
    files: list[ScrubOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def with_status(self, status: str) -> list[ScrubOutcome]:
        return [f for f in self.files if f.status == status]


def dated_files(lake: Lake, before: date) -> list[tuple[Path, str, str]]:
    """(file, dataset, day) for every Parquet file of a partition dated before `before`."""
    found = []
    for path in sorted(lake.bronze.rglob("*.parquet")):
        if path.name.startswith("."):
            continue
        parts = path.relative_to(lake.bronze).parts
        for depth, part in enumerate(parts[:-1]):
            match = _DATED.match(part)
            if match:
                if date.fromisoformat(match.group(2)) < before:
                    found.append((path, "/".join(parts[:depth]), match.group(2)))
                break
    return found


def _done(path: Path) -> PiiSpec:
    metadata = pq.read_metadata(path).metadata or {}
    return PiiSpec.from_json(metadata[MARKER].decode()) if MARKER in metadata else PiiSpec()


def _rewrite(con: duckdb.DuckDBPyConnection, lake: Lake, path: Path, schema: list[tuple[str, str]], spec: PiiSpec) -> int:
    """Write the file again without `spec`, aside, check it, rename it over the original. The
    footer keeps what it said (which source file and version the rows come from) beside the mark."""
    marker = {"at": datetime.now(UTC).isoformat(timespec="seconds"), **json.loads(spec.to_json())}
    metadata = {k: v for k, v in footer_metadata(path).items() if k != MARKER.decode()}
    metadata[MARKER.decode()] = json.dumps(marker)
    source = f"read_parquet({sql_string(str(path))}, hive_partitioning = false)"
    select = scrubbed_select(source, schema, spec)
    if derives_event_fields(schema):  # from the bodies as scrubbed
        select = with_event_fields(f"({select})")
    if not lake.rewrite_landed(con, path, select, metadata):
        raise RuntimeError("the file was replaced while it was scrubbed (an ingestion of that day?); run scrub again")
    return pq.read_metadata(path).num_rows


def _scrub_file(con: duckdb.DuckDBPyConnection, lake: Lake, path: Path, dataset: str, day: str, dry_run: bool) -> ScrubOutcome:
    outcome = ScrubOutcome(lake.relative(path), dataset, day)
    try:
        schema = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({sql_string(str(path))}, hive_partitioning = false)"
        ).fetchall()
        schema = [(name, type_) for name, type_, *_ in schema]
        spec = pii_spec(dataset, [name for name, _ in schema])
        outcome.columns, outcome.keys = list(spec.columns), {c: list(k) for c, k in spec.keys.items()}
        outcome.rows = pq.read_metadata(path).num_rows
        if not spec:
            outcome.status = NO_PII
        elif spec.covered_by(_done(path)):
            outcome.status = ALREADY
        else:
            if not dry_run:
                _rewrite(con, lake, path, schema, spec)
            outcome.status = SCRUBBED
    except (OSError, RuntimeError, duckdb.Error) as exc:
        outcome.status, outcome.error = FAILED, f"{outcome.path}: {str(exc).splitlines()[0]}"
    return outcome


def scrub(
    lake: Lake,
    older_than_days: int = DEFAULT_RETENTION_DAYS,
    today: date | None = None,
    dry_run: bool = False,
    on_plan: Callable[[int], None] | None = None,
    on_file: Callable[[ScrubOutcome], None] | None = None,
) -> ScrubSummary:
    """Remove PII from every partition file dated more than `older_than_days` before `today` (UTC)."""
    if not lake.require().bronze.is_dir():
        raise ConfigError(f"no lake at {lake.root} (it has no bronze/ folder)")
    started = time.perf_counter()
    cutoff = (today or datetime.now(UTC).date()) - timedelta(days=older_than_days)
    summary = ScrubSummary(cutoff=cutoff, dry_run=dry_run)
    files = dated_files(lake, cutoff)
    if on_plan:
        on_plan(len(files))
    with lake.scratch() as scratch, engine.connect(scratch) as con:
        con.execute("SET preserve_insertion_order = true")  # same rows in the same order as before
        for path, dataset, day in files:
            summary.files.append(_scrub_file(con, lake, path, dataset, day, dry_run))
            if on_file:
                on_file(summary.files[-1])
    summary.seconds = time.perf_counter() - started
    if not dry_run and summary.with_status(SCRUBBED):
        _record(lake, older_than_days, summary)
        try:
            catalog.refresh(lake)  # for the scrub_log view; the other views read the same files as before
        except CatalogError as exc:
            summary.notes.append(f"{exc}: run `idbx catalog refresh` once the lake reads")
    return summary


def _record(lake: Lake, older_than_days: int, summary: ScrubSummary) -> None:
    """One JSON file per run that removed anything, written aside and renamed."""
    at = datetime.now(UTC)
    log = {
        "scrubbed_at": at.isoformat(timespec="seconds"),
        "cutoff": summary.cutoff.isoformat(),
        "older_than_days": older_than_days,
        "files": [
            {k: v for k, v in asdict(f).items() if k in ("path", "dataset", "day", "rows", "columns", "keys")}
            for f in summary.with_status(SCRUBBED)
        ],
    }
    path = lake.state / "scrub" / f"{at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}.json"
    lake.replace_file(path, json.dumps(log, indent=1).encode())
