"""Sync against moto's S3 server over real HTTP: a day, a range, missing objects, transient faults
(a proxy that answers 503 SlowDown), already-synced objects, catch-up of missed days, deliveries."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date

import pytest

from idbx.errors import ConfigError, SourceFormatError
from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.lake.store import Lake
from idbx.sync.course_data import sync_course_data
from idbx.sync.events import event_days, sync_events
from idbx.sync.layout import landing_path
from idbx.sync.outcomes import CURRENT, DOWNLOADED, FAILED, IN_LAKE, MISSING
from idbx.sync.upload import upload_as_delivered
from tests.sync.faulty_proxy import FaultyProxy

JULY = {n: date(2016, 7, n) for n in range(1, 32)}


def event_key(day: date) -> str:
    return f"idbx/edx/events/{day.year}/idbx-edx-events-{day}.log.gz.gpg"


def test_one_day_lands_under_its_bucket_key_byte_for_byte(s3, sample, lake):
    upload_as_delivered(s3, sample.event_logs)
    report = sync_events(lake, s3, [JULY[2]])
    [item] = report.objects
    assert item.status == DOWNLOADED and item.url == f"s3://{s3.events_bucket}/{event_key(JULY[2])}"
    assert item.path == lake.landing / s3.events_bucket / event_key(JULY[2])
    assert item.path.read_bytes() == sample.event_logs[1].read_bytes()
    assert list(item.path.parent.iterdir()) == [item.path]  # nothing written aside is left over
    assert not [p for p in (lake.root / "_scratch").rglob("*") if p.is_file()]


def test_a_range_fetches_each_day_and_a_missing_day_is_only_reported(s3, sample, lake):
    upload_as_delivered(s3, sample.event_logs)
    days, _ = event_days(lake, s3, start=date(2016, 6, 30), end=JULY[3])
    report = sync_events(lake, s3, days)
    assert [(o.label, o.status) for o in report.objects] == [
        ("2016-06-30", MISSING),
        ("2016-07-01", DOWNLOADED),
        ("2016-07-02", DOWNLOADED),
        ("2016-07-03", DOWNLOADED),
    ]
    missing = report.missing[0].message
    assert "no tracking log for 2016-06-30" in missing and f"s3://{s3.events_bucket}/idbx/edx/events/2016/" in missing
    assert not report.failed and len(report.landed()) == 3


def test_a_transient_fault_is_survived_by_the_retries(s3, s3_server, sample, lake):
    upload_as_delivered(s3, sample.event_logs[:1])
    with FaultyProxy(s3_server.url, failures=2) as proxy:
        report = sync_events(lake, replace(s3, endpoint_url=proxy.url), [JULY[1]])
    assert proxy.failed == 2 and proxy.forwarded >= 2
    assert report.objects[0].status == DOWNLOADED
    assert report.objects[0].path.read_bytes() == sample.event_logs[0].read_bytes()


def test_a_fault_outlasting_the_retries_fails_that_day_only(s3, s3_server, sample, lake):
    upload_as_delivered(s3, sample.event_logs[:2])
    with FaultyProxy(s3_server.url, failures=2) as proxy:
        report = sync_events(lake, replace(s3, endpoint_url=proxy.url, attempts=2), [JULY[1], JULY[2]])
    first, second = report.objects
    assert first.status == FAILED and first.transient and report.transient_failures == [first]
    assert "SlowDown" in first.message and s3.events_bucket in first.message
    assert second.status == DOWNLOADED
    assert not (lake.landing / s3.events_bucket / event_key(JULY[1])).exists()


def test_an_object_already_synced_or_in_the_lake_is_not_fetched_again(s3, s3_server, sample, gpg, lake, tmp_path):
    upload_as_delivered(s3, sample.event_logs[:1])
    path = sync_events(lake, s3, [JULY[1]]).objects[0].path
    stamp = path.stat().st_mtime_ns
    with FaultyProxy(s3_server.url, failures=0) as proxy:
        again = sync_events(lake, replace(s3, endpoint_url=proxy.url), [JULY[1]])
    assert again.objects[0].status == CURRENT and again.landed() == [path]
    assert proxy.forwarded == 1 and path.stat().st_mtime_ns == stamp  # one listing, no download
    ingest_events([path], lake, gpg)
    path.unlink()
    held = sync_events(lake, s3, [JULY[1]])
    assert held.objects[0].status == IN_LAKE and held.landed() == [] and not path.exists()
    # a re-delivered, different object under the same key is fetched again
    redelivered = tmp_path / path.name
    shutil.copy(sample.event_logs[1], redelivered)
    assert redelivered.stat().st_size != sample.event_logs[0].stat().st_size
    upload_as_delivered(s3, [redelivered])
    assert sync_events(lake, s3, [JULY[1]]).objects[0].status == DOWNLOADED
    assert path.read_bytes() == redelivered.read_bytes()


def test_catch_up_fetches_every_day_missed_since_the_newest_in_the_lake(s3, sample, gpg, lake, tmp_path):
    upload_as_delivered(s3, sample.event_logs)
    assert event_days(Lake(tmp_path / "empty"), s3, today=JULY[4])[0] == [JULY[3]]
    ingest_events(sync_events(lake, s3, [JULY[1]]).landed(), lake, gpg)
    days, notes = event_days(lake, s3, today=JULY[4])
    assert days == [JULY[2], JULY[3]] and "catching up on 2 days since 2016-07-01" in notes[0]
    report = sync_events(lake, s3, days)
    assert [o.status for o in report.objects] == [DOWNLOADED, DOWNLOADED]
    ingest_events(report.landed(), lake, gpg)
    assert event_days(lake, s3, today=JULY[4]) == ([], ["up to date: the lake holds every day up to 2016-07-03"])
    capped, notes = event_days(lake, replace(s3, catch_up_days=5), today=date(2016, 8, 1))
    assert capped == [JULY[n] for n in range(27, 32)]
    assert "start=2016-07-04 end=2016-07-26" in notes[0]


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"day": JULY[1], "start": JULY[1]}, "either a day"),
        ({"end": JULY[1]}, "an end needs a start"),
        ({"start": JULY[3], "end": JULY[1]}, "ends (2016-07-01) before it starts (2016-07-03)"),
    ],
)
def test_day_choices_that_make_no_sense_are_refused(s3, lake, arguments, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        event_days(lake, s3, **arguments)


def test_newest_delivery_by_default_and_skipped_once_the_lake_holds_it(s3, sample, gpg, lake, tmp_path):
    older = tmp_path / "idbx-2016-06-27.zip"
    shutil.copy(sample.package, older)
    upload_as_delivered(s3, [older, sample.package])
    report = sync_course_data(lake, s3)
    [item] = report.objects
    assert (item.label, item.status) == ("2016-07-04", DOWNLOADED)
    assert item.path == lake.landing / s3.course_data_bucket / "idbx-2016-07-04.zip"
    assert not ingest_package(report.landed(), lake, gpg).failed
    item.path.unlink()
    again = sync_course_data(lake, s3).objects[0]
    assert again.status == IN_LAKE and "already holds the delivery of 2016-07-04" in again.message
    assert sync_course_data(lake, s3, date(2016, 6, 27)).objects[0].status == DOWNLOADED
    missing = sync_course_data(lake, s3, JULY[11]).objects[0]
    assert (
        missing.status == MISSING
        and "no delivery of 2016-07-11" in missing.message
        and "newest there: 2016-07-04" in missing.message
    )


def test_a_missing_bucket_is_a_clear_failure_and_keys_cannot_escape_landing(s3, lake):
    [item] = sync_course_data(lake, replace(s3, course_data_bucket="no-such-bucket")).objects
    assert item.status == FAILED and not item.transient
    assert item.message == "s3://no-such-bucket/idbx-: no such bucket (check the bucket settings)"
    for key in ("../outside.zip", "/absolute.zip", "a/./b.zip", "a//b.zip", "a\\b.zip"):
        with pytest.raises(SourceFormatError, match="outside lake/landing"):
            landing_path(lake, "bucket", key)
