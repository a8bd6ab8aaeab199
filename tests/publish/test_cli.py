"""`idbx publish` and `idbx mongo serve` as an operator runs them: summary lines, exit codes,
the environment's settings, one-line errors without secrets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pymongo
from typer.testing import CliRunner

from idbx.cli import app
from idbx.local import mongo as local_mongo
from idbx.local.services import free_port

IDBX = [str(Path(sys.executable).with_name("idbx"))]


def run(*args, env=None):
    return subprocess.run(IDBX + list(args), capture_output=True, text=True, env={**os.environ, **(env or {})})


def test_publish_reads_its_settings_from_the_environment_and_says_what_it_wrote(built_scenario, mongo_uri, database):
    env = {"IDBX_MONGO_URI": mongo_uri, "IDBX_MONGO_DB": database.name, "IDBX_LAKE": str(built_scenario.root)}
    first = run("publish", env=env)
    assert first.returncode == 0, first.stderr
    assert "reports: written 2, unchanged 0, removed 0" in first.stderr
    assert "courses: written 2," in first.stderr and "learners: written 7," in first.stderr
    assert f"publish 1 to database {database.name}" in first.stderr
    again = run("publish", env=env)
    assert again.returncode == 0, again.stderr
    assert "reports: written 0, unchanged 2" in again.stderr and "learners: written 0, unchanged 7" in again.stderr
    assert "nothing had changed" in again.stderr
    assert database.reports.count_documents({}) == 2


def test_wrong_credentials_are_one_line_without_the_password(built_scenario, mongo_uri, database):
    uri = mongo_uri.replace("mongodb://", "mongodb://nobody:s3cret-pw@") + "/?authSource=admin"
    done = CliRunner().invoke(app, ["publish", "--lake", str(built_scenario.root), "--mongo-uri", uri, "--db", database.name])
    assert done.exit_code == 1
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: MongoDB at 127.0.0.1:") and "refused the credentials" in lines[0]
    assert "s3cret-pw" not in done.output
    assert database.reports.count_documents({}) == 0


def test_a_bad_uri_and_a_lake_without_marts(tmp_path, mongo_uri):
    bad = CliRunner().invoke(app, ["publish", "--lake", str(tmp_path), "--mongo-uri", "http://user:pw@host"])
    assert bad.exit_code == 2 and "must start with mongodb://" in bad.output and "pw" not in bad.output
    (tmp_path / "lake").mkdir()
    empty = CliRunner().invoke(app, ["publish", "--lake", str(tmp_path / "lake"), "--mongo-uri", mongo_uri])
    assert empty.exit_code == 1 and "run `idbx build` first" in empty.output


def test_mongo_serve_runs_a_server_until_stopped_by_its_pid(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        IDBX + ["mongo", "serve", "--port", str(port), "--storage-path", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        client = pymongo.MongoClient(f"mongodb://127.0.0.1:{port}", serverSelectionTimeoutMS=60_000)
        assert client.admin.command("ping")["ok"] == 1
        client.close()
    finally:
        os.kill(server.pid, signal.SIGTERM)  # the command became the server: its pid is the server's
        try:
            _, stderr = server.communicate(timeout=90)  # a loaded machine slows its shutdown checkpoint
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
            raise AssertionError("the server did not stop within 90 s of SIGTERM") from None
    assert f"mongodb://127.0.0.1:{port}" in stderr
    assert (tmp_path / "data").is_dir()


def test_mongo_serve_refuses_clearly_without_the_extra(monkeypatch, tmp_path):
    monkeypatch.setattr(local_mongo, "available", lambda: False)
    done = CliRunner().invoke(app, ["mongo", "serve", "--storage-path", str(tmp_path / "data")])
    assert done.exit_code == 2
    assert "pip install 'idbx[local]'" in done.output


def test_mongo_help_names_the_extra_to_install():
    for args in (["mongo", "--help"], ["mongo", "serve", "--help"]):
        done = CliRunner().invoke(app, args)
        assert done.exit_code == 0
        assert "idbx[local]" in " ".join(done.output.split()), args
