"""`--include-pii`: the two staff exports name learners when asked, warn, and nothing else does."""

from __future__ import annotations

import csv
import io
import os
import re

import pytest

from idbx.errors import ConfigError, IdbxError
from idbx.exports.writer import write_report
from idbx.local.sample import PII_PATTERN
from tests.cli.test_cli import run
from tests.conftest import SAMPLE_PSEUDONYM_KEY
from tests.models.tiny_lake import pseudonym


@pytest.mark.parametrize("name", ["masterfile", "active-users"])
def test_staff_exports_name_learners_when_asked(built_sample, tmp_path, name):
    out = tmp_path / f"{name}.csv"
    rows = write_report(built_sample, name, out, include_pii=True, key=SAMPLE_PSEUDONYM_KEY)
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(table) == rows > 0 and list(table[0])[-3:] == ["username", "email", "full_name"]
    named = [row for row in table if row["username"]]
    assert len(named) == len(table)  # every learner of these exports has an account in the delivery
    for row in named:  # the name belongs to the pseudonymous id on the same row
        number = int(row["username"].removeprefix("learner"))
        assert row["learner_id"] == pseudonym(number, SAMPLE_PSEUDONYM_KEY)
        assert row["email"] == f"learner{number}@example.org" and row["full_name"]
    without = tmp_path / "plain.csv"
    write_report(built_sample, name, without)
    assert not re.search(PII_PATTERN, without.read_text(encoding="utf-8"))


def test_other_exports_refuse_it(built_sample, tmp_path):
    with pytest.raises(IdbxError, match="staff exports only"):
        write_report(built_sample, "person-course", tmp_path / "x.csv", include_pii=True, key=SAMPLE_PSEUDONYM_KEY)
    assert not (tmp_path / "x.csv").exists()


def test_another_key_or_none_is_refused(built_sample, tmp_path, monkeypatch):
    with pytest.raises(IdbxError, match="not the key the marts were built with"):
        write_report(built_sample, "masterfile", tmp_path / "x.csv", include_pii=True, key="another-key-0123456789abcdef")
    monkeypatch.delenv("IDBX_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ConfigError, match="IDBX_PSEUDONYM_KEY"):
        write_report(built_sample, "masterfile", tmp_path / "x.csv", include_pii=True)
    assert not (tmp_path / "x.csv").exists()


def test_cli_warns_in_the_summary(built_sample, tmp_path):
    env = {**os.environ, "IDBX_PSEUDONYM_KEY": SAMPLE_PSEUDONYM_KEY}
    done = run(
        "report", "active-users", "--lake", str(built_sample.root), "--include-pii", "-o", str(tmp_path / "a.csv"), env=env
    )
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and "do not distribute" in done.stderr
    assert not re.search(PII_PATTERN, done.stderr + done.stdout)  # the file has the names, the messages do not
    refused = run("report", "general", "--lake", str(built_sample.root), "--include-pii", env=env)
    assert refused.returncode == 1 and "staff exports only" in refused.stderr
