"""Ingest daily tracking logs into `bronze/events/log_date=D/`, one Parquet file per source file.

A day can come in several files (edX's `edx` and `edge` logs, one log per server of a self-hosted
platform): each source file owns its own part of the day (`log_date=D/<file name>.parquet`, and
likewise for its rejects), so re-ingesting a file replaces only its rows, and a changed file
under the same name (a re-delivery) replaces its earlier version. Exact duplicates of events in
other files of the day are counted and reported; each file keeps its rows.

The day comes from `--log-date`, else edX's file name, else the day most of the file's events
fall on (said in the summary). Files are processed in parallel (one DuckDB connection each,
sharing the cores and the memory budget); each is decrypted to scratch (still gzip: the parser
inflates it as it reads), parsed in one streaming pass, and its files are published with its
manifest record. Events whose time falls before the file's day stay in that file's part; the
manifest records how many and how late.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import duckdb

from idbx import engine
from idbx.config import GpgSettings, max_inflate_bytes, max_line_bytes
from idbx.errors import ConfigError, IdbxError, SourceFormatError
from idbx.ingest.crypto import Decryptor
from idbx.ingest.outcomes import (
    FILE_ERRORS,
    INGESTED,
    UNCHANGED,
    FileOutcome,
    ProgressCallback,
    RunSummary,
    failed_outcome,
    refresh_catalog,
)
from idbx.ingest.pipeline import Landing, ingest_member, open_run, repeat_outcome, same_files
from idbx.ingest.sources import SourceMember, file_member, folder_files
from idbx.lake.catalog import event_view_columns
from idbx.lake.check import interrupted_message
from idbx.lake.store import Lake
from idbx.parsers import reason_kind
from idbx.parsers.naming import events_log_date, is_encrypted, is_events_log
from idbx.parsers.tracking_log import LANDED_EVENT_COLUMNS, TrackingLogParse, events_select
from idbx.quoting import quote_ident, sql_string

DATASET = "events"
# An event's identity for counting duplicates across the files of a day: all but its lineage and
# what is derived from its body (a day's other files may have landed before those columns existed).
_EVENT_HASH = "hash(" + ", ".join(quote_ident(c) for c in LANDED_EVENT_COLUMNS if c not in ("source_file", "line_number")) + ")"


def part_file(source_name: str) -> str:
    """The file holding a source's rows inside its day: the source's name, made safe for paths
    and globs (a short hash keeps two names that differ only in unsafe characters apart)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", source_name).lstrip(".")
    if safe != source_name:
        safe += "-" + hashlib.sha1(source_name.encode()).hexdigest()[:8]
    return f"{safe}.parquet"


def find_logs(paths: list[Path]) -> list[SourceMember]:
    """Files named on the command line, and the tracking logs inside folders, oldest day first; a
    folder without one is refused (another folder given by mistake)."""
    found = []
    for path in paths:
        if path.is_dir():
            files = folder_files(path)
            logs = [file_member(p) for p in files if is_events_log(p.name)]
            if not logs:
                raise SourceFormatError(
                    str(path),
                    "nothing to ingest: "
                    + (
                        f"none of its {len(files)} file(s) is a tracking log (*.log, *.log.gz, *.log.gz.gpg)"
                        if files
                        else "it holds no file"
                    ),
                )
            found += logs
        elif path.is_file():
            found.append(file_member(path))
        else:
            raise SourceFormatError(str(path), "no such file or folder")
    return sorted(found, key=lambda m: (events_log_date(m.name) or date.max, m.name))


class _EventsRun:
    def __init__(self, lake: Lake, decryptor: Decryptor | None, scratch: Path, log_date: date | None, workers: int):
        self.lake = lake
        self.decryptor = decryptor
        self.scratch = scratch
        self.log_date = log_date
        self.threads = max(1, (os.cpu_count() or 1) // workers)
        self.memory = f"{max(256, engine.memory_limit_mb() // workers)}MB"

    def ingest(self, key: str, member: SourceMember) -> FileOutcome:
        outcome = FileOutcome(member.name, UNCHANGED, DATASET, size=member.size)

        def land(plain: Path, landing: Landing) -> dict:
            return self._land(plain, member, outcome, landing)

        ingest_member(self.lake, key, "events", member, self.scratch, self.decryptor, outcome, land)
        return outcome

    def _land(self, plain: Path, member: SourceMember, outcome: FileOutcome, landing: Landing) -> dict:
        day = self.log_date or events_log_date(member.name)
        part = part_file(member.base_name)
        con = engine.connect(self.scratch, threads=self.threads, memory_limit=self.memory)
        try:
            # Only edX's own file name says for sure which day a log holds: it alone bounds its times.
            parse = TrackingLogParse(
                con, plain, max_line=max_line_bytes(), max_bytes=max_inflate_bytes(), day=events_log_date(member.name)
            )
            # Staged beside the days, not in one: without a dated name, the data says which day it is.
            data = landing.stage(con.sql(events_select(parse.accepted_sql, member.name)), self.lake.bronze / DATASET, part)
            parse.close()
            counts = parse.counts
            if not counts["accepted"]:
                raise SourceFormatError(member.name, _no_event(counts["lines"], parse))
            staged = f"read_parquet({sql_string(str(data.tmp))})"
            if day is None:
                day, on_day = con.execute(
                    f"SELECT CAST(time AS DATE) AS day, count(*) AS n FROM {staged} GROUP BY 1 ORDER BY n DESC, day LIMIT 1"
                ).fetchall()[0]
                outcome.notes.append(
                    f"dated {day} by its events ({on_day:,} of {counts['accepted']:,}); pass --log-date to choose another day"
                )
            first, last, late, max_late = con.execute(
                f"SELECT min(time), max(time), count(*) FILTER (time < $day), "
                f"max($day - CAST(time AS DATE)) FILTER (time < $day) FROM {staged}",
                {"day": day},
            ).fetchall()[0]
            partition = self.lake.partition_dir(DATASET, log_date=day.isoformat())
            partition.mkdir(parents=True, exist_ok=True)
            data.final = partition / part
            if counts["rejected"]:
                landing.stage(
                    parse.rejects_relation(member.name),
                    self.lake.rejects_dir(DATASET, log_date=day.isoformat()),
                    part,
                    rejects=True,
                )
            landing.count(counts["lines"], "lines", counts["blank"] + counts["duplicate"], "blank or duplicates")
            shared, shared_with = _shared_with_other_files(con, staged, partition, part)
        finally:
            con.close()
        outcome.partition = self.lake.relative(partition)
        outcome.late_events = late
        if counts["duplicate"]:
            outcome.notes.append(f"{counts['duplicate']:,} duplicate line(s) kept once")
        if counts["blank"]:
            outcome.notes.append(f"{counts['blank']:,} blank line(s)")
        if late:
            outcome.notes.append(f"{late:,} event(s) from before {day}, the latest {max_late} day(s) late")
        if shared:
            outcome.notes.append(
                f"{shared:,} event(s) also in other files of {day} ({', '.join(shared_with)}); each file keeps its rows"
            )
        earlier = self.lake.manifest_get(landing.key)
        earlier_day = earlier.details.get("log_date") if earlier and earlier.status == INGESTED else None
        if earlier_day and earlier_day != day.isoformat():
            outcome.notes.append(f"replaces its earlier version, which was in {earlier_day}")
        return {
            "log_date": day.isoformat(),
            **counts,
            "late_events": late,
            "max_days_late": max_late or 0,
            "first_event": first.isoformat() if first else None,
            "last_event": last.isoformat() if last else None,
            "also_in_other_files": shared,
        }


def _no_event(lines: int, parse: TrackingLogParse) -> str:
    if not lines:
        return "holds no event (the file is empty); the day keeps what it had"
    first_reject = parse.rejects.slice(0, 1).to_pylist()
    why = f"; line {first_reject[0]['line_number']}: {reason_kind(first_reject[0]['reason'])}" if first_reject else ""
    return f"holds no event: none of its {lines:,} lines is a readable event{why}"


def _shared_with_other_files(con: duckdb.DuckDBPyConnection, staged: str, partition: Path, part: str) -> tuple[int, list[str]]:
    """Events of the staged file that other files of the day hold too, and those files' names
    (read only when the day has other files)."""
    try:
        return _shared(con, staged, partition, part)
    except duckdb.IOException:  # a file of the day replaced by a concurrent run meanwhile: list the day again
        return _shared(con, staged, partition, part)


def _shared(con: duckdb.DuckDBPyConnection, staged: str, partition: Path, part: str) -> tuple[int, list[str]]:
    others = sorted(str(p) for p in partition.glob("*.parquet") if p.name != part)
    if not others:
        return 0, []
    return con.execute(
        f"""WITH mine AS (SELECT {_EVENT_HASH} AS h FROM {staged}),
                 theirs AS (SELECT {_EVENT_HASH} AS h, source_file FROM read_parquet(?, union_by_name = true))
            SELECT (SELECT count(*) FROM mine WHERE h IN (SELECT h FROM theirs)),
                   (SELECT list(DISTINCT source_file ORDER BY source_file) FROM theirs WHERE h IN (SELECT h FROM mine))""",
        [others],
    ).fetchall()[0]


def ingest_events(
    paths: list[Path],
    lake: Lake,
    gpg: GpgSettings | None = None,
    log_date: date | None = None,
    workers: int | None = None,
    on_file: ProgressCallback | None = None,
    on_plan: Callable[[int], None] | None = None,
) -> RunSummary:
    """Land tracking logs (`.log`, `.log.gz`, `.log.gz.gpg`, or folders of them) and refresh the catalog.

    A file that cannot be read at all, or holds no event, is reported as failed and leaves the
    lake as it was; malformed lines are rejects, not failures. Two different files with the same
    name are refused before anything lands.
    """
    summary = RunSummary(what="events")
    logs = find_logs(paths)
    lake.check_writable()
    if log_date and len(logs) > 1:
        raise IdbxError("--log-date dates a single file; several files were given")
    keyed = [(f"{DATASET}/{member.base_name}", member) for member in logs]
    repeats = same_files(keyed)
    repeated = [repeat_outcome(keyed[i][1], earlier, DATASET) for i, earlier in repeats.items()]
    keyed = [pair for i, pair in enumerate(keyed) if i not in repeats]
    if on_plan:
        on_plan(len(keyed))
    encrypted = any(is_encrypted(m.name) for _, m in keyed)
    if encrypted and gpg is None:
        raise ConfigError("encrypted tracking logs need the partner key: --gpg-key or IDBX_GPG_KEY")
    workers = max(1, min(workers or (os.cpu_count() or 1), len(keyed) or 1))
    with ExitStack() as stack:
        decryptor, run = open_run(stack, lake, f"ingest events ({len(keyed)} file(s))", gpg if encrypted else None)
        run.plan(key for key, _ in keyed)
        events_run = _EventsRun(lake, decryptor, run.scratch, log_date, workers)

        def one(key: str, member: SourceMember) -> FileOutcome:
            try:
                outcome = events_run.ingest(key, member)
            except FILE_ERRORS as exc:
                outcome = failed_outcome(member.name, DATASET, member.size, exc)
            run.done(key)
            if on_file:
                on_file(outcome)
            return outcome

        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(one, key, member) for key, member in keyed]
                try:
                    summary.files += [future.result() for future in futures] + repeated
                finally:
                    for future in futures:  # after a stop or a crash: the files not started never start
                        future.cancel()
        finally:
            refresh_catalog(lake, summary, unless_current=event_view_columns())
    summary.warnings += [interrupted_message(journal) for journal in lake.interrupted_runs()]
    return summary.finish()
