"""What the lake already holds, read from its manifest: the days and deliveries sync may skip.

Dates come from the partitions each record names (`log_date=D`, `snapshot_date=D`), the lake's
documented layout, rather than from the manifest's key format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePosixPath

from idbx.ingest.outcomes import INGESTED
from idbx.lake.store import Lake

_LOG_DATE = re.compile(r"log_date=(\d{4}-\d{2}-\d{2})")
_SNAPSHOT_DATE = re.compile(r"snapshot_date=(\d{4}-\d{2}-\d{2})")


@dataclass
class LakeHoldings:
    event_days: set[date] = field(default_factory=set)
    event_logs: dict[str, int] = field(default_factory=dict)  # file name -> size, ingested
    deliveries: set[date] = field(default_factory=set)  # with at least one file landed

    @property
    def newest_event_day(self) -> date | None:
        return max(self.event_days, default=None)


def _dates(pattern: re.Pattern, partitions: list[str]) -> set[date]:
    return {date.fromisoformat(m[1]) for p in partitions for m in [pattern.search(p)] if m}


def holdings(lake: Lake) -> LakeHoldings:
    """Days and deliveries with a landed file. A delivery with a failed file still counts: that
    run failed loudly, and reprocessing it by date retries the file from its landing copy."""
    held = LakeHoldings()
    for record in lake.manifest_records():
        if record.status != INGESTED:
            continue
        days = _dates(_LOG_DATE, record.partitions)
        if days:
            held.event_days |= days
            held.event_logs[PurePosixPath(record.source).name] = record.size
        held.deliveries |= _dates(_SNAPSHOT_DATE, record.partitions)
    return held
