"""Shared fixtures: a real gpg key and encrypted sample delivery (made once per run), fresh lakes."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from idbx.config import GpgSettings
from idbx.lake import Lake
from idbx.sample import Sample, write_sample

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    return CORPUS


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return write_sample(tmp_path_factory.mktemp("sample"), courses=3, learners=60, snapshot=date(2016, 7, 4))


@pytest.fixture
def gpg(sample: Sample) -> GpgSettings:
    return GpgSettings(key_file=sample.key_file, passphrase=sample.passphrase)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


@pytest.fixture
def gpg_env(sample: Sample, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("IDBX_GPG_KEY", str(sample.key_file))
    monkeypatch.setenv("IDBX_GPG_PASSPHRASE", sample.passphrase)
    return dict(os.environ)


SAMPLE_PSEUDONYM_KEY = "sample-pseudonym-key-0123456789"


@pytest.fixture(scope="session")
def built_sample(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The encrypted sample landed and built once (read-only for the tests that use it)."""
    from idbx.ingest.course_data import ingest_package
    from idbx.ingest.events import ingest_events
    from idbx.models.runner import build

    lake = Lake(tmp_path_factory.mktemp("built-sample") / "lake")
    gpg = GpgSettings(key_file=sample.key_file, passphrase=sample.passphrase)
    ingest_package([sample.package], lake, gpg)
    ingest_events(sample.event_logs, lake, gpg)
    summary = build(lake, key=SAMPLE_PSEUDONYM_KEY)
    assert not summary.failed, [outcome.error for outcome in summary.failed]
    return lake
