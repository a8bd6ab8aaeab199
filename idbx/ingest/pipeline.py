"""The life of one source file, shared by the course-data and tracking-log pipelines: skip it when
the manifest already holds this exact file, else make it readable, land it, and record what
happened (success or failure) in the manifest."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from idbx.errors import SourceFormatError, has_control_characters
from idbx.ingest.crypto import Decryptor
from idbx.ingest.outcomes import FILE_ERRORS, INGESTED, FileOutcome, failure_message
from idbx.ingest.sources import SourceMember, plain_copy
from idbx.lake import Lake, Landing, ManifestRecord


def ingest_member(
    lake: Lake,
    key: str,
    kind: str,
    member: SourceMember,
    scratch: Path,
    decryptor: Decryptor | None,
    outcome: FileOutcome,
    land: Callable[[Path | None], Landing],
    decrypt: bool = True,
) -> ManifestRecord:
    """Fill `outcome` and return the file's manifest record (the earlier one when unchanged).

    `land` stages the plain file's partitions (it gets None when `decrypt` is false: a file kept
    as delivered), fills the outcome's rows, rejects and partition(s), and returns them with the
    details to keep in the manifest; they are published together with the manifest record, or not
    at all.
    """
    if has_control_characters(member.name):
        raise SourceFormatError(member.name, "refused: the file name holds control characters")
    sha = member.sha256()
    previous = lake.manifest_get(key)
    if previous and previous.sha256 == sha and previous.status == INGESTED:
        outcome.rows, outcome.rejects = previous.rows, previous.rejects
        outcome.partition = outcome.partition or previous.partitions[0]
        return previous
    plain = landing = None
    try:
        plain = plain_copy(member, scratch, decryptor) if decrypt else None
        landing = land(plain)
        record = ManifestRecord(
            key=key, kind=kind, source=member.origin, size=member.size, sha256=sha, status=INGESTED,
            rows=outcome.rows, rejects=outcome.rejects, partitions=outcome.partitions or [outcome.partition],
            details=landing.details,
        )
        lake.publish(landing.staged, landing.remove, record)
    except FILE_ERRORS as exc:
        if landing is not None:
            lake.discard(landing.staged)
        with suppress(OSError):  # a manifest that cannot be written must not hide why the file failed
            lake.manifest_failure(key, kind, member.origin, member.size, sha, failure_message(member.name, exc))
        raise
    finally:
        if plain is not None and plain.is_relative_to(scratch):
            plain.unlink(missing_ok=True)
    outcome.status = INGESTED
    return record
