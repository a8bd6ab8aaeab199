"""`idbx forget`: erase learners on request from everything the engine keeps.

The learners named (by username, email or edX user id) are found in bronze with every username
and email they had, and their salted hashes added to the erasure register (idbx/privacy/erasure.py).
Then every bronze file holding a row of theirs is rewritten aside and renamed over the original
through the lake (`Lake.replace_sealed`: resealed, its source's rows recounted), one DuckDB rewrite
per file; then the outputs made from bronze are made again, each a step journalled by name (the
steps themselves are the caller's: idbx/orchestration/after_erasure.py rebuilds the marts, publishes
MongoDB, writes the exports and the site; this module sits below them). A record of the
erasure (when, the mode, how many learners, which partitions; no identifier) is kept under
`_state/erasure/log/` and shown by `idbx lake check`.

A journal (`_state/erasure/pending.jsonl`) holds what is left to do: the random ids this erasure
gives the learners' rows, the files it started and finished, the steps after them. A run killed at
any moment leaves each file whole (before or after) and the journal; the next `idbx forget`
finishes that erasure first, with the same ids, then forgets the journal's ids. The deliveries
in `landing/` are never rewritten (they are the encrypted files as delivered): those whose rows
were erased are listed, and removed with `purge_landing`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from idbx import engine
from idbx.errors import ConfigError, IdbxError
from idbx.lake import catalog
from idbx.lake.check import pending_erasure
from idbx.lake.store import SOURCE_KEY, Lake
from idbx.privacy import erasure
from idbx.quoting import sql_string

_DIGITS = re.compile(r"^\d+$")


# The outputs to make again after bronze is rewritten: (step name, action), asked for when needed.
OutputSteps = Callable[[], list[tuple[str, Callable[[], object]]]]


@dataclass
class Identifiers:
    user_ids: set[int] = field(default_factory=set)
    usernames: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.user_ids or self.usernames or self.emails)


def read_identifiers(path: Path, into: Identifiers | None = None) -> Identifiers:
    """One learner identifier a line: `user_id:N`, `username:U`, `email:E`, or bare (digits are a
    user id, anything with an @ an email, the rest a username); blank lines and `#` comments skipped."""
    found = into or Identifiers()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        kind, _, value = text.partition(":") if re.match(r"^(user_id|username|email):", text) else ("", "", text)
        value = value.strip()
        kind = kind or ("user_id" if _DIGITS.match(value) else "email" if "@" in value else "username")
        if not value or (kind == "user_id" and not _DIGITS.match(value)) or (kind == "email" and "@" not in value):
            raise ConfigError(f"{path}:{number}: not a user id, username or email: {text[:80]!r}")
        add(found, kind, value)
    return found


def add(found: Identifiers, kind: str, value: str | int) -> None:
    {"user_id": found.user_ids, "username": found.usernames, "email": found.emails}[kind].add(
        int(value) if kind == "user_id" else str(value).strip()
    )


@dataclass
class FileErasure:
    path: str
    rows_before: int
    rows_after: int
    matched: int


@dataclass
class ForgetSummary:
    mode: str
    dry_run: bool
    learners: int = 0
    not_found: int = 0  # identifiers no row of bronze holds (registered all the same)
    files: list[FileErasure] = field(default_factory=list)
    landing: list[str] = field(default_factory=list)
    purged: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    resumed: bool = False
    record: str = ""
    seconds: float = 0.0

    @property
    def partitions(self) -> list[str]:
        return sorted({f.path.rsplit("/", 1)[0] for f in self.files})


def journal_path(lake: Lake) -> Path:
    return lake.erasure_state / "pending.jsonl"


def records_dir(lake: Lake) -> Path:
    return lake.erasure_state / "log"


# -- finding the learners ------------------------------------------------------------------------


def _sources(lake: Lake) -> list[str]:
    """SELECTs of (user id, username, email) over the bronze datasets that tie them together."""
    pairs = {
        "auth_user": ("id", "username", "email"),
        "user_id_map": ("id", "username", "NULL"),
        "events": ("user_id", "username", "NULL"),
        "forum_posts": ("author_id", "author_username", "NULL"),
    }
    selects = []
    for dataset, (uid, name, email) in pairs.items():
        if any((lake.bronze / dataset).rglob("*.parquet")):
            glob = sql_string(str(lake.bronze / dataset / "**" / "*.parquet"))
            selects.append(
                f"SELECT DISTINCT TRY_CAST({uid} AS BIGINT) AS user_id, CAST({name} AS VARCHAR) AS username, "
                f"CAST({email} AS VARCHAR) AS email FROM read_parquet({glob}, union_by_name = true, hive_partitioning = false)"
            )
    return selects


def resolve(con: duckdb.DuckDBPyConnection, lake: Lake, asked: Identifiers) -> tuple[list[dict[str, set]], int]:
    """The learners asked for, each with every user id, username and email bronze ties to them,
    and how many identifiers were found nowhere (each kept as a learner of its own)."""
    selects = _sources(lake)
    con.execute("CREATE OR REPLACE TEMP TABLE asked (kind VARCHAR, value VARCHAR)")
    con.executemany(
        "INSERT INTO asked VALUES (?, ?)",
        [("user_id", str(v)) for v in asked.user_ids]
        + [("username", v.lower()) for v in asked.usernames]
        + [("email", v.lower()) for v in asked.emails],
    )
    if selects:
        con.execute(f"CREATE OR REPLACE TEMP TABLE known AS {' UNION '.join(selects)}")
        found = con.execute("""
            WITH hits AS (
                SELECT a.kind, a.value, k.user_id FROM asked a JOIN known k ON
                    (a.kind = 'user_id' AND CAST(k.user_id AS VARCHAR) = a.value)
                    OR (a.kind = 'username' AND lower(k.username) = a.value) OR (a.kind = 'email' AND lower(k.email) = a.value)
                WHERE k.user_id IS NOT NULL)
            SELECT h.kind, h.value, h.user_id, list(DISTINCT k.username) FILTER (k.username IS NOT NULL AND k.username <> ''),
                   list(DISTINCT k.email) FILTER (k.email IS NOT NULL AND k.email <> '')
            FROM hits h JOIN known k USING (user_id) GROUP BY ALL""").fetchall()
    else:
        found = []
    learners: dict[int, dict[str, set]] = {}
    hit = set()
    for kind, value, user_id, usernames, emails in found:
        hit.add((kind, value))
        learner = learners.setdefault(user_id, {"user_id": {user_id}, "username": set(), "email": set(), "profile_id": set()})
        learner["username"].update(usernames or ())
        learner["email"].update(emails or ())
    profiles = lake.bronze / "auth_userprofile"
    ids = ", ".join(str(u) for u in learners if isinstance(u, int))
    if ids and any(profiles.rglob("*.parquet")):  # the profile's own id, which other tables refer to
        for user_id, profile_id in con.execute(
            f"SELECT DISTINCT user_id, id FROM read_parquet({sql_string(str(profiles / '**' / '*.parquet'))}, union_by_name = "
            "true, "
            f"hive_partitioning = false) WHERE user_id IN ({ids}) AND id IS NOT NULL"
        ).fetchall():
            learners[user_id]["profile_id"].add(profile_id)
    missing = [
        (kind, value) for kind, value in con.execute("SELECT kind, value FROM asked").fetchall() if (kind, value) not in hit
    ]
    for kind, value in missing:
        learners[f"{kind}:{value}"] = {kind: {value}}
    return list(learners.values()), len(missing)


# -- the rewrite ----------------------------------------------------------------------------------


def bronze_datasets(lake: Lake) -> dict[str, list[Path]]:
    """Each bronze dataset's Parquet files readers see."""
    found: dict[str, list[Path]] = {}
    for path in sorted(lake.bronze.rglob("*.parquet")):
        if any(part.startswith(".") for part in path.relative_to(lake.bronze).parts):
            continue
        found.setdefault(erasure.dataset_of(lake, path), []).append(path)
    return found


def affected(con: duckdb.DuckDBPyConnection, lake: Lake, salt: str) -> dict[Path, tuple[str, int]]:
    """Files holding rows of the learners installed in `con`: dataset and rows, one scan per dataset."""
    found = {}
    for dataset, paths in bronze_datasets(lake).items():
        found |= {path: (dataset, rows) for path, rows in erasure.matches_in(con, paths, dataset, salt).items()}
    return found


def _landing_archives(lake: Lake, files: list[str]) -> list[str]:
    """The files in landing/ whose rows were in these bronze files (zips named by their members' origin)."""
    landing = lake.landing.resolve()
    archives = set()
    for name in files:
        path = lake.root / name
        if not path.exists():
            continue
        key = (pq.read_metadata(path).metadata or {}).get(SOURCE_KEY.encode(), b"").decode()
        record = lake.manifest_get(key) if key else None
        if record is None:
            continue
        origin = Path(record.source.split("!", 1)[0]).resolve()
        if origin.is_relative_to(landing) and origin.is_file():
            archives.add(origin.relative_to(lake.root.resolve()).as_posix())
    return sorted(archives)


# -- the journal ----------------------------------------------------------------------------------


def _read_journal(path: Path) -> list[dict]:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:  # the last line of a run killed while appending it
            break
    return lines


def _append(path: Path, line: dict) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _start(lake: Lake, learners: list[dict[str, set]], not_found: int, mode: str, purge_landing: bool) -> dict:
    """Write the journal (the learners' random ids and register entries), then the register."""
    register = erasure.register_or_new(lake)
    tokens = {secrets.token_hex(8): learner for learner in learners}
    header = {
        "erasure": uuid.uuid4().hex[:12],
        "started": _now(),
        "mode": mode,
        "purge_landing": purge_landing,
        "learners": len(learners),
        "not_found": not_found,
        "salt": register.salt,
        "replacements": {token: erasure.new_replacement() for token in tokens},
        "entries": [e for token, learner in tokens.items() for e in erasure.entries_for(register, token, mode, learner)],
    }
    lake.replace_file(journal_path(lake), (json.dumps(header) + "\n").encode())
    return header


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _complete(
    lake: Lake, header: dict, outputs: OutputSteps, summary: ForgetSummary, on_file: Callable[[FileErasure], None] | None
) -> None:
    """Carry the journal's erasure to its end, from wherever a run left it."""
    path = journal_path(lake)
    register = _registered(lake, header, path)
    lines = _read_journal(path)
    steps = {line["step"] for line in lines if "step" in line}
    if "recorded" not in steps:
        _rewrite_and_record(lake, header, path, lines, register, summary, on_file)
        steps.add("recorded")
    else:
        record = next(line["record"] for line in lines if line.get("step") == "recorded")
        summary.record = record
        saved = json.loads((lake.root / record).read_text(encoding="utf-8"))
        summary.files = [FileErasure(f["path"], f["rows_before"], f["rows_after"], f["matched"]) for f in saved["files"]]
        summary.landing, summary.purged = saved["landing"], saved["purged"]
    if summary.files:  # else bronze is as it was, and so is everything made from it
        _downstream(path, steps, outputs(), summary)
    path.unlink(missing_ok=True)


def _registered(lake: Lake, header: dict, path: Path) -> erasure.Register:
    """The register with the journal's entries in it (saved if they were not yet)."""
    register = erasure.load_register(lake) or erasure.Register(header["salt"])
    if register.salt != header["salt"]:
        raise IdbxError(
            f"{lake.relative(path)}: its register's salt changed since the erasure started; restore "
            f"{lake.relative(erasure.register_path(lake))}"
        )
    if register.add(header["entries"]):
        erasure.save_register(lake, register)
    return register


def _rewrite_and_record(
    lake: Lake,
    header: dict,
    path: Path,
    lines: list[dict],
    register: erasure.Register,
    summary: ForgetSummary,
    on_file: Callable[[FileErasure], None] | None,
) -> None:
    """Rewrite every file that holds the learners, purge landing/ if asked, and record the erasure;
    the journal then keeps only the record's name."""
    done = {line["done"]: line for line in lines if "done" in line}
    for line in lines:  # a file renamed into place by a run killed before its record was
        if "file" in line and line["file"] not in done and (lake.root / line["file"]).exists():
            lake.reseal(lake.root / line["file"])
            after = pq.read_metadata(lake.root / line["file"]).num_rows  # (rewritten again below if it was not renamed)
            done[line["file"]] = {"done": line["file"], "before": line["before"], "after": after, "matched": line["matched"]}
    _rewrite_files(lake, header, path, register, done, on_file)
    summary.files = [FileErasure(rel, d["before"], d["after"], d["matched"]) for rel, d in sorted(done.items())]
    summary.landing = _landing_archives(lake, list(done))
    if header["purge_landing"]:
        for name in summary.landing:
            (lake.root / name).unlink(missing_ok=True)
        summary.purged = list(summary.landing)
    summary.record = _record(lake, header, summary)
    # The random ids are forgotten with the step that ends the rewrite: nothing kept ties them to anyone.
    kept = {k: v for k, v in header.items() if k not in ("replacements", "entries", "salt")}
    lake.replace_file(
        path, (json.dumps(kept) + "\n" + json.dumps({"step": "recorded", "record": summary.record}) + "\n").encode()
    )
    try:
        catalog.refresh(lake)
    except IdbxError as exc:
        summary.notes.append(f"{exc}: run `idbx catalog refresh` once the lake reads")


def _rewrite_files(
    lake: Lake,
    header: dict,
    path: Path,
    register: erasure.Register,
    done: dict[str, dict],
    on_file: Callable[[FileErasure], None] | None,
) -> None:
    """Rewrite each file that still holds an erased learner, journalled before and after."""
    with lake.scratch() as scratch, engine.connect(scratch) as con:
        con.execute("SET preserve_insertion_order = true")
        erasure.install(con, register, header["replacements"])
        for file, (dataset, matched) in sorted(affected(con, lake, header["salt"]).items()):
            rel = lake.relative(file)
            rows = pq.read_metadata(file).num_rows
            _append(path, {"file": rel, "before": rows, "matched": matched})
            tmp = lake.aside(file)
            try:
                erasure.rewrite_to(con, file, tmp, dataset, header["salt"])
                lake.replace_sealed(tmp, file)
            finally:
                tmp.unlink(missing_ok=True)
            line = {"done": rel, "before": rows, "after": pq.read_metadata(file).num_rows, "matched": matched}
            done[rel] = line
            _append(path, line)
            if on_file:
                on_file(FileErasure(rel, line["before"], line["after"], line["matched"]))


def _record(lake: Lake, header: dict, summary: ForgetSummary) -> str:
    record = {
        "erasure": header["erasure"],
        "started": header["started"],
        "erased_at": _now(),
        "mode": header["mode"],
        "learners": header["learners"],
        "not_found": header["not_found"],
        "partitions": summary.partitions,
        "files": [
            {"path": f.path, "rows_before": f.rows_before, "rows_after": f.rows_after, "matched": f.matched}
            for f in summary.files
        ],
        "landing": summary.landing,
        "purged": summary.purged,
    }
    path = records_dir(lake) / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{header['erasure']}.json"
    lake.replace_file(path, json.dumps(record, indent=1).encode())
    return lake.relative(path)


def _downstream(journal: Path, done: set[str], outputs: list[tuple[str, Callable[[], object]]], summary: ForgetSummary) -> None:
    """Run each output step not yet done, journalled by name: a run stopped between them resumes at
    the first one not recorded."""
    for name, action in outputs:
        if name in done:
            continue
        try:
            action()
        except IdbxError as exc:
            raise IdbxError(
                f"the learners are erased from bronze, but {name} failed ({exc}); run `idbx forget` again to finish"
            ) from exc
        _append(journal, {"step": name})
        summary.steps.append(name)


# -- the command ----------------------------------------------------------------------------------


def forget(
    lake: Lake,
    asked: Identifiers,
    mode: str = erasure.DEIDENTIFY,
    dry_run: bool = False,
    purge_landing: bool = False,
    outputs: OutputSteps = list,
    on_file: Callable[[FileErasure], None] | None = None,
) -> ForgetSummary:
    """Erase the learners `asked` for (see the module docstring); `outputs` gives, once bronze is
    rewritten, the named steps that make the outputs again (none by default). An unfinished erasure
    is completed first (unless `dry_run`)."""
    if mode not in erasure.MODES:
        raise ConfigError(f"--mode {mode!r}: choose {' or '.join(erasure.MODES)}")
    if not lake.require().bronze.is_dir():
        raise ConfigError(f"no lake at {lake.root} (it has no bronze/ folder)")
    started = time.perf_counter()
    summary = ForgetSummary(mode, dry_run)
    pending = pending_erasure(lake)
    if not asked and pending is None:
        raise ConfigError("nothing to forget: give --username, --email, --user-id or --from-file")
    if dry_run:
        return _dry_run(lake, asked, mode, summary, started)
    with lake.run("forget"):
        if pending is not None:
            previous = ForgetSummary(pending["mode"], False, pending["learners"], pending["not_found"], resumed=True)
            _complete(lake, pending, outputs, previous, on_file)
            if not asked:
                previous.seconds = time.perf_counter() - started
                return previous
            summary.notes.append(f"finished an erasure a run left undone ({previous.record})")
        with lake.scratch() as scratch, engine.connect(scratch) as con:
            learners, summary.not_found = resolve(con, lake, asked)
        summary.learners = len(learners)
        header = _start(lake, learners, summary.not_found, mode, purge_landing)
        _complete(lake, header, outputs, summary, on_file)
    summary.seconds = time.perf_counter() - started
    return summary


def _dry_run(lake: Lake, asked: Identifiers, mode: str, summary: ForgetSummary, started: float) -> ForgetSummary:
    """What forget would rewrite and list, the lake left untouched (the register too)."""
    with lake.scratch() as scratch, engine.connect(scratch) as con:
        learners, summary.not_found = resolve(con, lake, asked) if asked else ([], 0)
        register = erasure.Register((erasure.load_register(lake) or erasure.Register(secrets.token_hex(16))).salt)
        tokens = {secrets.token_hex(8): learner for learner in learners}
        for token, learner in tokens.items():
            register.add(erasure.entries_for(register, token, mode, learner))
        erasure.install(con, register, {token: erasure.new_replacement() for token in tokens})
        for file, (dataset, matched) in sorted(affected(con, lake, register.salt).items()):
            rows = pq.read_metadata(file).num_rows
            dropped = mode == erasure.DELETE or dataset.startswith("rejects/")
            summary.files.append(FileErasure(lake.relative(file), rows, rows - matched if dropped else rows, matched))
    summary.learners = len(learners)
    summary.landing = _landing_archives(lake, [f.path for f in summary.files])
    pending = pending_erasure(lake)
    if pending:
        summary.notes.append(f"an erasure started {pending['started']} is unfinished: the next `idbx forget` completes it")
    summary.seconds = time.perf_counter() - started
    return summary
