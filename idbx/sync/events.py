"""Daily tracking logs from S3 into `lake/landing/`: one day, a range, or every day missed.

With no day given, sync catches up: every day after the newest one the lake holds, up to
yesterday (UTC), so a day a timer missed is fetched by the next run (the predecessor lost it).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from idbx.errors import ConfigError, IdbxError
from idbx.lake.store import Lake
from idbx.sync.bucket import Bucket, is_current
from idbx.sync.layout import event_log_prefix, is_event_log_of, landing_path, url
from idbx.sync.outcomes import CURRENT, DOWNLOADED, IN_LAKE, MISSING, SyncedObject, SyncReport, failed_object
from idbx.sync.settings import CATCH_UP_DAYS_ENV, SyncSettings
from idbx.sync.state import LakeHoldings, holdings


def event_days(
    lake: Lake,
    settings: SyncSettings,
    day: date | None = None,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
) -> tuple[list[date], list[str]]:
    """The days to sync, and notes for the operator.

    `day` alone: that day. `start` (and `end`, default yesterday): the range, both ends included.
    Neither: catch-up, capped at IDBX_SYNC_CATCH_UP_DAYS days (the note says what was left out).
    """
    yesterday = (today or datetime.now(UTC).date()) - timedelta(days=1)
    if day and (start or end):
        raise ConfigError("give either a day, or a start (and an end), not both")
    if end and not start:
        raise ConfigError("an end needs a start")
    if day:
        return [day], []
    if start:
        end = end or yesterday
        if end < start:
            raise ConfigError(f"the range ends ({end}) before it starts ({start})")
        return [start + timedelta(days=n) for n in range((end - start).days + 1)], []
    newest = holdings(lake).newest_event_day
    if newest is None:
        return [yesterday], [f"the lake holds no tracking log yet: syncing {yesterday}; earlier days take start and end"]
    if newest >= yesterday:
        return [], [f"up to date: the lake holds every day up to {newest}"]
    first = newest + timedelta(days=1)
    days = [first + timedelta(days=n) for n in range((yesterday - first).days + 1)]
    notes = []
    if len(days) > settings.catch_up_days:
        skipped_end = days[-settings.catch_up_days - 1]
        days = days[-settings.catch_up_days :]
        notes.append(
            f"catching up on the last {settings.catch_up_days} days only ({CATCH_UP_DAYS_ENV}); "
            f"{first} to {skipped_end} were not tried: sync them with start={first} end={skipped_end}"
        )
    elif len(days) > 1:
        notes.append(f"catching up on {len(days)} days since {newest}, the newest day in the lake")
    return days, notes


def _sync_day(lake: Lake, bucket: Bucket, settings: SyncSettings, day: date, held: LakeHoldings) -> list[SyncedObject]:
    prefix = event_log_prefix(settings, day)
    label = day.isoformat()
    try:
        found = [item for item in bucket.list(prefix) if is_event_log_of(item.key, day)]
    except IdbxError as exc:
        return [failed_object(label, url(bucket.name, prefix), exc)]
    if not found:
        return [
            SyncedObject(
                label,
                MISSING,
                url(bucket.name, prefix),
                message=f"no tracking log for {day} at {url(bucket.name, prefix)}* (not delivered yet?)",
            )
        ]
    synced = []
    for item in found:
        try:
            target = landing_path(lake, bucket.name, item.key)
            name = target.name
            if is_current(item, target):
                synced.append(SyncedObject(label, CURRENT, item.url, target, item.size))
            elif not target.exists() and held.event_logs.get(name) == item.size:
                synced.append(SyncedObject(label, IN_LAKE, item.url, None, item.size))
            else:
                bucket.download(item, target, lake)
                synced.append(SyncedObject(label, DOWNLOADED, item.url, target, item.size))
        except IdbxError as exc:
            synced.append(failed_object(label, item.url, exc, item.size))
    return synced


def sync_events(lake: Lake, settings: SyncSettings, days: list[date]) -> SyncReport:
    """Fetch the tracking logs of `days` into lake/landing/, skipping what the lake already holds:
    a landing copy that is that very object, or (with no landing copy) a log the manifest has
    landed with the same size. A landing copy that differs (re-delivered) is replaced.

    A day not in the bucket is reported as missing, not as an error; an object that could not be
    fetched is reported as failed (`transient` when trying again later may help) and the other
    days go on.
    """
    report = SyncReport(what="events")
    bucket = Bucket(settings.events_bucket, settings)
    held = holdings(lake)
    with lake.run("sync events"):
        for day in days:
            report.objects += _sync_day(lake, bucket, settings, day, held)
    return report.finish()
