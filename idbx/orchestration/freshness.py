"""Whether the marts and MongoDB are behind the lake: what a sync deployment decides on to start
build-and-publish. Read from the lake alone (the manifest, what the last complete build read,
what the last publish read), not from what the sync's own run landed: a run killed after its day
landed and before it chained, or a build-and-publish that crashed or failed, leaves the lake
ahead, and the next sync (by hand or by the schedule) starts build-and-publish again."""

from __future__ import annotations

from pathlib import PurePosixPath

from idbx.lake.store import Lake
from idbx.models.state import landed_sources, last_complete_build
from idbx.publish.published import last_publish


def behind(lake: Lake) -> str | None:
    """Why build-and-publish should run now, in one line; None when the last complete build read
    every landed source file and the last publish sent that build's marts (or nothing landed yet)."""
    records = lake.manifest_records()
    landed = landed_sources(records)
    built = last_complete_build(lake)
    if built is None:
        return f"{_files(landed.files)} landed and no complete build yet" if landed.files else None
    read, built_at = built
    if read.digest != landed.digest:
        newer = read.newer(records)
        if not newer:
            return f"the lake's source files changed since the last complete build ({built_at})"
        first = PurePosixPath(min(newer, key=lambda r: r.ingested_at).key).name
        return f"{_files(len(newer))} landed since the last complete build ({built_at}), the first {first}"
    published = last_publish(lake)
    if published is None:
        return f"the last complete build ({built_at}) was never published"
    if published.build != read.digest:
        return (
            f"the last complete build ({built_at}) is not published yet "
            f"(last publish {published.at}, to {published.database} at {published.hosts})"
        )
    return None


def _files(count: int) -> str:
    return f"{count:,} source file" + ("s" if count != 1 else "")
