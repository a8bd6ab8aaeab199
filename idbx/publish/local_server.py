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
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from idbx.errors import ConfigError

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
    arguments = [sys.executable, "-m", "secantus", "--host", host, "--port", str(port),
                 "--storage-path", str(storage_path), "--standalone", "--log-level", "WARNING"]
    return arguments + (["--auth"] if auth else []) + (["--enable-test-commands"] if test_commands else [])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LocalServer:
    process: subprocess.Popen
    port: int
    storage_path: Path
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """SIGTERM by pid, SIGKILL if it has not exited after STOP_SECONDS."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to close its files (a crash)."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait()


def start(storage_path: Path, port: int | None = None, auth: bool = False, test_commands: bool = False,
          timeout: float = 90.0) -> LocalServer:
    """Start a server on 127.0.0.1 and wait until it answers; its log goes beside the storage."""
    port = port or free_port()
    storage_path.mkdir(parents=True, exist_ok=True)
    log_path = storage_path.parent / f"{storage_path.name}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command(storage_path, port, auth=auth, test_commands=test_commands), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = LocalServer(process, port, storage_path, log_path)
    deadline = time.monotonic() + timeout
    client: MongoClient = MongoClient(server.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500)
    try:
        while True:
            if process.poll() is not None:
                raise ConfigError(f"the local MongoDB-wire server exited at start (code {process.returncode}); see {log_path}")
            try:
                client.admin.command("hello")
                return server
            except PyMongoError:
                if time.monotonic() > deadline:
                    server.stop()
                    raise ConfigError(f"the local MongoDB-wire server did not answer within {timeout:.0f} s; see {log_path}") from None
                time.sleep(0.2)
    finally:
        client.close()
