"""Which days an incremental model must recompute (pure), from the log files that appeared,
changed or disappeared since the model was last built. Partitioned by event date, those are the
days the files' events fall on: a file of day D holding events of D-13 makes D-13 a day to
recompute, so late events land on their own day. Partitioned by log date, the files' own days."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from idbx.models import settings

if TYPE_CHECKING:  # the planner, which reads this, stays free of the lake's I/O (and DuckDB)
    from idbx.models.state import EventFile

_LOG_DATE = re.compile(r"(?:^|/)log_date=([0-9]{4}-[0-9]{2}-[0-9]{2})/")


def _log_date(rel: str) -> str:
    match = _LOG_DATE.search(rel)
    if not match:
        raise ValueError(f"{rel}: not under a log_date=YYYY-MM-DD folder")
    return match[1]


def _days(partition_by: str, rel: str, info: EventFile) -> set[str]:
    return {_log_date(rel)} if partition_by == settings.LOG_DATE else set(info.dates)


def affected_days(partition_by: str, built_from: dict[str, EventFile], now: dict[str, EventFile]) -> set[str]:
    """Days whose rows differ between the files a model was built from and the files now."""
    days: set[str] = set()
    for rel, info in now.items():
        before = built_from.get(rel)
        if before is None or (before.size, before.mtime_ns) != (info.size, info.mtime_ns):
            days |= _days(partition_by, rel, info)
            if before is not None:
                days |= _days(partition_by, rel, before)
    for rel, before in built_from.items():
        if rel not in now:
            days |= _days(partition_by, rel, before)
    return days


def files_holding(partition_by: str, now: dict[str, EventFile], days: set[str]) -> list[str]:
    """The files that hold rows of any of these days."""
    return sorted(rel for rel, info in now.items() if days & _days(partition_by, rel, info))


def added_files(built_from: dict[str, EventFile], now: dict[str, EventFile]) -> tuple[str, ...] | None:
    """The files that appeared since, when nothing else changed (no file rewritten or removed):
    then only their events are new. None when a file changed or went (its former events are gone)."""
    if any(rel not in now for rel in built_from):
        return None
    added = []
    for rel, info in now.items():
        before = built_from.get(rel)
        if before is None:
            added.append(rel)
        elif (before.size, before.mtime_ns) != (info.size, info.mtime_ns):
            return None
    return tuple(sorted(added))
