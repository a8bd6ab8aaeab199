"""Ingest a course-data delivery: every file of it lands.

Per course run (`{Org}-{Course}-{Run}-…`, see parsers.naming): a table dump makes the partition
`bronze/<table>/snapshot_date=D/course=K/` (typed when parsers.tables declares the table, else
every column of its header as text, reported "landed untyped"); the course structure JSON makes
`course_blocks`, the forum dump `forum_posts`; the course export tarball is kept in `landing/` as
delivered, and its chapter list makes `course_blocks` only when the delivery has no structure JSON
for that course. A MySQL dump not named after a course run holds whole tables of a self-hosted
Open edX: its rows are split by course into the same per-course partitions.

Each source file's partitions and rejects are staged, then published together with its manifest
record (see pipeline.ingest_member). The manifest keys files by snapshot date and name, so an
identical file is skipped and a changed one replaces exactly its partitions. Several deliveries
may be given at once: each is dated by its own name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from idbx import engine
from idbx.config import GpgSettings, max_reject_rate
from idbx.errors import ConfigError, SourceFormatError
from idbx.ingest.crypto import Decryptor
from idbx.ingest.outcomes import (
    FILE_ERRORS,
    UNCHANGED,
    UNHANDLED,
    FileOutcome,
    ProgressCallback,
    RunSummary,
    failed_outcome,
    refresh_catalog,
)
from idbx.ingest.pipeline import Landing, ingest_member, open_run, repeat_outcome, same_files
from idbx.ingest.sources import PackageSource, SourceMember, file_member, open_deliveries
from idbx.lake.check import interrupted_message
from idbx.lake.store import PARTITION_FILE, Lake
from idbx.parsers import RAW_CLIP, course_export, course_structure, forum, reason_kind, tables
from idbx.parsers.lines import count_lines
from idbx.parsers.naming import (
    COURSE_TABLES,
    EXPORT,
    FORUM,
    STRUCTURE,
    TABLE,
    CourseFile,
    delivery_folder,
    is_encrypted,
    is_many_course_dump,
    parse_course_file,
    parse_course_id,
)
from idbx.parsers.tracking_log import read_lines
from idbx.quoting import quote_ident, sql_string

# Tables whose rows name their course come first, so the others can borrow the exact edX id;
# tables of the reports before the others, and a course's other files after its tables.
_ORDER = {
    name: i
    for i, name in enumerate(
        dict.fromkeys(
            ("student_courseenrollment", "courseware_studentmodule", "certificates_generatedcertificate", *COURSE_TABLES)
        )
    )
}
_KIND_ORDER = {TABLE: 0, STRUCTURE: 1, EXPORT: 2, FORUM: 3}
# Rejected rows of a many-course dump that belong to no course (unreadable, or no course id).
UNASSIGNED = "_unassigned"
# A user table of a many-course dump goes to the courses its learner is enrolled in; its user id column.
_USER_KEYS = {"auth_user": "id", "user_id_map": "id"}


@dataclass(frozen=True)
class PlannedFile:
    member: SourceMember
    parsed: CourseFile | None  # None: a many-course MySQL dump
    chapters_from_export: bool = False  # an export standing in for a missing course structure

    @property
    def decrypt(self) -> bool:
        """Whether landing it reads it (an export is only kept as delivered, unless it stands in)."""
        return not (self.parsed and self.parsed.kind == EXPORT and not self.chapters_from_export)

    @property
    def encrypted(self) -> bool:
        return is_encrypted(self.member.name)

    def sort_key(self) -> tuple:
        if self.parsed is None:
            name = self.member.base_name
            return (0, "", min((i for table, i in _ORDER.items() if table in name), default=len(_ORDER)), name)
        parsed = self.parsed
        return (1, parsed.course_key, _KIND_ORDER[parsed.kind], _ORDER.get(parsed.table, len(_ORDER)), parsed.name)


def plan(members: list[SourceMember]) -> tuple[list[PlannedFile], list[SourceMember]]:
    """Split members into the files we land (in landing order) and files we do not know."""
    handled, unhandled = [], []
    for member in members:
        if recognised(member.base_name):
            handled.append(PlannedFile(member, parse_course_file(member.base_name)))
        else:
            unhandled.append(member)
    structured = {p.parsed.course_key for p in handled if p.parsed and p.parsed.kind == STRUCTURE}
    handled = [
        PlannedFile(p.member, p.parsed, chapters_from_export=p.parsed.course_key not in structured)
        if p.parsed and p.parsed.kind == EXPORT
        else p
        for p in handled
    ]
    return sorted(handled, key=PlannedFile.sort_key), unhandled


def recognised(name: str) -> bool:
    """Whether a file of a delivery is one we land (the others are listed as not handled)."""
    return bool(parse_course_file(name) or is_many_course_dump(name))


def manifest_key(snapshot: date, member: SourceMember) -> str:
    return f"course_data/{snapshot.isoformat()}/{member.base_name}"


class _PackageRun:
    def __init__(
        self,
        lake: Lake,
        snapshot: date,
        decryptor: Decryptor | None,
        scratch: Path,
        database: engine.Database,
        course_id: str | None,
        package_name: str,
        reject_rate: float,
    ):
        self.lake = lake
        self.reject_rate = reject_rate
        self.snapshot = snapshot
        self.decryptor = decryptor
        self.scratch = scratch
        self.database = database
        self.course_id_option = course_id
        self.package_name = package_name
        self.course_ids: dict[str, str] = {}
        self.claimed: dict[Path, str] = {}

    def course_id_for(self, parsed: CourseFile) -> str:
        return self.course_id_option or self.course_ids.get(parsed.course_key) or parsed.fallback_course_id

    def partition(self, dataset: str, course_key: str, rejects: bool = False) -> Path:
        place = self.lake.rejects_dir if rejects else self.lake.partition_dir
        return place(dataset, snapshot_date=self.snapshot.isoformat(), course=course_key)

    def lineage(self, parsed: CourseFile, source: str, course_id: str | None) -> dict[str, str]:
        """Lineage columns' values; `course_id` for rows that do not carry their own (None when they do)."""
        values = {"course_key": parsed.course_key, "snapshot_date": self.snapshot.isoformat(), "source_file": source}
        return {"course_id": course_id, **values} if course_id else values

    def claim(self, partition: Path, source: str) -> None:
        """One source file per partition in a run: a second would silently replace the first."""
        other = self.claimed.setdefault(partition, source)
        if other != source:
            raise SourceFormatError(source, f"{other} already lands {self.lake.relative(partition)} in this run")

    def ingest(self, key: str, planned: PlannedFile) -> FileOutcome:
        member, parsed = planned.member, planned.parsed
        if parsed is None:
            outcome = FileOutcome(member.name, UNCHANGED, "many-course dump", size=member.size)
            land = self._many_course_lander(member, outcome)
        elif parsed.kind == EXPORT:
            outcome = FileOutcome(member.name, UNCHANGED, "course_export", size=member.size)
            land = self._export_lander(member, parsed, outcome, planned.chapters_from_export)
        else:
            problem = tables.reserved_name_problem(parsed.table) if parsed.kind == TABLE else None
            if problem:
                raise SourceFormatError(member.name, problem)
            partition = self.partition(parsed.table, parsed.course_key)
            outcome = FileOutcome(member.name, UNCHANGED, parsed.table, self.lake.relative(partition), size=member.size)
            land = self._course_file_lander(member, parsed, partition, outcome)
        kind = parsed.kind if parsed else "many_course_dump"
        record = ingest_member(
            self.lake,
            key,
            kind,
            member,
            self.scratch,
            self.decryptor,
            outcome,
            land,
            decrypt=planned.decrypt,
            max_reject_rate=self.reject_rate,
        )
        if outcome.status == UNCHANGED:
            outcome.untyped = record.details.get("untyped", False)
            outcome.partitions = record.partitions if len(record.partitions) > 1 else []
            if parsed and record.details.get("course_id"):
                self.course_ids.setdefault(parsed.course_key, record.details["course_id"])
            elif not parsed:
                outcome.dataset = record.details.get("tables", outcome.dataset)
                self.course_ids.update(
                    {k: v for k, v in record.details.get("course_ids", {}).items() if k not in self.course_ids}
                )
        return outcome

    # -- one course run's files -----------------------------------------------------------------

    def _course_file_lander(
        self, member: SourceMember, parsed: CourseFile, partition: Path, outcome: FileOutcome
    ) -> Callable[[Path, Landing], dict]:
        stage = {TABLE: self._stage_table, STRUCTURE: self._stage_structure, FORUM: self._stage_forum}[parsed.kind]

        def land(plain: Path, landing: Landing) -> dict:
            self.claim(partition, member.name)
            stage(plain, member.name, parsed, outcome, landing)
            return {
                "course_id": self.course_ids.get(parsed.course_key, ""),
                "repaired_rows": outcome.repaired_rows,
                "notes": outcome.notes,
                "untyped": outcome.untyped,
            }

        return land

    def _stage_table(
        self,
        plain: Path,
        source: str,
        parsed: CourseFile,
        outcome: FileOutcome,
        landing: Landing,
        dump=None,
        course_id: str | None = None,
    ) -> None:
        """Stage one course's table (and its rejects) from a TSV dump; a MySQL dump is first re-written as TSV.
        `course_id`: the course of a many-course dump's part (else the course's id as the run knows it)."""
        if dump is None and tables.is_mysql_dump(plain):
            dump = self._dump_as_tsv(plain, source, parsed)
            plain = dump.tsv
        header = tables.read_header(plain, source)
        schema = tables.TABLES.get(parsed.table)
        if schema is None:
            schema = tables.untyped_schema(parsed.table, header)
            outcome.untyped = True
        check = tables.check_header(schema, header, source)
        if check.extra:
            outcome.notes.append(f"extra columns kept as text: {', '.join(check.extra)}")
        lineage = self.lineage(parsed, source, None if "course_id" in header else course_id or self.course_id_for(parsed))
        partition = self.partition(parsed.table, parsed.course_key)
        rejects_dir = self.partition(parsed.table, parsed.course_key, rejects=True)
        # Every line after the header is a row, but empty lines (DuckDB skips them); a dump's rows
        # that could not be aligned with its columns are rejects already. (A MySQL dump's rows are
        # counted as the dump reader reads them: the TSV here is written from them.)
        lines = count_lines(plain, empty_lines=True)
        dump_rejects = len(dump.rejects) if dump is not None else 0
        source_rows = lines.lines - 1 - lines.empty + dump_rejects
        con = self.database.connect()
        try:
            data = landing.stage(tables.table_relation(con, plain, schema, header, lineage), partition)
            bad_utf8, too_long, rejected = tables.retry_reasons(con)
            lost = data.rows + landing.dropped_from(data) + rejected + dump_rejects < source_rows
            if bad_utf8 or too_long or lost:
                # Rare: read again, with the bad bytes replaced and/or room for very long rows (DuckDB
                # drops a row longer than its read buffer without a reject: the count shows it).
                if bad_utf8:
                    fixed = self.scratch / f"{plain.name}.utf8"
                    tables.repair_utf8(plain, fixed)
                    plain = fixed
                    outcome.repaired_rows += bad_utf8
                    outcome.notes.append(f"{bad_utf8} row(s) had invalid UTF-8, kept with U+FFFD")
                landing.drop(data)
                con.close()
                con = self.database.connect()
                relation = tables.table_relation(con, plain, schema, header, lineage, long_lines=too_long or lost)
                data = landing.stage(relation, partition)
            rejects = tables.rejects_relation(con, source)
            if dump is not None:
                rejects = dump.rejects_in_dump_lines(con, rejects, source)
            self._stage_rejects(rejects, rejects_dir, landing)
            landing.count(source_rows)
            if "course_id" in header:
                found = con.execute(f"SELECT any_value(course_id) FROM read_parquet({sql_string(str(data.tmp))})").fetchall()[0][
                    0
                ]
                if found:
                    self.course_ids.setdefault(parsed.course_key, found)
        finally:
            con.close()
            if plain.name.endswith(".utf8"):
                plain.unlink(missing_ok=True)

    def _stage_rejects(self, rejects: duckdb.DuckDBPyRelation, rejects_dir: Path, landing: Landing) -> None:
        """Stage rejects when there are any; a rejects file of the source's earlier version that
        this one does not produce is removed when it is published."""
        if rejects.aggregate("count(*)").fetchall()[0][0]:
            landing.stage(rejects, rejects_dir, rejects=True)

    def _dump_as_tsv(self, plain: Path, source: str, parsed: CourseFile):
        """The dump's rows for this table re-written as TSV in scratch (see parsers.mysql_dump)."""
        from idbx.parsers import mysql_dump  # sqlglot takes 0.3 s to import; only dumps need it

        dumped = mysql_dump.read_dump(plain, source, self.scratch)
        if parsed.table not in dumped:
            found = ", ".join(dumped) or "none"
            raise SourceFormatError(source, f"MySQL dump holds no rows for {parsed.table} (tables found: {found})")
        table = dumped[parsed.table]
        table.write_tsv(self.scratch / f"{parsed.course_key}.{parsed.table}.from-dump.tsv")
        return table

    def _stage_structure(self, plain: Path, source: str, parsed: CourseFile, outcome: FileOutcome, landing: Landing) -> None:
        """course_blocks from a course structure JSON (or one made from the export's chapters)."""
        con = self.database.connect()
        try:
            course_structure.check_structure(con, plain, source)
            counts = course_structure.structure_counts(con, plain)
            lineage = self._lineage_sql(parsed, source, self.course_id_for(parsed))
            relation = con.sql(f"SELECT *, {lineage} FROM ({course_structure.blocks_sql(plain)})")
            landing.stage(relation, self.partition("course_blocks", parsed.course_key))
        finally:
            con.close()
        landing.count(counts.blocks, "blocks")
        if counts.missing_children:
            outcome.notes.append(f"{counts.missing_children} child block(s) listed but not in the structure, left out")
        if counts.unplaced:
            outcome.notes.append(f"{counts.unplaced} block(s) no root reaches (a cycle), kept without parent or depth")

    def _stage_forum(self, plain: Path, source: str, parsed: CourseFile, outcome: FileOutcome, landing: Landing) -> None:
        """forum_posts from the forum's mongoexport; malformed lines and non-posts to its rejects."""
        schema = tables.TABLES["forum_posts"]
        columns = ", ".join(
            f"coalesce(course_id, {sql_string(self.course_id_for(parsed))}) AS course_id"
            if name == "course_id"
            else quote_ident(name)
            for name in schema.column_names
        )
        con = self.database.connect()
        try:
            cut: dict = {}
            con.register("forum_lines", read_lines(plain, prefetch=0, counter=cut))
            con.execute(f"CREATE TEMP TABLE forum AS {forum.posts_sql('forum_lines')}")
            lines, accepted, blank = con.execute(
                "SELECT count(*), count(*) FILTER (reject_reason IS NULL), count(*) FILTER (reject_reason = 'blank') FROM forum"
            ).fetchall()[0]
            lines, blank = lines + cut.get("empty", 0), blank + cut.get("empty", 0)  # empty lines are only counted
            if lines > blank and not accepted:
                line, reason = con.execute(
                    "SELECT line_number, reject_reason FROM forum WHERE reject_reason <> 'blank' ORDER BY line_number LIMIT 1"
                ).fetchall()[0]
                raise SourceFormatError(
                    source, f"none of its {lines:,} lines is a forum post; line {line}: {reason_kind(reason)}"
                )
            relation = con.sql(
                f"SELECT {columns}, {self._lineage_sql(parsed, source, None)} FROM forum WHERE reject_reason IS NULL"
            )
            landing.stage(relation, self.partition("forum_posts", parsed.course_key))
            rejects = con.sql(
                f"SELECT {sql_string(source)} AS source_file, line_number, reject_reason AS reason, raw_text AS raw "
                "FROM forum WHERE reject_reason <> 'blank' ORDER BY line_number"
            )
            self._stage_rejects(rejects, self.partition("forum_posts", parsed.course_key, rejects=True), landing)
        finally:
            con.close()
        landing.count(cut["lines"], "lines", blank, "blank")  # counted in the raw bytes, apart from the cut
        if blank:
            outcome.notes.append(f"{blank:,} blank line(s)")

    def _lineage_sql(self, parsed: CourseFile, source: str, course_id: str | None) -> str:
        return ", ".join(
            f"CAST({sql_string(value)} AS {tables.LINEAGE_COLUMNS[name]}) AS {quote_ident(name)}"
            for name, value in self.lineage(parsed, source, course_id).items()
        )

    def _export_lander(
        self, member: SourceMember, parsed: CourseFile, outcome: FileOutcome, chapters: bool
    ) -> Callable[[Path | None, Landing], dict]:
        """Keep the export in landing/ as delivered; with `chapters`, course_blocks from its chapter list."""
        kept = self.lake.landing / delivery_folder(self.package_name, parsed.org, self.snapshot) / member.base_name
        blocks = self.partition("course_blocks", parsed.course_key)
        outcome.partition = self.lake.relative(kept)

        def land(plain: Path | None, landing: Landing) -> dict:
            if kept.exists() and file_member(kept).sha256() != member.sha256():
                raise SourceFormatError(
                    member.name,
                    f"{self.lake.relative(kept)} already holds another file of that name; kept files are never replaced",
                )
            if chapters:
                self.claim(blocks, member.name)
                course_id = self.course_id_for(parsed)
                if not parse_course_id(course_id):
                    course_id = parsed.fallback_course_id
                structure = self.scratch / f"{parsed.course_key}.structure-from-export.json"
                structure.write_text(
                    json.dumps(course_export.chapters_structure(plain, member.name, course_id)), encoding="utf-8"
                )
                try:
                    self._stage_structure(structure, member.name, parsed, outcome, landing)
                finally:
                    structure.unlink()
                outcome.notes.append("no course structure JSON in the delivery: course_blocks holds the export's chapters")
                outcome.partitions = [outcome.partition, self.lake.relative(blocks)]
            if not kept.exists():
                with member.open() as stream:
                    self.lake.keep(stream, kept)
            return {"course_id": self.course_ids.get(parsed.course_key, ""), "notes": outcome.notes}

        return land

    # -- many-course dumps ---------------------------------------------------------------------

    def _many_course_lander(self, member: SourceMember, outcome: FileOutcome) -> Callable[[Path, Landing], dict]:
        def land(plain: Path, landing: Landing) -> dict:
            from idbx.parsers import mysql_dump  # sqlglot takes 0.3 s to import; only dumps need it

            if not tables.is_mysql_dump(plain):
                raise SourceFormatError(
                    member.name,
                    "not named like a course run's table ({Org}-{Course}-{Run}-{table}-….sql) and not a "
                    "MySQL dump of whole tables: cannot tell which course it holds",
                )
            dumped = mysql_dump.read_dump(plain, member.name, self.scratch)
            if not dumped:
                raise SourceFormatError(member.name, "MySQL dump holds no table rows")
            courses: dict[str, str] = {}
            for name in sorted(dumped, key=lambda t: _ORDER.get(t, len(_ORDER))):
                courses |= self._stage_dump_table(dumped[name], dumped, member.name, outcome, landing)
            produced = {self.lake.relative(item.final.parent) for item in landing.staged}
            outcome.partitions = sorted(p for p in produced if not p.startswith("bronze/rejects/"))
            outcome.dataset = ", ".join(sorted(dumped))
            outcome.partition = outcome.partitions[0] if outcome.partitions else ""
            return {"tables": outcome.dataset, "course_ids": courses, "notes": outcome.notes, "untyped": outcome.untyped}

        return land

    def _stage_dump_table(self, table, dumped: dict, source: str, outcome: FileOutcome, landing: Landing) -> dict[str, str]:
        """Stage one table of a many-course dump: a partition per course, as if edX had delivered it."""
        problem = tables.reserved_name_problem(table.name)
        if problem:
            raise SourceFormatError(source, problem)
        if "course_id" in table.columns:
            at = table.columns.index("course_id")
            groups, keyless = table.split(lambda row: [row[at]] if row[at] and parse_course_id(row[at]) else [])
            orphans = [(line, "course_id is not an edX course id", row) for line, row in keyless]
        else:
            key = _USER_KEYS.get(table.name, "user_id")
            if key not in table.columns:
                raise SourceFormatError(
                    source, f"{table.name} has no course_id or user id column to split by course; deliver it per course run"
                )
            at = table.columns.index(key)
            enrolled = self._enrolments(dumped, source, table.name)
            groups, keyless = table.split(lambda row: enrolled.get(row[at], ()))
            orphans = []
            if keyless:
                outcome.notes.append(f"{table.name}: {len(keyless):,} row(s) of learners enrolled in no course, left out")
        courses = {}
        for course_id, group in groups.items():
            org, course, run = parse_course_id(course_id)
            parsed = CourseFile(source, org, course, run, TABLE, table.name, encrypted=False)
            self.claim(self.partition(table.name, parsed.course_key), source)
            self.course_ids.setdefault(parsed.course_key, course_id)
            courses[parsed.course_key] = course_id
            group.write_tsv(self.scratch / f"{parsed.course_key}.{table.name}.from-dump.tsv")
            self._stage_table(group.tsv, source, parsed, outcome, landing, dump=group, course_id=course_id)
            group.tsv.unlink()
        self._stage_unassigned(table, orphans, source, landing)
        return courses

    def _stage_unassigned(self, table, orphans: list, source: str, landing: Landing) -> None:
        """Rows of a many-course dump that belong to no course: unreadable, or without a course id."""
        from idbx.parsers.mysql_dump import tsv_line

        rows = table.rejects + [(line, reason, tsv_line(row)[:RAW_CLIP]) for line, reason, row in orphans]
        unassigned = pa.table(
            {
                "source_file": pa.array([source] * len(rows), pa.string()),
                "line_number": pa.array([line for line, _, _ in rows], pa.int64()),
                "reason": pa.array([reason for _, reason, _ in rows], pa.string()),
                "raw": pa.array([raw for _, _, raw in rows], pa.string()),
            }
        )
        con = self.database.connect()
        try:
            rejects = con.from_arrow(unassigned).order("line_number")
            self._stage_rejects(rejects, self.partition(table.name, UNASSIGNED, rejects=True), landing)
        finally:
            con.close()
        landing.count(len(rows))

    def _enrolments(self, dumped: dict, source: str, table: str) -> dict[str, list[str]]:
        """user id → course ids, from the dump's own student_courseenrollment, else from the
        enrolments the lake already knows (see `_known_enrolments`)."""
        enrolled: dict[str, list[str]] = {}
        if "student_courseenrollment" in dumped:
            enrolments = dumped["student_courseenrollment"]
            user, course = enrolments.columns.index("user_id"), enrolments.columns.index("course_id")
            pairs = [(row[user], row[course]) for row in enrolments.rows]
        else:
            pairs = self._known_enrolments()
            if not pairs:
                raise SourceFormatError(
                    source,
                    f"{table} has no course_id: its rows go to the courses their learners are enrolled in, and "
                    "neither the dump nor the lake knows an enrolment (no student_courseenrollment, no enrolment events); "
                    "land those first",
                )
        for user_id, course_id in pairs:
            if course_id and parse_course_id(course_id) and course_id not in enrolled.setdefault(user_id, []):
                enrolled[user_id].append(course_id)
        return enrolled

    def _known_enrolments(self) -> list[tuple[str, str]]:
        """(user id, course id) of every enrolment the lake holds: the enrolment tables of every
        snapshot and the tracking logs' enrolment events (the learner the body names, as the
        enrolment models read them), so that a self-hosted dump of user tables alone lands."""
        tables = sorted(self.lake.bronze.glob(f"student_courseenrollment/snapshot_date=*/course=*/{PARTITION_FILE}"))
        logs = sorted(self.lake.bronze.glob("events/log_date=*/*.parquet"))
        selects = []
        if tables:
            files = "[" + ", ".join(sql_string(str(path)) for path in tables) + "]"
            selects.append(f"SELECT CAST(user_id AS VARCHAR), course_id FROM read_parquet({files})")
        if logs:
            files = "[" + ", ".join(sql_string(str(path)) for path in logs) + "]"
            selects.append(
                "SELECT CAST(coalesce(try_cast(json_extract_string(event, '$.user_id') AS BIGINT), user_id) AS VARCHAR), "
                "course_id "
                f"FROM read_parquet({files}) WHERE event_type LIKE 'edx.course.enrollment.%' AND course_id IS NOT NULL"
            )
        if not selects:
            return []
        with self.database.connect() as con:
            return con.execute(" UNION ".join(selects)).fetchall()


def ingest_package(
    paths: list[Path],
    lake: Lake,
    gpg: GpgSettings | None = None,
    snapshot_date: date | None = None,
    course_id: str | None = None,
    on_file: ProgressCallback | None = None,
    on_plan: Callable[[int], None] | None = None,
    courses: Collection[str] | None = None,
) -> RunSummary:
    """Land deliveries (zips, folders or loose files; each zip or folder dated by its own name) in
    the lake and refresh the catalog.

    A file that cannot be decrypted or read, or has more rejected rows than IDBX_MAX_REJECT_RATE
    allows, is reported as failed and leaves its partition as it was; the other files still land.
    Two different files with one name for one delivery date, or a delivery with no file we
    recognise, are refused before anything lands. With `courses` (short keys), only the files named after those
    courses are landed (no many-course dump) and the files not handled are left out of the
    summary: the flows fan a delivery out per course and report those once, from `plan`.
    """
    summary = RunSummary(what="course data")
    reject_rate = max_reject_rate()
    deliveries = open_deliveries(paths, snapshot_date, recognised if courses is None else None)
    lake.check_writable()
    planned: list[tuple[str, PlannedFile, PackageSource]] = []
    for delivery in deliveries:
        handled, unhandled = plan(delivery.members)
        if courses is not None:
            handled = [p for p in handled if p.parsed and p.parsed.course_key in courses]
            unhandled = []
        summary.files += [FileOutcome(member.name, UNHANDLED, size=member.size) for member in unhandled]
        planned += [(manifest_key(delivery.snapshot_date, p.member), p, delivery) for p in handled]
    repeats = same_files([(key, p.member) for key, p, _ in planned])
    repeated = [repeat_outcome(planned[i][1].member, earlier, _dataset(planned[i][1])) for i, earlier in repeats.items()]
    planned = [item for i, item in enumerate(planned) if i not in repeats]
    if on_plan:
        on_plan(len(planned))
    encrypted = [delivery.label for _, p, delivery in planned if p.encrypted and p.decrypt]
    if encrypted and gpg is None:
        raise ConfigError(f"{encrypted[0]}: holds encrypted files; give the partner key with --gpg-key or IDBX_GPG_KEY")
    label = ", ".join(delivery.label for delivery in deliveries)
    with ExitStack() as stack:
        decryptor, run = open_run(stack, lake, f"ingest package {label}", gpg if encrypted else None)
        run.plan(key for key, _, _ in planned)
        database = stack.enter_context(engine.Database(run.scratch))
        package_runs: dict[int, _PackageRun] = {}
        try:
            for key, planned_file, delivery in planned:
                package_run = package_runs.setdefault(
                    id(delivery),
                    _PackageRun(
                        lake, delivery.snapshot_date, decryptor, run.scratch, database, course_id, delivery.label, reject_rate
                    ),
                )
                try:
                    outcome = package_run.ingest(key, planned_file)
                except FILE_ERRORS as exc:
                    outcome = failed_outcome(planned_file.member.name, _dataset(planned_file), planned_file.member.size, exc)
                run.done(key)
                summary.files.append(outcome)
                if on_file:
                    on_file(outcome)
        finally:
            refresh_catalog(lake, summary)
    summary.files += repeated
    summary.warnings += [interrupted_message(journal) for journal in lake.interrupted_runs()]
    return summary.finish()


def _dataset(planned: PlannedFile) -> str:
    return planned.parsed.table if planned.parsed else "many-course dump"
