"""Put files where edX would: the sample and the quickstart fill a local S3 server this way."""

from __future__ import annotations

from pathlib import Path

from idbx.errors import ConfigError
from idbx.sync.bucket import Bucket
from idbx.sync.layout import delivery_key, event_log_key, url
from idbx.sync.settings import SyncSettings


def upload_as_delivered(settings: SyncSettings, files: list[Path]) -> list[str]:
    """Upload tracking logs and delivery zips under edX's keys (creating the buckets); their URLs."""
    buckets: dict[str, Bucket] = {}
    uploaded = []
    for path in files:
        if key := event_log_key(settings, path.name):
            name = settings.events_bucket
        elif key := delivery_key(settings, path.name):
            name = settings.course_data_bucket
        else:
            raise ConfigError(f"{path}: neither a tracking log nor a course-data delivery by its name")
        if name not in buckets:
            buckets[name] = Bucket(name, settings)
            buckets[name].create()
        buckets[name].upload(path, key)
        uploaded.append(url(name, key))
    return uploaded
