"""SecantusDB's own command line, run so that SIGINT and SIGTERM always reach its main thread.

CPython runs signal handlers in the main thread, but the kernel delivers a process-directed
signal to any thread that does not block it. SecantusDB's main thread waits on an Event with no
timeout, which a signal delivered to another thread never wakes: `kill PID` was ignored about
one stop in five here. Blocked before the server starts, the signals stay blocked in every thread
it starts (threads inherit the mask); the main thread unblocks them only to wait.
"""

from __future__ import annotations

import signal

from secantus import cli, server

_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_wait = server.SecantusDBServer.wait


def _wait_with_signals(self: server.SecantusDBServer) -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    _wait(self)


def main() -> int:
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    server.SecantusDBServer.wait = _wait_with_signals
    return cli.main()


if __name__ == "__main__":
    raise SystemExit(main())
