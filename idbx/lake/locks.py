"""Telling a live run from a dead one by a lock file, not by its pid or its age.

A run holds an exclusive `flock` on its lock file for as long as it lives; the kernel drops the
lock when the process ends, however it ends (kill -9 included), and a pid reused by another
process holds no lock. Whoever finds a lock file it can lock has found a dead run, and keeps the
lock while it removes what that run left, so two runs sweeping at once never both work on it.

A lock file is created empty, locked, then given its header: a lock file found empty is one being
created (or abandoned in that instant), and is left alone.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class HeldLock:
    """A lock file this process holds until `release`, starting with a JSON header line."""

    def __init__(self, path: Path, header: dict):
        self.path = path
        self._fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_APPEND, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # waits out a sweeper probing the empty file
        self.append(header)

    def append(self, line: dict) -> None:
        os.write(self._fd, (json.dumps(line) + "\n").encode())

    def release(self, remove: bool = True) -> None:
        """Unlink first, unlock second: no one can find the file unlocked and think its run died."""
        if remove:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)


@contextmanager
def dead_owner(path: Path) -> Iterator[list[dict] | None]:
    """The header and lines of a lock file whose owner is dead, locked for the caller while it
    cleans up; None when the owner lives (or the file is being created, or is gone)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND)
    except FileNotFoundError:
        yield None
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        lines = read_lines(path)
        yield lines or None
    finally:
        os.close(fd)


def append_line(path: Path, line: dict) -> None:
    """Add a line to someone else's lock file (a dead run's), unless a concurrent run has just
    removed it: never re-create it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except FileNotFoundError:
        return
    try:
        os.write(fd, (json.dumps(line) + "\n").encode())
    finally:
        os.close(fd)


def read_lines(path: Path) -> list[dict]:
    """The JSON lines of a lock file; a line cut short by a crash is ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    lines = []
    for raw in text.splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue
    return lines
