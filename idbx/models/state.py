"""What the last builds left (I/O): per model, the fingerprint it was built from and, for the
incremental ones, the event files (and the days each held) it covers or what each model it reads
was. Kept in
`lake/_state/build/state.json`, replaced atomically; a lock keeps two builds off one lake."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from idbx.errors import ConfigError
from idbx.lake.store import TMP_MARKER, Lake

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
            name: ModelState(model["fingerprint"], {rel: EventFile(*info) for rel, info in model["event_files"].items()}, model["rows"],
                             model.get("inputs", {}), model.get("content"))
            for name, model in raw["models"].items()
        }
        return cls(models, raw.get("parsed", {}), raw.get("key_fingerprint"))

    def save(self, lake: Lake) -> None:
        path = self.path(lake)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}{TMP_MARKER}{os.getpid()}")
        models = {
            name: {"fingerprint": model.fingerprint, "rows": model.rows, "inputs": model.inputs, "content": model.content,
                   "event_files": {rel: [info.size, info.mtime_ns, info.dates] for rel, info in model.event_files.items()}}
            for name, model in self.models.items()
        }
        tmp.write_text(json.dumps({"version": _VERSION, "models": models, "parsed": self.parsed,
                                   "key_fingerprint": self.key_fingerprint}), encoding="utf-8")
        os.replace(tmp, path)

    def known_event_dates(self) -> dict[tuple[str, int, int], dict[str, int]]:
        """Event days of every file version some model was built from: (path, size, mtime) -> days."""
        known = {}
        for model in self.models.values():
            for rel, info in model.event_files.items():
                known[(rel, info.size, info.mtime_ns)] = info.dates
        return known


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
