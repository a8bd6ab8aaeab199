"""Stopping a run on SIGTERM or SIGINT the way it ends anyway: cleaned up, nothing half-done.

The signal handler raises nothing (an exception thrown into arbitrary code could cut a clean-up
or a publish in half): it records the request and interrupts the DuckDB work in progress. The
pipelines check for the request at safe points (before a source file starts, before its files
are published), so the file in flight is dropped as if never started, the files already landed
stay landed and recorded, and every clean-up runs as on a normal exit.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import weakref
from collections.abc import Iterator

import duckdb

from idbx.errors import Interrupted

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_requested: list[int] = []
_connections: weakref.WeakSet = weakref.WeakSet()
_guard = threading.Lock()


def watch(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Have a stop request interrupt this connection's queries."""
    with _guard:
        _connections.add(con)
    return con


def request_stop(signum: int) -> None:
    with _guard:
        _requested.append(signum)
        connections = list(_connections)
    for con in connections:
        with contextlib.suppress(duckdb.Error, RuntimeError):  # a connection closed meanwhile
            con.interrupt()


def requested() -> int | None:
    """The signal that asked the run to stop, if one did."""
    return _requested[0] if _requested else None


def check() -> None:
    """A safe point: stop here if a stop was requested."""
    if _requested:
        raise Interrupted(_requested[0])


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into stop requests while the block runs (main thread only)."""
    _requested.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, lambda signum, frame: request_stop(signum)) for signum in _SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
