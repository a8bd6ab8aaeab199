"""Ingest daily tracking logs: one log file makes one partition `bronze/events/log_date=D/`.

The day comes from edX's file name, else `--log-date`, else the earliest event in the file. Files
are processed in parallel (one DuckDB connection each, sharing the cores and the memory budget);
each file is decrypted to scratch (still gzip: the parser inflates it as it reads), parsed in one
streaming pass, and its partition and rejects are swapped in atomically. Events whose time falls
before the file's day stay in that file's partition; the manifest records how many and how late.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date
from functools import partial
from pathlib import Path

from idbx import engine
from idbx.config import GpgSettings, max_inflate_bytes, max_line_bytes
from idbx.errors import ConfigError, IdbxError, SourceFormatError
from idbx.ingest.crypto import Decryptor
from idbx.ingest.outcomes import (
    FILE_ERRORS,
    UNCHANGED,
    FileOutcome,
    ProgressCallback,
    RunSummary,
    failed_outcome,
    refresh_catalog,
)
from idbx.ingest.parsers import reason_kind
from idbx.ingest.parsers.naming import events_log_date, is_encrypted, is_events_log
from idbx.ingest.parsers.tracking_log import TrackingLogParse, events_select
from idbx.ingest.pipeline import ingest_member
from idbx.ingest.sources import SourceMember, file_member, folder_files
from idbx.lake import Lake, Landing, StagedFile
from idbx.quoting import sql_string

DATASET = "events"


def find_logs(paths: list[Path]) -> list[SourceMember]:
    """Files named on the command line, and the tracking logs inside folders, oldest day first."""
    found = []
    for path in paths:
        if path.is_dir():
            found += [file_member(p) for p in folder_files(path) if is_events_log(p.name)]
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
        self.claimed: dict[date, str] = {}
        self.lock = threading.Lock()

    def ingest(self, member: SourceMember) -> FileOutcome:
        outcome = FileOutcome(member.name, UNCHANGED, DATASET, size=member.size)
        land = partial(self._land, member=member, outcome=outcome)
        ingest_member(self.lake, f"{DATASET}/{member.base_name}", "events", member, self.scratch, self.decryptor, outcome, land)
        return outcome

    def _land(self, plain: Path, member: SourceMember, outcome: FileOutcome) -> Landing:
        day = self.log_date or events_log_date(member.name)
        con = engine.connect(self.scratch, threads=self.threads, memory_limit=self.memory)
        staged: list[StagedFile] = []
        try:
            # Only edX's own file name says for sure which day a log holds: it alone bounds its times.
            parse = TrackingLogParse(con, plain, max_line=max_line_bytes(), max_bytes=max_inflate_bytes(),
                                     day=events_log_date(member.name))
            # Staged beside the days, not in one: without a dated name, the data says which day it is.
            data = self.lake.stage_partition(con.sql(events_select(parse.accepted_sql, member.name)), self.lake.bronze / DATASET)
            staged.append(data)
            parse.close()
            counts = parse.counts
            first, last = con.execute(f"SELECT min(time), max(time) FROM read_parquet({sql_string(str(data.tmp))})").fetchall()[0]
            if counts["lines"] and not counts["accepted"]:
                first_reject = parse.rejects.slice(0, 1).to_pylist()
                why = f"; line {first_reject[0]['line_number']}: {reason_kind(first_reject[0]['reason'])}" if first_reject else ""
                raise SourceFormatError(member.name, f"none of its {counts['lines']:,} lines is a readable event{why}")
            if day is None:
                if first is None:
                    raise SourceFormatError(member.name, "no event with a readable time to date the file by; pass --log-date")
                day = first.date()
            self._claim(day, member.name)
            partition = self.lake.partition_dir(DATASET, log_date=day.isoformat())
            partition.mkdir(parents=True, exist_ok=True)
            data.final = partition / data.final.name
            rejects_dir = self.lake.rejects_dir(DATASET, log_date=day.isoformat())
            if counts["rejected"]:
                staged.append(self.lake.stage_partition(parse.rejects_relation(member.name), rejects_dir))
            late = con.execute(
                f"SELECT count(*), max($day - CAST(time AS DATE)) FROM read_parquet({sql_string(str(data.tmp))}) "
                "WHERE time < $day", {"day": day}
            ).fetchall()[0]
        except BaseException:
            self.lake.discard(staged)
            raise
        finally:
            con.close()
        outcome.partition = self.lake.relative(partition)
        outcome.rows, outcome.rejects, outcome.late_events = counts["accepted"], counts["rejected"], late[0]
        if counts["duplicate"]:
            outcome.notes.append(f"{counts['duplicate']:,} duplicate line(s) kept once")
        if counts["blank"]:
            outcome.notes.append(f"{counts['blank']:,} blank line(s)")
        if late[0]:
            outcome.notes.append(f"{late[0]:,} event(s) from before {day}, the latest {late[1]} day(s) late")
        return Landing(staged, [] if counts["rejected"] else [rejects_dir / "data.parquet"], {
            "log_date": day.isoformat(), **counts, "late_events": late[0], "max_days_late": late[1] or 0,
            "first_event": first.isoformat() if first else None, "last_event": last.isoformat() if last else None,
        })

    def _claim(self, day: date, name: str) -> None:
        with self.lock:
            other = self.claimed.setdefault(day, name)
        if other != name:
            raise SourceFormatError(name, f"{other} already holds the events of {day} in this run; give one file per day")


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

    A file that cannot be read at all is reported as failed and leaves its day as it was;
    malformed lines are rejects, not failures.
    """
    summary = RunSummary(what="events")
    lake.check_writable()
    logs = find_logs(paths)
    if log_date and len(logs) > 1:
        raise IdbxError("--log-date dates a single file; several files were given")
    if on_plan:
        on_plan(len(logs))
    encrypted = any(is_encrypted(m.name) for m in logs)
    if encrypted and gpg is None:
        raise ConfigError("encrypted tracking logs need the partner key: --gpg-key or IDBX_GPG_KEY")
    workers = max(1, min(workers or (os.cpu_count() or 1), len(logs) or 1))
    with ExitStack() as stack:
        decryptor = stack.enter_context(Decryptor(gpg)) if encrypted else None
        scratch = stack.enter_context(lake.scratch())
        run = _EventsRun(lake, decryptor, scratch, log_date, workers)

        def one(member: SourceMember) -> FileOutcome:
            try:
                outcome = run.ingest(member)
            except FILE_ERRORS as exc:
                outcome = failed_outcome(member.name, DATASET, member.size, exc)
            if on_file:
                on_file(outcome)
            return outcome

        with ThreadPoolExecutor(max_workers=workers) as pool:
            summary.files += list(pool.map(one, logs))
    refresh_catalog(lake, summary)
    return summary.finish()
