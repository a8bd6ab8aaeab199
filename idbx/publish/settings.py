"""Where and how to publish: the server, the database, batch sizes and the retry budget, resolved
from options and the environment in one place. The URI may hold a password: only `hosts` (never
the URI) goes into messages."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from idbx.errors import ConfigError

URI_ENV = "IDBX_MONGO_URI"
DB_ENV = "IDBX_MONGO_DB"
DEFAULT_URI = "mongodb://127.0.0.1:27017"
DEFAULT_DB = "edx"  # the predecessor's database

# Collections (names other tools rely on).
REPORTS = "reports"
COURSES = "courses"
LEARNERS = "learners"
STATE = "_idbx_publish"


@dataclass(frozen=True)
class MongoSettings:
    uri: str = DEFAULT_URI
    database: str = DEFAULT_DB
    # Documents per bulk write: small enough that a retried batch costs little, large enough to
    # keep round trips few.
    batch_size: int = 1000
    # Attempts per operation for transient errors (connection lost, server stepping down), with
    # exponential back-off from `backoff_seconds`: 5 attempts wait 0.5 + 1 + 2 + 4 s in between.
    attempts: int = 5
    backoff_seconds: float = 0.5
    # How long the driver waits for a server to answer before one attempt fails.
    server_timeout_ms: int = 10_000
    # A publish holds a lease on the database; a holder that died on another machine loses it then.
    lease_seconds: int = 600

    @classmethod
    def resolve(cls, uri: str | None = None, database: str | None = None, **overrides: object) -> MongoSettings:
        """URI from the option, else IDBX_MONGO_URI, else a local server; database likewise (default `edx`)."""
        settings = cls(
            uri=uri or os.environ.get(URI_ENV) or DEFAULT_URI,
            database=database or os.environ.get(DB_ENV) or DEFAULT_DB,
            **overrides,  # type: ignore[arg-type]
        )
        if not _URI.match(settings.uri):
            raise ConfigError(f"the MongoDB URI ({URI_ENV} or --mongo-uri) must start with mongodb:// or mongodb+srv://")
        _check_database_name(settings.database)
        return settings

    @property
    def hosts(self) -> str:
        """The servers the URI names, without user or password: what messages show."""
        match = _URI.match(self.uri)
        return match.group("hosts") if match else "?"


# What MongoDB refuses in a database name on any platform (its "Naming Restrictions"), and its limit.
_DB_NAME_FORBIDDEN = '/\\. "$\x00'
_DB_NAME_MAX_BYTES = 63


def _check_database_name(name: str) -> None:
    forbidden = sorted({char for char in name if char in _DB_NAME_FORBIDDEN})
    if not name or forbidden or len(name.encode()) > _DB_NAME_MAX_BYTES:
        why = (
            f"it holds {', '.join(repr(c) for c in forbidden)}"
            if forbidden
            else "it is empty"
            if not name
            else f"it is longer than {_DB_NAME_MAX_BYTES} bytes"
        )
        raise ConfigError(
            f"{name!r} cannot be a MongoDB database name ({DB_ENV} or --db): {why}; "
            'MongoDB refuses names with / \\ . space " $ or longer than 63 bytes'
        )


# scheme://[user[:password]@]hosts[/database][?options]; a password may hold anything but '@' unescaped.
_URI = re.compile(r"^mongodb(?:\+srv)?://(?:[^@/]*@)?(?P<hosts>[^/?]+)")
