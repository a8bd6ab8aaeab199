"""What a sync did, object by object: the CLI prints it, the flows put it in their artifact."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from idbx.errors import IdbxError, TransientS3Error

DOWNLOADED = "downloaded"
CURRENT = "already synced"  # lake/landing/ holds this very object
IN_LAKE = "in the lake"  # the manifest holds it as ingested; no landing copy needed
MISSING = "missing"  # not in the bucket (yet): reported, not an error
FAILED = "failed"


@dataclass
class SyncedObject:
    label: str  # the day or delivery date it stands for
    status: str
    url: str = ""
    path: Path | None = None  # the landing copy, when there is one
    size: int = 0
    message: str = ""
    transient: bool = False  # failed, but trying again later may succeed


def failed_object(label: str, where: str, exc: IdbxError, size: int = 0) -> SyncedObject:
    return SyncedObject(label, FAILED, where, size=size, message=str(exc), transient=isinstance(exc, TransientS3Error))


@dataclass
class SyncReport:
    what: str
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0
    objects: list[SyncedObject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def finish(self) -> SyncReport:
        self.seconds = time.monotonic() - self.started
        return self

    def count(self, status: str) -> int:
        return sum(1 for item in self.objects if item.status == status)

    def landed(self) -> list[Path]:
        """Landing copies to ingest: downloaded now or earlier (ingestion skips what it already holds)."""
        return [item.path for item in self.objects if item.path is not None and item.status in (DOWNLOADED, CURRENT)]

    @property
    def failed(self) -> list[SyncedObject]:
        return [item for item in self.objects if item.status == FAILED]

    @property
    def transient_failures(self) -> list[SyncedObject]:
        return [item for item in self.objects if item.status == FAILED and item.transient]

    @property
    def missing(self) -> list[SyncedObject]:
        return [item for item in self.objects if item.status == MISSING]

    def merge(self, other: SyncReport) -> SyncReport:
        self.objects += other.objects
        self.notes += other.notes
        return self
