"""Settings from command-line options and environment variables, resolved in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from idbx.errors import ConfigError

LAKE_ENV = "IDBX_LAKE"
GPG_KEY_ENV = "IDBX_GPG_KEY"
GPG_PASSPHRASE_ENV = "IDBX_GPG_PASSPHRASE"
DEFAULT_LAKE = Path("lake")
MAX_INFLATE_ENV = "IDBX_MAX_INFLATE_MB"
MAX_LINE_ENV = "IDBX_MAX_LINE_MB"
# A delivered file, once unzipped, decrypted or gunzipped, may grow to this much: generous for
# real deliveries (a day of events is ~1 GB; a large courseware_studentmodule a few GB), small
# against a bomb that inflates a few MB into terabytes.
DEFAULT_MAX_INFLATE_MB = 64 << 10
# Longest tracking-log line parsed: edX itself drops events over 50 kB; parsing a line takes
# ~20 times its size in memory, so 8 MB stays well inside one worker's DuckDB budget.
DEFAULT_MAX_LINE_MB = 8
MAX_REJECT_RATE_ENV = "IDBX_MAX_REJECT_RATE"
# 2%: a few impossible cells (a 2015-09-31) land with a warning; a changed format rejects far more, and fails.
DEFAULT_MAX_REJECT_RATE = 0.02
# A file of fewer rows is judged as if it had this many: a couple of bad cells never fail a small table.
REJECT_RATE_MIN_ROWS = 100


def lake_root(option: str | Path | None = None) -> Path:
    """The lake folder: the option, else IDBX_LAKE, else ./lake."""
    chosen = option or os.environ.get(LAKE_ENV) or DEFAULT_LAKE
    return Path(chosen).expanduser().resolve()


@dataclass(frozen=True)
class GpgSettings:
    key_file: Path
    passphrase: str | None

    @classmethod
    def resolve(cls, key_option: str | Path | None = None, passphrase: str | None = None) -> GpgSettings:
        """Key file from the option or IDBX_GPG_KEY; passphrase from IDBX_GPG_PASSPHRASE (never a file)."""
        key = key_option or os.environ.get(GPG_KEY_ENV)
        if not key:
            raise ConfigError(f"encrypted input needs the partner's private key: pass --gpg-key FILE or set {GPG_KEY_ENV}")
        key_file = Path(key).expanduser()
        if not key_file.is_file():
            raise ConfigError(f"GPG key file not found: {key_file}")
        if passphrase is None:
            passphrase = os.environ.get(GPG_PASSPHRASE_ENV)
        return cls(key_file=key_file, passphrase=passphrase)


def _megabytes(env: str, default: float) -> int:
    """A size setting in MB (fractions allowed) as bytes."""
    raw = os.environ.get(env)
    if raw is None or raw == "":
        return int(default * (1 << 20))
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{env}={raw!r} is not a number of megabytes") from None
    if value <= 0:
        raise ConfigError(f"{env}={raw!r} must be more than 0")
    return int(value * (1 << 20))


def max_inflate_bytes() -> int:
    """How large one delivered file may grow when unzipped, decrypted or gunzipped."""
    return _megabytes(MAX_INFLATE_ENV, DEFAULT_MAX_INFLATE_MB)


def max_line_bytes() -> int:
    """The longest tracking-log line parsed; longer lines are rejected as too long."""
    return _megabytes(MAX_LINE_ENV, DEFAULT_MAX_LINE_MB)


def max_reject_rate() -> float:
    """The share of a table file's rows that may be rejected while the file still lands (0 to 1)."""
    raw = os.environ.get(MAX_REJECT_RATE_ENV)
    if raw is None or raw == "":
        return DEFAULT_MAX_REJECT_RATE
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{MAX_REJECT_RATE_ENV}={raw!r} is not a number (a share of a file's rows, 0 to 1)") from None
    if not 0 <= value <= 1:
        raise ConfigError(f"{MAX_REJECT_RATE_ENV}={raw!r} must be between 0 and 1 (a share of a file's rows)")
    return value
