"""The lake on disk: layout, the one partition writer, the manifest of ingested files, scratch space.

Every partition is a single `data.parquet` file replaced with os.replace, so a reader or a crash
sees either the old partition or the new one, never a half-written or emptied one.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

import duckdb
import pyarrow.parquet as pq

from idbx.errors import ConfigError

PARTITION_FILE = "data.parquet"
TMP_MARKER = ".tmp-"

REJECT_COLUMNS = {
    "source_file": "VARCHAR",
    "line_number": "BIGINT",
    "reason": "VARCHAR",
    "raw": "VARCHAR",
}
# A rejected line or row as it was read: it may hold any of the source's PII.
REJECT_PII_COLUMNS = ("raw",)
# A run older than this is not running any more: its leftovers may be swept.
STALE_HOURS = 12


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
    ingested_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))


@dataclass
class StagedFile:
    tmp: Path
    final: Path


@dataclass
class Landing:
    """What landing one source file made, staged but not visible yet: `publish` swaps it in."""

    staged: list[StagedFile]
    remove: list[Path]
    details: dict


class Lake:
    def __init__(self, root: Path):
        self.root = Path(root)

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
    def catalog_path(self) -> Path:
        return self.root / "catalog.duckdb"

    def partition_dir(self, dataset: str, **keys: object) -> Path:
        """`bronze/<dataset>/k1=v1/k2=v2/` in the order the keys are given."""
        path = self.bronze / dataset
        for name, value in keys.items():
            path = path / f"{name}={value}"
        return path

    def rejects_dir(self, dataset: str, **keys: object) -> Path:
        return self.partition_dir(f"rejects/{dataset}", **keys)

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    # -- writing -----------------------------------------------------------------------------

    def stage_partition(self, relation: duckdb.DuckDBPyRelation, partition: Path) -> StagedFile:
        """Write a relation beside its partition under a temporary name; `publish` makes it visible."""
        partition.mkdir(parents=True, exist_ok=True)
        tmp = partition / f".{PARTITION_FILE}{TMP_MARKER}{uuid.uuid4().hex}"
        relation.to_parquet(str(tmp), compression="zstd")
        return StagedFile(tmp=tmp, final=partition / PARTITION_FILE)

    @staticmethod
    def staged_rows(staged: StagedFile) -> int:
        return pq.read_metadata(staged.tmp).num_rows

    def publish(self, staged: list[StagedFile], remove: list[Path] = (), record: ManifestRecord | None = None) -> None:
        """Make staged partitions visible (atomic rename each), drop partitions no longer produced,
        and put the source file's manifest record beside them. The record is written aside first:
        when the manifest cannot be written (disk full, no permission) nothing is published."""
        pending = self._manifest_stage(record) if record else None
        try:
            for item in staged:
                with open(item.tmp, "rb") as handle:
                    os.fsync(handle.fileno())
                os.replace(item.tmp, item.final)
            for path in remove:
                if path.exists():
                    path.unlink()
            if pending:
                os.replace(pending, self._manifest_path(record.key))
        finally:
            if pending:
                pending.unlink(missing_ok=True)

    @staticmethod
    def keep(stream: BinaryIO, target: Path) -> None:
        """Copy a delivered file into `landing/` byte for byte, made visible by one atomic rename."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}{TMP_MARKER}{uuid.uuid4().hex}")
        try:
            with open(tmp, "wb") as out:
                shutil.copyfileobj(stream, out, 8 << 20)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def discard(staged: list[StagedFile]) -> None:
        for item in staged:
            item.tmp.unlink(missing_ok=True)

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
        path = self._manifest_path(record.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}{TMP_MARKER}{uuid.uuid4().hex}")
        try:
            with open(tmp, "w", encoding="utf-8") as out:
                out.write(json.dumps(asdict(record), indent=1, sort_keys=True))
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def manifest_put(self, record: ManifestRecord) -> None:
        os.replace(self._manifest_stage(record), self._manifest_path(record.key))

    def manifest_failure(self, key: str, kind: str, source: str, size: int, sha256: str, error: str) -> None:
        """Note a failed attempt. A file that never landed gets a `failed` record; one that landed
        before keeps its record (its partition still holds that data) with the failure beside it.
        Either way the next run tries the file again."""
        failure = {"sha256": sha256, "error": error, "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
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
            probe = folder / f".probe{TMP_MARKER}{uuid.uuid4().hex}"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                probe.write_bytes(b"idbx")
                probe.unlink()
            except OSError as exc:
                with suppress(OSError):
                    probe.unlink(missing_ok=True)
                raise ConfigError(f"lake {self.root} cannot be written ({folder}: {exc.strerror or exc})") from None

    def manifest_glob(self) -> str:
        return str(self.state / "manifest" / "*.json")

    def manifest_records(self) -> Iterator[ManifestRecord]:
        """Every record, for readers that ask what the lake holds (sync, catch-up)."""
        for path in sorted((self.state / "manifest").glob("*.json")):
            yield ManifestRecord(**json.loads(path.read_text(encoding="utf-8")))

    # -- scratch -----------------------------------------------------------------------------

    def sweep(self, older_than_hours: float = STALE_HOURS) -> list[Path]:
        """Remove what runs killed outright (no `finally` ran) left behind: scratch folders, which
        may hold decrypted learner data, and staged partition files never renamed into place."""
        cutoff = time.time() - older_than_hours * 3600
        stale = [p for p in (self.root / "_scratch").glob("*") if p.stat().st_mtime < cutoff]
        stale += [p for area in (self.bronze, self.landing) for p in area.rglob(f"*{TMP_MARKER}*") if p.stat().st_mtime < cutoff]
        for path in stale:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return stale

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        """A private folder (mode 700) for the decrypted files of one run, removed whatever happens."""
        self.sweep()
        path = self.root / "_scratch" / uuid.uuid4().hex
        path.mkdir(parents=True, mode=0o700)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
