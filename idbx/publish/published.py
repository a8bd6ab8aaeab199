"""What the lake last published (I/O): the complete build whose marts a publish read, and where
they went, kept in `lake/_state/publish/last.json` once the publish has ended without an error.
Whether MongoDB is behind the marts is read from here, without asking the server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from idbx.lake.store import Lake


@dataclass(frozen=True)
class LastPublish:
    build: str | None  # the digest of what the complete build before it read (None: no complete build yet)
    database: str
    hosts: str
    at: str


def _path(lake: Lake):
    return lake.state / "publish" / "last.json"


def record_publish(lake: Lake, build: str | None, database: str, hosts: str) -> None:
    at = datetime.now(UTC).isoformat(timespec="seconds")
    lake.replace_file(_path(lake), json.dumps({"build": build, "database": database, "hosts": hosts, "at": at}).encode())


def last_publish(lake: Lake) -> LastPublish | None:
    try:
        raw = json.loads(_path(lake).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return LastPublish(raw["build"], raw["database"], raw["hosts"], raw["at"])
