"""What an ingestion run did, file by file: the CLI prints it, the flows log it, tests assert on it."""

from __future__ import annotations

import os
import re
import time
import zipfile
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from idbx.errors import CatalogError, IdbxError, StreamError, printable
from idbx.lake import catalog
from idbx.lake.store import Lake

INGESTED = "ingested"
UNCHANGED = "unchanged"
UNHANDLED = "unhandled"
FAILED = "failed"


@dataclass
class FileOutcome:
    name: str
    status: str
    dataset: str = ""
    partition: str = ""
    # Every partition (or kept file) the source made, when it made more than `partition`.
    partitions: list[str] = field(default_factory=list)
    rows: int = 0
    rejects: int = 0
    # The first rejected lines of a file landed now (line number, reason without the line's values).
    first_rejects: list[tuple[int, str]] = field(default_factory=list)
    repaired_rows: int = 0
    late_events: int = 0  # tracking logs: events from before the file's day
    size: int = 0
    notes: list[str] = field(default_factory=list)
    error: str = ""
    # A table we have no declaration for, landed with every column as text.
    untyped: bool = False

    def rejected_rows(self) -> str:
        """ "2 of 4 rows rejected: line 3 (reason), line 4 (reason)", naming the first few lines."""
        named = ", ".join(f"line {line} ({reason})" for line, reason in self.first_rejects)
        more = self.rejects - len(self.first_rejects)
        unit = "lines" if self.dataset == "events" else "rows"  # a log's rejects are lines, not rows of a table
        return (
            f"{self.rejects:,} of {self.rows + self.rejects:,} {unit} rejected"
            + (f": {named}" if named else "")
            + (f" and {more:,} more" if named and more > 0 else "")
        )


@dataclass
class RunSummary:
    what: str
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0
    files: list[FileOutcome] = field(default_factory=list)
    # Why the catalog was not refreshed after the files landed ("" when it was).
    catalog_error: str = ""
    # Things the operator should know that are not about one file (an earlier run left work undone).
    warnings: list[str] = field(default_factory=list)

    def finish(self) -> RunSummary:
        self.seconds = time.monotonic() - self.started
        return self

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.files if outcome.status == status)

    @property
    def rows(self) -> int:
        return sum(outcome.rows for outcome in self.files)

    @property
    def rejects(self) -> int:
        return sum(outcome.rejects for outcome in self.files)

    @property
    def failed(self) -> list[FileOutcome]:
        return [outcome for outcome in self.files if outcome.status == FAILED]


ProgressCallback = Callable[[FileOutcome], None]


def refresh_catalog(lake: Lake, summary: RunSummary, unless_current: dict[str, list[tuple[str, str]]] | None = None) -> None:
    """After a run: the lake and its manifest hold what landed whatever happens here, so a catalog
    that cannot be rebuilt is reported beside the files, not instead of them. With `unless_current`
    (views whose columns the run's files cannot have changed), a catalog that already holds every
    view with those columns is kept: its views read the new files through their globs, and a
    rebuild binds every view again (a third of a second on a small lake, more on a large one).
    A kept catalog is touched: the build refreshes a catalog older than the files it reads (an
    ingestion whose refresh failed), and this one was found current after they landed."""
    try:
        if unless_current is not None and catalog.is_current(lake, unless_current):
            with suppress(OSError):  # untouched, it only costs the next build a refresh
                os.utime(lake.catalog_path)
            return
        catalog.refresh(lake)
    except CatalogError as exc:
        summary.catalog_error = str(exc)


# What reading one source file can raise that fails that file alone (the run goes on).
FILE_ERRORS = (IdbxError, duckdb.Error, pa.ArrowException, OSError, zipfile.BadZipFile)


# A value an engine quotes from what it read ("Could not convert string 'x' to INT64").
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_STREAM_ERROR = re.compile(rf"^(?:[\w.]+\.)?{StreamError.__name__}: ")


def failure_message(name: str, exc: BaseException) -> str:
    """One line naming the file. When DuckDB reports that our line reader failed, the reader's own
    error (last line, e.g. `OSError: Truncated compressed stream`) is the useful part. Values a
    library quotes are left out (they may be a learner's data); our own errors quote none."""
    if isinstance(exc, IdbxError):
        return str(exc)
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()] or [type(exc).__name__]
    useful = lines[-1] if "reading the stream registered" in lines[0] else lines[0]
    return printable(f"{name}: {_QUOTED.sub('…', _STREAM_ERROR.sub('', useful))}")


def failed_outcome(name: str, dataset: str, size: int, exc: BaseException) -> FileOutcome:
    return FileOutcome(name, FAILED, dataset, size=size, error=failure_message(name, exc))
