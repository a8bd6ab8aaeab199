"""A local MongoDB-wire server for the demo, the tests and the benchmark: SecantusDB (PyPI
`secantusdb`, MongoDB 8 semantics on WiredTiger), the optional extra `idbx[local]`. Production
publishes to a real MongoDB; nothing in idbx depends on this server beyond starting it.

It runs as its own process on 127.0.0.1, advertised as a standalone server (as a lone `mongod`
is: no transactions, no retryable writes), and is stopped by its pid.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from idbx.errors import ConfigError
from idbx.local.services import free_port

EXTRA_MISSING = (
    "the local MongoDB-wire server is SecantusDB, an optional extra that is not installed: "
    "pip install 'idbx[local]' (or publish to a MongoDB server with --mongo-uri)"
)
DEFAULT_PORT = 27017
STOP_SECONDS = 15


def available() -> bool:
    return importlib.util.find_spec("secantus") is not None


def command(storage_path: Path, port: int, host: str = "127.0.0.1", auth: bool = False, test_commands: bool = False) -> list[str]:
    """The server's command line (this interpreter runs it, so the venv's package is the one used).
    `test_commands` enables `configureFailPoint`, as mongod's enableTestCommands does (tests only)."""
    if not available():
        raise ConfigError(EXTRA_MISSING)
    arguments = [
        sys.executable,
        "-m",
        "idbx.local.secantus_server",
        "--host",
        host,
        "--port",
        str(port),
        "--storage-path",
        str(storage_path),
        "--standalone",
        "--log-level",
        "WARNING",
    ]
    return arguments + (["--auth"] if auth else []) + (["--enable-test-commands"] if test_commands else [])


@dataclass
class LocalServer:
    port: int
    storage_path: Path
    auth: bool = False
    test_commands: bool = False
    process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.storage_path.parent / f"{self.storage_path.name}.log"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM by pid, SIGKILL if it has not exited after STOP_SECONDS."""
        if self.running():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to close its files (a crash)."""
        if self.running():
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait()

    def launch(self, timeout: float = 90.0) -> LocalServer:
        """Start the process (again, after a stop or a kill: same port, same storage) and wait
        until it answers; its log goes beside the storage."""
        self.storage_path.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command(self.storage_path, self.port, auth=self.auth, test_commands=self.test_commands),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        from pymongo import MongoClient  # here: the CLI imports this module for every command
        from pymongo.errors import PyMongoError

        deadline = time.monotonic() + timeout
        client = MongoClient(self.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500)
        try:
            while True:
                if not self.running():
                    raise ConfigError(
                        f"the local MongoDB-wire server exited at start (code {self.process.returncode}); see {self.log_path}"
                    )
                try:
                    client.admin.command("hello")
                    return self
                except PyMongoError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise ConfigError(
                            f"the local MongoDB-wire server did not answer within {timeout:.0f} s; see {self.log_path}"
                        ) from None
                    time.sleep(0.2)
        finally:
            client.close()


def start(storage_path: Path, port: int | None = None, auth: bool = False, test_commands: bool = False) -> LocalServer:
    """Start a server on 127.0.0.1 (a free port unless given) and wait until it answers."""
    return LocalServer(port or free_port(), storage_path, auth, test_commands).launch()
