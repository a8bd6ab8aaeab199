"""Shared fixtures: a real gpg key and encrypted sample delivery (made once per run), fresh lakes,
a local S3 server (moto), a local Prefect server and a MongoDB-wire server (SecantusDB, or the
MongoDB that IDBX_TEST_MONGO_URI names), each started by the tests and stopped by pid."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pymongo
import pytest

# Prefect in this process keeps to a throw-away home, stays offline, and never starts a server of
# its own: a test that runs a flow asks for `prefect_api`. Set before anything imports prefect.
_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="idbx-tests-prefect-"))
os.environ.update(
    PREFECT_HOME=str(_PREFECT_HOME), PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_SERVER_ALLOW_EPHEMERAL_MODE="false"
)
os.environ.pop("PREFECT_API_URL", None)

from idbx.config import GpgSettings  # noqa: E402
from idbx.lake.store import Lake  # noqa: E402
from idbx.local import mongo as local_mongo  # noqa: E402
from idbx.local.sample import Sample, write_sample  # noqa: E402
from idbx.local.services import LocalService, local_prefect_server, local_s3_server  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
_SERVICES: dict[str, LocalService] = {}


# pytest-xdist's workers (scripts/test.sh runs one per core and one more) each start, for themselves, what
# the tests they are given need. The tests that need something slow to start or to build are handed
# to one worker together, by where they are (the scheduler knows tests only by their ids: with
# pytest 9.2, xdist_group marks no longer reach it, so `--dist loadgroup` groups nothing); any other
# test is handed out on its own. The groups are handed out first, in this order (the longest
# first, so that the two workers start on the two longest and the short tests fill in after them);
# a module whose tests share a module fixture that builds a lake is a group of its own, so that it
# builds it once.
XDIST_GROUPS = {
    "tests/models/test_spark.py": "spark",  # one Spark session (a JVM); the Spark builds of the scenario and the sample
    # the tests that run flows on the Prefect server (tens of seconds and a core to start)
    "tests/orchestration/test_build_and_publish.py": "prefect-server",
    "tests/orchestration/test_flows.py": "prefect-server",
    "tests/orchestration/test_forget_learners.py": "prefect-server",
    "tests/orchestration/test_runs.py": "prefect-server",
    "tests/system/": "prefect-server",
    "tests/publish/": "scenario",  # SecantusDB; the scenario lake and the lakes made from it
    "tests/models/test_marts.py": "scenario",
    "tests/models/test_grain.py": "scenario",
    "tests/dashboard/": "dashboard",  # the sample's dashboard; Chromium loading each of its pages
    "tests/models/test_retired_learners.py": "retired-learners",
    "tests/models/test_incremental.py": "incremental",
    "tests/models/test_learner_engagement.py": "learner-engagement",
    "tests/models/test_country_by_ip.py": "country-by-ip",
    "tests/orchestration/test_freshness.py": "freshness",
}


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist load` (what `-n` means) with the tests of XDIST_GROUPS kept together, handed out first."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class LoadByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((group for where, group in XDIST_GROUPS.items() if nodeid.startswith(where)), nodeid)

        def _assign_work_unit(self, node) -> None:
            if not getattr(self, "groups_first", False):
                for group in reversed(dict.fromkeys(XDIST_GROUPS.values())):
                    if group in self.workqueue:
                        self.workqueue.move_to_end(group, last=False)
                self.groups_first = True
            super()._assign_work_unit(node)

    return LoadByGroup(config, log)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The Prefect server takes tens of seconds to start: start it as soon as a test is known to
    need it, and run those tests last, so that it starts while the others run. (Not on an xdist
    worker, which may not be given those tests: its prefect_server starts it when asked.)"""
    if hasattr(config, "workerinput"):
        return
    needs_prefect = [item for item in items if "prefect_api" in getattr(item, "fixturenames", ())]
    if needs_prefect:
        items[:] = [item for item in items if item not in needs_prefect] + needs_prefect
        server = local_prefect_server(_PREFECT_HOME / "server", _PREFECT_HOME / "server.log")
        server.start()
        _SERVICES["prefect"] = server


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for service in _SERVICES.values():
        service.stop()
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def prefect_server() -> LocalService:
    server = _SERVICES.get("prefect")
    if server is None:  # on a pytest-xdist worker, or collected by a hook-less run: start it now
        server = _SERVICES["prefect"] = local_prefect_server(_PREFECT_HOME / "server", _PREFECT_HOME / "server.log")
        server.start()
    server.wait_ready()
    return server


@pytest.fixture
def prefect_api(prefect_server: LocalService):
    """Flows run in this test report to the local Prefect server; their logs and events are sent
    before the test ends."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api = f"{prefect_server.url}/api"
    with temporary_settings({PREFECT_API_URL: api}):
        yield api
        APILogWorker.drain_all(timeout=5)
        EventsWorker.drain_all(timeout=5)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory):
    with local_s3_server(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


@pytest.fixture
def s3(s3_server: LocalService, monkeypatch: pytest.MonkeyPatch):
    """Settings for buckets of this test's own on the local S3 server; the environment says the
    same, for code (flows, the CLI, Dask workers) that resolves settings itself."""
    from idbx.sync.settings import SyncSettings

    suffix = uuid.uuid4().hex[:8]
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": s3_server.url,
        "IDBX_S3_EVENTS_BUCKET": f"events-{suffix}",
        "IDBX_S3_COURSE_DATA_BUCKET": f"course-data-{suffix}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "IDBX_AWS_CREDENTIALS_BLOCK",
        "IDBX_ORG",
        "IDBX_S3_EVENTS_PREFIX",
        "IDBX_S3_COURSE_DATA_PREFIX",
    ):
        monkeypatch.delenv(name, raising=False)
    return SyncSettings.resolve()


TEST_MONGO_URI_ENV = "IDBX_TEST_MONGO_URI"


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local_mongo.LocalServer | None]:
    """The SecantusDB server of the session, with test commands (failCommand) enabled; None when
    IDBX_TEST_MONGO_URI names a server."""
    if os.environ.get(TEST_MONGO_URI_ENV):
        yield None
        return
    server = local_mongo.start(tmp_path_factory.mktemp("mongo") / "data", test_commands=True)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mongo_uri(mongo_server: local_mongo.LocalServer | None) -> str:
    return mongo_server.uri if mongo_server else os.environ[TEST_MONGO_URI_ENV]


@pytest.fixture
def database(mongo_uri: str) -> Iterator[pymongo.database.Database]:
    """A database of this test's own on the session's server, dropped afterwards."""
    client: pymongo.MongoClient = pymongo.MongoClient(mongo_uri)
    name = f"idbx_test_{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()


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


def copy_lake(lake: Lake, root: Path) -> Lake:
    """A copy of `lake` at root/lake for a test to change (the catalog's views are made again:
    they hold absolute paths)."""
    from idbx.lake import catalog

    shutil.copytree(lake.root, root / "lake")
    copied = Lake(root / "lake")
    catalog.refresh(copied)
    return copied


@pytest.fixture(scope="session")
def landed_sample(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The encrypted sample's delivery and its three days of logs, landed once (read-only: a test
    that changes it takes a copy_lake)."""
    from idbx.ingest.course_data import ingest_package
    from idbx.ingest.events import ingest_events

    lake = Lake(tmp_path_factory.mktemp("landed-sample") / "lake")
    gpg = GpgSettings(key_file=sample.key_file, passphrase=sample.passphrase)
    assert not ingest_package([sample.package], lake, gpg).failed
    assert not ingest_events(sample.event_logs, lake, gpg).failed
    return lake


@pytest.fixture(scope="session")
def built_sample(landed_sample: Lake, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The landed sample built once (read-only for the tests that use it)."""
    from idbx.models.runner import build

    lake = copy_lake(landed_sample, tmp_path_factory.mktemp("built-sample"))
    summary = build(lake, key=SAMPLE_PSEUDONYM_KEY)
    assert not summary.failed, [outcome.error for outcome in summary.failed]
    return lake


@pytest.fixture(scope="session")
def built_scenario(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The hand-counted scenario of tests/models/scenario.py (courses ra_2016_t1 and rc_2016_t1),
    built once; read-only."""
    from idbx.models.runner import build
    from tests.models import scenario, tiny_lake

    root = tmp_path_factory.mktemp("scenario")
    lake = Lake(root / "lake")
    registry = scenario.write(lake, root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IDBX_PSEUDONYM_KEY", tiny_lake.KEY)
        summary = build(lake, registry_path=registry)
    assert not summary.failed, [o.error for o in summary.failed]
    return lake


def gpg_agents(under: Path) -> dict[int, str]:
    """Running gpg-agents whose home is inside `under`: pid -> home."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if proc.name.isdigit() and args and args[0].endswith(b"gpg-agent") and b"--homedir" in args:
            home = args[args.index(b"--homedir") + 1].decode()
            if Path(home).is_relative_to(under):
                found[int(proc.name)] = home
    return found


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temporary folder with a short path (gpg-agent's socket path must stay under 108 bytes),
    for keyrings made by processes under test; agents left in it are stopped afterwards, by pid."""
    folder = Path(tempfile.mkdtemp(prefix="idbx-t-", dir="/tmp"))
    try:
        yield folder
    finally:
        for pid in gpg_agents(folder):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        shutil.rmtree(folder, ignore_errors=True)
