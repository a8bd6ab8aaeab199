"""Which event days an incremental model must recompute (pure): the days held by the log files
that appeared, changed or disappeared since the model was last built. A file of day D holding
events of D-13 makes D-13 a day to recompute, so late events land on their own day."""

from __future__ import annotations

from idbx.models.state import EventFile


def affected_dates(built_from: dict[str, EventFile], now: dict[str, EventFile]) -> set[str]:
    """Days whose events differ between the files a model was built from and the files now."""
    days: set[str] = set()
    for rel, info in now.items():
        before = built_from.get(rel)
        if before is None or (before.size, before.mtime_ns) != (info.size, info.mtime_ns):
            days |= set(info.dates)
            if before is not None:
                days |= set(before.dates)
    for rel, before in built_from.items():
        if rel not in now:
            days |= set(before.dates)
    return days


def files_holding(now: dict[str, EventFile], days: set[str]) -> list[str]:
    """The files that hold events of any of these days."""
    return sorted(rel for rel, info in now.items() if days & set(info.dates))
