"""The flows' secrets for a task: from Prefect Secret blocks, else the environment.

IDBX_GPG_KEY_BLOCK names a Secret block holding the armored private key, IDBX_GPG_PASSPHRASE_BLOCK
one holding its passphrase; without them IDBX_GPG_KEY (a file) and IDBX_GPG_PASSPHRASE are used,
as by the CLI. A key from a block is written for the task's lifetime only, to a private folder.
Likewise IDBX_PSEUDONYM_KEY_BLOCK (else IDBX_PSEUDONYM_KEY) and IDBX_MONGO_URI_BLOCK (the URI
holds the password; else IDBX_MONGO_URI). No value is ever logged or passed between tasks: each
task resolves them where it runs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from idbx.config import GPG_KEY_ENV, GPG_PASSPHRASE_ENV, GpgSettings
from idbx.errors import ConfigError

GPG_KEY_BLOCK_ENV = "IDBX_GPG_KEY_BLOCK"
GPG_PASSPHRASE_BLOCK_ENV = "IDBX_GPG_PASSPHRASE_BLOCK"
PSEUDONYM_KEY_BLOCK_ENV = "IDBX_PSEUDONYM_KEY_BLOCK"
MONGO_URI_BLOCK_ENV = "IDBX_MONGO_URI_BLOCK"


def _secret(block: str) -> str:
    from prefect.blocks.system import Secret

    try:
        return str(Secret.load(block).get())
    except ValueError:
        raise ConfigError(f"no Secret block named {block!r}") from None


def _from_block(env: str) -> str | None:
    """The value of the Secret block that `env` names; None when it names none (the caller's
    own setting then applies: the environment variable the CLI reads)."""
    block = os.environ.get(env)
    return _secret(block) if block else None


@contextmanager
def partner_key() -> Iterator[GpgSettings | None]:
    """The key settings for decrypting, or None when none is configured (plain input only)."""
    passphrase = _from_block(GPG_PASSPHRASE_BLOCK_ENV)
    if passphrase is None:
        passphrase = os.environ.get(GPG_PASSPHRASE_ENV)
    armored = _from_block(GPG_KEY_BLOCK_ENV)
    if armored is not None:
        with tempfile.TemporaryDirectory(prefix="idbx-key-") as folder:
            key_file = Path(folder) / "partner-key.asc"
            with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                out.write(armored)
            yield GpgSettings(key_file=key_file, passphrase=passphrase)
    elif os.environ.get(GPG_KEY_ENV):
        yield GpgSettings.resolve(passphrase=passphrase)
    else:
        yield None


def pseudonym_key() -> str | None:
    """The learner-id key from its Secret block, or None for IDBX_PSEUDONYM_KEY (read by the build)."""
    return _from_block(PSEUDONYM_KEY_BLOCK_ENV)


def mongo_uri() -> str | None:
    """The MongoDB URI from its Secret block, or None for IDBX_MONGO_URI (read by MongoSettings)."""
    return _from_block(MONGO_URI_BLOCK_ENV)
