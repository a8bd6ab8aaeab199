"""Where things are in the buckets and in `lake/landing/`: pure functions of settings, dates and keys.

The landing copy of `s3://BUCKET/KEY` is `lake/landing/BUCKET/KEY`, so a landed file says exactly
where it came from, and two buckets can never collide.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path, PurePosixPath

from idbx.errors import SourceFormatError
from idbx.lake.store import Lake
from idbx.parsers.naming import events_log_date, package_date
from idbx.sync.settings import SyncSettings


def event_log_prefix(settings: SyncSettings, day: date) -> str:
    """Keys of a day's tracking log start with this (`.log`, `.log.gz` or `.log.gz.gpg` follow)."""
    return f"{settings.events_prefix}{day.year}/{settings.org}-edx-events-{day.isoformat()}.log"


def event_log_key(settings: SyncSettings, name: str) -> str | None:
    """Where edX puts a tracking log of this file name; None for other names."""
    day = events_log_date(name)
    return f"{settings.events_prefix}{day.year}/{name}" if day else None


def is_event_log_of(key: str, day: date) -> bool:
    return events_log_date(key) == day


def delivery_prefix(settings: SyncSettings) -> str:
    """Keys of course-data deliveries (`{org}-YYYY-MM-DD.zip`) start with this."""
    return f"{settings.course_data_prefix}{settings.org}-"


def delivery_key(settings: SyncSettings, name: str) -> str | None:
    """Where edX puts a course-data delivery of this file name; None for other names."""
    return f"{settings.course_data_prefix}{name}" if delivery_date(name) else None


def delivery_date(key: str) -> date | None:
    """The date of a delivery zip from its key; None for anything else under the prefix."""
    name = PurePosixPath(key).name
    return package_date(name) if name.endswith(".zip") else None


def url(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def landing_path(lake: Lake, bucket: str, key: str) -> Path:
    """`lake/landing/BUCKET/KEY`; a key that would not map to one path inside that folder (`..`,
    `.`, empty segments, an absolute key, a backslash) is refused."""
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts) or "\\" in key:
        raise SourceFormatError(url(bucket, key), "refused: the key would land outside lake/landing/ or on another key's path")
    return lake.landing.joinpath(bucket, *parts)
