"""`idbx forget`: an erased learner is found nowhere the engine writes, the aggregates stay right,
later ingests keep them out, a killed run completes, a dry run changes nothing."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from idbx.config import GpgSettings
from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.lake.check import check_lake
from idbx.lake.store import Lake
from idbx.orchestration.after_erasure import forget_learners
from idbx.privacy import erasure
from idbx.privacy.forget import Identifiers, read_identifiers
from idbx.quoting import sql_string
from tests.conftest import SAMPLE_PSEUDONYM_KEY, copy_lake
from tests.models import scenario, tiny_lake

IDBX = str(Path(sys.executable).parent / "idbx")
USER = 37  # a learner of the sample (no other learner's username starts with "learner37")
NAME, EMAIL = f"learner{USER}", f"learner{USER}@example.org"


def learner_id(user_id: int, key: str = SAMPLE_PSEUDONYM_KEY) -> str:
    return tiny_lake.pseudonym(user_id, key)


def learner_ids(user_id: int, key: str = SAMPLE_PSEUDONYM_KEY) -> list[str]:
    """The learner's pseudonym as the marts publish it and as the lake's key (its decimal text)."""
    return [learner_id(user_id, key), str(tiny_lake.learner_key(user_id, key))]


def traces(lake: Lake, user_id: int, texts: list[str]) -> list[str]:
    """Where the lake still holds the learner: a user id column of bronze holding their id, any
    Parquet value or text file holding one of `texts` (whole words)."""
    found = []
    con = duckdb.connect()
    pattern = "(^|[^A-Za-z0-9])(" + "|".join(t.replace(".", r"\.") for t in texts) + ")($|[^A-Za-z0-9])"
    for path in sorted(lake.root.rglob("*")):
        if not path.is_file() or path.name == "catalog.duckdb":
            continue
        if path.suffix == ".parquet":
            columns = [
                c
                for c, *_ in con.execute(
                    f"DESCRIBE SELECT * FROM read_parquet({sql_string(str(path))}, hive_partitioning = false)"
                ).fetchall()
            ]
            rel = path.relative_to(lake.root)
            if rel.parts[0] == "bronze":
                dataset = erasure.dataset_of(lake, path)
                for column in erasure.roles(dataset, columns).user_ids:
                    n = con.execute(
                        f'SELECT count(*) FROM read_parquet(?, hive_partitioning = false) WHERE TRY_CAST("{column}" AS BIGINT) '
                        f"= {user_id}",
                        [str(path)],
                    ).fetchall()[0][0]
                    if n:
                        found.append(f"{rel}: {column} = {user_id} in {n} row(s)")
            text = " || ' ' || ".join(f"coalesce(CAST(\"{c}\" AS VARCHAR), '')" for c in columns)
            n = con.execute(
                f"SELECT count(*) FROM read_parquet(?, hive_partitioning = false) WHERE regexp_matches({text}, ?)",
                [str(path), pattern],
            ).fetchall()[0][0]
            if n:
                found.append(f"{rel}: {n} row(s) hold {texts}")
        elif path.suffix in (".json", ".jsonl", ".csv", ".html", ".js", ".txt", ".md"):
            content = path.read_text(encoding="utf-8", errors="replace")
            if duckdb.sql("SELECT regexp_matches(?, ?)", params=[content, pattern]).fetchall()[0][0]:
                found.append(f"{path.relative_to(lake.root)}: holds {texts}")
    return found


def course_counts(lake: Lake) -> list[tuple]:
    """Per course: enrolments, active learners, certificates by status, from the course report mart."""
    return duckdb.sql(f"""
        SELECT course_key, users_total, users_active, certificates_certified, certificates_failed, certificates_approved
        FROM read_parquet({sql_string(str(lake.marts / "course_report" / "**" / "*.parquet"))}) ORDER BY course_key""").fetchall()


# A dataset of the sample the learner has rows in, and its user id column.
OWNED = {
    "auth_user": "id",
    "student_courseenrollment": "user_id",
    "courseware_studentmodule": "student_id",
    "events": "user_id",
    "forum_posts": "author_id",
}


def bronze(lake: Lake, dataset: str) -> str:
    return f"read_parquet({sql_string(str(lake.bronze / dataset / '**' / '*.parquet'))}, union_by_name = true)"


def rows_of(lake: Lake, dataset: str, column: str, condition: str) -> int:
    return duckdb.sql(f"SELECT count(*) FROM {bronze(lake, dataset)} WHERE {column} {condition}").fetchall()[0][0]


def bronze_rows(lake: Lake) -> dict[str, int]:
    return {lake.relative(p): pq.read_metadata(p).num_rows for p in sorted(lake.bronze.rglob("*.parquet"))}


@pytest.fixture
def built(built_sample: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    monkeypatch.setenv("IDBX_PSEUDONYM_KEY", SAMPLE_PSEUDONYM_KEY)
    return copy_lake(built_sample, tmp_path)


@pytest.mark.parametrize("mode", ["deidentify", "delete"])
def test_forget_erases_the_learner_everywhere_and_keeps_the_aggregates_right(built: Lake, mode: str, sample):
    assert traces(built, USER, [NAME, EMAIL, *learner_ids(USER)])  # what the search below must not find any more
    before = course_counts(built)
    enrolled = {
        key
        for (key,) in duckdb.sql(f"""SELECT DISTINCT course_key FROM read_parquet(
        {sql_string(str(built.bronze / "student_courseenrollment" / "**" / "*.parquet"))}) WHERE user_id = {USER}""").fetchall()
    }
    theirs = {dataset: rows_of(built, dataset, column, f"= {USER}") for dataset, column in OWNED.items()}
    assert all(theirs.values()), theirs
    answered = f"SELECT count(*) FROM {bronze(built, 'events')} WHERE user_id {{}} AND event_fields.answers IS NOT NULL"
    assert duckdb.sql(answered.format(f"= {USER}")).fetchall()[0][0] > 0  # their answers, also beside the bodies
    summary = forget_learners(built, Identifiers(usernames={NAME}), mode)
    assert summary.learners == 1 and summary.files and "build" in summary.steps
    if mode == "deidentify":  # their rows kept under one new id, negative, without what identified them
        replaced = {dataset: rows_of(built, dataset, column, "< 0") for dataset, column in OWNED.items()}
        assert replaced == theirs
        ids = {
            n
            for dataset, column in OWNED.items()
            for (n,) in duckdb.sql(f"SELECT DISTINCT {column} FROM {bronze(built, dataset)} WHERE {column} < 0").fetchall()
        }
        assert len(ids) == 1
        assert duckdb.sql(f"""SELECT count(*) FROM {bronze(built, "events")} WHERE user_id < 0 AND (username IS NOT NULL
            OR ip IS NOT NULL OR agent IS NOT NULL OR session IS NOT NULL OR referer IS NOT NULL
            OR json_exists(event, '$.answers') OR json_exists(context, '$.ip'))""").fetchall() == [(0,)]
        assert duckdb.sql(answered.format("< 0")).fetchall() == [(0,)]  # the body fields derived again from the erased bodies
        assert duckdb.sql(
            f"SELECT count(*) FROM {bronze(built, 'forum_posts')} WHERE author_id < 0 AND "
            "(body IS NOT NULL OR title IS NOT NULL OR author_username IS NOT NULL)"
        ).fetchall() == [(0,)]
    else:
        assert {dataset: rows_of(built, dataset, column, "< 0") for dataset, column in OWNED.items()} == dict.fromkeys(OWNED, 0)
    assert traces(built, USER, [NAME, EMAIL, *learner_ids(USER)]) == []
    after = course_counts(built)
    if mode == "deidentify":
        assert after == before
    else:  # exactly one enrolment fewer in each course they were enrolled in
        assert [(k, total + (k in enrolled)) for k, total, *_ in after] == [(k, total) for k, total, *_ in before]
    report = check_lake(built)
    assert not report.needs_rerun, [p.message for p in report.problems]
    [record] = report.erasures
    assert record["learners"] == 1 and record["mode"] == mode and record["partitions"]
    assert NAME not in json.dumps(record) and str(USER) not in json.dumps(record["partitions"])

    # The same delivery and logs landed again (their manifest records lost): the register keeps the learner out.
    for path in (built.state / "manifest").glob("*.json"):
        path.unlink()
    gpg = GpgSettings(key_file=sample.key_file, passphrase=sample.passphrase)
    landed = ingest_package([sample.package], built, gpg)
    assert not landed.failed
    assert not ingest_events(sample.event_logs, built, gpg).failed
    assert any("erased on request" in note for f in landed.files for note in f.notes)
    assert traces(built, USER, [NAME, EMAIL]) == []
    assert not check_lake(built).needs_rerun


def test_dry_run_changes_nothing(built: Lake):
    def snapshot() -> dict[str, str]:
        return {
            p.relative_to(built.root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(built.root.rglob("*"))
            if p.is_file() and p.name != "catalog.duckdb"
        }

    before = snapshot()
    summary = forget_learners(built, Identifiers(emails={EMAIL.upper()}), "delete", dry_run=True)
    assert summary.learners == 1 and summary.files and all(f.rows_after < f.rows_before for f in summary.files)
    assert snapshot() == before


def test_an_unknown_identifier_is_registered_and_a_later_delivery_keeps_it_out(landed_sample: Lake, tmp_path: Path, sample):
    lake = copy_lake(landed_sample, tmp_path)
    for path in (lake.state / "manifest").glob("*.json"):
        path.unlink()
    shutil_rmtree(lake.bronze)
    summary = forget_learners(lake, Identifiers(user_ids={USER}), "delete")
    assert summary.not_found == 1 and not summary.files
    gpg = GpgSettings(key_file=sample.key_file, passphrase=sample.passphrase)
    assert not ingest_package([sample.package], lake, gpg).failed
    # Rows keyed by the user id are kept out; names only in the tables were not known to the register.
    found = traces(lake, USER, ["impossible-token"])
    assert found == []


def shutil_rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path)
    path.mkdir()


def test_identifiers_file(tmp_path: Path):
    path = tmp_path / "erase.txt"
    path.write_text("# requests of 2026-12\n37\nuser_id:38\nlearner39\nemail:a@b.org\nx@y.org  # by mail\n\n", encoding="utf-8")
    found = read_identifiers(path)
    assert found.user_ids == {37, 38} and found.usernames == {"learner39"} and found.emails == {"a@b.org", "x@y.org"}
    path.write_text("37\nuser_id:abc\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"erase.txt:2: not a user id"):
        read_identifiers(path)


def test_the_scenario_learner_is_erased_and_their_events_still_counted(built_scenario: Lake, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("IDBX_PSEUDONYM_KEY", tiny_lake.KEY)
    lake = copy_lake(built_scenario, tmp_path)
    before = duckdb.sql(
        f"SELECT count(*) FROM read_parquet({sql_string(str(lake.bronze / 'events' / '**' / '*.parquet'))})"
    ).fetchall()[0][0]
    forget_learners(lake, Identifiers(user_ids={1}), "deidentify")
    assert traces(lake, 1, ["learner1", *learner_ids(1, tiny_lake.KEY)]) == []
    after = duckdb.sql(
        f"SELECT count(*) FROM read_parquet({sql_string(str(lake.bronze / 'events' / '**' / '*.parquet'))})"
    ).fetchall()[0][0]
    assert after == before


@pytest.mark.parametrize("mode", ["deidentify", "delete"])
def test_another_learners_vote_loses_the_erased_learners_name_and_nothing_else(
    built_scenario: Lake, tmp_path: Path, monkeypatch, mode: str
):
    """A forum vote names the learner it was for in its body (`target_username`): the voter's row
    stays theirs, without that name (nor the body field kept beside it)."""
    monkeypatch.setenv("IDBX_PSEUDONYM_KEY", tiny_lake.KEY)
    lake = copy_lake(built_scenario, tmp_path)
    vote = {"vote_value": "up", "target_username": "learner1"}
    common = {"course_id": scenario.A, "event_source": "server", "event_type": "edx.forum.thread.voted"}
    tiny_lake.events(
        lake,
        date(2016, 7, 7),
        [{**common, "username": "learner2", "user_id": 2, "time": datetime(2016, 7, 7, 9), "event": vote}],
        file_name="votes.parquet",
    )
    events = f"read_parquet({sql_string(str(lake.bronze / 'events' / '**' / '*.parquet'))}, hive_partitioning = false)"
    naming = (
        "SELECT user_id, username, event ->> '$.vote_value', json_exists(event, '$.target_username'), "
        f"event_fields.target_username FROM {events} WHERE event_type = 'edx.forum.thread.voted' AND user_id = 2"
    )
    assert duckdb.sql(naming).fetchall() == [(2, "learner2", "up", True, "learner1")]
    forget_learners(lake, Identifiers(user_ids={1}), mode)
    assert duckdb.sql(naming).fetchall() == [(2, "learner2", "up", False, None)]
    assert traces(lake, 1, ["learner1"]) == []


def test_forget_killed_then_run_again_equals_an_uninterrupted_one(built: Lake, tmp_path: Path):
    whole = copy_lake(built, tmp_path / "whole")
    forget_learners(whole, Identifiers(usernames={NAME}), "delete")
    env = {**os.environ, "IDBX_PSEUDONYM_KEY": SAMPLE_PSEUDONYM_KEY}
    env.pop("IDBX_MONGO_URI", None)
    command = [IDBX, "forget", "--username", NAME, "--mode", "delete", "--lake", str(built.root)]
    journal = built.state / "erasure" / "pending.jsonl"
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (journal.exists() and '"done"' in journal.read_text()):
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert journal.exists(), "the run ended before it could be killed mid-rewrite"
    assert any(p.kind == "interrupted" for p in check_lake(built).problems)
    again = subprocess.run([IDBX, "forget", "--lake", str(built.root)], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert not journal.exists()
    assert bronze_rows(built) == bronze_rows(whole)
    assert course_counts(built) == course_counts(whole)
    assert traces(built, USER, [NAME, EMAIL, *learner_ids(USER)]) == []
    assert not check_lake(built).needs_rerun


def test_forget_removes_the_learner_from_mongodb_and_republishes_courses(built: Lake, mongo_uri: str, database):
    from idbx.publish.publisher import publish
    from idbx.publish.settings import MongoSettings

    settings = MongoSettings(uri=mongo_uri, database=database.name)
    publish(built, settings)

    def mentions() -> list[str]:
        found = []
        for name in database.list_collection_names():
            text = json.dumps(list(database[name].find({})), default=str)
            found += [f"{name}: {value}" for value in (learner_id(USER), NAME, EMAIL) if value in text]
        return found

    assert mentions()
    reports = {doc["_id"]: doc["report"]["users"] for doc in database["reports"].find({})}
    summary = forget_learners(built, Identifiers(user_ids={USER}), "deidentify", mongo=settings)
    assert "publish" in summary.steps
    assert mentions() == []
    assert {doc["_id"]: doc["report"]["users"] for doc in database["reports"].find({})} == reports


def test_a_table_keyed_by_the_learners_profile_loses_the_key(tmp_path: Path):
    """student_languageproficiency names a learner by their profile's id: de-identified, it is emptied."""
    lake = Lake(tmp_path / "lake")
    path = lake.bronze / "student_languageproficiency" / "snapshot_date=2016-07-04" / "course=c" / "data.parquet"
    path.parent.mkdir(parents=True)
    duckdb.sql(
        f"COPY (SELECT * FROM (VALUES (1, 501, 'es'), (2, 502, 'pt'), (3, 501, 'en')) t(id, user_profile_id, code)) "
        f"TO {sql_string(str(path))} (FORMAT parquet)"
    )
    register = erasure.Register("salt")
    register.add(erasure.entries_for(register, "t1", "deidentify", {"user_id": {7}, "profile_id": {501}}))
    con = duckdb.connect()
    erasure.install(con, register, {"t1": -5})
    assert erasure.matches_in(con, [path], "student_languageproficiency", "salt") == {path: 2}
    target = tmp_path / "erased.parquet"
    assert erasure.rewrite_to(con, path, target, "student_languageproficiency", "salt") == 3
    assert duckdb.sql(f"SELECT * FROM {sql_string(str(target))}").fetchall() == [
        (None, None, "es"),
        (2, 502, "pt"),
        (None, None, "en"),
    ]
