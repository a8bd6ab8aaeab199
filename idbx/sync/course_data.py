"""Weekly course-data deliveries (`{org}-YYYY-MM-DD.zip`) from S3 into `lake/landing/`.

Each delivery is a full snapshot of the course tables, so with no date given the newest delivery
is the one to fetch, unless the lake already holds it.
"""

from __future__ import annotations

from datetime import date

from idbx.errors import IdbxError
from idbx.lake.store import Lake
from idbx.sync.bucket import Bucket, RemoteObject, is_current
from idbx.sync.layout import delivery_date, delivery_prefix, landing_path, url
from idbx.sync.outcomes import CURRENT, DOWNLOADED, IN_LAKE, MISSING, SyncedObject, SyncReport, failed_object
from idbx.sync.settings import SyncSettings
from idbx.sync.state import holdings


def sync_course_data(lake: Lake, settings: SyncSettings, delivery: date | None = None) -> SyncReport:
    """Fetch the delivery of `delivery` (default: the newest in the bucket) into lake/landing/.

    Skipped when the landing copy is that very object, or when there is none and the lake already
    holds files of that delivery; a landing copy that differs (re-delivered) is replaced. A
    delivery not in the bucket is reported as missing, not as an error.
    """
    report = SyncReport(what="course data")
    bucket = Bucket(settings.course_data_bucket, settings)
    prefix = delivery_prefix(settings)
    where = url(bucket.name, prefix)
    try:
        listed = bucket.list(prefix)
    except IdbxError as exc:
        report.objects.append(failed_object(str(delivery or "newest"), where, exc))
        return report.finish()
    deliveries: dict[date, RemoteObject] = {}
    for item in sorted(listed, key=lambda i: i.key):
        found = delivery_date(item.key)
        if found and found not in deliveries:
            deliveries[found] = item
    newest = max(deliveries, default=None)
    chosen = delivery or newest
    if chosen is None or chosen not in deliveries:
        wanted = f"delivery of {chosen}" if chosen else "delivery"
        latest = f" (newest there: {newest})" if newest else ""
        report.objects.append(SyncedObject(str(chosen or "newest"), MISSING, where, message=f"no {wanted} at {where}*{latest}"))
        return report.finish()
    item = deliveries[chosen]
    label = chosen.isoformat()
    try:
        target = landing_path(lake, bucket.name, item.key)
        if is_current(item, target):
            report.objects.append(SyncedObject(label, CURRENT, item.url, target, item.size))
        elif not target.exists() and chosen in holdings(lake).deliveries:
            report.objects.append(
                SyncedObject(
                    label, IN_LAKE, item.url, None, item.size, message=f"the lake already holds the delivery of {chosen}"
                )
            )
        else:
            with lake.run("sync course data"):
                bucket.download(item, target, lake)
            report.objects.append(SyncedObject(label, DOWNLOADED, item.url, target, item.size))
    except IdbxError as exc:
        report.objects.append(failed_object(label, item.url, exc, item.size))
    return report.finish()
