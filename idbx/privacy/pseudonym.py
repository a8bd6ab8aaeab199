"""The pseudonymous learner id: HMAC-SHA256 of the edX user id (its decimal text), keyed by a secret.

Marts, exports and published documents name learners only by this id (`learner_id`, 64 hex
digits). It is stable across runs and deliveries while the key stays the same, and cannot be
turned back into a user id without the key. Changing the key changes every id.

DuckDB 2.0 has no HMAC function, so the id is computed in SQL from its definition (RFC 2104):
    HMAC(K, m) = SHA256((K' xor opad) || SHA256((K' xor ipad) || m))
with K' the key padded to SHA-256's 64-byte block (hashed first when longer). The two padded
keys are constants, computed once here; DuckDB does the per-row work, never Python. The SQL
lives only in the build's own connection (a temporary macro), never in the catalog.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import duckdb

from idbx.errors import ConfigError

KEY_ENV = "IDBX_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 16
MACRO = "learner_pseudonym"
_BLOCK = 64


def resolve_key(key: str | None = None) -> bytes:
    """The key given (a Prefect Secret's value, say), else IDBX_PSEUDONYM_KEY; refused when missing or short."""
    value = key if key is not None else os.environ.get(KEY_ENV, "")
    if not value:
        raise ConfigError(
            f"learner ids are keyed: set {KEY_ENV} to a long random secret (keep it: another key changes every learner_id)"
        )
    if len(value) < MIN_KEY_LENGTH:
        raise ConfigError(f"{KEY_ENV} is too short: use at least {MIN_KEY_LENGTH} characters of a random secret")
    return value.encode("utf-8")


def _padded(key: bytes) -> bytes:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    return key.ljust(_BLOCK, b"\0")


def _pads(key: bytes) -> tuple[str, str]:
    """RFC 2104's inner and outer padded keys, as hex."""
    padded = _padded(key)
    return bytes(b ^ 0x36 for b in padded).hex(), bytes(b ^ 0x5C for b in padded).hex()


def macro_sql(key: bytes) -> str:
    """`CREATE TEMP MACRO learner_pseudonym(user_id)`: the HMAC of the id's decimal text, as hex."""
    inner, outer = _pads(key)
    return (
        f"CREATE OR REPLACE TEMP MACRO {MACRO}(user_id) AS "
        f"CASE WHEN user_id IS NOT NULL THEN sha256(from_hex('{outer}') || "
        f"from_hex(sha256(from_hex('{inner}') || encode(CAST(user_id AS VARCHAR))))) END"
    )


def spark_function_sql(key: bytes) -> str:
    """The same HMAC as a Spark SQL temporary function (`idbx build --engine spark`)."""
    inner, outer = _pads(key)
    return (
        f"CREATE OR REPLACE TEMPORARY FUNCTION {MACRO}(user_id STRING) RETURNS STRING RETURN "
        f"CASE WHEN user_id IS NOT NULL THEN sha2(concat(unhex('{outer}'), "
        f"unhex(sha2(concat(unhex('{inner}'), CAST(user_id AS BINARY)), 256))), 256) END"
    )


def install(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    con.execute(macro_sql(key))


def key_fingerprint(key: bytes) -> str:
    """A short value that tells whether the key changed between builds without revealing it."""
    return hmac.new(key, b"idbx key fingerprint", hashlib.sha256).hexdigest()[:16]
