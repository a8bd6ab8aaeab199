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
            raise ConfigError(
                f"encrypted input needs the partner's private key: pass --gpg-key FILE or set {GPG_KEY_ENV}"
            )
        key_file = Path(key).expanduser()
        if not key_file.is_file():
            raise ConfigError(f"GPG key file not found: {key_file}")
        if passphrase is None:
            passphrase = os.environ.get(GPG_PASSPHRASE_ENV)
        return cls(key_file=key_file, passphrase=passphrase)
