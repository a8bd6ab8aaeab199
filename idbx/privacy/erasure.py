"""The erasure register, and the rewrite that erases registered learners from one bronze file.

The register (`_state/erasure/register.json`) lists, for each learner erased on request, salted
SHA-256 hashes of their edX user id, usernames and emails, never the values. Every later ingest
matches the rows it stages against it (idbx/ingest/pipeline.py), so an old delivery landed again
or a new weekly snapshot never brings an erased learner back.

The salt is random, kept beside the hashes in the lake's state, rather than derived from a
secret: ingestion and sync run without the pseudonym key (only the build has it), and a rekey
must not forget who was erased. It keeps one lake's hashes from being compared with another's or
with tables precomputed elsewhere; it cannot make a guessed user id unguessable to whoever reads
the lake's state (user ids are few enough to try them all), which is why the register holds
hashes only and names no learner id or replacement.

Erasing a row (`erase_select`): in `delete` mode it is dropped; in `deidentify` mode it stays,
its user id columns replaced by a random negative id (edX's ids are positive) drawn for the
learner by this erasure (or this ingest run) and kept nowhere after it, every PII column
(idbx/privacy/pii.py) emptied, with the edX keys that lead back to the learner (row ids, the
anonymous ids) and what the learner wrote (courseware state with their answers, the referer,
answers and free text in event bodies). A reject's raw line holding the learner's username,
email or user id is dropped in both modes: rejects count in no aggregate. Another learner's event
that names an erased learner in its body (a forum vote's `target_username`) keeps everything but
that key, in both modes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from idbx.lake import atomic
from idbx.lake.store import Lake, footer_metadata, parquet_options
from idbx.parsers.event_fields import derives_event_fields, with_event_fields
from idbx.privacy.pii import EVENTS, REJECTS, pii_spec
from idbx.quoting import quote_ident, sql_string

DEIDENTIFY = "deidentify"
DELETE = "delete"
MODES = (DEIDENTIFY, DELETE)
KINDS = ("user_id", "username", "email", "profile_id")

# Columns holding an edX user id, where the dataset's own name for it is not `user_id`.
USER_ID_COLUMNS = {
    "auth_user": ("id",),
    "user_id_map": ("id",),
    "courseware_studentmodule": ("student_id",),
    "forum_posts": ("author_id",),
    "wiki_article": ("owner_id",),
}
# A learner's profile's id (auth_userprofile.id) where another table refers to it.
PROFILE_ID_COLUMNS = ("user_profile_id",)
USERNAME_COLUMNS = ("username", "author_username")
EMAIL_COLUMNS = ("email",)
# Emptied on an erased learner's rows besides the PII: keys that edX maps back to the learner
# (a row's own id in a learner's table, the anonymous ids) and what the learner wrote.
LINKING_COLUMNS = ("hash_id", "anonymous_user_id")
WRITTEN_COLUMNS = {"courseware_studentmodule": ("state",), EVENTS: ("referer",)}
# Keys removed from an erased learner's event bodies besides EVENT_PII_KEYS: their answers.
ANSWER_KEYS = ("answers", "submission", "state", "student_answer", "response", "query", "text", "comment")
# Keys of a body that name another learner by username.
MENTION_KEYS = {EVENTS: (("event", "target_username"),)}
# Characters that end a token of a rejected line when looking for a username or an email in it.
_TOKEN_SPLIT = r"[^A-Za-z0-9@._+\-]+"
_USER_ID_IN_JSON = r'"user_id"\s*:\s*"?(\d+)'

_run_replacements: dict[str, dict[str, int]] = {}
_run_guard = threading.Lock()


def normalized(kind: str, value: str | int) -> str:
    """The text hashed: a user id's decimal digits, a username or email trimmed and lower-cased."""
    return str(int(value)) if kind in ("user_id", "profile_id") else str(value).strip().lower()


def identifier_hash(salt: str, kind: str, value: str | int) -> str:
    return hashlib.sha256(f"{salt}{kind}:{normalized(kind, value)}".encode()).hexdigest()


def _hash_sql(salt: str, kind: str, expression: str) -> str:
    text = (
        f"CAST({expression} AS VARCHAR)" if kind in ("user_id", "profile_id") else f"lower(trim(CAST({expression} AS VARCHAR)))"
    )
    return f"sha256({sql_string(salt + kind + ':')} || {text})"


def new_replacement() -> int:
    """A random id for an erased learner's rows: negative, so never an edX id."""
    return -(secrets.randbelow(2**62) + 1)


@dataclass
class Register:
    """Salted hashes of erased learners' identifiers; `learner` groups the hashes of one learner
    (a random token) and `mode` says what an ingest does with their rows."""

    salt: str
    entries: list[dict] = field(default_factory=list)

    def learners(self) -> dict[str, str]:
        return {entry["learner"]: entry["mode"] for entry in self.entries}

    def add(self, entries: list[dict]) -> bool:
        known = {(e["learner"], e["hash"]) for e in self.entries}
        new = [e for e in entries if (e["learner"], e["hash"]) not in known]
        self.entries += new
        return bool(new)


def register_path(lake: Lake) -> Path:
    return lake.erasure_state / "register.json"


def load_register(lake: Lake) -> Register | None:
    path = register_path(lake)
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Register(data["salt"], data["entries"])


def save_register(lake: Lake, register: Register) -> None:
    lake.replace_file(register_path(lake), json.dumps({"salt": register.salt, "entries": register.entries}, indent=0).encode())


def register_or_new(lake: Lake) -> Register:
    return load_register(lake) or Register(secrets.token_hex(16))


def entries_for(register: Register, learner: str, mode: str, identifiers: dict[str, set]) -> list[dict]:
    at = datetime.now(UTC).isoformat(timespec="seconds")
    return [
        {"learner": learner, "mode": mode, "kind": kind, "hash": identifier_hash(register.salt, kind, value), "at": at}
        for kind in KINDS
        for value in sorted(identifiers.get(kind, ()), key=str)
    ]


@dataclass(frozen=True)
class Roles:
    """What each column of one dataset's files is to erasure."""

    user_ids: tuple[str, ...] = ()
    usernames: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    profile_ids: tuple[str, ...] = ()
    emptied: tuple[str, ...] = ()
    json_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rejects: bool = False
    # Body keys naming another learner (column, key): another's row that names an erased learner
    # there loses the key, and only it (a forum vote names the learner it was for).
    mentions: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rejects or self.user_ids or self.usernames or self.emails or self.profile_ids)


def roles(dataset: str, columns: list[str]) -> Roles:
    if dataset.startswith(REJECTS):
        return Roles(rejects="raw" in columns)
    user_ids = tuple(c for c in USER_ID_COLUMNS.get(dataset, ("user_id",)) if c in columns)
    spec = pii_spec(dataset, columns)
    profile_ids = tuple(c for c in PROFILE_ID_COLUMNS if c in columns)
    emptied = (
        set(spec.columns) | set(profile_ids) | {c for c in LINKING_COLUMNS + WRITTEN_COLUMNS.get(dataset, ()) if c in columns}
    )
    if (user_ids or profile_ids) and "id" in columns and "id" not in user_ids:
        emptied.add("id")  # a learner's row's id in edX's database
    keys = {c: tuple(k) + (ANSWER_KEYS if c == "event" else ()) for c, k in spec.keys.items()}
    return Roles(
        user_ids,
        tuple(c for c in USERNAME_COLUMNS if c in columns),
        tuple(c for c in EMAIL_COLUMNS if c in columns),
        profile_ids,
        tuple(c for c in columns if c in emptied),
        keys,
        mentions=tuple((column, key) for column, key in MENTION_KEYS.get(dataset, ()) if column in columns),
    )


def install(con: duckdb.DuckDBPyConnection, register: Register, learners: dict[str, int] | None) -> None:
    """Temp tables `erased_hashes(hash, learner)` and `erased_learners(learner, mode, replacement)`:
    the learners given (token -> replacement), else every registered one with a replacement drawn now."""
    modes = register.learners()
    chosen = learners if learners is not None else {token: new_replacement() for token in modes}
    con.execute("CREATE OR REPLACE TEMP TABLE erased_learners (learner VARCHAR, mode VARCHAR, replacement BIGINT)")
    con.executemany("INSERT INTO erased_learners VALUES (?, ?, ?)", [(t, modes.get(t, DEIDENTIFY), r) for t, r in chosen.items()])
    con.execute("CREATE OR REPLACE TEMP TABLE erased_hashes_all (hash VARCHAR, learner VARCHAR)")
    con.executemany(
        "INSERT INTO erased_hashes_all VALUES (?, ?)",
        [(e["hash"], e["learner"]) for e in register.entries if e["learner"] in chosen],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE erased_hashes AS SELECT hash, min(learner) AS learner FROM erased_hashes_all GROUP BY hash"
    )


def run_replacements(run_id: str, register: Register) -> dict[str, int]:
    """One random id per registered learner for one lake run: the tables of a delivery landed in
    one run agree on it, and no two runs (nor anything kept) can tie it to another."""
    with _run_guard:
        drawn = _run_replacements.setdefault(run_id, {})
        for token in register.learners():
            drawn.setdefault(token, new_replacement())
        return dict(drawn)


def _matched(source: str, salt: str, role: Roles) -> str:
    """`source` with `__learner`: the erased learner a row belongs to, NULL for everyone else; and
    `__mentioned`: an erased learner another's row names (`Roles.mentions`)."""
    if role.rejects:
        tokens = f"regexp_split_to_array(raw, {sql_string(_TOKEN_SPLIT)})"
        ids = f"regexp_extract_all(raw, {sql_string(_USER_ID_IN_JSON)}, 1)"
        hashed = (
            f"list_concat(list_transform({tokens}, lambda t: {_hash_sql(salt, 'username', 't')}), "
            f"list_transform({tokens}, lambda t: {_hash_sql(salt, 'email', 't')}), "
            f"list_transform({ids}, lambda t: {_hash_sql(salt, 'user_id', 't')}))"
        )
        found = f"list_intersect({hashed}, (SELECT list(hash) FROM erased_hashes))"
        return (
            f"SELECT s.*, (SELECT min(learner) FROM erased_hashes WHERE list_contains({found}, hash)) AS __learner, "
            f"NULL AS __mentioned FROM {source} AS s"
        )
    joins, picks = [], []
    for kind, columns in (
        ("user_id", role.user_ids),
        ("username", role.usernames),
        ("email", role.emails),
        ("profile_id", role.profile_ids),
    ):
        for column in columns:
            alias = f"h{len(joins)}"
            joins.append(
                f"LEFT JOIN erased_hashes AS {alias} ON {alias}.hash = {_hash_sql(salt, kind, 's.' + quote_ident(column))}"
            )
            picks.append(f"{alias}.learner")
    mentioned = []
    for column, key in role.mentions:
        alias = f"n{len(mentioned)}"
        named = f"json_extract_string(s.{quote_ident(column)}, {sql_string('$.' + key)})"
        joins.append(f"LEFT JOIN erased_hashes AS {alias} ON {alias}.hash = {_hash_sql(salt, 'username', named)}")
        mentioned.append(f"{alias}.learner")
    return (
        f"SELECT s.*, coalesce({', '.join(picks)}) AS __learner, "
        f"{'coalesce(' + ', '.join(mentioned) + ')' if mentioned else 'NULL'} AS __mentioned "
        f"FROM {source} AS s {' '.join(joins)}"
    )


def _keys_removed(value: str, keys: tuple[str, ...]) -> str:
    """A JSON object `value` without these keys (a merge patch setting them to null)."""
    return f"json_merge_patch({value}, {sql_string(json.dumps(dict.fromkeys(keys)))})"


def _without(ident: str, keys: tuple[str, ...]) -> str:
    return f"CASE WHEN json_type(m.{ident}) = 'OBJECT' THEN {_keys_removed(f'm.{ident}', keys)} ELSE m.{ident} END"


def _json_erased(column: str, keys: tuple[str, ...]) -> str:
    ident = quote_ident(column)
    removed = _keys_removed(ident, keys)
    with_id = (
        f"CASE WHEN json_exists({removed}, '$.user_id') "
        f"THEN json_merge_patch({removed}, json_object('user_id', e.replacement)) ELSE {removed} END"
    )
    return f"CASE WHEN json_type({ident}) = 'OBJECT' THEN {with_id} END"


def erase_select(path: Path, schema: list[tuple[str, str]], dataset: str, salt: str) -> str:
    """The file's rows, in order, with the erased learners' rows erased (see the module docstring)."""
    names = [name for name, _ in schema]
    role = roles(dataset, names)
    source = f"read_parquet({sql_string(str(path))}, hive_partitioning = false, file_row_number = true)"
    items = []
    for name, type_ in schema:
        ident = quote_ident(name)
        if name in role.user_ids:
            value = f"CAST(e.replacement AS {type_})"
        elif name in role.emptied:
            value = "NULL"
        elif name in role.json_keys:
            value = _json_erased(name, role.json_keys[name])
        else:
            items.append(f"m.{ident}")
            continue
        unchanged = f"m.{ident}"
        named_keys = tuple(key for column, key in role.mentions if column == name)
        if named_keys:  # another learner's row naming an erased one: that key goes
            unchanged = f"CASE WHEN m.__mentioned IS NULL THEN m.{ident} ELSE {_without(ident, named_keys)} END"
        items.append(f"CASE WHEN m.__learner IS NULL THEN {unchanged} ELSE CAST({value} AS {type_}) END AS {ident}")
    keep = "m.__learner IS NULL" if role.rejects else "m.__learner IS NULL OR e.mode <> 'delete'"
    erased = (
        f"SELECT {', '.join(items)}, m.file_row_number FROM ({_matched(source, salt, role)}) AS m "
        f"LEFT JOIN erased_learners AS e ON e.learner = m.__learner WHERE {keep}"
    )
    if derives_event_fields(schema):  # from the bodies as erased, not as they were
        erased = with_event_fields(f"({erased})")
    return f"SELECT * EXCLUDE (file_row_number) FROM ({erased}) AS erased ORDER BY file_row_number"


def schema_of(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_string(str(path))}, hive_partitioning = false)").fetchall()
    return [(name, type_) for name, type_, *_ in described]


def matches_in(con: duckdb.DuckDBPyConnection, paths: list[Path], dataset: str, salt: str) -> dict[Path, int]:
    """Rows of erased learners, or naming one, in each of a dataset's files (files without any left out): one scan."""
    if not paths:
        return {}
    listed = "[" + ", ".join(sql_string(str(p)) for p in paths) + "]"
    source = f"read_parquet({listed}, hive_partitioning = false, union_by_name = true, filename = true)"
    role = roles(dataset, [name for name, _ in schema_of(con, paths[0])])
    if not role:
        return {}
    found = con.execute(
        f"SELECT filename, count(*) FROM ({_matched(source, salt, role)}) "
        "WHERE __learner IS NOT NULL OR __mentioned IS NOT NULL GROUP BY ALL"
    ).fetchall()
    return {Path(name): count for name, count in found}


def rewrite_to(con: duckdb.DuckDBPyConnection, path: Path, target: Path, dataset: str, salt: str) -> int:
    """Write the file erased to `target`, keeping its footer (which source and version it holds); its rows."""
    select = erase_select(path, schema_of(con, path), dataset, salt)
    con.execute(f"COPY ({select}) TO {sql_string(str(target))} ({parquet_options(footer_metadata(path))})")
    return pq.read_metadata(target).num_rows


def dataset_of(lake: Lake, path: Path) -> str:
    """`auth_user`, `events`, `rejects/events`, ... for a file under bronze/."""
    parts = path.relative_to(lake.bronze).parts
    return "/".join(parts[:2]) if parts[0] == "rejects" else parts[0]


def erase_staged(lake: Lake, run_id: str, tmp: Path, final: Path) -> tuple[int, int]:
    """Erase registered learners from a file an ingest staged (before it is published): the rows
    of theirs it held, and how many of those were dropped. Nothing is read when no one was erased."""
    register = load_register(lake)
    if register is None or not register.entries:
        return 0, 0
    dataset = dataset_of(lake, final)
    with duckdb.connect() as con:
        install(con, register, run_replacements(run_id, register))
        matched = matches_in(con, [tmp], dataset, register.salt).get(tmp, 0)
        if not matched:
            return 0, 0
        before = pq.read_metadata(tmp).num_rows
        with atomic.writing(tmp, lake.aside(final)) as erased:
            after = rewrite_to(con, tmp, erased, dataset, register.salt)
    return matched, before - after
