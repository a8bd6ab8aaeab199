"""Putting a site live (I/O): each build in a folder of its own beside the live path, then one
atomic swap of a symbolic link.

The live path (`lake/dashboard` by default) is a relative symbolic link to a sibling folder
`.dashboard-<time>-<id>/` that holds one complete build. A new build is written into a new
sibling, its files flushed to disk, and a new link then replaces the old one with a single rename.
So a reader resolves the path to the old build or to the new one, never to a half-written or
missing site. A page opened before the swap keeps working: the previous build's folder is kept
until the next build replaces it (links followed after the swap lead to the new build's pages).
Older builds and what a killed build left behind are removed. One build at a time per path (a
lock file beside it); a path that holds something other than a site idbx made is never touched.
The link is made aside and renamed as every file is (idbx.lake.atomic).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from idbx.dashboard import settings
from idbx.errors import ConfigError, IdbxError
from idbx.lake import atomic


@dataclass
class LiveSite:
    out: Path  # the live path (the link)
    folder: Path  # the build's own folder
    files: int
    bytes: int


class SiteWriter:
    """`with SiteWriter(out) as site: site.write(...); site.go_live(marker)`; a build that is not
    put live (an error, an interrupt) is removed on exit. `aside` names the link before it goes
    live (`Lake.aside` when the lake may hold it, so that its sweep knows whose it is)."""

    def __init__(self, out: Path, aside: Callable[[Path], Path] = atomic.aside_path):
        self.out = Path(out).absolute()
        self._aside = aside
        self.parent = self.out.parent
        self.prefix = f".{self.out.name}-"
        self.folder = self.parent / f"{self.prefix}{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        self.files = 0
        self.bytes = 0
        self._lock = None
        self._live = False

    @property
    def current(self) -> Path | None:
        """The folder of the site live now, if there is one."""
        if self.out.is_symlink():
            return self.parent / os.readlink(self.out)
        if self.out.is_dir() and (self.out / settings.MARKER).is_file():
            return self.out
        return None

    def __enter__(self) -> SiteWriter:
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.parent / f".{self.out.name}.lock", "w")
        except OSError as exc:
            raise ConfigError(f"cannot write the dashboard beside {self.out}: {exc.strerror}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise IdbxError(f"another `idbx dashboard` is writing {self.out}; try again when it has finished") from None
        try:
            self._check_out()
        except BaseException:
            self._lock.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if not self._live:
                shutil.rmtree(self.folder, ignore_errors=True)
        finally:
            self._lock.close()

    def write(self, name: str, content: bytes | str) -> None:
        """A file of the site (`assets/site.css`), flushed to disk before the site goes live."""
        data = content.encode() if isinstance(content, str) else content
        path = self.folder / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise IdbxError(f"cannot write {path}: {exc.strerror}") from None
        self.files += 1
        self.bytes += len(data)

    def go_live(self, marker: dict) -> LiveSite:
        """Swap the link to this build; remove builds older than the one it replaces."""
        self.write(settings.MARKER, json.dumps({"made_by": "idbx dashboard", **marker}, indent=1, default=str))
        atomic.fsync(self.folder)
        previous = self.current
        if self.out.is_dir() and not self.out.is_symlink():
            # A site copied here as a plain folder: moved aside first (the only moment without a site).
            previous = self.parent / f"{self.prefix}moved-{uuid.uuid4().hex[:8]}"
            atomic.rename_into_place(self.out, previous)
        link = self._aside(self.out)
        os.symlink(self.folder.name, link)
        try:
            atomic.rename_into_place(link, self.out)
        except OSError as exc:
            link.unlink(missing_ok=True)
            raise IdbxError(f"cannot put the dashboard live at {self.out}: {exc.strerror}") from None
        self._live = True
        keep = {self.folder.name, previous.name if previous else None}
        for stale in self.parent.glob(f"{self.prefix}*"):
            if stale.name not in keep and stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
        # Links a killed build left (this build holds the path's lock); `.link-*`: as earlier versions named them.
        for stale_link in [
            *self.parent.glob(f".{self.out.name}{atomic.TMP_MARKER}*"),
            *self.parent.glob(f".{self.out.name}.link-*"),
        ]:
            stale_link.unlink(missing_ok=True)
        return LiveSite(self.out, self.folder, self.files, self.bytes)

    def _check_out(self) -> None:
        """Refuse a path that holds something idbx did not make."""
        out = self.out
        if out.is_symlink():
            target = os.readlink(out)
            if "/" in target or not target.startswith(self.prefix):
                raise ConfigError(f"{out} is a link to {target}, not a dashboard idbx made: choose another --out or remove it")
        elif out.is_dir():
            if (out / settings.MARKER).is_file():
                return
            if any(out.iterdir()):
                raise ConfigError(f"{out} exists and is not a dashboard idbx made: choose another --out or remove it")
            out.rmdir()
        elif out.exists():
            raise ConfigError(f"{out} is a file: choose another --out or remove it")
        try:
            self.folder.mkdir()
        except OSError as exc:
            raise ConfigError(f"cannot write the dashboard beside {out}: {exc.strerror}") from None
