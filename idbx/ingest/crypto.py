"""The one decryptor: gpg through python-gnupg, with the partner key in a private, throw-away keyring.

The user's own keyring is never read or written. The passphrase is checked once at start (a round
trip on a few bytes, before the agent has cached anything), so a bad setting fails before any real
work is done.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import BinaryIO

import gnupg

from idbx.config import GPG_PASSPHRASE_ENV, GpgSettings, max_inflate_bytes
from idbx.errors import ConfigError, DecryptionError

_BUFFER_SIZE = 1 << 20
# The keyring lives for one run and is then deleted: a low S2K count spares ~0.3 s of key
# derivation per file, and caching is safe because the passphrase is checked before first use.
_AGENT_CONF = "default-cache-ttl 86400\nmax-cache-ttl 86400\ns2k-count 65536\nallow-loopback-pinentry\n"


def _explain_failure(result: gnupg.Crypt, destination: Path | None = None) -> str:
    stderr = result.stderr or ""
    if "exceeded --max-output" in stderr:
        return (f"decrypts to more than {max_inflate_bytes() / (1 << 20):,.0f} MB (the limit, IDBX_MAX_INFLATE_MB); "
                "refused as a possible bomb")
    if "No space left on device" in stderr and destination is not None:
        return f"disk full while decrypting into {destination.parent}"
    if "Bad passphrase" in stderr or "BAD_PASSPHRASE" in stderr:
        return "wrong passphrase for the partner key (check IDBX_GPG_PASSPHRASE)"
    if "NO_SECKEY" in stderr:
        key_ids = sorted({line.split()[2] for line in stderr.splitlines() if "NO_SECKEY" in line})
        return f"encrypted to a key we do not hold (key id {', '.join(key_ids)}); check --gpg-key"
    if "ENC_TO" not in stderr and "NODATA" in stderr:
        return "not a GPG-encrypted file (no OpenPGP data found)"
    if "Inappropriate ioctl" in stderr or "No passphrase given" in stderr:
        return "the partner key needs a passphrase: set IDBX_GPG_PASSPHRASE"
    return f"truncated or corrupt encrypted file (gpg: {result.status or 'decryption failed'})"


class Decryptor:
    """Use as a context manager; `decrypt` streams one encrypted file to a plain file."""

    def __init__(self, settings: GpgSettings):
        self.settings = settings
        self._home: str | None = None
        self._gpg: gnupg.GPG | None = None

    def __enter__(self) -> Decryptor:
        self._home = tempfile.mkdtemp(prefix="idbx-gpg-")
        try:
            Path(self._home, "gpg-agent.conf").write_text(_AGENT_CONF)
            self._gpg = gnupg.GPG(gnupghome=self._home)
            self._gpg.buffer_size = _BUFFER_SIZE
            self._import_key()
            self._check_passphrase()
        except BaseException:
            self.__exit__()  # the keyring holds the private key: never leave it behind
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._home:
            subprocess.run(
                ["gpgconf", "--kill", "gpg-agent"],
                env={**os.environ, "GNUPGHOME": self._home},
                capture_output=True,
                check=False,
            )
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    def _import_key(self) -> None:
        key_file = self.settings.key_file
        result = self._gpg.import_keys(key_file.read_bytes())  # bytes: armored or binary exports alike
        if not result.sec_imported:
            raise ConfigError(f"{key_file}: holds no private key (an armored secret key export is needed)")
        self._fingerprint = result.fingerprints[0]

    def _check_passphrase(self) -> None:
        probe = self._gpg.encrypt(b"idbx", [self._fingerprint], always_trust=True, armor=False)
        result = self._gpg.decrypt(probe.data, passphrase=self.settings.passphrase)
        if not result.ok:
            if self.settings.passphrase == "":
                raise ConfigError(f"{GPG_PASSPHRASE_ENV} is empty but {self.settings.key_file} needs a passphrase")
            raise ConfigError(f"{self.settings.key_file}: {_explain_failure(result)}")

    def decrypt(self, source: BinaryIO, destination: Path, name: str) -> None:
        """Stream-decrypt into `destination`; on failure remove what gpg wrote and raise naming `name`.

        gpg inflates what it compressed: --max-output bounds that. gpg may report DECRYPTION_OKAY
        and still fail to write (limit reached, disk full), so its exit code counts too."""
        result = self._gpg.decrypt_file(
            source, passphrase=self.settings.passphrase, output=str(destination),
            extra_args=["--max-output", str(max_inflate_bytes())],
        )
        if not result.ok or result.returncode != 0:
            destination.unlink(missing_ok=True)
            raise DecryptionError(name, _explain_failure(result, destination))
