"""The learner key computed in DuckDB is the first 60 bits of Python's HMAC-SHA256 of the user id's
decimal text, and the published learner id those 15 hex digits."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pytest

from idbx.errors import ConfigError
from idbx.privacy import pseudonym


@pytest.mark.parametrize("key", ["a-sixteen-char-k", "ñandú-clave-con-acentos", "k" * 64, "x" * 65 + "longer than a block"])
def test_the_sql_matches_pythons_hmac(key):
    con = duckdb.connect()
    pseudonym.install(con, pseudonym.resolve_key(key))
    ids = [0, 1, 42, 123456789, 9_223_372_036_854_775_807]
    got = con.execute(
        "SELECT learner_pseudonym(id), learner_id_of(learner_pseudonym(id)) FROM unnest($1::BIGINT[]) AS t(id) ORDER BY id", [ids]
    ).fetchall()
    digests = [hmac.new(key.encode(), str(i).encode(), hashlib.sha256).hexdigest() for i in ids]
    assert got == [(int(digest[:15], 16), digest[:15]) for digest in digests]
    assert con.execute("SELECT learner_pseudonym(NULL), learner_id_of(NULL)").fetchall() == [(None, None)]


def test_the_published_id_keeps_the_key_s_leading_zeros():
    con = duckdb.connect()
    pseudonym.install(con, b"a-sixteen-char-k")
    got = con.execute("SELECT learner_id_of(0), learner_id_of(255), learner_id_of((CAST(1 AS BIGINT) << 60) - 1)").fetchall()
    assert got == [("000000000000000", "0000000000000ff", "fffffffffffffff")]


def test_stable_and_keyed():
    con = duckdb.connect()
    pseudonym.install(con, b"first-key-0123456789")
    first = con.execute("SELECT learner_pseudonym(7)").fetchall()
    pseudonym.install(con, b"first-key-0123456789")
    assert con.execute("SELECT learner_pseudonym(7)").fetchall() == first
    pseudonym.install(con, b"second-key-0123456789")
    assert con.execute("SELECT learner_pseudonym(7)").fetchall() != first


def test_no_key_no_ids(monkeypatch):
    monkeypatch.delenv(pseudonym.KEY_ENV, raising=False)
    with pytest.raises(ConfigError, match="set IDBX_PSEUDONYM_KEY"):
        pseudonym.resolve_key()
    monkeypatch.setenv(pseudonym.KEY_ENV, "short")
    with pytest.raises(ConfigError, match="at least 16 characters"):
        pseudonym.resolve_key()
    assert pseudonym.resolve_key("given-explicitly-0123") == b"given-explicitly-0123"


def test_the_fingerprint_does_not_reveal_the_key():
    key = b"a-secret-key-0123456789"
    fingerprint = pseudonym.key_fingerprint(key)
    assert len(fingerprint) == 16 and key.decode() not in fingerprint
    assert fingerprint != pseudonym.key_fingerprint(b"another-secret-key-0123")
