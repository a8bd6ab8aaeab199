"""Whether the lake needs a re-run: what a crash or a failed file can leave, found and explained.

Ingestion keeps the lake consistent file by file, but a run killed outright can stop between two
steps that a reader sees apart:
- `interrupted`: a run ended before processing every file it planned (a delivery half-landed: a
  course's tables can come from two deliveries until it is re-run), or an erasure (`idbx forget`)
  stopped before its end (some learners' rows erased, the marts not rebuilt yet);
- `unrecorded`: a source's files were made visible but its manifest record was not written, so the
  manifest names another version than the lake holds (every file carries its source's key and
  sha256 in its Parquet footer);
- `missing`: a file a record lists is gone, or holds another number of rows than recorded;
- `stray`: a Parquet file in bronze that no record owns (readers see its rows);
- `failed`: a source whose last attempt failed (the lake holds its earlier version, or nothing);
- `leftover`: a dead run's scratch folder or file written aside (may hold decrypted data);
- `tampered`: a bronze file or model output changed since the engine wrote it (its seal's size
  or content digest differs; see idbx.lake.seals), or a file in a model's output it did not write.
Re-running the ingestion of the files named clears each of them (the next build recomputes a
tampered model output); the next run removes leftovers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb

from idbx.lake import seals
from idbx.lake.store import SOURCE_KEY, SOURCE_SHA256, Lake, ManifestRecord, pending_keys

_SHOWN = 5


# What the next run clears by itself: reported, but the lake needs no re-run for it.
SELF_CLEARING = frozenset({"leftover"})


@dataclass
class Problem:
    kind: str
    message: str

    @property
    def needs_rerun(self) -> bool:
        return self.kind not in SELF_CLEARING


@dataclass
class LakeReport:
    problems: list[Problem] = field(default_factory=list)
    sources: int = 0  # manifest records
    files: int = 0  # bronze Parquet files checked
    erasures: list[dict] = field(default_factory=list)  # learners erased on request (idbx/privacy/forget.py)

    @property
    def needs_rerun(self) -> bool:
        return any(problem.needs_rerun for problem in self.problems)


def erasure_records(lake: Lake) -> list[dict]:
    """Every erasure done on this lake (`idbx forget`), oldest first."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((lake.erasure_state / "log").glob("*.json"))]


def pending_erasure(lake: Lake) -> dict | None:
    """The header of an erasure a run started and has not finished, if any."""
    try:
        first = (lake.erasure_state / "pending.jsonl").read_text(encoding="utf-8").split("\n", 1)[0]
    except FileNotFoundError:
        return None
    return json.loads(first)


def interrupted_message(journal: list[dict]) -> str:
    header = journal[0]
    pending = pending_keys(journal)
    shown = ", ".join(key.rsplit("/", 1)[-1] for key in pending[:_SHOWN]) + (" …" if len(pending) > _SHOWN else "")
    return (
        f"run '{header.get('what', '?')}' started {header.get('started', '?')} (pid {header.get('pid', '?')}) "
        f"ended with {len(pending)} file(s) not processed: {shown}; re-run it"
    )


def _footers(lake: Lake, files: list[str]) -> dict[str, tuple[int, str | None, str | None]]:
    """Rows, source key and source sha256 of each Parquet file (footers only)."""
    if not files:
        return {}
    paths = [str(lake.root / name) for name in files]
    con = duckdb.connect()
    rows = dict(con.execute("SELECT file_name, num_rows FROM parquet_file_metadata(?)", [paths]).fetchall())
    meta: dict[str, dict[str, str]] = {}
    for name, key, value in con.execute(
        "SELECT file_name, decode(key), decode(value) FROM parquet_kv_metadata(?)", [paths]
    ).fetchall():
        meta.setdefault(name, {})[key] = value
    return {
        name: (rows[path], meta.get(path, {}).get(SOURCE_KEY), meta.get(path, {}).get(SOURCE_SHA256))
        for name, path in zip(files, paths, strict=True)
    }


def _check_record(lake: Lake, record: ManifestRecord, footers: dict, problems: list[Problem]) -> None:
    last_failure = record.details.get("last_failure")
    if last_failure:
        held = "the lake holds the version landed before" if record.status == "ingested" else "nothing of it landed"
        problems.append(Problem("failed", f"{record.key}: its last attempt failed ({last_failure['error']}); {held}"))
    if record.status != "ingested":
        return
    other_version, missing, rows = [], [], {"data": 0, "rejects": 0}
    sealed = record.sealed()
    for name in record.owned_files():
        if name not in footers:
            missing.append(name)
            continue
        count, _, sha = footers[name]
        # Another version the engine wrote (a file without the engine's footer, where the record
        # sealed it, is told by its seal below).
        if record.files is not None and sha != record.sha256 and not (sha is None and name in sealed):
            other_version.append(name)
        rows["rejects" if name.startswith("bronze/rejects/") else "data"] += count
    tampered = [
        f"{name} ({why})"
        for name, seal in sealed.items()
        if name in footers and name not in other_version and (why := seals.broken(lake.root / name, seal, digest=True))
    ]
    if other_version:
        problems.append(
            Problem(
                "unrecorded",
                (
                    f"{record.key}: {', '.join(other_version)} holds another version of the file than the manifest records "
                    "(a run stopped between making them visible and recording it); re-run its ingestion"
                ),
            )
        )
    elif tampered:
        problems.append(
            Problem("tampered", (f"{record.key}: {', '.join(tampered)}: changed since it was landed; re-run its ingestion"))
        )
    elif missing:
        problems.append(Problem("missing", f"{record.key}: {', '.join(missing)} is recorded but missing; re-run its ingestion"))
    elif (rows["data"], rows["rejects"]) != (record.rows, record.rejects):
        problems.append(
            Problem(
                "missing",
                (
                    f"{record.key}: its files hold {rows['data']:,} rows and {rows['rejects']:,} rejects, the manifest "
                    f"records {record.rows:,} and {record.rejects:,}; re-run its ingestion"
                ),
            )
        )


def check_lake(lake: Lake) -> LakeReport:
    """Everything a reader of this lake may see that a re-run would change (see the module docstring)."""
    report = LakeReport()
    report.problems += [Problem("interrupted", interrupted_message(journal)) for journal in lake.interrupted_runs()]
    pending = pending_erasure(lake)
    if pending:
        report.problems.append(
            Problem(
                "interrupted",
                (
                    f"the erasure of {pending['learners']} learner(s) started {pending['started']} did not finish; "
                    "run `idbx forget` again to complete it"
                ),
            )
        )
    report.erasures = erasure_records(lake)
    files = sorted(lake.relative(path) for path in lake.bronze.rglob("*.parquet")) if lake.bronze.exists() else []
    footers = _footers(lake, files)
    records = lake.manifest_records()
    report.sources, report.files = len(records), len(files)
    owned = set()
    for record in records:
        _check_record(lake, record, footers, report.problems)
        if record.status == "ingested":
            owned.update(record.owned_files())
    recorded = {record.key: record.sha256 for record in records if record.status == "ingested"}
    for name in files:
        if name in owned:
            continue
        _, source, sha = footers[name]
        if source in recorded and sha != recorded[source]:
            report.problems.append(
                Problem(
                    "unrecorded",
                    (
                        f"{source}: {name} was made visible but the manifest does not record it "
                        "(a run stopped between making them visible and recording it); re-run its ingestion"
                    ),
                )
            )
        else:
            report.problems.append(Problem("stray", f"{name}: no source file in the manifest owns it; readers see its rows"))
    report.problems += tampered_outputs(lake)
    report.problems += [
        Problem(
            "leftover",
            f"{lake.relative(path)}: left by a run that is no longer alive (may hold decrypted data); "
            "the next run on the lake (any idbx command that writes it) removes it",
        )
        for path in lake.leftovers()
    ]
    return report


def tampered_outputs(lake: Lake, layers: tuple[str, ...] = ("silver", "marts")) -> list[Problem]:
    """Model outputs (of these layers) that are not as the last build wrote them, content compared."""
    problems = []
    for model, recorded in seals.read_output_seals(lake).items():
        layer = next(iter(recorded), "").split("/", 1)[0]
        if layer not in layers:
            continue
        changed = seals.changed_outputs(lake, lake.root / layer / model, recorded, digest=True)
        problems += [
            Problem("tampered", f"{line}; changed since `idbx build` wrote it: the next build recomputes {model}")
            for line in changed
        ]
    return problems
