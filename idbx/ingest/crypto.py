"""The one decryptor: gpg through python-gnupg, with the partner key in a private, throw-away keyring.

The user's own keyring is never read or written. The passphrase is checked once at start (a round
trip on a few bytes), so a bad setting fails before any real work is done.

The keyring holds the partner's private key, so it is made readable by this user only
(`idbx-gpg-<id>/`, mode 700, in the system temp folder: gpg-agent's socket path must stay short),
its agent caches no passphrase (every decryption passes it again), and it is removed with its agent
stopped when the run ends. A run killed outright cannot do that: the run holds a lock file beside
its keyring (`idbx-gpg-<id>.lock`, see idbx.lake.locks) for its whole life, and the next run removes every
keyring whose lock no live process holds, stopping its agent first.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

import gnupg

from idbx.config import GPG_PASSPHRASE_ENV, GpgSettings, max_inflate_bytes
from idbx.errors import ConfigError, DecryptionError
from idbx.lake.locks import HeldLock, dead_owner

_BUFFER_SIZE = 1 << 20
# Nothing cached: a keyring left by a killed run opens nothing without the passphrase. A low S2K
# count for the imported key keeps each decryption's key unlocking to about a millisecond.
_AGENT_CONF = "default-cache-ttl 0\nmax-cache-ttl 0\ns2k-count 65536\nallow-loopback-pinentry\n"
_PREFIX = "idbx-gpg-"
_AGENT_EXIT_SECONDS = 5.0
_KEYRING_RE = re.compile(rf"^{_PREFIX}[0-9a-f]{{8}}$")


def stop_agent(home: Path) -> None:
    """Stop the keyring's agent and wait (a few seconds at most) until it is gone: `gpgconf --kill`
    only asks it to exit, and a loaded machine lets it linger while its keyring is removed. The
    agent removes its socket before its process ends: both are waited for."""
    socket = home / "S.gpg-agent"
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True, check=False)
    deadline = time.monotonic() + _AGENT_EXIT_SECONDS
    while (socket.exists() or _agent_running(home)) and time.monotonic() < deadline:
        time.sleep(0.02)


def _agent_running(home: Path) -> bool:
    """Whether a gpg-agent of this keyring is still a process (Linux's /proc; elsewhere: unknown, False)."""
    wanted = str(home).encode()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"gpg-agent") and wanted in args:
            return True
    return False


def sweep_keyrings() -> list[Path]:
    """Remove the keyrings of runs that are no longer alive, stopping their agents first."""
    temp = Path(tempfile.gettempdir())
    removed = []
    for home in temp.glob(f"{_PREFIX}*"):
        if not _KEYRING_RE.match(home.name):
            continue
        lock = home.with_name(home.name + ".lock")
        with dead_owner(lock) as lines:
            if lines is None and lock.exists():
                continue  # its run lives
            stop_agent(home)
            shutil.rmtree(home, ignore_errors=True)
            lock.unlink(missing_ok=True)
            removed.append(home)
    return removed


def _explain_failure(result: gnupg.Crypt, destination: Path | None = None) -> str:
    stderr = result.stderr or ""
    if "exceeded --max-output" in stderr:
        return (
            f"decrypts to more than {max_inflate_bytes() / (1 << 20):,.0f} MB (the limit, IDBX_MAX_INFLATE_MB); "
            "refused as a possible bomb"
        )
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
    unlock = "gpg: public key decryption failed:"
    unlocking = [line[len(unlock) :].strip() for line in stderr.splitlines() if line.startswith(unlock)]
    if unlocking:  # the file was never read: gpg could not use the key (its agent, most often)
        return f"gpg could not use the partner key ({unlocking[-1]}): the file was not read; try again"
    return f"truncated or corrupt encrypted file (gpg: {result.status or 'decryption failed'})"


class Decryptor:
    """Use as a context manager; `decrypt` streams one encrypted file to a plain file."""

    def __init__(self, settings: GpgSettings):
        self.settings = settings
        self._home: Path | None = None
        self._lock: HeldLock | None = None
        self._gpg: gnupg.GPG | None = None

    def __enter__(self) -> Decryptor:
        sweep_keyrings()
        while self._lock is None:  # 8 hex digits keep the agent's socket path short; a clash just retries
            home = Path(tempfile.gettempdir()) / f"{_PREFIX}{secrets.token_hex(4)}"
            with contextlib.suppress(FileExistsError):
                self._lock = HeldLock(home.with_name(home.name + ".lock"), {"pid": os.getpid()})
        try:
            home.mkdir(mode=0o700)
            self._home = home
            (home / "gpg-agent.conf").write_text(_AGENT_CONF)
            self._gpg = gnupg.GPG(gnupghome=str(home))
            self._gpg.buffer_size = _BUFFER_SIZE
            self._import_key()
            self._check_passphrase()
        except BaseException:
            self.__exit__()  # the keyring holds the private key: never leave it behind
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._home:
            stop_agent(self._home)
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None
        if self._lock:
            self._lock.release()
            self._lock = None

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
            source,
            passphrase=self.settings.passphrase,
            output=str(destination),
            extra_args=["--max-output", str(max_inflate_bytes())],
        )
        if not result.ok or result.returncode != 0:
            destination.unlink(missing_ok=True)
            raise DecryptionError(name, _explain_failure(result, destination))
