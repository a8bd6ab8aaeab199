"""Killed and concurrent runs of the `idbx` command, by program: the lake a re-run leaves must be
exactly a clean run's lake, with no key material, decrypted data, staged file or gpg-agent left.

Each case starts `idbx ingest events|package` as a subprocess, watches the lake and the temp
folder, and sends SIGKILL or SIGTERM when the run reaches a point: `early` (its private keyring
exists, nothing has landed), `mid-write` (a part is being written aside) or `near the end` (every
file but one is recorded). The re-run is the same function, in this process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest

from idbx.config import GpgSettings
from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.lake.check import check_lake
from idbx.lake.store import TMP_MARKER, Lake
from idbx.local.sample import sample_course_ids, write_event_log
from tests.conftest import gpg_agents

IDBX = str(Path(sys.executable).with_name("idbx"))
KILL_TIMEOUT = 60


def snapshot(lake: Lake) -> dict:
    """What a reader can see: rows and a content hash per partition, the manifest, every file."""
    con = duckdb.connect()
    partitions = {}
    for folder in sorted({part.parent for part in lake.bronze.rglob("*.parquet")}):
        scan = f"read_parquet('{folder}/*.parquet', union_by_name = true)"
        partitions[lake.relative(folder)] = con.execute(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {scan} t").fetchall()[0]
    manifest = {}
    for path in sorted((lake.state / "manifest").glob("*.json")):
        record = json.loads(path.read_text())
        record.pop("ingested_at")
        # Which files are sealed: their bytes (and so size and digest) may differ between two clean
        # runs where the rows come in another order (course_blocks); rows are compared above.
        record["seals"] = sorted(record.get("seals") or {})
        manifest[path.name] = record
    files = sorted(lake.relative(p) for p in lake.root.rglob("*") if p.is_file())
    return {"partitions": partitions, "manifest": manifest, "files": files}


class Command:
    """One `idbx ingest` command: how to run it as a subprocess and in-process, and its file count."""

    def __init__(self, argv: list[str], again: Callable[[Lake], object], files: int):
        self.argv, self.again, self.files = argv, again, files


@pytest.fixture(scope="module")
def one_course(sample, tmp_path_factory) -> Path:
    """The sample delivery cut to its first course: every kind of file, few of them."""
    package = tmp_path_factory.mktemp("one-course") / sample.package.name
    with zipfile.ZipFile(sample.package) as source, zipfile.ZipFile(package, "w") as target:
        for info in source.infolist():
            if "-IDB1x-" in info.filename:
                target.writestr(info, source.read(info))
    return package


@pytest.fixture(scope="module")
def commands(sample, one_course) -> dict[str, Command]:
    gpg = GpgSettings(sample.key_file, sample.passphrase)
    with zipfile.ZipFile(one_course) as archive:
        files = len(archive.infolist())
    return {
        "events": Command(
            ["ingest", "events", *map(str, sample.event_logs)],
            lambda lake: ingest_events(sample.event_logs, lake, gpg),
            len(sample.event_logs),
        ),
        "package": Command(["ingest", "package", str(one_course)], lambda lake: ingest_package([one_course], lake, gpg), files),
    }


@pytest.fixture(scope="module")
def clean(commands, tmp_path_factory) -> dict[str, dict]:
    """Each command's lake after one clean run."""
    lakes = {}
    for name, command in commands.items():
        lake = Lake(tmp_path_factory.mktemp(f"clean-{name}") / "lake")
        done = command.again(lake)
        assert not done.failed, [outcome.error for outcome in done.failed]  # the yardstick itself must be clean
        lakes[name] = snapshot(lake)
    return lakes


@pytest.fixture
def env(sample, short_tmp) -> dict[str, str]:
    return {
        **os.environ,
        "TMPDIR": str(short_tmp),
        "IDBX_GPG_KEY": str(sample.key_file),
        "IDBX_GPG_PASSPHRASE": sample.passphrase,
    }


def recorded(lake: Lake) -> int:
    return sum(1 for p in (lake.state / "manifest").glob("*.json") if json.loads(p.read_text())["status"] == "ingested")


POINTS: dict[str, Callable[[Lake, Path, Command], bool]] = {
    "early": lambda lake, tmp, command: any(tmp.glob("idbx-gpg-*/pubring.kbx")),
    "mid-write": lambda lake, tmp, command: any(TMP_MARKER in p.name for p in lake.bronze.rglob("*")),
    "near-the-end": lambda lake, tmp, command: recorded(lake) >= command.files - 1,
}


def kill_at(argv: list[str], lake: Lake, tmp: Path, env: dict, reached: Callable[[], bool], signum: int) -> int:
    """Run `idbx argv`, send `signum` as soon as `reached()` holds, return the exit status."""
    process = subprocess.Popen(
        [IDBX, *argv, "--lake", str(lake.root)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + KILL_TIMEOUT
        while not reached():
            assert process.poll() is None, f"the run ended before the kill point: {process.stderr.read()}"
            assert time.monotonic() < deadline, "the kill point was never reached"
            time.sleep(0.001)
        process.send_signal(signum)
        process.communicate(timeout=KILL_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode


def leftovers(lake: Lake, tmp: Path) -> dict:
    return {
        "keyrings": sorted(p.name for p in tmp.iterdir()),
        "agents": sorted(gpg_agents(tmp).values()),
        "aside": sorted(lake.relative(p) for p in lake.root.rglob(f"*{TMP_MARKER}*")),
        "scratch": sorted(p.name for p in (lake.root / "_scratch").glob("*")),
    }


NOTHING_LEFT = {"keyrings": [], "agents": [], "aside": [], "scratch": []}


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("name", ["events", "package"])
def test_a_killed_run_then_a_re_run_leave_a_clean_runs_lake(
    name, signum, point, commands, clean, env, short_tmp, tmp_path, monkeypatch
):
    command = commands[name]
    lake = Lake(tmp_path / "lake")
    status = kill_at(command.argv, lake, short_tmp, env, lambda: POINTS[point](lake, short_tmp, command), signum)
    if signum == signal.SIGTERM:
        assert status == 128 + signal.SIGTERM
        assert leftovers(lake, short_tmp) == NOTHING_LEFT, "SIGTERM cleans up like a normal exit"
    else:
        assert status == -signal.SIGKILL
    if point != "early":
        interrupted = [p.kind for p in check_lake(lake).problems if p.kind == "interrupted"]
        # On a loaded machine the signal can land after the last file was recorded: nothing is then pending.
        assert interrupted == ["interrupted"] or (interrupted == [] and recorded(lake) == command.files)
    monkeypatch.setattr(tempfile, "tempdir", str(short_tmp))  # the re-run sweeps the temp folder the killed run used
    command.again(lake)
    assert leftovers(lake, short_tmp) == NOTHING_LEFT
    assert check_lake(lake).problems == []
    assert snapshot(lake) == clean[name]


def test_two_runs_of_the_same_files_at_once(commands, clean, env, short_tmp, tmp_path):
    lake = Lake(tmp_path / "lake")
    argv = [IDBX, *commands["events"].argv, "--lake", str(lake.root)]
    runs = [subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [run.communicate(timeout=KILL_TIMEOUT)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], errors
    assert not any("Traceback" in error for error in errors)
    assert leftovers(lake, short_tmp) == NOTHING_LEFT
    assert check_lake(lake).problems == []
    assert snapshot(lake) == clean["events"]


def test_two_runs_of_different_files_for_one_day_at_once(env, short_tmp, tmp_path):
    day = date(2016, 5, 1)
    edx = write_event_log(None, tmp_path, sample_course_ids(2), 10, day, 3000, dirty=False)
    edge = tmp_path / "edge" / edx.name.replace("-edx-", "-edge-")
    edge.parent.mkdir()
    edge.write_bytes(write_event_log(None, edge.parent, sample_course_ids(3)[2:], 10, day, 2000, dirty=False).read_bytes())
    lake = Lake(tmp_path / "lake")
    runs = [
        subprocess.Popen(
            [IDBX, "ingest", "events", str(log), "--lake", str(lake.root)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for log in (edx, edge)
    ]
    errors = [run.communicate(timeout=KILL_TIMEOUT)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], errors
    assert check_lake(lake).problems == [] and leftovers(lake, short_tmp) == NOTHING_LEFT
    con = duckdb.connect()
    got = con.execute(
        f"SELECT source_file, count(*) FROM read_parquet('{lake.bronze}/events/log_date=*/*.parquet') GROUP BY 1"
    ).fetchall()
    assert dict(got) == {edx.name: 3000, edge.name: 2000}
