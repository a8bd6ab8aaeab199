"""Errors the CLI and the flows report to people: each names the file (and line) at fault.

Names and text from outside (file names, a binary file's first line) can hold control characters
that would move a terminal's cursor or forge a line of a log: messages carry them escaped.
"""

import unicodedata


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cf") for char in text)


def printable(text: str) -> str:
    """`text` with control and format characters escaped (`\\n`, `\\x1b`, `\\u202e`)."""
    if not has_control_characters(text):
        return text
    return "".join(
        char.encode("unicode_escape").decode("ascii") if unicodedata.category(char) in ("Cc", "Cf") else char for char in text
    )


class IdbxError(Exception):
    """Base of every error this package raises on purpose; its message is meant for the operator."""


class ConfigError(IdbxError):
    """A setting is missing or unusable (key file, passphrase, lake folder)."""


class DecryptionError(IdbxError):
    def __init__(self, source: str, reason: str):
        super().__init__(f"{printable(source)}: {printable(reason)}")
        self.source = source
        self.reason = reason


class CatalogError(IdbxError):
    """lake/catalog.duckdb cannot be opened or rebuilt (locked, read-only lake)."""


class UnsafeArchiveError(IdbxError):
    """A zip entry would land outside the extraction folder (zip-slip) or is a link."""


class SourceFormatError(IdbxError):
    """A whole source file is unusable: missing columns, no header, not a dump, unreadable."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class StreamError(IdbxError):
    """A whole input cannot be read (a bomb, line endings other than `\\n`), found inside a stream
    that DuckDB reads: DuckDB reports it as text, and `failure_message` takes it back out."""


class RegistryError(IdbxError):
    def __init__(self, path: str, problems: list[str]):
        super().__init__(f"{path}: {len(problems)} problem(s)\n" + "\n".join(f"  - {p}" for p in problems))
        self.path = path
        self.problems = problems


class ModelError(IdbxError):
    """A SQL model is broken (bad header, unknown table or column, cycle): names the file and the name at fault."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class S3Error(IdbxError):
    """An S3 request failed for good: no such bucket, access denied, an object gone since listed."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class TransientS3Error(S3Error):
    """S3 throttled, failed (5xx) or could not be reached, even after the client's own retries:
    worth trying again later (the flows' tasks retry these with back-off)."""


class Interrupted(KeyboardInterrupt):
    """A run asked to stop by a signal (SIGINT, SIGTERM) stopped at a safe point (see idbx.stopping)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
