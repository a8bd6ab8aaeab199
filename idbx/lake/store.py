"""The lake on disk: layout, the one partition writer, the manifest of ingested files, and runs.

Every file a source owns is written aside and renamed into place, so a reader or a crash sees
either the old file or the new one, never a half-written or emptied one. A source's files and its
manifest record are made visible together under the lake's commit lock (see `commit`).

A run is one process's work on the lake: a journal under `_state/runs/` that it holds locked while
it lives (see idbx.lake.locks), listing the source files it means to process and those it has done; a
private scratch folder; and its id in the name of every file it writes aside. The next run
removes whatever a dead run left, and keeps the journal of a run that left work undone so that
`idbx lake check` can say so.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import threading
import uuid
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import duckdb
import pyarrow.parquet as pq

from idbx.errors import ConfigError
from idbx.lake import atomic
from idbx.lake.atomic import TMP_MARKER
from idbx.lake.locks import HeldLock, append_line, dead_owner, read_lines
from idbx.lake.seals import Seal, broken
from idbx.quoting import sql_string

PARTITION_FILE = "data.parquet"
# Parquet key-value metadata naming the source file (manifest key) and version (sha256) a file holds.
SOURCE_KEY = "idbx_source"
SOURCE_SHA256 = "idbx_source_sha256"
# A run's scratch folder is named by its id; other entries of _scratch (another run's writability
# probe) are not a run's leftovers.
_RUN_ID_RE = re.compile(r"[0-9a-f]{16}")
# Where files are written aside, besides the lake's root (searched when a run died unswept).
_WRITTEN_AREAS = ("_state", "bronze", "landing", "seeds", "silver", "marts", "exports")
# Present once the lake has been searched for what earlier versions wrote aside (their names carry
# no run: see idbx.lake.atomic), which only that search finds.
_LEGACY_SEARCHED = "legacy-asides-searched"

REJECT_COLUMNS = {
    "source_file": "VARCHAR",
    "line_number": "BIGINT",
    "reason": "VARCHAR",
    "raw": "VARCHAR",
}
# A rejected line or row as it was read: it may hold any of the source's PII.
REJECT_PII_COLUMNS = ("raw",)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class ManifestRecord:
    """What the lake knows of one ingested source file."""

    key: str
    kind: str
    source: str
    size: int
    sha256: str
    status: str
    rows: int = 0
    rejects: int = 0
    partitions: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    ingested_at: str = field(default_factory=_now)
    # Rows (or lines) counted in the source apart from the parse: rows + rejects (+ skipped lines).
    source_rows: int | None = None
    # The lake files (relative to its root) this source's rows and rejects are in; None in records
    # written before sources listed them.
    files: list[str] | None = None
    # Each of those files as written (size, mtime_ns, sha256; see idbx.lake.seals); None in records
    # written before files were sealed.
    seals: dict[str, list] | None = None

    @property
    def landed(self) -> bool:
        """Whether the lake holds a version of this source (a first attempt that failed landed nothing)."""
        return self.status != "failed"

    def sealed(self) -> dict[str, Seal]:
        return {name: Seal(*seal) for name, seal in (self.seals or {}).items()}

    def owned_files(self) -> list[str]:
        """Its files; records written before sources listed them owned their partitions' one file."""
        if self.files is not None:
            return self.files
        rejects = [f"bronze/rejects/{p.removeprefix('bronze/')}/{PARTITION_FILE}" for p in self.partitions]
        return [f"{p}/{PARTITION_FILE}" for p in self.partitions] + (rejects if self.rejects else [])


@dataclass
class StagedFile:
    tmp: Path
    final: Path
    rows: int = 0


class LakeRun:
    """One process's work on the lake (see the module docstring); use through `Lake.run`."""

    def __init__(self, lake: Lake, what: str):
        self.id = secrets.token_hex(8)
        lake.runs_dir.mkdir(parents=True, exist_ok=True)
        self._journal = HeldLock(
            lake.runs_dir / f"{self.id}.json", {"run": self.id, "what": what, "pid": os.getpid(), "started": _now()}
        )
        self.scratch = lake.root / "_scratch" / self.id
        self.scratch.mkdir(parents=True, mode=0o700)
        self._lake = lake
        self._guard = threading.Lock()
        self._pending: set[str] = set()
        self._done: set[str] = set()
        self._aside: set[Path] = set()

    def aside(self, final: Path) -> Path:
        path = atomic.aside_path(final, self.id)
        with self._guard:
            self._aside.add(path)
        return path

    def plan(self, keys: Iterable[str]) -> None:
        """The source files (manifest keys) this run is about to process."""
        keys = list(keys)
        with self._guard:
            self._pending.update(keys)
            self._journal.append({"plan": keys})

    def done(self, key: str) -> None:
        """A source file processed, whatever its outcome (the manifest holds that)."""
        with self._guard:
            self._pending.discard(key)
            self._done.add(key)
            self._journal.append({"done": key})

    def close(self) -> None:
        """Remove the scratch folder and whatever it wrote aside and did not rename into place;
        keep the journal only if planned work was left undone; mark as done, in the journals of
        dead runs, the files this run processed."""
        shutil.rmtree(self.scratch, ignore_errors=True)
        for path in self._aside:
            atomic.remove(path)
        if self._done:
            self._lake.resolve_interrupted(self._done)
        self._journal.release(remove=not self._pending)


def pending_keys(journal: list[dict]) -> list[str]:
    """Source files a run planned and did not process."""
    planned = [key for line in journal for key in line.get("plan", ())]
    done = {line["done"] for line in journal if "done" in line}
    return sorted(set(planned) - done)


class Lake:
    def __init__(self, root: Path):
        # Absolute: the catalog's views name the lake's files by path, and DuckDB reads a relative
        # one from the reader's working directory, not the lake's.
        self.root = Path(root).expanduser().absolute()
        self._guard = threading.RLock()
        self._run: LakeRun | None = None
        self._implicit = False
        self._depth = 0

    @property
    def bronze(self) -> Path:
        return self.root / "bronze"

    @property
    def marts(self) -> Path:
        return self.root / "marts"

    @property
    def silver(self) -> Path:
        """Intermediate and staging model outputs (pseudonymised, not yet indicators)."""
        return self.root / "silver"

    @property
    def seeds(self) -> Path:
        """Tables kept in the repository (the course registry), as the models read them."""
        return self.root / "seeds"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def state(self) -> Path:
        return self.root / "_state"

    @property
    def erasure_state(self) -> Path:
        """The erasure register, a record per erasure (log/) and the journal of one under way
        (pending.jsonl); see idbx/privacy/forget.py."""
        return self.state / "erasure"

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def runs_dir(self) -> Path:
        return self.state / "runs"

    def partition_dir(self, dataset: str, **keys: object) -> Path:
        """`bronze/<dataset>/k1=v1/k2=v2/` in the order the keys are given."""
        path = self.bronze / dataset
        for name, value in keys.items():
            path = path / f"{name}={value}"
        return path

    def rejects_dir(self, dataset: str, **keys: object) -> Path:
        return self.partition_dir(f"rejects/{dataset}", **keys)

    def require(self) -> Lake:
        """This lake, when its folder exists: only ingestion and sync create a lake, so a command
        that reads one given a mistyped --lake says so instead of working on an empty new folder."""
        if self.root.is_dir():
            return self
        if self.root.exists():
            raise ConfigError(f"lake {self.root} is a file, not a folder: give --lake (or IDBX_LAKE) a folder")
        raise ConfigError(f"no lake at {self.root}: check --lake (or IDBX_LAKE); `idbx ingest` and `idbx sync` create one")

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    # -- writing -----------------------------------------------------------------------------

    def run_id(self) -> str:
        """The id of the run files are written under (see `aside`)."""
        return self._current().id

    def aside(self, final: Path) -> Path:
        """A hidden name beside `final` to write it under before renaming it into place (see
        idbx.lake.atomic), tagged with the current run so that the sweep can tell whose it is; a
        file outside the lake (an export, a dashboard elsewhere) is tagged with this process and
        starts no run."""
        if not Path(os.path.abspath(final)).is_relative_to(os.path.abspath(self.root)):
            return atomic.aside_path(final)
        return self._current().aside(final)

    @contextmanager
    def writing(self, final: Path) -> Iterator[Path]:
        """`with lake.writing(final) as tmp:` write `tmp`; it is renamed into place on leaving the
        block (see idbx.lake.atomic.writing), removed on an error."""
        with atomic.writing(final, self.aside(final)) as tmp:
            yield tmp

    def stage_partition(
        self,
        relation: duckdb.DuckDBPyRelation,
        partition: Path,
        file_name: str = PARTITION_FILE,
        metadata: dict[str, str] | None = None,
        compression_level: int | None = None,
    ) -> StagedFile:
        """Write a relation aside in its partition, with `metadata` in the Parquet footer;
        `move_into_place` or `commit` makes it visible."""
        partition.mkdir(parents=True, exist_ok=True)
        final = partition / file_name
        tmp = self.aside(final)
        options = parquet_options(metadata, compression_level)
        copied = relation.query("__staged", f"COPY (SELECT * FROM __staged) TO {sql_string(str(tmp))} ({options})")
        return StagedFile(tmp=tmp, final=final, rows=copied.fetchall()[0][0])

    def move_into_place(
        self, staged: list[StagedFile], remove: Iterable[Path] = (), record: ManifestRecord | None = None
    ) -> None:
        """Make staged files visible (atomic rename each), drop files no longer produced, and put
        the source file's manifest record beside them. The record is written aside first: when the
        manifest cannot be written (disk full, no permission) nothing is made visible."""
        pending = self._manifest_stage(record) if record else None
        try:
            for item in staged:
                atomic.rename_into_place(item.tmp, item.final)
            for path in remove:
                path.unlink(missing_ok=True)
            if pending:
                atomic.rename_into_place(pending, self._manifest_path(record.key))
        finally:
            if pending:
                pending.unlink(missing_ok=True)

    def keep(self, stream: BinaryIO, target: Path) -> None:
        """Copy a delivered file into `landing/` byte for byte, made visible by one atomic rename."""
        with self.writing(target) as tmp, open(tmp, "wb") as out:
            shutil.copyfileobj(stream, out, 8 << 20)

    def replace_file(self, target: Path, data: bytes) -> None:
        """Write a small file (state, seals, records) aside and rename it over `target`."""
        atomic.write_bytes(target, data, self.aside(target))

    @staticmethod
    def discard(staged: list[StagedFile]) -> None:
        for item in staged:
            item.tmp.unlink(missing_ok=True)

    def commit(self, staged: list[StagedFile], record: ManifestRecord) -> None:
        """Publish one source's files and record them, as a step concurrent runs cannot interleave:
        the files its earlier record owned and this version does not produce are removed.

        The record is written aside before anything is made visible (a manifest that cannot be
        written makes nothing visible). A crash between the renames and the record's own rename leaves
        files whose footer names a version the manifest does not hold: `idbx lake check` reports
        it and a re-run of the file repairs it.
        """
        record.files = sorted(self.relative(item.final) for item in staged)
        record.seals = {self.relative(item.final): Seal.of(item.tmp).as_list() for item in staged}
        with self._commit_lock():
            previous = self.manifest_get(record.key)
            kept = set(record.files)
            superseded = [self.root / f for f in (previous.owned_files() if previous else []) if f not in kept]
            self.move_into_place(staged, superseded, record)

    def rewrite_landed(self, con: duckdb.DuckDBPyConnection, path: Path, select: str, metadata: dict[str, str]) -> bool:
        """Write `select` (a landed file's rows, changed) aside with `metadata` in its footer, check
        it holds as many rows, and rename it over the file, sealed again (`replace_sealed`). False,
        the file untouched, when it was replaced meanwhile (an ingestion of that day)."""
        info = path.stat()
        before = (info.st_ino, info.st_mtime_ns, info.st_size)
        rows = pq.read_metadata(path).num_rows
        tmp = self.aside(path)
        try:
            con.execute(f"COPY ({select}) TO {sql_string(str(tmp))} ({parquet_options(metadata)})")
            written = pq.read_metadata(tmp).num_rows
            if written != rows:
                raise RuntimeError(f"wrote {written:,} rows instead of {rows:,}; the file is left as it was")
            info = path.stat()
            if (info.st_ino, info.st_mtime_ns, info.st_size) != before:
                return False
            self.replace_sealed(tmp, path)
            return True
        finally:
            tmp.unlink(missing_ok=True)

    def bronze_seals(self) -> dict[str, Seal]:
        """Every landed file's seal (what its ingestion wrote), by its path in the lake."""
        return {name: seal for record in self.manifest_records() for name, seal in record.sealed().items()}

    def replace_sealed(self, tmp: Path, final: Path) -> None:
        """Rename a rewrite of a landed file (scrubbed, or with erased learners' rows dropped) over
        it, and seal the new version, with its rows, in its source's manifest record, as one step
        concurrent runs cannot interleave."""
        footer = pq.read_metadata(tmp)
        source = (footer.metadata or {}).get(SOURCE_KEY.encode(), b"").decode()
        name = self.relative(final)
        with self._commit_lock():
            seal = Seal.of(tmp)
            fewer = pq.read_metadata(final).num_rows - footer.num_rows
            record = self.manifest_get(source) if source else None
            if record and name in record.owned_files():
                if record.seals is not None and name in record.seals:
                    record.seals[name] = seal.as_list()
                if name.startswith("bronze/rejects/"):
                    record.rejects -= fewer
                else:
                    record.rows -= fewer
                pending = self._manifest_stage(record)
                atomic.rename_into_place(tmp, final)
                atomic.rename_into_place(pending, self._manifest_path(record.key))
            else:
                atomic.rename_into_place(tmp, final)

    def reseal(self, final: Path) -> None:
        """Seal a rewritten file as it is, and recount its source's rows, when a run stopped between
        renaming it into place and recording it (see `replace_sealed`)."""
        source = (pq.read_metadata(final).metadata or {}).get(SOURCE_KEY.encode(), b"").decode()
        name = self.relative(final)
        with self._commit_lock():
            record = self.manifest_get(source) if source else None
            if not record or record.seals is None or name not in record.seals:
                return
            seal = Seal.of(final)
            if seal.as_list() == record.seals[name]:
                return
            record.seals[name] = seal.as_list()
            counts = {f: pq.read_metadata(self.root / f).num_rows for f in record.owned_files() if (self.root / f).exists()}
            record.rows = sum(n for f, n in counts.items() if not f.startswith("bronze/rejects/"))
            record.rejects = sum(n for f, n in counts.items() if f.startswith("bronze/rejects/"))
            self.manifest_put(record)

    @contextmanager
    def _commit_lock(self) -> Iterator[None]:
        self.state.mkdir(parents=True, exist_ok=True)
        with open(self.state / "commit.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    # -- manifest ----------------------------------------------------------------------------

    def _manifest_path(self, key: str) -> Path:
        safe = key.replace("/", "__")
        return self.state / "manifest" / f"{safe}.json"

    def manifest_get(self, key: str) -> ManifestRecord | None:
        path = self._manifest_path(key)
        if not path.exists():
            return None
        return ManifestRecord(**json.loads(path.read_text(encoding="utf-8")))

    def _manifest_stage(self, record: ManifestRecord) -> Path:
        """The record written aside, for a caller to rename into place with what it records."""
        path = self._manifest_path(record.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.aside(path)
        try:
            tmp.write_text(json.dumps(asdict(record), indent=1, sort_keys=True), encoding="utf-8")
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def manifest_put(self, record: ManifestRecord) -> None:
        self.replace_file(self._manifest_path(record.key), json.dumps(asdict(record), indent=1, sort_keys=True).encode())

    def manifest_failure(self, key: str, kind: str, source: str, size: int, sha256: str, error: str) -> None:
        """Note a failed attempt. A file that never landed gets a `failed` record; one that landed
        before keeps its record (its partition still holds that data) with the failure beside it.
        Either way the next run tries the file again."""
        failure = {"sha256": sha256, "error": error, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        record = self.manifest_get(key) or ManifestRecord(key, kind, source, size, sha256, status="failed")
        record.details = {**record.details, "last_failure": failure}
        self.manifest_put(record)

    def check_writable(self) -> None:
        """Fail before any work when the lake cannot take a run's writes: not a folder, read-only
        (mount, permissions, an immutable flag) or out of room for even a probe file."""
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"lake {self.root} is a file, not a folder: give --lake (or IDBX_LAKE) a folder")
        written = [self.root, self.root / "_scratch", *(p for p in (self.state / "manifest", self.bronze) if p.exists())]
        for folder in written:
            # Named as written aside by this process: a sweep may remove it at once, which is harmless.
            probe = atomic.aside_path(folder / ".probe")
            try:
                folder.mkdir(parents=True, exist_ok=True)
                probe.write_bytes(b"idbx")
                probe.unlink(missing_ok=True)
            except OSError as exc:
                with suppress(OSError):
                    probe.unlink(missing_ok=True)
                raise ConfigError(f"lake {self.root} cannot be written ({folder}: {exc.strerror or exc})") from None

    def manifest_glob(self) -> str:
        return str(self.state / "manifest" / "*.json")

    def manifest_records(self) -> list[ManifestRecord]:
        """Every record, for readers that ask what the lake holds (sync, catch-up, lake check)."""
        records = []
        for path in sorted((self.state / "manifest").glob("*.json")):
            try:
                records.append(ManifestRecord(**json.loads(path.read_text(encoding="utf-8"))))
            except FileNotFoundError:  # replaced by a concurrent run between listing and reading
                continue
        return records

    def holds(self, record: ManifestRecord) -> bool:
        """Whether the lake holds the files a record lists, with the version it records (their
        Parquet footers name it: a few hundred bytes read per file), as they were written (a file
        changed since, by size or time, is landed again)."""
        sealed = record.sealed()
        for name in record.owned_files():
            if name in sealed and broken(self.root / name, sealed[name], digest=False):
                return False
            try:
                footer = pq.read_metadata(self.root / name).metadata or {}
            except OSError:
                return False
            if record.files is not None and footer.get(SOURCE_SHA256.encode()) != record.sha256.encode():
                return False
        return True

    # -- runs --------------------------------------------------------------------------------

    @contextmanager
    def run(self, what: str) -> Iterator[LakeRun]:
        """This process's run on the lake, started (after a sweep) unless one is going on already."""
        with self._guard:
            if self._run is None:
                self._start(what)
            run = self._run
            self._depth += 1
        try:
            yield run
        finally:
            with self._guard:
                self._depth -= 1
                if self._depth == 0 and not self._implicit:
                    self._run = None
                    run.close()

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        """A private folder (mode 700) for one piece of work's decrypted or temporary files, inside
        this process's run (started if need be), removed whatever happens."""
        with self.run("work in scratch") as run:
            path = run.scratch / uuid.uuid4().hex[:8]
            path.mkdir(mode=0o700)
            try:
                yield path
            finally:
                shutil.rmtree(path, ignore_errors=True)

    def _current(self) -> LakeRun:
        """The run files are written under; writes outside `run()` start one that lasts as long
        as this Lake object."""
        with self._guard:
            if self._run is None:
                self._start("writes outside a run")
                self._implicit = True
                weakref.finalize(self, self._run.close)
            return self._run

    def _start(self, what: str) -> None:
        self.sweep()
        self._run = LakeRun(self, what)
        self._implicit = False

    def interrupted_runs(self) -> list[list[dict]]:
        """Journals of runs that are gone and left planned files unprocessed."""
        found = []
        for journal in sorted(self.runs_dir.glob("*.json")):
            with dead_owner(journal) as lines:
                if lines is not None and pending_keys(lines):
                    found.append(lines)
        return found

    def resolve_interrupted(self, done: set[str]) -> None:
        """Mark files a run processed as done in dead runs' journals, dropping journals left with nothing."""
        for journal in self.runs_dir.glob("*.json"):
            with dead_owner(journal) as lines:
                if lines is None:
                    continue
                for key in sorted(set(pending_keys(lines)) & done):
                    append_line(journal, {"done": key})
                if not pending_keys(read_lines(journal)):
                    journal.unlink(missing_ok=True)

    def leftovers(self, dead: set[str] | None = None, everywhere: bool = True) -> list[Path]:
        """Scratch folders and files (or folders) written aside by runs that are not alive: runs in
        `dead`, else (when not given) runs whose journal is unlocked, and runs whose journal is gone
        (a run's journal is made before its first artifact and removed after its last); and
        whatever earlier versions wrote aside under names that carry no run (see idbx.lake.atomic).
        With `everywhere` false, only the lake root and `_scratch` are looked at, not the areas
        files are written in (_state/, bronze/, landing/, the models' and the exports' folders)."""
        verdicts: dict[str, bool] = {}

        def is_dead(run_id: str) -> bool:
            if run_id not in verdicts:
                journal = self.runs_dir / f"{run_id}.json"
                if dead is not None:
                    verdicts[run_id] = run_id in dead or not journal.exists()
                else:
                    with dead_owner(journal) as lines:
                        verdicts[run_id] = lines is not None or not journal.exists()
            return verdicts[run_id]

        found = [p for p in _listing(self.root / "_scratch") if _RUN_ID_RE.fullmatch(p.name) and is_dead(p.name)]
        aside = [p for p in _listing(self.root) if TMP_MARKER in p.name]
        if everywhere:
            areas = [self.root / area for area in _WRITTEN_AREAS]
            aside += [p for area in areas if area.is_dir() for p in area.rglob(f"*{TMP_MARKER}*")]
        for path in aside:
            owner = atomic.owner_of(path)
            if (owner and is_dead(owner)) or (not owner and atomic.is_legacy_aside(path)):
                found.append(path)
        # A folder written aside goes whole: what it holds is not listed again.
        listed = set(found)
        return [p for p in found if listed.isdisjoint(p.parents)]

    def sweep(self) -> list[Path]:
        """Remove what dead runs left (scratch folders, which may hold decrypted learner data, and
        files written aside), and the journals of dead runs that left no work undone. Never
        touches a live run's files, however old; safe when several runs sweep at once.

        The areas files are written in are searched only when a run died since the last sweep (a
        journal not yet marked swept): artifacts are removed before their journal, so none outlive
        it unnoticed; and once in a lake's life, for what earlier versions left under names no run
        is named in."""
        dead: dict[Path, list[dict]] = {}
        for journal in _listing(self.runs_dir):
            with dead_owner(journal) as lines:
                if lines is not None:
                    dead[journal] = lines
        unswept = any(not any("swept" in line for line in lines) for lines in dead.values())
        searched = self.state / _LEGACY_SEARCHED
        everywhere = unswept or (self.root.is_dir() and not searched.exists())
        removed = self.leftovers({journal.stem for journal in dead}, everywhere=everywhere)
        for path in removed:
            atomic.remove(path)
        if everywhere and not searched.exists():
            with suppress(OSError):  # a lake that cannot take it fails the run's first write instead
                self.state.mkdir(exist_ok=True)
                searched.touch()
        for journal, lines in dead.items():
            if pending_keys(lines):
                append_line(journal, {"swept": _now()})
            else:
                journal.unlink(missing_ok=True)
        return removed


def parquet_options(metadata: dict[str, str] | None = None, compression_level: int | None = None) -> str:
    """The COPY options of a lake file: zstd, and `metadata` in its footer."""
    options = "FORMAT parquet, COMPRESSION zstd"
    if compression_level is not None:
        options += f", COMPRESSION_LEVEL {int(compression_level)}"
    if metadata:
        options += ", KV_METADATA {" + ", ".join(f"{sql_string(k)}: {sql_string(v)}" for k, v in metadata.items()) + "}"
    return options


def footer_metadata(path: Path) -> dict[str, str]:
    """A lake file's own footer entries (which source and version it holds; Arrow's schema left
    out), for a rewrite of it to carry them."""
    found = pq.read_metadata(path).metadata or {}
    return {k.decode(): v.decode() for k, v in found.items() if not k.startswith(b"ARROW")}


def _listing(folder: Path) -> list[Path]:
    """A folder's entries; none if it does not exist (yet, or any more)."""
    try:
        return list(folder.iterdir())
    except FileNotFoundError:
        return []
