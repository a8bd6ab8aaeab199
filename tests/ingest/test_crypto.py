"""Real gpg: every failure mode gets a message naming the file and saying what is wrong."""

import io
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import gnupg
import pytest

from idbx.config import GpgSettings
from idbx.errors import ConfigError, DecryptionError
from idbx.ingest.crypto import Decryptor, _explain_failure
from idbx.local.sample import SampleKey
from tests.conftest import gpg_agents


@pytest.fixture(scope="module")
def encrypted(sample, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("enc")
    plain = folder / "plain.tsv"
    plain.write_bytes(b"id\tname\n" + b"1\tx\n" * 50_000)
    key = SampleKey(sample.root)
    try:
        key.encrypt(plain, folder / "good.sql.gpg")
    finally:
        key.close()
    return folder / "good.sql.gpg"


def test_decrypts_with_the_right_key_and_passphrase(gpg, encrypted, tmp_path):
    out = tmp_path / "out.tsv"
    with Decryptor(gpg) as decryptor, open(encrypted, "rb") as stream:
        decryptor.decrypt(stream, out, encrypted.name)
    assert out.read_bytes().startswith(b"id\tname\n1\tx\n")
    assert out.stat().st_size == len(b"id\tname\n") + 4 * 50_000


def test_the_users_own_keyring_is_untouched(gpg, encrypted, tmp_path, monkeypatch):
    home = tmp_path / "home-gnupg"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    with Decryptor(gpg) as decryptor, open(encrypted, "rb") as stream:
        decryptor.decrypt(stream, tmp_path / "o", "x")
    assert list(home.iterdir()) == []


def test_wrong_passphrase_fails_before_any_work(sample, short_tmp, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(short_tmp))
    with pytest.raises(ConfigError, match="wrong passphrase"), Decryptor(GpgSettings(sample.key_file, "not-the-passphrase")):
        pass
    assert list(short_tmp.iterdir()) == [], "the private keyring must be removed on failure too"


def test_keyring_is_removed_after_use(gpg, short_tmp, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(short_tmp))
    with Decryptor(gpg):
        assert len([p for p in short_tmp.iterdir() if p.is_dir()]) == 1
    assert list(short_tmp.iterdir()) == []


def test_missing_passphrase_is_explained(sample):
    with pytest.raises(ConfigError, match="IDBX_GPG_PASSPHRASE"), Decryptor(GpgSettings(sample.key_file, None)):
        pass


def test_key_file_without_private_key_is_refused(sample, tmp_path):
    home = tmp_path / "g"
    home.mkdir(mode=0o700)
    gpg = gnupg.GPG(gnupghome=str(home))
    gpg.import_keys(sample.key_file.read_text())
    public_only = tmp_path / "public.asc"
    public_only.write_text(gpg.export_keys(gpg.list_keys()[0]["fingerprint"]))
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=True)
    with pytest.raises(ConfigError, match="holds no private key"), Decryptor(GpgSettings(public_only, "x")):
        pass


def _fail(gpg, data: bytes, tmp_path) -> DecryptionError:
    out = tmp_path / "out"
    with Decryptor(gpg) as decryptor, pytest.raises(DecryptionError) as info:
        decryptor.decrypt(io.BytesIO(data), out, "IDBx-X-Y-auth_user-prod-analytics.sql.gpg")
    assert not out.exists(), "a failed decryption must not leave plain text behind"
    assert str(info.value).startswith("IDBx-X-Y-auth_user-prod-analytics.sql.gpg: ")
    return info.value


def test_truncated_file(gpg, encrypted, tmp_path):
    data = encrypted.read_bytes()
    assert "truncated or corrupt" in _fail(gpg, data[: len(data) // 2], tmp_path).reason


def test_corrupt_file(gpg, encrypted, tmp_path):
    data = bytearray(encrypted.read_bytes())
    for i in range(300, 400):
        data[i] ^= 0x5A
    assert "truncated or corrupt" in _fail(gpg, bytes(data), tmp_path).reason


def test_file_that_is_not_encrypted(gpg, tmp_path):
    assert "not a GPG-encrypted file" in _fail(gpg, b"id\tname\n1\tx\n", tmp_path).reason


def test_a_key_gpg_could_not_use_is_not_called_a_corrupt_file():
    """When gpg's agent fails to unlock the key (a timeout, a cancelled pinentry), the file was not
    read at all: the message says so and why, instead of "corrupt" (what gpg says of such a run)."""
    stderr = (
        "[GNUPG:] ENC_TO 9170B8B383C8EC27 18 0\n"
        "gpg: public key decryption failed: Timeout\n"
        "[GNUPG:] DECRYPTION_FAILED\n"
        "gpg: decryption failed: No secret key\n"
    )
    failed = type("Failed", (), {"stderr": stderr, "status": "decryption failed"})()
    assert _explain_failure(failed) == "gpg could not use the partner key (Timeout): the file was not read; try again"


def test_file_encrypted_to_another_key(gpg, tmp_path):
    home = tmp_path / "other"
    home.mkdir(mode=0o700)
    other = gnupg.GPG(gnupghome=str(home))
    key = other.gen_key(
        other.gen_key_input(
            key_type="EDDSA",
            key_curve="ed25519",
            subkey_type="ECDH",
            subkey_curve="cv25519",
            name_email="other@idbx.invalid",
            no_protection=True,
        )
    )
    data = other.encrypt(b"secret rows", [key.fingerprint], always_trust=True, armor=False).data
    os.system(f"GNUPGHOME={home} gpgconf --kill gpg-agent")
    assert "encrypted to a key we do not hold" in _fail(gpg, data, tmp_path).reason


def test_the_keyring_is_private_and_caches_no_passphrase(gpg, encrypted, short_tmp, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(short_tmp))
    with Decryptor(gpg) as decryptor, open(encrypted, "rb") as stream:
        decryptor.decrypt(stream, short_tmp / "out", encrypted.name)
        (home,) = [p for p in short_tmp.iterdir() if p.is_dir()]
        assert home.stat().st_mode & 0o777 == 0o700 and home.stat().st_uid == os.getuid()
        # whoever reaches the keyring while the run lives still needs the passphrase
        stolen = subprocess.run(
            [
                "gpg",
                "--homedir",
                str(home),
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--decrypt",
                str(encrypted),
            ],
            capture_output=True,
        )
        assert stolen.returncode != 0 and not stolen.stdout
    assert list(short_tmp.iterdir()) == [short_tmp / "out"]
    assert gpg_agents(short_tmp) == {}


HOLD_DECRYPTOR = """
import os, signal, sys
from pathlib import Path
from idbx.config import GpgSettings
from idbx.ingest.crypto import Decryptor
key, passphrase, encrypted, fate = sys.argv[1:]
with Decryptor(GpgSettings(Path(key), passphrase)) as decryptor, open(encrypted, "rb") as stream:
    decryptor.decrypt(stream, Path(os.devnull), "x")
    print("ready", flush=True)
    if fate == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()
"""


def test_the_next_run_removes_a_dead_runs_keyring_and_stops_its_agent(gpg, encrypted, short_tmp, monkeypatch):
    env = {**os.environ, "TMPDIR": str(short_tmp)}
    args = [sys.executable, "-c", HOLD_DECRYPTOR, str(gpg.key_file), gpg.passphrase, str(encrypted)]
    live = subprocess.Popen([*args, "wait"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert live.stdout.readline() == "ready\n"
        live_home = {p for p in short_tmp.iterdir() if p.is_dir()}
        dead = subprocess.run([*args, "die"], env=env, capture_output=True, text=True)
        assert dead.returncode == -signal.SIGKILL and dead.stdout == "ready\n"
        dead_home = {p for p in short_tmp.iterdir() if p.is_dir()} - live_home
        assert len(dead_home) == 1 and len(gpg_agents(short_tmp)) == 2
        monkeypatch.setattr(tempfile, "tempdir", str(short_tmp))
        with Decryptor(gpg):
            pass
        assert {p for p in short_tmp.iterdir() if p.is_dir()} == live_home, "only the live run's keyring is left"
        assert set(gpg_agents(short_tmp).values()) == {str(h) for h in live_home}
    finally:
        live.communicate("")
    assert live.returncode == 0
    assert list(short_tmp.iterdir()) == [] and gpg_agents(short_tmp) == {}
