"""Local inputs: a delivery zip, an unzipped folder, or single files, seen as named members.

Members are streamed from where they are; nothing is extracted by its archive name, and an
archive holding entries that would escape its folder (`../`, absolute paths, links) is refused
whole, before anything is read from it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from idbx.config import MAX_INFLATE_ENV, max_inflate_bytes
from idbx.errors import ConfigError, IdbxError, SourceFormatError, UnsafeArchiveError, printable
from idbx.ingest.crypto import Decryptor
from idbx.parsers.naming import is_encrypted, package_date

_HASH_CHUNK = 8 << 20


@dataclass(frozen=True)
class SourceMember:
    name: str
    size: int
    opener: Callable[[], BinaryIO]
    origin: str

    @property
    def base_name(self) -> str:
        return PurePosixPath(self.name).name

    def open(self) -> BinaryIO:
        return self.opener()

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.open() as stream:
            while chunk := stream.read(_HASH_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()


@dataclass(frozen=True)
class PackageSource:
    label: str
    snapshot_date: date | None
    members: list[SourceMember]


def plain_copy(member: SourceMember, scratch: Path, decryptor: Decryptor | None) -> Path:
    """The member as a readable plain file: a plain file on disk is used in place; anything else
    (encrypted, or inside a zip) is decrypted or copied into the run's scratch folder."""
    encrypted = is_encrypted(member.name)
    if not encrypted and Path(member.origin).is_file():
        return Path(member.origin)
    if encrypted and decryptor is None:
        raise ConfigError(f"{member.name}: encrypted; give the partner key with --gpg-key or IDBX_GPG_KEY")
    target = scratch / f"{uuid.uuid4().hex[:8]}-{member.base_name.removesuffix('.gpg')}"
    with member.open() as stream:
        if encrypted:
            decryptor.decrypt(stream, target, member.name)
        else:
            with open(target, "wb") as out:
                shutil.copyfileobj(stream, out, _HASH_CHUNK)
    return target


def inflate_limit_error(name: str, limit: int) -> SourceFormatError:
    return SourceFormatError(
        name, f"inflates to more than {limit / (1 << 20):,.0f} MB (the limit, {MAX_INFLATE_ENV}); refused as a possible bomb"
    )


class _BoundedStream:
    """A zip member's stream that fails once more than `limit` bytes came out of it, so a bomb
    is stopped while streaming whatever its header claims."""

    def __init__(self, stream: BinaryIO, limit: int, name: str):
        self._stream, self._left, self._limit, self._name = stream, limit, limit, name

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size if size is not None and size >= 0 else self._left + 1)
        self._left -= len(data)
        if self._left < 0:
            raise inflate_limit_error(self._name, self._limit)
        return data

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> _BoundedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Python inflates deflate in bounded steps; bzip2 and lzma members may inflate a whole read at once.
_STREAMED_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def _open_zip_member(path: Path, name: str) -> BinaryIO:
    archive = zipfile.ZipFile(path)
    info = archive.getinfo(name)
    limit = max_inflate_bytes()
    if info.compress_type not in _STREAMED_METHODS:
        raise SourceFormatError(name, f"zip compression method {info.compress_type} is not supported (deflate or stored)")
    if info.file_size > limit:
        raise inflate_limit_error(name, limit)
    return _BoundedStream(archive.open(info), limit, name)


def unsafe_zip_entries(archive: zipfile.ZipFile) -> list[str]:
    """Entries that are links, absolute, or climb out of the extraction folder."""
    bad = []
    for info in archive.infolist():
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        is_link = stat.S_ISLNK(info.external_attr >> 16)
        if is_link or name.startswith("/") or ".." in parts or (parts and parts[0].endswith(":")):
            bad.append(info.filename)
    return bad


def zip_members(path: Path) -> list[SourceMember]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise SourceFormatError(str(path), f"not a readable zip file ({exc})") from exc
    with archive:
        bad = unsafe_zip_entries(archive)
        if bad:
            raise UnsafeArchiveError(
                f"{path}: refused, {len(bad)} entr{'y' if len(bad) == 1 else 'ies'} would escape the "
                f"package folder: {', '.join(bad[:5])}"
            )
        return [
            SourceMember(info.filename, info.file_size, partial(_open_zip_member, path, info.filename), f"{path}!{info.filename}")
            for info in archive.infolist()
            if not info.is_dir()
        ]


def folder_files(root: Path) -> list[Path]:
    """The files of an input folder, hidden ones left out. One rule for links, as for zips: a link
    leading out of the folder refuses the whole folder; links that stay inside are read as their
    target (a linked folder is not walked twice: its target is inside)."""
    real_root = root.resolve()
    files, escaping = [], []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        for name in [*dirs, *names]:
            path = Path(folder, name)
            if name.startswith("."):
                continue
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(real_root):
                    escaping.append(f"{path.relative_to(root)} -> {target}")
                elif name in names and target.is_file():
                    files.append(path)
            elif name in names:
                files.append(path)
    if escaping:
        raise UnsafeArchiveError(
            printable(f"{root}: refused, {len(escaping)} link(s) lead out of the folder: {', '.join(escaping[:5])}")
        )
    return sorted(files)


def folder_members(path: Path) -> list[SourceMember]:
    return [
        SourceMember(file.relative_to(path).as_posix(), file.stat().st_size, partial(open, file, "rb"), str(file))
        for file in folder_files(path)
    ]


def file_member(path: Path) -> SourceMember:
    return SourceMember(path.name, path.stat().st_size, partial(open, path, "rb"), str(path))


def open_deliveries(
    paths: list[Path], snapshot_date: date | None = None, recognised: Callable[[str], bool] | None = None
) -> list[PackageSource]:
    """The deliveries given, oldest first: each zip or folder is one, dated by its own name; loose
    table files given together make one more. `snapshot_date` dates a single delivery (its name
    need not carry a date then). A delivery without a date, or (with `recognised`, which tells a
    file name we land) without a file we land, is refused before anything lands."""
    deliveries = _given_deliveries(paths)
    if snapshot_date:
        if len(deliveries) > 1:
            raise IdbxError(
                f"--snapshot-date dates a single delivery; {len(deliveries)} were given "
                f"({', '.join(d.label for d in deliveries)}): each is dated by its own name"
            )
        deliveries = [replace(deliveries[0], snapshot_date=snapshot_date)]
    for delivery in deliveries:
        _check_delivery(delivery, recognised)
    return sorted(deliveries, key=lambda delivery: delivery.snapshot_date)


def _given_deliveries(paths: list[Path]) -> list[PackageSource]:
    """Each zip or folder a delivery dated by its name; loose files given together one more, undated."""
    deliveries: list[PackageSource] = []
    loose: list[SourceMember] = []
    for path in paths:
        if not path.exists():
            raise SourceFormatError(str(path), "no such file or folder")
        if path.is_dir():
            deliveries.append(PackageSource(path.name, package_date(path.name), folder_members(path)))
        elif zipfile.is_zipfile(path):
            deliveries.append(PackageSource(path.name, package_date(path.name.removesuffix(".zip")), zip_members(path)))
        else:
            loose.append(file_member(path))
    if loose:
        label = loose[0].name if len(loose) == 1 else f"{loose[0].name} (+{len(loose) - 1} files)"
        deliveries.append(PackageSource(label, None, loose))
    return deliveries


def _check_delivery(delivery: PackageSource, recognised: Callable[[str], bool] | None) -> None:
    """Refuse a delivery with no file we land (when `recognised` is given) or with no date."""
    if recognised and not any(recognised(member.base_name) for member in delivery.members):
        names = sorted(member.base_name for member in delivery.members)
        listed = f"{', '.join(names[:3])}{', …' if len(names) > 3 else ''}"
        raise SourceFormatError(
            delivery.label,
            "nothing to ingest: "
            + (
                f"none of its {len(names)} file(s) ({listed}) is a course-data file ({{Org}}-{{Course}}-{{Run}}-{{table}}"
                "-prod-analytics.sql, .json, .mongo, or a MySQL dump)"
                if names
                else "it holds no file"
            ),
        )
    if delivery.snapshot_date is None:
        raise IdbxError(
            f"{delivery.label}: cannot tell the delivery date from the name (expected {{org}}-YYYY-MM-DD.zip "
            "or a folder named so); name it so, or give it alone with --snapshot-date YYYY-MM-DD"
        )
