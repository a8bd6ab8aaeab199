"""Encrypted delivery -> lake -> DuckDB, with real gpg and real Parquet."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest

from idbx.errors import ConfigError, IdbxError, UnsafeArchiveError
from idbx.ingest.course_data import ingest_package
from idbx.local.sample import SampleKey
from idbx.parsers import tables
from idbx.parsers.naming import COURSE_TABLES, table_file_name


def catalog(lake):
    return duckdb.connect(str(lake.catalog_path), read_only=True)


def scalar(con, sql):
    return con.execute(sql).fetchall()[0][0]


def repack(sample, source: Path, target: Path, replace: dict[str, bytes | None]) -> Path:
    """Copy a delivery zip, swapping the named members for new plain bytes (encrypted) or raw bytes."""
    key = SampleKey(sample.root)
    try:
        with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
            for info in src.infolist():
                base = Path(info.filename).name
                if base not in replace:
                    dst.writestr(info, src.read(info))
                elif replace[base] is not None:
                    dst.writestr(info.filename, replace[base])
    finally:
        key.close()
    return target


def encrypt_bytes(sample, plain: bytes, tmp_path: Path) -> bytes:
    key = SampleKey(sample.root)
    try:
        (tmp_path / "p").write_bytes(plain)
        key.encrypt(tmp_path / "p", tmp_path / "p.gpg")
        return (tmp_path / "p.gpg").read_bytes()
    finally:
        key.close()


def plain_member(sample, gpg, name: str, tmp_path: Path) -> bytes:
    from idbx.ingest.crypto import Decryptor

    with zipfile.ZipFile(sample.package) as archive, Decryptor(gpg) as decryptor:
        member = next(n for n in archive.namelist() if n.endswith(name))
        decryptor.decrypt(archive.open(member), tmp_path / "plain", name)
    return (tmp_path / "plain").read_bytes()


# Per sample course: its tables, wiki_article, the course structure, the export and the forum dump.
FILES_PER_COURSE = len(COURSE_TABLES) + 4


def test_round_trip_every_table(sample, gpg, lake, tmp_path):
    summary = ingest_package([sample.package], lake, gpg)
    assert not summary.failed and summary.rejects == 0
    assert summary.count("ingested") == len(sample.course_ids) * FILES_PER_COURSE
    assert summary.count("unhandled") == 0 and not any(f.untyped for f in summary.files)
    con = catalog(lake)
    for table in COURSE_TABLES:
        plain = plain_member(sample, gpg, table_file_name(sample.course_ids[1], table), tmp_path)
        expected = plain.count(b"\n") - 1
        got = scalar(con, f"SELECT count(*) FROM {table} WHERE course_key = 'idb6x_2016_t1'")
        assert got == expected, table
        cols = {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}
        assert {"course_id", "course_key", "snapshot_date", "source_file"} <= cols
    # the old-style id is kept as edX wrote it, and borrowed by tables that do not carry it
    assert scalar(con, "SELECT DISTINCT course_id FROM auth_user WHERE course_key = 'idb1x_2t2014'") == "IDBx/IDB1x/2T2014"
    assert scalar(con, "SELECT DISTINCT snapshot_date FROM student_courseenrollment") == date(2016, 7, 4)
    profile = con.execute("SELECT goals FROM auth_userprofile WHERE goals <> '' LIMIT 1").fetchall()[0][0]
    assert profile == "Aprender\tmás \\ mejor"
    assert scalar(con, "SELECT bool_and(json_valid(state)) FROM courseware_studentmodule")
    assert scalar(con, "SELECT typeof(grade) FROM certificates_generatedcertificate LIMIT 1") == "DECIMAL(7,4)"
    manifest = con.execute("SELECT count(*), sum(rows), bool_and(status = 'ingested') FROM ingest_manifest").fetchall()[0]
    assert manifest[0] == summary.count("ingested") and manifest[1] == summary.rows and manifest[2]
    assert not list((lake.root / "_scratch").glob("*")), "scratch must be emptied"


def partition_files(lake) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in lake.bronze.rglob("*.parquet")}


def test_rerun_is_a_noop(sample, gpg, lake):
    ingest_package([sample.package], lake, gpg)
    before = partition_files(lake)
    again = ingest_package([sample.package], lake, gpg)
    assert again.count("ingested") == 0
    assert again.count("unchanged") == len(sample.course_ids) * FILES_PER_COURSE
    assert partition_files(lake) == before


def test_changed_file_replaces_only_its_partition(sample, gpg, lake, tmp_path):
    ingest_package([sample.package], lake, gpg)
    before = partition_files(lake)
    name = table_file_name(sample.course_ids[0], "student_courseenrollment")
    plain = plain_member(sample, gpg, name, tmp_path)
    changed = b"\n".join(plain.split(b"\n")[:4]) + b"\n"  # header + 3 enrollments
    delivery = repack(sample, sample.package, tmp_path / sample.package.name, {name: encrypt_bytes(sample, changed, tmp_path)})
    summary = ingest_package([delivery], lake, gpg)
    assert [Path(f.name).name for f in summary.files if f.status == "ingested"] == [name]
    after = partition_files(lake)
    moved = [p for p in after if after[p] != before.get(p)]
    assert len(moved) == 1 and "student_courseenrollment" in str(moved[0]) and "idb1x_2t2014" in str(moved[0])
    assert scalar(catalog(lake), "SELECT count(*) FROM student_courseenrollment WHERE course_key = 'idb1x_2t2014'") == 3


@pytest.mark.parametrize("damage", ["truncate", "corrupt"])
def test_bad_member_fails_alone_and_keeps_the_earlier_partition(sample, gpg, lake, tmp_path, damage):
    ingest_package([sample.package], lake, gpg)
    name = table_file_name(sample.course_ids[0], "courseware_studentmodule")
    con = catalog(lake)
    rows_before = scalar(con, "SELECT count(*) FROM courseware_studentmodule WHERE course_key = 'idb1x_2t2014'")
    con.close()
    with zipfile.ZipFile(sample.package) as archive:
        data = bytearray(archive.read(next(n for n in archive.namelist() if n.endswith(name))))
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        for i in range(200, 260):
            data[i] ^= 0xFF
    delivery = repack(sample, sample.package, tmp_path / sample.package.name, {name: bytes(data)})
    summary = ingest_package([delivery], lake, gpg)
    assert [Path(f.name).name for f in summary.failed] == [name]
    assert name in summary.failed[0].error and "truncated or corrupt" in summary.failed[0].error
    assert scalar(catalog(lake), "SELECT count(*) FROM courseware_studentmodule WHERE course_key = 'idb1x_2t2014'") == rows_before
    assert not list(lake.bronze.rglob("*.tmp-*")), "no temporary partition files left behind"
    record = lake.manifest_get(f"course_data/2016-07-04/{name}")
    assert record.status == "ingested" and record.rows == rows_before  # the landed version still stands
    assert "truncated or corrupt" in record.details["last_failure"]["error"]
    assert record.details["last_failure"]["sha256"] != record.sha256
    # the next run tries the damaged file again (and fails again): never mistaken for unchanged
    assert [Path(f.name).name for f in ingest_package([delivery], lake, gpg).failed] == [name]


def test_zip_slip_is_refused_before_anything_lands(sample, gpg, lake, tmp_path):
    evil = tmp_path / "idbx-2016-07-04.zip"
    with zipfile.ZipFile(sample.package) as src, zipfile.ZipFile(evil, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("../../etc/cron.d/evil", b"* * * * * root true\n")
    with pytest.raises(UnsafeArchiveError, match=r"\.\./\.\./etc/cron.d/evil"):
        ingest_package([evil], lake, gpg)
    assert not lake.bronze.exists()


def test_absolute_entries_are_refused(sample, gpg, lake, tmp_path):
    evil = tmp_path / "idbx-2016-07-04.zip"
    with zipfile.ZipFile(evil, "w") as dst:
        dst.writestr(zipfile.ZipInfo("/tmp/IDBx-IDB1x-2T2014-auth_user-prod-analytics.sql.gpg"), b"x")
    with pytest.raises(UnsafeArchiveError, match="would escape the package folder: /tmp/IDBx"):
        ingest_package([evil], lake, gpg)


def test_symlink_entries_are_refused(sample, gpg, lake, tmp_path):
    evil = tmp_path / "idbx-2016-07-04.zip"
    with zipfile.ZipFile(evil, "w") as dst:
        link = zipfile.ZipInfo("idbx-2016-07-04/IDBx-IDB1x-2T2014-auth_user-prod-analytics.sql.gpg")
        link.external_attr = 0o120777 << 16
        dst.writestr(link, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="auth_user"):
        ingest_package([evil], lake, gpg)


def test_encrypted_input_without_a_key_is_a_config_error(sample, lake):
    with pytest.raises(ConfigError, match="--gpg-key"):
        ingest_package([sample.package], lake, None)


def test_the_corpus_package_lands_whole(corpus, lake):
    folder = corpus / "package" / "edX-DemoX-Demo_Course"
    summary = ingest_package([folder], lake, None, snapshot_date=date(2015, 11, 6))
    assert summary.count("ingested") == len(list(folder.iterdir())) and not summary.failed
    assert summary.count("unhandled") == 0 and not any(f.untyped for f in summary.files)
    con = catalog(lake)
    # the two teams rows with impossible days (2015-09-31, 2015-11-31) are the only rejects: within
    # the tolerated rate, the file lands with them named
    assert con.execute("SELECT table_name, line_number FROM table_rejects ORDER BY 2").fetchall() == [("teams", 3), ("teams", 4)]
    [teams] = [f for f in summary.files if f.dataset == "teams"]
    assert teams.rejected_rows() == "2 of 4 rows rejected: line 3 (CAST (last_activity_at)), line 4 (CAST (last_activity_at))"
    for path in folder.glob("*.sql"):
        table = path.name.split("-")[3]
        landed = scalar(con, f"SELECT count(*) FROM {table} WHERE course_key = 'demox_demo_course'")
        assert landed + (2 if table == "teams" else 0) == path.read_bytes().count(b"\n") - 1, table
    assert scalar(con, "SELECT count(*) FROM user_id_map") == 0  # a typed, empty view when nothing landed
    assert scalar(con, "SELECT DISTINCT course_id FROM auth_userprofile") == "course-v1:edX+DemoX+Demo_Course"
    assert scalar(con, "SELECT typeof(last_activity_at) FROM teams LIMIT 1") == "TIMESTAMP"
    # the structure's blocks and chapters, the forum's posts per author, as in the files
    structure = json.loads(next(folder.glob("*course_structure*")).read_text())
    blocks = dict(con.execute("SELECT block_id, block_type FROM course_blocks").fetchall())
    assert blocks == {block: value["category"] for block, value in structure.items()}
    assert scalar(con, "SELECT count(*) FROM course_blocks WHERE block_type = 'chapter'") == sum(
        value["category"] == "chapter" for value in structure.values()
    )
    docs = [json.loads(line) for line in next(folder.glob("*.mongo")).read_text().splitlines()]
    per_author = dict(con.execute("SELECT author_id, count(*) FROM forum_posts GROUP BY 1").fetchall())
    assert per_author == Counter(int(doc["author_id"]) for doc in docs)
    # the export is kept as delivered, listed in the manifest
    export = next(folder.glob("*.xml.tar.gz"))
    kept = lake.root / "landing" / "edx-2015-11-06" / export.name
    assert kept.read_bytes() == export.read_bytes()
    assert lake.manifest_get(f"course_data/2015-11-06/{export.name}").partitions == ["landing/edx-2015-11-06/" + export.name]


def test_mysql_dump_lands_the_same_columns_as_tsv(corpus, lake, tmp_path):
    folder = tmp_path / "dump"
    folder.mkdir()
    dump = folder / "edX-DemoX-Demo_Course-auth_userprofile-prod-analytics.sql"
    dump.write_bytes((corpus / "mysql_dumps" / "load_auth_userprofile.sql").read_bytes())
    summary = ingest_package([dump], lake, None, snapshot_date=date(2016, 1, 1))
    assert summary.count("ingested") == 1, summary.files
    tsv_lake = type(lake)(tmp_path / "tsv-lake")
    ingest_package([corpus / "package" / "edX-DemoX-Demo_Course"], tsv_lake, None, snapshot_date=date(2016, 1, 1))
    dump_cols = catalog(lake).execute("DESCRIBE auth_userprofile").fetchall()
    tsv_cols = catalog(tsv_lake).execute("DESCRIBE auth_userprofile").fetchall()
    assert [c[:2] for c in dump_cols] == [c[:2] for c in tsv_cols]
    row = catalog(lake).execute("SELECT mailing_address, goals, year_of_birth FROM auth_userprofile WHERE id = 1").fetchall()[0]
    assert row == ("Luna\n10 - 3\n28300\nARANJUEZ", "Me\tencanta\taprender.", 1984)


def test_rejected_rows_are_kept_beside_the_partition(lake, tmp_path):
    folder = tmp_path / "idbx-2016-08-01"
    folder.mkdir()
    (folder / "IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql").write_bytes(
        b"id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n"
        b"1\t1\tIDBx/IDB1x/2T2014\t2016-01-01 00:00:00\t1\thonor\n"
        b"2\toops\tIDBx/IDB1x/2T2014\t2016-01-01 00:00:00\t1\thonor\n"
    )
    summary = ingest_package([folder], lake, None)
    assert (summary.rows, summary.rejects) == (1, 1)
    rejects = (
        catalog(lake).execute("SELECT table_name, course_key, source_file, line_number, reason FROM table_rejects").fetchall()
    )
    assert rejects[0][:4] == (
        "student_courseenrollment",
        "idb1x_2t2014",
        "IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql",
        3,
    )
    assert "user_id" in rejects[0][4]
    # the fixed file replaces the partition and its rejects disappear
    (folder / "IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql").write_bytes(
        b"id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n1\t1\tIDBx/IDB1x/2T2014\t2016-01-01 00:00:00\t1\thonor\n"
    )
    summary = ingest_package([folder], lake, None)
    assert summary.rejects == 0
    assert scalar(catalog(lake), "SELECT count(*) FROM table_rejects") == 0


def enrollment_file(folder: Path, rows: int, bad: int) -> Path:
    """A student_courseenrollment dump of `rows` rows, the last `bad` of them with a user id that is no number."""
    folder.mkdir(exist_ok=True)
    lines = [b"id\tuser_id\tcourse_id\tcreated\tis_active\tmode"] + [
        b"%d\t%s\tIDBx/IDB1x/2T2014\t2016-01-01 00:00:00\t1\thonor" % (n, b"x" if n > rows - bad else b"%d" % n)
        for n in range(1, rows + 1)
    ]
    path = folder / "IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_rejects_within_the_rate_land_and_over_it_fail_the_file(lake, tmp_path, monkeypatch):
    """Default 2% of a file's rows (a file under 100 rows counted as 100); over it, or with no
    row landed, the file fails and its partition stays as it was."""
    folder = tmp_path / "idbx-2016-08-01"
    enrollment_file(folder, 200, 4)
    [within] = ingest_package([folder], lake, None).files
    assert (within.status, within.rows, within.rejects) == ("ingested", 196, 4)
    assert [line for line, _ in within.first_rejects] == [198, 199, 200, 201]
    enrollment_file(folder, 200, 5)
    [over] = ingest_package([folder], lake, None).files
    assert over.status == "failed"
    assert over.error == (
        "IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql: 5 of 200 rows rejected (2.5%), over "
        "IDBX_MAX_REJECT_RATE=0.02; line 197: CAST (user_id); nothing was published"
    )
    con = catalog(lake)
    assert (scalar(con, "SELECT count(*) FROM student_courseenrollment"), scalar(con, "SELECT count(*) FROM table_rejects")) == (
        196,
        4,
    )
    con.close()
    record = lake.manifest_get("course_data/2016-08-01/IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql")
    assert (record.status, record.rejects) == ("ingested", 4) and "5 of 200" in record.details["last_failure"]["error"]
    # a small file may hold 2 rejected rows, not 3; none landed is a failure at any rate
    enrollment_file(folder, 4, 3)
    assert "3 of 4 rows rejected (75.0%)" in ingest_package([folder], lake, None).failed[0].error
    monkeypatch.setenv("IDBX_MAX_REJECT_RATE", "1")
    enrollment_file(folder, 2, 2)
    assert "all 2 rows rejected; line 2: CAST (user_id)" in ingest_package([folder], lake, None).failed[0].error
    monkeypatch.setenv("IDBX_MAX_REJECT_RATE", "0")
    enrollment_file(folder, 200, 1)
    assert "1 of 200 rows rejected (0.5%), over IDBX_MAX_REJECT_RATE=0" in ingest_package([folder], lake, None).failed[0].error
    monkeypatch.setenv("IDBX_MAX_REJECT_RATE", "5%")
    with pytest.raises(ConfigError, match="IDBX_MAX_REJECT_RATE='5%' is not a number"):
        ingest_package([folder], lake, None)


def test_invalid_utf8_and_very_long_rows_are_kept(lake, tmp_path):
    folder = tmp_path / "idbx-2016-08-01"
    folder.mkdir()
    header = b"id\tmodule_type\tmodule_id\tstudent_id\tstate\tcreated\tmodified\tcourse_id\n"
    rows = [
        b"1\tproblem\tm1\t5\t" + b"y" * 3_000_000 + b"\t2016-01-01 00:00:00\t2016-01-01 00:00:00\tc\n",
        b'2\tvideo\tm2\t6\t{"n": "Jos\xe9"}\t2016-01-01 00:00:00\t2016-01-01 00:00:00\tc\n',
        b"3\tvideo\tm3\t7\t{}\t2016-01-01 00:00:00\t2016-01-01 00:00:00\tc\n",
    ]
    (folder / "IDBx-IDB1x-2T2014-courseware_studentmodule-prod-analytics.sql").write_bytes(header + b"".join(rows))
    summary = ingest_package([folder], lake, None)
    outcome = summary.files[0]
    assert (outcome.rows, outcome.rejects, outcome.repaired_rows) == (3, 0, 1)
    got = dict(catalog(lake).execute("SELECT id, state FROM courseware_studentmodule").fetchall())
    assert len(got[1]) == 3_000_000 and got[2] == '{"n": "Jos\ufffd"}'
    assert not list((lake.root / "_scratch").glob("*"))


def snapshots(lake) -> dict[date, int]:
    return dict(catalog(lake).execute("SELECT snapshot_date, count(*) FROM auth_user_history GROUP BY 1").fetchall())


def test_each_delivery_is_dated_by_its_own_name(sample, gpg, lake, tmp_path):
    later = tmp_path / "idbx-2016-07-11.zip"
    later.write_bytes(sample.package.read_bytes())
    folder = tmp_path / "idbx-2016-07-18"
    with zipfile.ZipFile(sample.package) as archive:
        archive.extractall(folder)
    summary = ingest_package([later, sample.package, folder], lake, gpg)
    assert not summary.failed
    per_delivery = Counter(record.key.split("/")[1] for record in lake.manifest_records())
    assert sorted(per_delivery) == ["2016-07-04", "2016-07-11", "2016-07-18"] and len(set(per_delivery.values())) == 1
    assert summary.count("ingested") == sum(per_delivery.values())
    per_delivery = snapshots(lake)
    assert sorted(per_delivery) == [date(2016, 7, 4), date(2016, 7, 11), date(2016, 7, 18)]
    assert len(set(per_delivery.values())) == 1
    assert lake.manifest_get(f"course_data/2016-07-11/{table_file_name(sample.course_ids[0], 'auth_user')}").status == "ingested"


def test_snapshot_date_dates_one_delivery_only(sample, gpg, lake, tmp_path):
    later = tmp_path / "idbx-2016-07-11.zip"
    later.write_bytes(sample.package.read_bytes())
    with pytest.raises(IdbxError, match="--snapshot-date dates a single delivery"):
        ingest_package([sample.package, later], lake, gpg, snapshot_date=date(2016, 8, 1))
    undated = tmp_path / "delivery.zip"
    undated.write_bytes(sample.package.read_bytes())
    with pytest.raises(IdbxError, match="delivery.zip: cannot tell the delivery date"):
        ingest_package([sample.package, undated], lake, gpg)
    assert not lake.bronze.exists(), "nothing lands when one of the deliveries cannot be dated"


def test_two_different_files_with_one_name_are_refused(lake, tmp_path):
    name = "IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql"
    header = b"id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n"
    delivery = tmp_path / "idbx-2016-08-01"
    for folder, users in (("a", 1), ("b", 2)):
        (delivery / folder).mkdir(parents=True)
        body = b"".join(b"%d\t%d\tIDBx/IDB1x/2T2014\t2016-01-01 00:00:00\t1\thonor\n" % (i, i) for i in range(users))
        (delivery / folder / name).write_bytes(header + body)
    with pytest.raises(IdbxError, match=f"two different files named {name}") as refused:
        ingest_package([delivery], lake, None)
    assert "a/" + name in str(refused.value) and "b/" + name in str(refused.value)
    assert not lake.bronze.exists()


def studentmodule_file(folder: Path, states: list[bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "IDBx-IDB1x-2T2014-courseware_studentmodule-prod-analytics.sql"
    header = b"id\tmodule_type\tmodule_id\tstudent_id\tstate\tcreated\tmodified\tcourse_id\n"
    body = b"".join(
        b"%d\tproblem\tm%d\t5\t%s\t2016-01-01 00:00:00\t2016-01-01 00:00:00\tc\n" % (i, i, s) for i, s in enumerate(states, 1)
    )
    path.write_bytes(header + body)
    return path


def test_a_row_of_tens_of_megabytes_lands(lake, tmp_path):
    """DuckDB drops a row longer than its read buffer without recording a reject: the row count
    of the file says so, and the file is read again with room for it."""
    studentmodule_file(tmp_path / "idbx-2016-08-01", [b"{}", b"y" * 34_000_000, b"{}"])
    outcome = ingest_package([tmp_path / "idbx-2016-08-01"], lake, None).files[0]
    assert (outcome.status, outcome.rows, outcome.rejects) == ("ingested", 3, 0)
    record = lake.manifest_get("course_data/2016-08-01/IDBx-IDB1x-2T2014-courseware_studentmodule-prod-analytics.sql")
    assert (record.source_rows, record.rows, record.rejects) == (3, 3, 0)
    assert scalar(catalog(lake), "SELECT max(length(state)) FROM courseware_studentmodule") == 34_000_000


def test_rows_missing_from_what_landed_fail_the_file(lake, tmp_path, monkeypatch):
    folder = tmp_path / "idbx-2016-08-01"
    studentmodule_file(folder, [b"{}", b"{}"])
    ingest_package([folder], lake, None)
    monkeypatch.setattr(tables, "LONG_LINE_LIMIT", 1 << 20)  # even the second read cannot hold the long row
    studentmodule_file(folder, [b"{}", b"y" * 34_000_000, b"{}"])
    summary = ingest_package([folder], lake, None)
    assert len(summary.failed) == 1
    assert summary.failed[0].error == (
        "IDBx-IDB1x-2T2014-courseware_studentmodule-prod-analytics.sql: 3 rows in the file, but 2 landed and 0 were "
        "rejected; nothing was published"
    )
    assert scalar(catalog(lake), "SELECT count(*) FROM courseware_studentmodule") == 2
    assert not list(lake.bronze.rglob("*.tmp-*"))
