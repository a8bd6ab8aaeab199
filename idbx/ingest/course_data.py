"""Ingest a course-data delivery: decrypt each table dump, parse it, land it as bronze partitions.

One source file makes one partition `bronze/<table>/snapshot_date=D/course=K/` (and its rejects);
the manifest keys files by snapshot date and name, so an identical file is skipped and a changed
one replaces exactly its partition.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from datetime import date
from pathlib import Path

from idbx import catalog, engine
from idbx.config import GpgSettings
from idbx.errors import ConfigError, IdbxError, SourceFormatError
from idbx.ingest.crypto import Decryptor
from idbx.ingest.outcomes import (
    FILE_ERRORS,
    UNCHANGED,
    UNHANDLED,
    FileOutcome,
    ProgressCallback,
    RunSummary,
    failed_outcome,
)
from idbx.ingest.parsers import tables
from idbx.ingest.parsers.naming import COURSE_TABLES, TableFile, parse_table_file
from idbx.ingest.pipeline import ingest_member
from idbx.ingest.sources import SourceMember, open_package
from idbx.lake import Lake

# Tables whose rows name their course come first, so the others can borrow the exact edX id.
_ORDER = {name: i for i, name in enumerate(
    ("student_courseenrollment", "courseware_studentmodule", "certificates_generatedcertificate",
     "auth_user", "auth_userprofile", "user_id_map")
)}


def plan(members: list[SourceMember]) -> tuple[list[tuple[SourceMember, TableFile]], list[SourceMember]]:
    """Split members into table dumps we handle (ordered) and files reported as not handled yet."""
    handled, unhandled = [], []
    for member in members:
        parsed = parse_table_file(member.base_name)
        if parsed and parsed.table in COURSE_TABLES:
            handled.append((member, parsed))
        else:
            unhandled.append(member)
    handled.sort(key=lambda pair: (pair[1].course_key, _ORDER[pair[1].table]))
    return handled, unhandled


class _PackageRun:
    def __init__(self, lake: Lake, snapshot: date, decryptor: Decryptor | None, scratch: Path, course_id: str | None):
        self.lake = lake
        self.snapshot = snapshot
        self.decryptor = decryptor
        self.scratch = scratch
        self.course_id_option = course_id
        self.course_ids: dict[str, str] = {}

    def manifest_key(self, member: SourceMember) -> str:
        return f"course_data/{self.snapshot.isoformat()}/{member.base_name}"

    def course_id_for(self, parsed: TableFile) -> str:
        return self.course_id_option or self.course_ids.get(parsed.course_key) or parsed.fallback_course_id

    def ingest(self, member: SourceMember, parsed: TableFile) -> FileOutcome:
        partition = self.lake.partition_dir(parsed.table, snapshot_date=self.snapshot.isoformat(), course=parsed.course_key)
        outcome = FileOutcome(member.name, UNCHANGED, parsed.table, self.lake.relative(partition), size=member.size)

        def land(plain: Path) -> dict:
            self._land(plain, member, parsed, partition, outcome)
            return {"course_id": self.course_ids.get(parsed.course_key, ""), "repaired_rows": outcome.repaired_rows,
                    "notes": outcome.notes}

        record = ingest_member(self.lake, self.manifest_key(member), "course_table", member, self.scratch, self.decryptor,
                               outcome, land)
        if outcome.status == UNCHANGED:
            self.course_ids.setdefault(parsed.course_key, record.details.get("course_id", ""))
        return outcome

    def _land(self, plain: Path, member: SourceMember, parsed: TableFile, partition: Path, outcome: FileOutcome) -> None:
        schema = tables.TABLES[parsed.table]
        dump = self._dump_as_tsv(plain, member, parsed) if tables.is_mysql_dump(plain) else None
        if dump is not None:
            plain = dump.tsv
        header = tables.read_header(plain, member.name)
        check = tables.check_header(schema, header, member.name)
        if check.extra:
            outcome.notes.append(f"extra columns kept as text: {', '.join(check.extra)}")
        lineage = {"course_key": parsed.course_key, "snapshot_date": self.snapshot.isoformat(), "source_file": member.name}
        if "course_id" not in header:
            lineage = {"course_id": self.course_id_for(parsed), **lineage}
        rejects_dir = self.lake.rejects_dir(parsed.table, snapshot_date=self.snapshot.isoformat(), course=parsed.course_key)
        con = engine.connect(self.scratch)
        staged = []
        try:
            data = self.lake.stage_partition(tables.table_relation(con, plain, schema, header, lineage), partition)
            staged.append(data)
            bad_utf8, too_long = tables.retry_reasons(con)
            if bad_utf8 or too_long:
                # Rare: read again, with the bad bytes replaced and/or room for very long rows.
                if bad_utf8:
                    fixed = self.scratch / f"{plain.name}.utf8"
                    tables.repair_utf8(plain, fixed)
                    plain = fixed
                    outcome.repaired_rows = bad_utf8
                    outcome.notes.append(f"{bad_utf8} row(s) had invalid UTF-8, kept with U+FFFD")
                self.lake.discard(staged)
                con.close()
                con = engine.connect(self.scratch)
                relation = tables.table_relation(con, plain, schema, header, lineage, long_lines=too_long)
                data = self.lake.stage_partition(relation, partition)
                staged = [data]
            rejects = tables.rejects_relation(con, member.name)
            if dump is not None:
                rejects = dump.rejects_in_dump_lines(con, rejects, member.name)
            outcome.rejects = rejects.aggregate("count(*)").fetchall()[0][0]
            if outcome.rejects:
                staged.append(self.lake.stage_partition(rejects, rejects_dir))
            outcome.rows = self.lake.staged_rows(data)
            if "course_id" in header:
                found = con.execute(f"SELECT any_value(course_id) FROM read_parquet('{data.tmp}')").fetchall()[0][0]
                if found:
                    self.course_ids.setdefault(parsed.course_key, found)
        except BaseException:
            self.lake.discard(staged)
            raise
        finally:
            con.close()
            if plain.name.endswith(".utf8"):
                plain.unlink(missing_ok=True)
        self.lake.publish(staged, remove=[] if outcome.rejects else [rejects_dir / "data.parquet"])

    def _dump_as_tsv(self, plain: Path, member: SourceMember, parsed: TableFile):
        """The dump's rows for this table re-written as TSV in scratch (see parsers.mysql_dump)."""
        from idbx.ingest.parsers import mysql_dump  # sqlglot takes 0.3 s to import; only dumps need it

        dumped = mysql_dump.read_dump(plain, member.name)
        if parsed.table not in dumped:
            found = ", ".join(dumped) or "none"
            raise SourceFormatError(member.name, f"MySQL dump holds no rows for {parsed.table} (tables found: {found})")
        table = dumped[parsed.table]
        table.write_tsv(self.scratch / f"{parsed.course_key}.{parsed.table}.from-dump.tsv")
        return table


def ingest_package(
    paths: list[Path],
    lake: Lake,
    gpg: GpgSettings | None = None,
    snapshot_date: date | None = None,
    course_id: str | None = None,
    on_file: ProgressCallback | None = None,
    on_plan: Callable[[int], None] | None = None,
) -> RunSummary:
    """Land one delivery (zip, folder or loose files) in the lake and refresh the catalog.

    A file that cannot be decrypted or read is reported as failed and leaves its partition as it
    was; the other files still land.
    """
    summary = RunSummary(what="course data")
    package = open_package(paths, snapshot_date)
    if package.snapshot_date is None:
        raise IdbxError(
            f"{package.label}: cannot tell the delivery date from the name (expected {{org}}-YYYY-MM-DD.zip); "
            "pass --snapshot-date YYYY-MM-DD"
        )
    handled, unhandled = plan(package.members)
    summary.files += [FileOutcome(member.name, UNHANDLED, size=member.size) for member in unhandled]
    if on_plan:
        on_plan(len(handled))
    needs_key = any(parsed.encrypted for _, parsed in handled)
    if needs_key and gpg is None:
        raise ConfigError(f"{package.label}: holds encrypted files; give the partner key with --gpg-key or IDBX_GPG_KEY")
    with ExitStack() as stack:
        decryptor = stack.enter_context(Decryptor(gpg)) if needs_key else None
        scratch = stack.enter_context(lake.scratch())
        run = _PackageRun(lake, package.snapshot_date, decryptor, scratch, course_id)
        for member, parsed in handled:
            try:
                outcome = run.ingest(member, parsed)
            except FILE_ERRORS as exc:
                outcome = failed_outcome(member.name, parsed.table, member.size, exc)
            summary.files.append(outcome)
            if on_file:
                on_file(outcome)
    catalog.refresh(lake)
    return summary.finish()
