"""The pseudonymous learner key and id: HMAC-SHA256 of the edX user id (its decimal text), keyed by a secret.

Inside the lake learners are joined and grouped by `learner_key`: the HMAC's first 60 bits (15 hex
digits) as a BIGINT, a quarter of the bytes of the 64-digit text the models used to carry, and
measured 14% of a full build's CPU. Marts, exports and published documents name learners by
`learner_id`: the same 15 hex digits as text (the first 15 of the 64-digit id published before
2026-12-07), so that no spreadsheet or JavaScript reader rounds it as a number. Both are stable
across runs and deliveries while the key stays the same and cannot be turned back into a user id
without the key; changing the key changes every one. Two learners sharing a key (about one chance in
two million among a million learners) fail the build's grain checks when both are in the course
tables (stg__edx__user_pseudonyms) or in one course's events, rather than merge silently.

DuckDB 2.0 has no HMAC function, so the hash is computed in SQL from its definition (RFC 2104):
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
ID_MACRO = "learner_id_of"
_KEY_DIGITS = 15
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


def macros_sql(key: bytes) -> list[str]:
    """`learner_pseudonym(user_id)`, the learner key: the HMAC of the id's decimal text, its first
    60 bits as a BIGINT; and `learner_id_of(learner_key)`, the published text of a key."""
    inner, outer = _pads(key)
    return [
        f"CREATE OR REPLACE TEMP MACRO {MACRO}(user_id) AS "
        f"CASE WHEN user_id IS NOT NULL THEN CAST('0x' || left(sha256(from_hex('{outer}') || "
        f"from_hex(sha256(from_hex('{inner}') || encode(CAST(user_id AS VARCHAR))))), {_KEY_DIGITS}) AS BIGINT) END",
        f"CREATE OR REPLACE TEMP MACRO {ID_MACRO}(learner_key) AS {learner_id_sql('learner_key')}",
    ]


def learner_id_sql(learner_key: str) -> str:
    """DuckDB SQL giving the published learner_id of the key `learner_key` (an expression)."""
    return f"printf('%0{_KEY_DIGITS}x', {learner_key})"


def spark_functions_sql(key: bytes) -> list[str]:
    """The same two functions as Spark SQL temporary functions (`idbx build --engine spark`)."""
    inner, outer = _pads(key)
    return [
        f"CREATE OR REPLACE TEMPORARY FUNCTION {MACRO}(user_id STRING) RETURNS BIGINT RETURN "
        f"CASE WHEN user_id IS NOT NULL THEN CAST(conv(substr(sha2(concat(unhex('{outer}'), "
        f"unhex(sha2(concat(unhex('{inner}'), CAST(user_id AS BINARY)), 256))), 256), 1, {_KEY_DIGITS}), 16, 10) AS BIGINT) END",
        f"CREATE OR REPLACE TEMPORARY FUNCTION {ID_MACRO}(learner_key BIGINT) RETURNS STRING RETURN "
        f"lpad(lower(hex(learner_key)), {_KEY_DIGITS}, '0')",
    ]


def install(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    for statement in macros_sql(key):
        con.execute(statement)


def key_fingerprint(key: bytes) -> str:
    """A short value that tells whether the key changed between builds without revealing it."""
    return hmac.new(key, b"idbx key fingerprint", hashlib.sha256).hexdigest()[:16]
