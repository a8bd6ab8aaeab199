"""Writing a file atomically, the engine's one way: under a hidden name beside it, then renamed over it.

A reader, or a crash, sees the old file or the new one, never a half-written or emptied one. The
name written aside is `.<name>.tmp-<owner>-<8 hex>`, where the owner is the id of the lake run that
writes it (see idbx.lake.store), or, outside a lake, of this process: the lake's sweep tells a
dead run's leftovers from a live run's by that id. One fsync rule: the file (or folder) written
aside is synced before the rename, and the folder it is renamed in after, so that after a power
loss the name points at complete contents and the rename itself is on disk.

Lower than every writer (the lake's store, the models, exports, the dashboard, sync, privacy), so
that each can use it; `Lake.aside` and `Lake.writing` wrap it for files inside a lake.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TMP_MARKER = ".tmp-"
# The owner of what this process writes aside outside a lake (inside one, the lake run's id).
PROCESS_OWNER = secrets.token_hex(8)
# Searched, not matched to the end: what is written beside an aside keeps its name in front
# (DuckDB's `.wal`, the S3 client's partial download, an export's CSV before its byte-order mark).
_OWNED_RE = re.compile(rf"^\..*?{re.escape(TMP_MARKER)}(?P<owner>[0-9a-f]{{16}})-[0-9a-f]{{8}}")
# Names earlier versions wrote aside under, with no owner to tell a live writer by:
# `.<name>.tmp-<pid>` (the model state, the registry seed) and `.<name>.tmp-<32 hex>` (model
# outputs' work folders, downloads, exports and their `.bom`, the writability probe). No code
# writes them any more, so one found is a leftover.
_LEGACY_RE = re.compile(rf"^\..*{re.escape(TMP_MARKER)}(?:[0-9]+|[0-9a-f]{{32}})(?:\.bom)?$")


def aside_path(final: Path, owner: str = PROCESS_OWNER) -> Path:
    """The hidden name beside `final` to write it under before renaming it into place."""
    return final.with_name(f".{final.name}{TMP_MARKER}{owner}-{uuid.uuid4().hex[:8]}")


def owner_of(path: Path) -> str | None:
    """The run (or process) that wrote `path` aside; None for any other name."""
    match = _OWNED_RE.search(path.name)
    return match["owner"] if match else None


def is_legacy_aside(path: Path) -> bool:
    """Whether `path` is named as earlier versions named what they wrote aside."""
    return bool(_LEGACY_RE.search(path.name))


def fsync(path: Path) -> None:
    """Put a file's contents on disk, or a folder's entries (a rename, a new name)."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def rename_into_place(tmp: Path, final: Path) -> None:
    """Rename `tmp` (a file, a folder or a symbolic link) over `final`: `tmp` synced before, the
    folder after (a link has nothing of its own to sync; its folder holds it)."""
    if not tmp.is_symlink():
        fsync(tmp)
    os.replace(tmp, final)
    fsync(final.parent)


def remove(path: Path) -> None:
    """Remove what was written aside, a file or a folder, if it is still there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def writing(final: Path, tmp: Path | None = None) -> Iterator[Path]:
    """`with writing(final) as tmp:` write `tmp` any way (DuckDB's COPY, pyarrow, open); on leaving
    the block it is renamed into place, or, on an error, removed. `tmp` defaults to
    `aside_path(final)` (this process's); a lake passes its run's (`Lake.writing`)."""
    tmp = tmp or aside_path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield tmp
        rename_into_place(tmp, final)
    finally:
        remove(tmp)


def write_bytes(final: Path, data: bytes, tmp: Path | None = None) -> None:
    """A small file (state, a record) written whole, atomically (see `writing`)."""
    with writing(final, tmp) as aside, open(aside, "wb") as out:
        out.write(data)
