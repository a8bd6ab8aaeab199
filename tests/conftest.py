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
