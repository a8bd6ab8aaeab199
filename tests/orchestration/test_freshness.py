"""Whether the lake is ahead of the marts and MongoDB, on a real lake (the encrypted sample landed
by the pipeline, built, published to the session's MongoDB-wire server): what a sync deployment
starts build-and-publish on, whatever its own run landed."""

from __future__ import annotations

import pytest

from idbx.config import GpgSettings
from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.lake.store import Lake
from idbx.models.project import read_project
from idbx.models.runner import build
from idbx.orchestration.freshness import behind
from idbx.publish import PublishError, publish
from tests.conftest import SAMPLE_PSEUDONYM_KEY, copy_lake
from tests.models.test_runner import broken_project
from tests.publish.conftest import fast


@pytest.fixture(scope="module")
def two_days_landed(sample, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The sample's delivery and its first two days of logs, landed once for the module; nothing built."""
    lake = Lake(tmp_path_factory.mktemp("two-days") / "lake")
    gpg = GpgSettings(key_file=sample.key_file, passphrase=sample.passphrase)
    assert not ingest_package([sample.package], lake, gpg).failed
    assert not ingest_events(sample.event_logs[:2], lake, gpg).failed
    return lake


@pytest.fixture
def two_days(two_days_landed: Lake, tmp_path) -> Lake:
    """A copy of it for the test to build, publish and land more in."""
    return copy_lake(two_days_landed, tmp_path)


@pytest.fixture
def settings(mongo_uri, database):
    return fast(mongo_uri, database.name)


def test_an_empty_lake_is_not_ahead(tmp_path):
    assert behind(Lake(tmp_path / "lake")) is None


def test_ahead_until_built_and_published_and_again_when_a_day_lands(two_days, sample, settings):
    lake = two_days
    files = len(lake.manifest_records())
    assert behind(lake) == f"{files} source files landed and no complete build yet"
    assert not build(lake, key=SAMPLE_PSEUDONYM_KEY).failed
    assert behind(lake).startswith("the last complete build (") and behind(lake).endswith(") was never published")
    publish(lake, settings)
    assert behind(lake) is None

    gpg = GpgSettings(key_file=sample.key_file, passphrase=sample.passphrase)
    ingest_events(sample.event_logs[:2], lake, gpg)  # the same files again: nothing lands
    assert behind(lake) is None
    ingest_events(sample.event_logs[2:3], lake, gpg)
    reason = behind(lake)
    assert reason.startswith("1 source file landed since the last complete build (")
    assert reason.endswith(f"the first {sample.event_logs[2].name}")
    assert not build(lake, key=SAMPLE_PSEUDONYM_KEY).failed
    assert "is not published yet (last publish " in behind(lake)
    assert behind(lake).endswith(f", to {settings.database} at {settings.hosts})")
    publish(lake, settings)
    assert behind(lake) is None


def test_a_failed_or_partial_build_and_a_failed_publish_leave_the_lake_ahead(two_days, sample, settings, tmp_path):
    lake = two_days
    assert not build(lake, key=SAMPLE_PSEUDONYM_KEY).failed
    publish(lake, settings)
    gpg = GpgSettings(key_file=sample.key_file, passphrase=sample.passphrase)
    ingest_events(sample.event_logs[2:3], lake, gpg)
    landed = behind(lake)
    assert landed.startswith("1 source file landed")

    # A build with a model that fails, and a build of some models only: neither covers the lake.
    failed = build(lake, key=SAMPLE_PSEUDONYM_KEY, project=read_project(broken_project(tmp_path, "SELECT k FROM no_such_table")))
    assert [o.name for o in failed.failed] == ["zz_broken"]
    assert behind(lake) == landed
    assert not build(lake, key=SAMPLE_PSEUDONYM_KEY, select=["course_report"]).failed
    assert behind(lake) == landed

    assert not build(lake, key=SAMPLE_PSEUDONYM_KEY).failed
    unpublished = behind(lake)
    assert "is not published yet" in unpublished
    # A publish that cannot reach its server records nothing.
    with pytest.raises(PublishError):
        publish(lake, fast("mongodb://127.0.0.1:9", settings.database))
    assert behind(lake) == unpublished
    publish(lake, settings)
    assert behind(lake) is None
