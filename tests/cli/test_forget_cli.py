"""`idbx forget` on the command line: usage errors in one line, a dry run, the erasure, lake check."""

from pathlib import Path

import pytest

from idbx.lake.store import Lake
from tests.cli.test_cli import run
from tests.conftest import SAMPLE_PSEUDONYM_KEY, copy_lake


@pytest.fixture
def lake(built_sample: Lake, tmp_path: Path) -> Lake:
    return copy_lake(built_sample, tmp_path)


def test_forget_cli(lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IDBX_PSEUDONYM_KEY", SAMPLE_PSEUDONYM_KEY)
    monkeypatch.delenv("IDBX_MONGO_URI", raising=False)
    nothing = run("forget", "--lake", str(lake.root))
    assert nothing.returncode == 2 and "nothing to forget" in nothing.stderr and "Traceback" not in nothing.stderr
    bad = tmp_path / "bad.txt"
    bad.write_text("learner37\nuser_id:x\n", encoding="utf-8")
    refused = run("forget", "--from-file", str(bad), "--lake", str(lake.root))
    assert refused.returncode == 2 and "bad.txt:2: not a user id" in refused.stderr
    assert run("forget", "--user-id", "37", "--mode", "erase", "--lake", str(lake.root)).returncode == 2

    dry = run("forget", "--user-id", "37", "--dry-run", "--lake", str(lake.root))
    assert dry.returncode == 0, dry.stderr
    assert "would rewrite" in dry.stdout and not (lake.state / "erasure").exists()

    (lake.root / "exports").mkdir()
    assert run("dashboard", "--lang", "en", "--lake", str(lake.root)).returncode == 0
    site = (lake.root / "dashboard").resolve()
    done = run("forget", "--user-id", "37", "--email", "nobody@example.org", "--lake", str(lake.root))
    assert done.returncode == 0, done.stderr
    assert "2 learner(s)" in done.stdout and "1 identifier(s) found nowhere" in done.stdout
    assert "then: build, exports, dashboard" in done.stdout
    assert (
        (lake.root / "dashboard").resolve() != site
        and 'lang="en"' in (lake.root / "dashboard" / "index.html").read_text()
        and "the next `idbx publish` removes" in done.stdout
    )
    assert (lake.root / "exports" / "masterfile.csv").exists()
    check = run("lake", "check", "--lake", str(lake.root))
    assert check.returncode == 0, check.stdout
    assert "erasure " in check.stdout and "2 learner(s) (deidentify)" in check.stdout
