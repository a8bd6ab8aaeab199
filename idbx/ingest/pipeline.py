"""The life of one source file, shared by the course-data and tracking-log pipelines: skip it when
the lake already holds this exact file, else make it readable, land it, check that every row of it
is accounted for, and publish its files together with its manifest record (or record the failure).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from idbx import engine, stopping
from idbx.config import MAX_REJECT_RATE_ENV, REJECT_RATE_MIN_ROWS, GpgSettings
from idbx.errors import IdbxError, Interrupted, SourceFormatError, has_control_characters
from idbx.ingest.crypto import Decryptor, sweep_keyrings
from idbx.ingest.outcomes import FILE_ERRORS, INGESTED, FileOutcome, failure_message
from idbx.ingest.sources import SourceMember, plain_copy
from idbx.lake.store import PARTITION_FILE, SOURCE_KEY, SOURCE_SHA256, Lake, LakeRun, ManifestRecord, StagedFile
from idbx.parsers import reason_kind
from idbx.privacy import erasure
from idbx.quoting import sql_string

# Rejected lines a summary names (line and reason), the rest counted: the lake keeps them all.
NAMED_REJECTS = 5


def open_run(stack: ExitStack, lake: Lake, what: str, gpg: GpgSettings | None) -> tuple[Decryptor | None, LakeRun]:
    """Start an ingestion run on `stack`: sweep what dead runs left (their keyrings too), unlock
    the partner key when one is given, and open the lake run."""
    if gpg is None:
        sweep_keyrings()
        decryptor = None
    else:
        decryptor = stack.enter_context(Decryptor(gpg))
    return decryptor, stack.enter_context(lake.run(what))


def same_files(keyed: Iterable[tuple[str, SourceMember]]) -> dict[int, SourceMember]:
    """Sources given twice in one call: {index of a repeat: the member it repeats}. Two different
    files under one key (the same name, for one day or delivery) are ambiguous: refused."""
    first: dict[str, tuple[SourceMember, str | None]] = {}
    repeats = {}
    for index, (key, member) in enumerate(keyed):
        if key not in first:
            first[key] = (member, None)
            continue
        earlier, sha = first[key]
        sha = sha or earlier.sha256()
        first[key] = (earlier, sha)
        if member.sha256() != sha:
            raise IdbxError(
                f"two different files named {member.base_name}: {earlier.origin} and {member.origin}; "
                "give one of them (the lake keeps one file per name)"
            )
        repeats[index] = earlier
    return repeats


def repeat_outcome(member: SourceMember, earlier: SourceMember, dataset: str) -> FileOutcome:
    return FileOutcome(member.name, "unchanged", dataset, size=member.size, notes=[f"same file as {earlier.origin}; landed once"])


@dataclass
class Landing:
    """One source file on its way into the lake: the files it stages (each stamped with the
    source's key and sha256), and the rows counted in the source apart from the parse."""

    lake: Lake
    key: str
    sha256: str
    staged: list[StagedFile] = field(default_factory=list)
    rejects: set[int] = field(default_factory=set)
    counted: int = 0
    unit: str = "rows"
    skipped: int = 0
    skipped_as: str = ""
    # Per staged file: rows of learners erased on request (idbx/privacy/erasure.py), and of those the dropped.
    erased: dict[int, tuple[int, int]] = field(default_factory=dict)

    def stage(
        self, relation: duckdb.DuckDBPyRelation, partition: Path, file_name: str = PARTITION_FILE, rejects: bool = False
    ) -> StagedFile:
        item = self.lake.stage_partition(relation, partition, file_name, {SOURCE_KEY: self.key, SOURCE_SHA256: self.sha256})
        self.staged.append(item)
        matched, dropped = erasure.erase_staged(self.lake, self.lake.run_id(), item.tmp, item.final)
        item.rows -= dropped
        if matched:
            self.erased[id(item)] = (matched, dropped)
        if rejects:
            self.rejects.add(id(item))
        return item

    def drop(self, item: StagedFile) -> None:
        """Give up one staged file (to stage it again another way): its rows are staged again."""
        self.lake.discard([item])
        self.erased.pop(id(item), None)
        self.staged.remove(item)
        self.rejects.discard(id(item))

    def discard(self) -> None:
        self.lake.discard(self.staged)
        self.staged, self.rejects, self.erased = [], set(), {}

    def count(self, counted: int, unit: str = "rows", skipped: int = 0, skipped_as: str = "") -> None:
        """Add what a source (or one part of it) holds, counted apart from the parse (in its bytes)."""
        self.counted += counted
        self.skipped += skipped
        self.unit, self.skipped_as = unit, skipped_as or self.skipped_as

    def dropped_from(self, item: StagedFile) -> int:
        """Rows of erased learners left out of one staged file."""
        return self.erased.get(id(item), (0, 0))[1]

    @property
    def erased_rows(self) -> int:
        return sum(matched for matched, _ in self.erased.values())

    @property
    def dropped_rows(self) -> int:
        return sum(dropped for _, dropped in self.erased.values())

    @property
    def landed_rows(self) -> int:
        return sum(item.rows for item in self.staged if id(item) not in self.rejects)

    @property
    def rejected_rows(self) -> int:
        return sum(item.rows for item in self.staged if id(item) in self.rejects)

    def check(self, name: str) -> None:
        """Every row counted in the source landed, was rejected or was skipped (blank or duplicate
        lines of a log): else the file fails with the numbers, before anything is published. A
        lander that stages rows without counting them fails this way too."""
        landed, rejected = self.landed_rows, self.rejected_rows
        if self.counted == landed + rejected + self.skipped + self.dropped_rows:
            return
        said = [f"{landed:,} landed", f"{rejected:,} were rejected"]
        if self.dropped_rows:
            said.append(f"{self.dropped_rows:,} were of erased learners")
        if self.skipped_as:
            said.append(f"{self.skipped:,} were {self.skipped_as}")
        raise SourceFormatError(
            name, f"{self.counted:,} {self.unit} in the file, but {', '.join(said[:-1])} and {said[-1]}; nothing was published"
        )

    def first_rejects(self, scratch: Path, limit: int = NAMED_REJECTS) -> list[tuple[int, str]]:
        """The first rejected lines staged (line number, reason without the line's values)."""
        files = [str(item.tmp) for item in self.staged if id(item) in self.rejects]
        if not files:
            return []
        with engine.connect(scratch) as con:
            found = con.execute(
                f"SELECT line_number, reason FROM read_parquet([{', '.join(map(sql_string, files))}]) "
                f"ORDER BY line_number LIMIT {int(limit)}"
            ).fetchall()
        return [(line, reason_kind(reason)) for line, reason in found]

    def check_reject_rate(self, name: str, rate: float, first: list[tuple[int, str]]) -> None:
        """Rejected rows are tolerated while they are at most `rate` of the file's rows (a file of
        fewer than REJECT_RATE_MIN_ROWS counted as that many), and some rows landed; else the
        file fails before anything is published."""
        rows, rejected = self.counted - self.skipped, self.rejected_rows
        if not rejected:
            return
        where = f"; line {first[0][0]}: {first[0][1]}" if first else ""
        if not self.landed_rows:
            raise SourceFormatError(name, f"all {rows:,} {self.unit} rejected{where}; nothing was published")
        if rejected > rate * max(rows, REJECT_RATE_MIN_ROWS):
            raise SourceFormatError(
                name,
                f"{rejected:,} of {rows:,} {self.unit} rejected ({rejected / rows:.1%}), over {MAX_REJECT_RATE_ENV}="
                f"{rate:g}{where}; nothing was published",
            )


def ingest_member(
    lake: Lake,
    key: str,
    kind: str,
    member: SourceMember,
    scratch: Path,
    decryptor: Decryptor | None,
    outcome: FileOutcome,
    land: Callable[[Path | None, Landing], dict],
    decrypt: bool = True,
    max_reject_rate: float | None = None,
) -> ManifestRecord:
    """Fill `outcome` and return the file's manifest record (the earlier one when unchanged).

    `land` stages the plain file's rows (and rejects) through the Landing (the file is None when
    `decrypt` is false: a file kept as delivered), counts the source's rows on it, fills the
    outcome's partition(s) and notes, and returns the details to keep in the manifest. A stop
    request (see idbx.stopping) ends the file here as if it had not started. With
    `max_reject_rate`, a file with more rejected rows than that fails (see Landing.check_reject_rate).
    """
    if has_control_characters(member.name):
        raise SourceFormatError(member.name, "refused: the file name holds control characters")
    stopping.check()
    sha = member.sha256()
    previous = lake.manifest_get(key)
    if previous and previous.sha256 == sha and previous.status == INGESTED and lake.holds(previous):
        outcome.rows, outcome.rejects = previous.rows, previous.rejects
        outcome.partition = outcome.partition or previous.partitions[0]
        return previous
    landing = Landing(lake, key, sha)
    plain = None
    try:
        plain = plain_copy(member, scratch, decryptor) if decrypt else None
        details = land(plain, landing)
        landing.check(member.name)
        outcome.first_rejects = landing.first_rejects(scratch)
        if max_reject_rate is not None:
            landing.check_reject_rate(member.name, max_reject_rate, outcome.first_rejects)
        stopping.check()
        outcome.rows, outcome.rejects = landing.landed_rows, landing.rejected_rows
        if landing.erased_rows:
            details = {**details, "erased_rows": landing.erased_rows, "erased_dropped": landing.dropped_rows}
            outcome.notes.append(
                f"{landing.erased_rows:,} row(s) of learners erased on request: "
                f"{landing.dropped_rows:,} left out, the others de-identified"
            )
        record = ManifestRecord(
            key=key,
            kind=kind,
            source=member.origin,
            size=member.size,
            sha256=sha,
            status=INGESTED,
            rows=outcome.rows,
            rejects=outcome.rejects,
            partitions=outcome.partitions or [outcome.partition],
            details=details,
            source_rows=landing.counted,
        )
        lake.commit(landing.staged, record)
    except BaseException as exc:
        landing.discard()
        if stopping.requested() and not isinstance(exc, Interrupted):
            raise Interrupted(stopping.requested()) from exc
        if isinstance(exc, FILE_ERRORS):
            with suppress(OSError):  # a manifest that cannot be written must not hide why the file failed
                lake.manifest_failure(key, kind, member.origin, member.size, sha, failure_message(member.name, exc))
        raise
    finally:
        if plain is not None and plain.is_relative_to(scratch):
            plain.unlink(missing_ok=True)
    outcome.status = INGESTED
    return record
