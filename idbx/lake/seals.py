"""Seals: what each file the engine wrote was when it wrote it (size, modification time, SHA-256).

A file changed behind the engine's back (a query that wrote into the lake, a hand edit, a restore
from elsewhere) must not pass for the engine's own output: the build compares size and time (a
stat per file) before calling an output unchanged or reading a bronze partition, and `idbx lake
check` and publish compare the content digest too. Bronze files are sealed in their source's
manifest record; model outputs in `_state/build/outputs.json`, written by the build."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store seals what it writes: it imports this module
    from idbx.lake.store import Lake


@dataclass(frozen=True)
class Seal:
    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> Seal:
        info = path.stat()
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        return cls(info.st_size, info.st_mtime_ns, digest)

    def as_list(self) -> list:
        return [self.size, self.mtime_ns, self.sha256]


def broken(path: Path, seal: Seal, digest: bool) -> str | None:
    """Why the file is not what was sealed (gone, another size, rewritten since, other content), or None."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return "it is gone"
    if info.st_size != seal.size:
        return f"it holds {info.st_size:,} bytes, not the {seal.size:,} written"
    if not digest:
        return None if info.st_mtime_ns == seal.mtime_ns else "it was rewritten since"
    if Seal.of(path).sha256 != seal.sha256:
        return "its content is not what was written"
    return None


def output_seals_path(lake: Lake) -> Path:
    return lake.state / "build" / "outputs.json"


def read_output_seals(lake: Lake) -> dict[str, dict[str, Seal]]:
    """Model -> its output files (relative to the lake) as the last build left them."""
    path = output_seals_path(lake)
    if not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {model: {rel: Seal(*seal) for rel, seal in files.items()} for model, files in raw.items()}


def write_output_seals(lake: Lake, seals: dict[str, dict[str, Seal]]) -> None:
    listed = {model: {rel: seal.as_list() for rel, seal in sorted(files.items())} for model, files in sorted(seals.items())}
    lake.replace_file(output_seals_path(lake), json.dumps(listed).encode())


def output_files(folder: Path) -> list[Path]:
    """The Parquet files of a model's output folder that readers see (not those written aside, whose
    names, or folders' names, start with a dot)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.parquet") if not any(part.startswith(".") for part in p.relative_to(folder).parts))


def reseal(lake: Lake, folder: Path, recorded: dict[str, Seal]) -> dict[str, Seal]:
    """Seals of a model's output files now: the recorded one where size and time still match
    (not read again), a new one (its content hashed) where the build wrote the file."""
    sealed = {}
    for path in output_files(folder):
        rel = lake.relative(path)
        known = recorded.get(rel)
        sealed[rel] = known if known and broken(path, known, digest=False) is None else Seal.of(path)
    return sealed


def changed_outputs(lake: Lake, folder: Path, recorded: dict[str, Seal], digest: bool) -> list[str]:
    """A model output's files that are not as the build left them, each with why; files the build
    did not write (readers of the folder would see their rows) too."""
    found = [f"{rel}: {why}" for rel, seal in sorted(recorded.items()) if (why := broken(lake.root / rel, seal, digest))]
    found += [
        f"{lake.relative(path)}: not written by the build" for path in output_files(folder) if lake.relative(path) not in recorded
    ]
    return found
