"""Hostile and odd inputs through `idbx` as an operator runs it: each gets a one-line error naming
the file (and line), a non-zero exit where a file failed, bounded memory, and the rest of its file
or delivery lands.

Inputs are generated small: bombs inflate to a few hundred MB with the limits set low through
the environment, so the bound shows without the suite paying for gigabytes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from benchmarks.measure import Measured, measured
from idbx.local.sample import SampleKey

IDBX = str(Path(sys.executable).with_name("idbx"))
MB = 1 << 20
DAY = "2016-07-01"
# An `idbx ingest` run of small files peaks around 150 MB (interpreter, DuckDB, pyarrow); the
# bombs below would take several times that if anything held them whole.
PEAK_MB = 300

ENROLLMENT = "IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql"
USERS = "IDBx-IDB1x-2T2014-auth_user-prod-analytics.sql"
ENROLLMENT_ROWS = (
    "id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n"
    "1\t10\tIDBx/IDB1x/2T2014\t2016-01-01 00:00:00\t1\thonor\n"
    "2\t11\tIDBx/IDB1x/2T2014\t2016-01-02 00:00:00\t1\taudit\n"
)


def idbx(*args: object, env: dict | None = None) -> Measured:
    return measured([IDBX, *map(str, args)], env={**os.environ, **(env or {})})


def event(i: int, **fields: object) -> bytes:
    body = {
        "time": f"{DAY}T10:00:00Z",
        "username": f"u{i}",
        "event_type": "x",
        "event_source": "server",
        "context": {"user_id": i},
        "event": {"i": i},
    } | fields
    return json.dumps(body).encode()


def gzip_log(path: Path, parts: Iterable[bytes]) -> Path:
    """A gzip file streamed from parts, so a bomb never sits whole in the test's memory."""
    deflate = zlib.compressobj(1, zlib.DEFLATED, 31)
    with open(path, "wb") as out:
        for part in parts:
            out.write(deflate.compress(part))
        out.write(deflate.flush())
    return path


def repeated(block: bytes, total: int) -> Iterable[bytes]:
    for _ in range(total // len(block)):
        yield block


def good_lines(first: int, n: int = 100) -> bytes:
    return b"\n".join(event(i) for i in range(first, first + n)) + b"\n"


def lake_rows(lake: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(lake / "catalog.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def scratch_is_empty(lake: Path) -> bool:
    return not any((lake / "_scratch").glob("*"))


# ------------------------------------------------------------------------- resource exhaustion


def test_zip_bomb_fails_its_file_in_bounded_memory_and_the_rest_lands(tmp_path):
    delivery = tmp_path / "idbx-2016-07-04.zip"
    with zipfile.ZipFile(delivery, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(ENROLLMENT, ENROLLMENT_ROWS)
        with archive.open(USERS, "w", force_zip64=True) as bomb:
            for block in repeated(b"\0" * MB, 300 * MB):
                bomb.write(block)
    assert delivery.stat().st_size < 2 * MB
    lake = tmp_path / "lake"
    run = idbx("ingest", "package", delivery, "--lake", lake, env={"IDBX_MAX_INFLATE_MB": "50"})
    assert run.returncode == 1
    assert f"failed {USERS}: inflates to more than 50 MB (the limit, IDBX_MAX_INFLATE_MB)" in run.stderr
    assert run.peak_mb < PEAK_MB
    assert lake_rows(lake, "SELECT count(*) FROM student_courseenrollment") == [(2,)]
    assert scratch_is_empty(lake)


def test_gpg_compressed_bomb_is_stopped_while_decrypting(sample, gpg_env, tmp_path):
    plain = tmp_path / USERS
    with open(plain, "wb") as out:
        for block in repeated(b"\0" * MB, 200 * MB):
            out.write(block)
    folder = tmp_path / "idbx-2016-07-04"
    folder.mkdir()
    key = SampleKey(sample.root)
    try:
        key.encrypt(plain, folder / f"{USERS}.gpg")
    finally:
        key.close()
    plain.unlink()
    (folder / ENROLLMENT).write_text(ENROLLMENT_ROWS)
    lake = tmp_path / "lake"
    run = idbx("ingest", "package", folder, "--lake", lake, env={**gpg_env, "IDBX_MAX_INFLATE_MB": "20"})
    assert run.returncode == 1
    assert f"failed {USERS}.gpg: decrypts to more than 20 MB (the limit, IDBX_MAX_INFLATE_MB)" in run.stderr
    assert lake_rows(lake, "SELECT count(*) FROM student_courseenrollment") == [(2,)]
    assert scratch_is_empty(lake)


def test_giant_line_is_rejected_in_linear_time_and_the_rest_of_the_day_lands(tmp_path):
    log = gzip_log(
        tmp_path / f"idbx-edx-events-{DAY}.log.gz", [good_lines(1), *repeated(b"0" * MB, 300 * MB), b"\n", good_lines(101)]
    )
    lake = tmp_path / "lake"
    run = idbx("ingest", "events", log, "--lake", lake, env={"IDBX_MAX_LINE_MB": "1"})
    assert run.returncode == 0, run.stderr
    assert "200 accepted; 1 rejected" in run.stderr
    assert run.peak_mb < PEAK_MB
    assert lake_rows(lake, "SELECT line_number, reason, length(raw) FROM event_rejects") == [
        (101, f"line too long: {300 * MB:,} bytes", 2000)
    ]
    assert lake_rows(lake, "SELECT count(*), min(line_number), max(line_number) FROM events") == [(200, 1, 201)]


def test_newline_bomb_is_counted_as_blank_lines(tmp_path):
    log = gzip_log(tmp_path / f"idbx-edx-events-{DAY}.log.gz", [good_lines(1), *repeated(b"\n" * MB, 32 * MB), good_lines(101)])
    lake = tmp_path / "lake"
    run = idbx("ingest", "events", log, "--lake", lake)
    assert run.returncode == 0, run.stderr
    assert f"200 accepted; 0 rejected; {32 * MB:,} blank line(s)" in run.stderr
    assert run.peak_mb < PEAK_MB
    assert lake_rows(lake, "SELECT max(line_number) FROM events") == [(100 + 32 * MB + 100,)]


def test_a_log_inflating_past_the_limit_fails_and_leaves_its_day(tmp_path):
    log = gzip_log(tmp_path / f"idbx-edx-events-{DAY}.log.gz", [good_lines(1), *repeated(good_lines(1000, 1000), 40 * MB)])
    lake = tmp_path / "lake"
    run = idbx("ingest", "events", log, "--lake", lake, env={"IDBX_MAX_INFLATE_MB": "20"})
    assert run.returncode == 1
    assert f"failed {log.name}: inflates to more than 20 MB (the limit, IDBX_MAX_INFLATE_MB)" in run.stderr
    assert not (lake / "bronze" / "events").exists() or not any((lake / "bronze" / "events").rglob("*.parquet"))


def test_large_events_land_or_are_rejected_on_their_own_with_two_files_at_once(tmp_path):
    big_but_allowed = event(0, event={"state": "s" * (7 * MB)})
    too_big = event(0, event={"state": "s" * (12 * MB)})
    logs = [
        gzip_log(tmp_path / f"idbx-edx-events-2016-07-0{day}.log.gz", [good_lines(1), big + b"\n", good_lines(101)])
        for day, big in ((1, big_but_allowed), (2, big_but_allowed), (3, too_big), (4, too_big))
    ]
    lake = tmp_path / "lake"
    run = idbx("ingest", "events", *logs, "--lake", lake, "--workers", 2)
    assert run.returncode == 0, run.stderr
    assert lake_rows(lake, "SELECT log_date, count(*) FROM events GROUP BY 1 ORDER BY 1") == [
        (date(2016, 7, 1), 201),
        (date(2016, 7, 2), 201),
        (date(2016, 7, 3), 200),
        (date(2016, 7, 4), 200),
    ]
    assert lake_rows(lake, "SELECT DISTINCT line_number, reason FROM event_rejects") == [
        (101, f"line too long: {len(too_big):,} bytes")
    ]
    assert lake_rows(lake, "SELECT max(length(event->>'$.state')) FROM events") == [(7 * MB,)]


# ------------------------------------------------------------------------- values that mislead


def test_implausible_times_and_offsets_are_rejected_per_line_with_their_reason(tmp_path):
    odd_times = [
        "10000-01-01T00:00:00+00:00",
        "1000-01-01 (BC)",
        "2016-07-01T10:00:00+99:99",
        "2011-12-31T23:59:59Z",
        "2016-07-20T00:00:00Z",
    ]
    log = gzip_log(
        tmp_path / f"idbx-edx-events-{DAY}.log.gz",
        [good_lines(1, 10), *(event(100 + i, time=t) + b"\n" for i, t in enumerate(odd_times)), good_lines(11, 10)],
    )
    lake = tmp_path / "lake"
    for _ in range(2):  # a re-run sees the same file as landed
        run = idbx("ingest", "events", log, "--lake", lake)
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr
    assert lake_rows(lake, "SELECT line_number, reason FROM event_rejects ORDER BY 1") == [
        (11, "time over 7 days after the file's day (2016-07-01): 10000-01-01T00:00:00+00:00"),
        (12, "time before edX existed: 1000-01-01 (BC)"),
        (13, "invalid UTC offset: 2016-07-01T10:00:00+99:99"),
        (14, "time before edX existed: 2011-12-31T23:59:59Z"),
        (15, "time over 7 days after the file's day (2016-07-01): 2016-07-20T00:00:00Z"),
    ]
    assert lake_rows(lake, "SELECT count(*), min(time), max(time) FROM events") == [
        (20, datetime(2016, 7, 1, 10), datetime(2016, 7, 1, 10))
    ]
    manifest = json.loads(next((lake / "_state" / "manifest").glob("*.json")).read_text())
    assert manifest["status"] == "ingested" and manifest["details"]["max_days_late"] == 0


def test_quotes_in_the_lake_path_and_in_a_course_name_are_data_not_sql(tmp_path):
    folder = tmp_path / "idbx-2016-07-04"
    folder.mkdir()
    (folder / "IDBx-O'Brien1x-2T2014-student_courseenrollment-prod-analytics.sql").write_text(
        ENROLLMENT_ROWS.replace("IDBx/IDB1x/2T2014", "IDBx/O'Brien1x/2T2014")
    )
    (folder / "IDBx-O'Brien1x-2T2014-auth_user-prod-analytics.sql").write_text(
        "id\tusername\temail\tdate_joined\n10\tana\tana@example.org\t2016-01-01 00:00:00\n"
    )
    log = gzip_log(tmp_path / f"idbx-edx-events-{DAY}.log.gz", [good_lines(1, 10)])
    lake = tmp_path / "o'brien lake"
    assert idbx("ingest", "package", folder, "--lake", lake).returncode == 0
    assert idbx("ingest", "events", log, "--lake", lake).returncode == 0
    assert lake_rows(lake, "SELECT course_id, course_key FROM auth_user") == [("IDBx/O'Brien1x/2T2014", "o'brien1x_2t2014")]
    assert lake_rows(lake, "SELECT count(*) FROM student_courseenrollment WHERE course_key = 'o''brien1x_2t2014'") == [(2,)]
    assert lake_rows(lake, "SELECT count(*) FROM events") == [(10,)]
    run = idbx("query", "SELECT count(*) AS n FROM auth_user", "--lake", lake, "--csv")
    assert run.returncode == 0 and run.stdout == "n\n1\n"


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_a_bom_is_dropped_from_tables_and_logs(tmp_path, line_end):
    folder = tmp_path / "idbx-2016-07-04"
    folder.mkdir()
    (folder / ENROLLMENT).write_bytes(b"\xef\xbb\xbf" + ENROLLMENT_ROWS.replace("\n", line_end).encode())
    log = tmp_path / f"idbx-edx-events-{DAY}.log"
    log.write_bytes(b"\xef\xbb\xbf" + good_lines(1, 10).replace(b"\n", line_end.encode()))
    lake = tmp_path / "lake"
    assert idbx("ingest", "package", folder, "--lake", lake).returncode == 0
    assert idbx("ingest", "events", log, "--lake", lake).returncode == 0
    assert lake_rows(lake, "SELECT id, mode FROM student_courseenrollment ORDER BY id") == [(1, "honor"), (2, "audit")]
    assert lake_rows(lake, "SELECT count(*), min(line_number) FROM events") == [(10, 1)]
    assert lake_rows(lake, "SELECT count(*) FROM event_rejects") == [(0,)]


def test_lone_cr_line_endings_are_named_plainly(tmp_path):
    folder = tmp_path / "idbx-2016-07-04"
    folder.mkdir()
    (folder / ENROLLMENT).write_text(ENROLLMENT_ROWS.replace("\n", "\r"))
    (folder / USERS).write_text("id\tusername\temail\tdate_joined\n10\tana\tana@example.org\t2016-01-01 00:00:00\n")
    log = tmp_path / f"idbx-edx-events-{DAY}.log"
    log.write_bytes(good_lines(1, 10).replace(b"\n", b"\r"))
    lake = tmp_path / "lake"
    run = idbx("ingest", "package", folder, "--lake", lake)
    assert run.returncode == 1
    assert f"failed {ENROLLMENT}: lines end with CR (\\r) only, not \\n (old Mac line endings)" in run.stderr
    assert lake_rows(lake, "SELECT count(*) FROM auth_user") == [(1,)]
    run = idbx("ingest", "events", log, "--lake", lake)
    assert run.returncode == 1
    assert f"failed {log.name}: lines end with CR (\\r) only, not \\n (old Mac line endings)" in run.stderr


# ------------------------------------------------------------------------- names and links


def test_names_with_control_characters_are_refused_and_shown_escaped(tmp_path):
    folder = tmp_path / "idbx-2016-07-04"
    folder.mkdir()
    (folder / "IDBx-IDB\n1x-2T2014-auth_user-prod-analytics.sql").write_text("x")
    (folder / "IDBx-IDB\r1x-2T2014-auth_user-prod-analytics.sql").write_text(
        "id\tusername\temail\tdate_joined\n10\tana\tana@example.org\t2016-01-01 00:00:00\n"
    )
    (folder / "IDBx-IDB\x1b[31m2x-2T2014-auth_user-prod-analytics.sql").write_text("x")
    (folder / ENROLLMENT).write_text(ENROLLMENT_ROWS)
    junk = "IDBx-IDB3x-2T2014-auth_user-prod-analytics.sql"
    (folder / junk).write_bytes(bytes(range(256)) * 4)
    lake = tmp_path / "lake"
    run = idbx("ingest", "package", folder, "--lake", lake)
    assert run.returncode == 1
    for shown in ("\\r", "\\n"):
        assert (
            f"failed IDBx-IDB{shown}1x-2T2014-auth_user-prod-analytics.sql: refused: the file name holds control characters"
            in run.stderr
        )
    assert "failed IDBx-IDB\\x1b[31m2x-2T2014-auth_user-prod-analytics.sql: refused" in run.stderr
    assert f"failed {junk}: missing required column(s) for auth_user" in run.stderr
    assert not any(char in run.stderr for char in "\x1b\x00\x07\r")
    assert all(len(line) < 1000 for line in run.stderr.splitlines())
    assert lake_rows(lake, "SELECT count(*) FROM student_courseenrollment") == [(2,)]
    manifest = "".join(path.read_text() for path in (lake / "_state" / "manifest").glob("*.json"))
    assert "IDB\\r1x" not in manifest and "IDB\\n1x" not in manifest and "\\u001b" not in manifest


def test_links_leaving_the_input_folder_are_refused_for_packages_and_logs(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (outside / "logs").mkdir()
    folder = tmp_path / "idbx-2016-07-04"
    folder.mkdir()
    (folder / ENROLLMENT).write_text(ENROLLMENT_ROWS)
    (folder / "inside").mkdir()
    (folder / "inside" / USERS).symlink_to(folder / ENROLLMENT)
    lake = tmp_path / "lake"
    run = idbx("ingest", "package", folder, "--lake", lake)  # links that stay inside are read
    assert run.returncode == 1 and f"failed inside/{USERS}: missing required column(s) for auth_user" in run.stderr
    (folder / "IDBx-IDB1x-2T2014-user_id_map-prod-analytics.sql").symlink_to(outside / "passwd")
    (folder / "more").symlink_to(outside / "logs")
    run = idbx("ingest", "package", folder, "--lake", lake)
    assert run.returncode == 1
    assert f"error: {folder}: refused, 2 link(s) lead out of the folder: " in run.stderr
    assert "root:x" not in run.stderr
    logs = tmp_path / "logs"
    logs.mkdir()
    gzip_log(logs / f"idbx-edx-events-{DAY}.log.gz", [good_lines(1, 10)])
    (logs / "idbx-edx-events-2016-07-02.log").symlink_to(outside / "passwd")
    run = idbx("ingest", "events", logs, "--lake", lake)
    assert run.returncode == 1 and f"error: {logs}: refused, 1 link(s) lead out of the folder" in run.stderr
    manifest = "".join(path.read_text() for path in (lake / "_state" / "manifest").glob("*.json"))
    assert "passwd" not in manifest and "root:x" not in manifest


# ------------------------------------------------------------------------- the environment
# Tests run as root in CI, where permission bits stop nothing: faults come from what stops root
# too, a tmpfs (small, or remounted read-only) and the immutable flag.


@pytest.fixture
def small_fs(tmp_path):
    """Mount a tmpfs of the given size (MB) under tmp_path; unmounted (flags cleared) afterwards."""
    mounted = []

    def mount(size_mb: int) -> Path:
        if os.geteuid() != 0:
            pytest.skip("needs root to mount a tmpfs")
        point = tmp_path / f"fs{len(mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(point)], capture_output=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["chattr", "-R", "-i", str(point)], capture_output=True)
        subprocess.run(["umount", str(point)], check=True)


def immutable(path: Path, on: bool = True) -> None:
    done = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"the immutable flag is not available here: {done.stderr.strip()}")


def delivery_with(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "idbx-2016-07-04"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def manifest_snapshot(lake: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in (lake / "_state" / "manifest").glob("*.json")}


def test_read_only_lake_says_so_before_any_work_and_stays_queryable(tmp_path, small_fs):
    lake = small_fs(32) / "lake"
    assert idbx("ingest", "package", delivery_with(tmp_path, {ENROLLMENT: ENROLLMENT_ROWS}), "--lake", lake).returncode == 0
    before = manifest_snapshot(lake)
    subprocess.run(["mount", "-o", "remount,ro", str(lake.parent)], check=True)
    log = gzip_log(tmp_path / f"idbx-edx-events-{DAY}.log.gz", [good_lines(1, 10)])
    for command in (["ingest", "events", log], ["ingest", "package", tmp_path / "idbx-2016-07-04"], ["catalog", "refresh"]):
        run = idbx(*command, "--lake", lake)
        assert run.returncode == 2, run.stderr
        assert run.stderr.strip() == f"error: lake {lake} cannot be written ({lake}: Read-only file system)"
    run = idbx("query", "SELECT count(*) AS n FROM student_courseenrollment", "--lake", lake, "--csv")
    assert run.returncode == 0 and run.stdout == "n\n2\n"
    assert manifest_snapshot(lake) == before


def test_immutable_lake_root_or_manifest_folder_stops_the_run_before_any_work(tmp_path, small_fs):
    lake = small_fs(32) / "lake"
    folder = delivery_with(tmp_path, {ENROLLMENT: ENROLLMENT_ROWS})
    assert idbx("ingest", "package", folder, "--lake", lake).returncode == 0
    (folder / ENROLLMENT).write_text(ENROLLMENT_ROWS + "3\t12\tIDBx/IDB1x/2T2014\t2016-01-03 00:00:00\t1\thonor\n")
    before = manifest_snapshot(lake)
    for locked in (lake, lake / "_state" / "manifest"):
        immutable(locked)
        run = idbx("ingest", "package", folder, "--lake", lake)
        immutable(locked, on=False)
        assert run.returncode == 2, run.stderr
        assert f"error: lake {lake} cannot be written ({locked}: Operation not permitted)" in run.stderr
        assert manifest_snapshot(lake) == before
        assert lake_rows(lake, "SELECT count(*) FROM student_courseenrollment") == [(2,)]


def test_manifest_that_cannot_be_written_publishes_nothing(tmp_path):
    from idbx.lake.store import Lake, ManifestRecord

    lake = Lake(tmp_path / "lake")
    lake.manifest_put(ManifestRecord("k", "course_table", "src", 1, "old", "ingested"))
    partition = lake.partition_dir("auth_user", snapshot_date="2016-07-04", course="c")
    staged = lake.stage_partition(duckdb.sql("SELECT 1 AS id"), partition)
    immutable(lake.state / "manifest")
    try:
        with pytest.raises(PermissionError):
            lake.move_into_place([staged], [], ManifestRecord("k", "course_table", "src", 1, "new", "ingested"))
    finally:
        immutable(lake.state / "manifest", on=False)
    assert not staged.final.exists() and staged.tmp.exists()  # the caller discards what it staged
    assert lake.manifest_get("k").sha256 == "old"


def test_full_disk_while_decrypting_names_the_cause_and_the_rest_lands(sample, gpg_env, tmp_path, small_fs):
    lake = small_fs(12) / "lake"
    plain = tmp_path / "plain" / USERS
    plain.parent.mkdir()
    plain.write_text("id\tusername\temail\tdate_joined\n" + "10\tana\tana@example.org\t2016-01-01 00:00:00\n" * 400_000)
    folder = delivery_with(tmp_path, {ENROLLMENT: ENROLLMENT_ROWS})
    key = SampleKey(sample.root)
    try:
        key.encrypt(plain, folder / f"{USERS}.gpg")
    finally:
        key.close()
    run = idbx("ingest", "package", folder, "--lake", lake, env=gpg_env)
    assert run.returncode == 1, run.stderr
    assert f"failed {USERS}.gpg: disk full while decrypting into {lake}/_scratch/" in run.stderr
    assert "Traceback" not in run.stderr
    assert lake_rows(lake, "SELECT count(*) FROM student_courseenrollment") == [(2,)]
    records = {r["key"].rsplit("/", 1)[-1]: r for r in map(json.loads, manifest_snapshot(lake).values())}
    assert records[f"{USERS}.gpg"]["status"] == "failed" and not (lake / "bronze" / "auth_user").exists()
    assert scratch_is_empty(lake)


def test_lake_option_pointing_at_a_file(tmp_path):
    not_a_folder = tmp_path / "lake.txt"
    not_a_folder.write_text("")
    run = idbx("ingest", "package", delivery_with(tmp_path, {ENROLLMENT: ENROLLMENT_ROWS}), "--lake", not_a_folder)
    assert run.returncode == 2
    assert run.stderr.strip() == f"error: lake {not_a_folder} is a file, not a folder: give --lake (or IDBX_LAKE) a folder"


@pytest.mark.parametrize("key_bytes", [bytes(range(256)) * 8, "clé privée ✓ — ключ".encode("utf-16")])
def test_binary_or_non_latin1_key_file(sample, gpg_env, tmp_path, key_bytes):
    key = tmp_path / "key.gpg"
    key.write_bytes(key_bytes)
    folder = tmp_path / "idbx-2016-07-04"
    folder.mkdir()
    (folder / f"{ENROLLMENT}.gpg").write_bytes(b"x")
    run = idbx("ingest", "package", folder, "--lake", tmp_path / "lake", "--gpg-key", key, env=gpg_env)
    assert run.returncode == 2
    assert run.stderr.strip() == f"error: {key}: holds no private key (an armored secret key export is needed)"


def test_empty_passphrase_is_named(sample, gpg_env, tmp_path):
    run = idbx("ingest", "package", sample.package, "--lake", tmp_path / "lake", env={**gpg_env, "IDBX_GPG_PASSPHRASE": ""})
    assert run.returncode == 2
    assert run.stderr.strip() == f"error: IDBX_GPG_PASSPHRASE is empty but {sample.key_file} needs a passphrase"


# ------------------------------------------------------------------------- querying the catalog


def test_empty_query_is_a_usage_error(tmp_path):
    run = idbx("query", "  ", "--lake", tmp_path)
    assert run.returncode == 2 and run.stderr.strip() == 'error: no SQL given: idbx query "SELECT ..."'


def test_query_prints_values_as_duckdb_does(tmp_path):
    (tmp_path / "lake").mkdir()
    idbx("catalog", "refresh", "--lake", tmp_path / "lake")
    sql = (
        "SELECT TIMESTAMP '2016-07-01 10:00:00.5' AS t, '{\"a\": [1, null]}'::JSON AS j, {'k': DATE '2016-07-01'} AS s, "
        "[1, NULL] AS l, NULL AS n, 1.5::DECIMAL(7,4) AS d"
    )
    run = idbx("query", sql, "--lake", tmp_path / "lake", "--csv")
    assert run.returncode == 0, run.stderr
    assert run.stdout == 't,j,s,l,n,d\n2016-07-01 10:00:00.5,"{""a"": [1, null]}",{\'k\': 2016-07-01},"[1, NULL]",,1.5000\n'
    run = idbx("query", sql, "--lake", tmp_path / "lake")
    assert run.returncode == 0
    for shown in ("2016-07-01 10:00:00.5", '{"a": [1, null]}', "{'k': 2016-07-01}", "[1, NULL]", "NULL", "1.5000"):
        assert shown in run.stdout
    assert "datetime" not in run.stdout and "None" not in run.stdout


def test_catalog_shared_with_an_analyst(tmp_path):
    lake = tmp_path / "lake"
    assert idbx("ingest", "package", delivery_with(tmp_path, {ENROLLMENT: ENROLLMENT_ROWS}), "--lake", lake).returncode == 0
    duckdb_cli = str(Path(sys.executable).with_name("duckdb"))
    for flags, blocks in (([], True), (["-readonly"], False)):
        analyst = subprocess.Popen(
            [duckdb_cli, *flags, str(lake / "catalog.duckdb")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            analyst.stdin.write(b"SELECT 4242 AS ready;\n")
            analyst.stdin.flush()
            while b"4242" not in analyst.stdout.readline():  # answered: it holds the catalog
                pass
            run = idbx("query", "SELECT count(*) AS n FROM student_courseenrollment", "--lake", lake, "--csv")
            if blocks:
                assert run.returncode == 1
                holder = re.search(
                    r"is open for writing by PID (\d+) \(duckdb\): close that session, or open the "
                    r"catalog there read-only \(`duckdb -readonly (.+)`\)",
                    run.stderr,
                )
                assert holder and holder[2] == str(lake / "catalog.duckdb"), run.stderr
                assert "duckdb" in Path(f"/proc/{holder[1]}/cmdline").read_text()
            else:
                assert run.returncode == 0 and run.stdout == "n\n2\n", run.stderr
            assert idbx("catalog", "refresh", "--lake", lake).returncode == 0  # a new file renamed into place
        finally:
            analyst.stdin.close()
            analyst.wait(timeout=10)
