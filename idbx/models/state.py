"""What the last builds left (I/O): per model, the fingerprint it was built from and, for the
incremental ones, the event files (and the days each held) it covers or what each model it reads
was. Kept in
`lake/_state/build/state.json`, replaced atomically; a lock keeps two builds off one lake.
Beside it, `complete.json`: the landed source files the last complete build read (every model,
none failed, the catalog refreshed), which says whether the marts are behind the lake."""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from idbx.errors import ConfigError
from idbx.lake.store import Lake, ManifestRecord

_VERSION = 2


@dataclass
class EventFile:
    size: int
    mtime_ns: int
    dates: dict[str, int]  # UTC day -> events of that day in the file


@dataclass
class ModelState:
    fingerprint: str
    event_files: dict[str, EventFile] = field(default_factory=dict)
    rows: int | None = None
    inputs: dict[str, str] = field(default_factory=dict)  # merge models: what each model it reads was
    content: str | None = None  # a hash of the output's rows, for tables merge models read whole


@dataclass
class BuildState:
    models: dict[str, ModelState] = field(default_factory=dict)
    parsed: dict[str, list[str]] = field(default_factory=dict)  # SQL hash -> tables it reads
    key_fingerprint: str | None = None  # of the pseudonym key the learner ids were last built with
    # Seconds each model took the last time it was built (not when kept unchanged): which step a
    # free lane takes first (idbx/models/schedule.py).
    seconds: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def path(lake: Lake):
        return lake.state / "build" / "state.json"

    @classmethod
    def load(cls, lake: Lake) -> BuildState:
        path = cls.path(lake)
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != _VERSION:
            return cls()
        models = {
            name: ModelState(
                model["fingerprint"],
                {rel: EventFile(*info) for rel, info in model["event_files"].items()},
                model["rows"],
                model.get("inputs", {}),
                model.get("content"),
            )
            for name, model in raw["models"].items()
        }
        return cls(models, raw.get("parsed", {}), raw.get("key_fingerprint"), raw.get("seconds", {}))

    def save(self, lake: Lake) -> None:
        models = {
            name: {
                "fingerprint": model.fingerprint,
                "rows": model.rows,
                "inputs": model.inputs,
                "content": model.content,
                "event_files": {rel: [info.size, info.mtime_ns, info.dates] for rel, info in model.event_files.items()},
            }
            for name, model in self.models.items()
        }
        lake.replace_file(
            self.path(lake),
            json.dumps(
                {
                    "version": _VERSION,
                    "models": models,
                    "parsed": self.parsed,
                    "key_fingerprint": self.key_fingerprint,
                    "seconds": self.seconds,
                }
            ).encode(),
        )

    def known_event_dates(self) -> dict[tuple[str, int, int], dict[str, int]]:
        """Event days of every file version some model was built from: (path, size, mtime) -> days."""
        known = {}
        for model in list(self.models.values()):  # a copy: models built side by side add to it
            for rel, info in model.event_files.items():
                known[(rel, info.size, info.mtime_ns)] = info.dates
        return known


@dataclass(frozen=True)
class LandedSources:
    """What the manifest says the lake holds: a digest of each landed source file's key and
    version (failed attempts that landed nothing left out), how many, and the latest landing time."""

    digest: str
    files: int
    through: str | None

    def newer(self, records: list[ManifestRecord]) -> list[ManifestRecord]:
        """The records landed after these (by their landing time, to the second)."""
        return [r for r in records if r.landed and (self.through is None or r.ingested_at > self.through)]


def landed_sources(records: list[ManifestRecord]) -> LandedSources:
    landed = sorted((r.key, r.sha256, r.ingested_at) for r in records if r.landed)
    digest = hashlib.sha256(json.dumps([[key, sha256] for key, sha256, _ in landed]).encode()).hexdigest()
    return LandedSources(digest, len(landed), max((at for *_, at in landed), default=None))


def _complete_path(lake: Lake):
    return lake.state / "build" / "complete.json"


def record_complete_build(lake: Lake, read: LandedSources) -> None:
    """A build of every model ended without a failure, having read `read` (taken when it started:
    a file landed meanwhile makes the lake ahead of it, and the next build takes it)."""
    built_at = datetime.now(UTC).isoformat(timespec="seconds")
    lake.replace_file(_complete_path(lake), json.dumps(asdict(read) | {"built_at": built_at}).encode())


def last_complete_build(lake: Lake) -> tuple[LandedSources, str] | None:
    """What the last complete build read, and when it ended; None before the first."""
    try:
        raw = json.loads(_complete_path(lake).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return LandedSources(raw["digest"], raw["files"], raw["through"]), raw["built_at"]


@contextmanager
def build_lock(lake: Lake) -> Iterator[None]:
    """One build at a time per lake (the lock goes with the process, even when it is killed)."""
    path = lake.state / "build" / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"another `idbx build` is running on {lake.root}; try again when it ends") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
