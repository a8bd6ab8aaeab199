"""forget-learners against the local Prefect server: the erasure done by the flow, Completed, with
an artifact that names no learner."""

from __future__ import annotations

import pytest

from flows.forget_learners import forget_learners
from idbx.lake.check import check_lake
from tests.conftest import SAMPLE_PSEUDONYM_KEY, copy_lake
from tests.orchestration.test_flows import artifact

pytestmark = pytest.mark.usefixtures("prefect_api")


def test_forget_learners_flow(built_sample, tmp_path, monkeypatch):
    monkeypatch.setenv("IDBX_PSEUDONYM_KEY", SAMPLE_PSEUDONYM_KEY)
    monkeypatch.delenv("IDBX_MONGO_URI", raising=False)
    lake = copy_lake(built_sample, tmp_path)
    identifiers = tmp_path / "requests.txt"
    identifiers.write_text("email:learner38@example.org\n", encoding="utf-8")
    state = forget_learners(
        usernames=["learner37"], from_files=[str(identifiers)], mode="delete", lake=str(lake.root), return_state=True
    )
    assert state.is_completed(), state.message
    [record] = check_lake(lake).erasures
    assert record["learners"] == 2 and record["mode"] == "delete"
    text = artifact(state)
    assert "2 learner(s)" in text and "then: build" in text
    assert "learner37" not in text and "learner38" not in text
