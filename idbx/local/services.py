"""Local servers the tests and the quickstart start for themselves (a moto S3 server, a Prefect
server...): each on a free port of 127.0.0.1, waited for over HTTP, and stopped by its pid.

A server runs in its own session, so stopping it stops whatever it started, and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from idbx.errors import ConfigError


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalService:
    """`with LocalService(name, command, ready_path, ...) as service:` runs `command` until the block ends.

    `{port}` in the command is replaced by a free port; the service is ready when
    `http://127.0.0.1:{port}{ready_path}` answers 200. Its output goes to `log`.
    """

    def __init__(
        self, name: str, command: list[str], ready_path: str, log: Path, env: dict[str, str] | None = None, timeout: float = 120.0
    ):
        self.name = name
        self.port = free_port()
        self.command = [part.replace("{port}", str(self.port)) for part in command]
        self.ready_url = f"http://127.0.0.1:{self.port}{ready_path}"
        self.log = log
        self.env = env
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        self.started = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def __enter__(self) -> LocalService:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start without waiting (a slow server can start while other work goes on); see wait_ready."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                self.command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env, start_new_session=True
            )

    def wait_ready(self) -> None:
        deadline = self.started + self.timeout
        while True:
            if self.process.poll() is not None:
                raise ConfigError(f"{self.name} exited with code {self.process.returncode} before it was ready; see {self.log}")
            try:
                with urllib.request.urlopen(self.ready_url, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        raise ConfigError(
            f"{self.name} was not ready within {self.timeout:.0f} s of its start at {self.ready_url}; see {self.log}"
        )

    def stop(self) -> None:
        """SIGTERM to the service's process group (its pid), then SIGKILL to whatever is left of it."""
        if self.process is None:
            return
        for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)


def local_s3_server(log: Path) -> LocalService:
    """moto's S3 server (the dev extra `moto[server]`): edX's bucket in tests and the quickstart."""
    return LocalService(
        "local S3 server (moto)",
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "{port}"],
        "/moto-api/",
        log,
        timeout=60,
    )


def prefect_env(home: Path, api_url: str | None = None) -> dict[str, str]:
    """Environment for Prefect processes kept to `home` (their database, profiles and logs), offline."""
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_CLI_PROMPT": "false"}
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def local_prefect_server(home: Path, log: Path) -> LocalService:
    """A Prefect server on SQLite in `home`, without UI or scheduler (runs are started on request)."""
    prefect = str(Path(sys.executable).with_name("prefect"))
    return LocalService(
        "Prefect server",
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", "{port}", "--no-ui", "--no-scheduler"],
        "/api/health",
        log,
        env=prefect_env(home),
        timeout=180,
    )
