"""The TSV dialect through DuckDB: escapes, NULLs, bad bytes, bad rows, header checks."""

from pathlib import Path

import duckdb
import pytest

from idbx.errors import SourceFormatError
from idbx.parsers import tables

ENROLL = tables.TABLES["student_courseenrollment"]
PROFILE = tables.TABLES["auth_userprofile"]
LINEAGE = {"course_key": "k", "snapshot_date": "2016-07-04", "source_file": "f.sql"}


def parse(path: Path, schema: tables.TableSchema, lineage=None):
    con = duckdb.connect()
    header = tables.read_header(path, path.name)
    tables.check_header(schema, header, path.name)
    rows = tables.table_relation(con, path, schema, header, lineage or LINEAGE).fetchall()
    rejects = tables.rejects_relation(con, path.name).fetchall()
    return rows, rejects, con


def write(tmp_path: Path, text: bytes, name="t.sql") -> Path:
    path = tmp_path / name
    path.write_bytes(text)
    return path


PROFILE_HEADER = b"id\tuser_id\tname\tgender\tyear_of_birth\tlevel_of_education\tgoals\tcountry\tmailing_address\n"


def test_mysql_escapes_are_undone_in_one_pass(tmp_path):
    body = (
        PROFILE_HEADER
        + b"1\t10\tA\\\\B\tf\t1980\tb\ttab\\there\tMX\tline1\\nline2\n"  # \\ -> \ ; \t -> tab ; \n -> newline
        + b"2\t11\tC:\\\\new\tm\tNULL\tNULL\t\tNULL\tcr\\r\\nlf\n"  # escaped backslash then 'new' stays literal
    )
    rows, rejects, _ = parse(write(tmp_path, body), PROFILE)
    assert rejects == []
    # strict=False: the rows end with the lineage columns, which the schema does not name
    by_id = {row[0]: dict(zip(PROFILE.column_names, row, strict=False)) for row in rows}
    assert by_id[1]["name"] == "A\\B"
    assert by_id[1]["goals"] == "tab\there"
    assert by_id[1]["mailing_address"] == "line1\nline2"
    assert by_id[2]["name"] == "C:\\new"
    assert by_id[2]["mailing_address"] == "cr\r\nlf"
    assert by_id[2]["year_of_birth"] is None and by_id[2]["level_of_education"] is None
    assert by_id[2]["goals"] == ""  # empty text stays empty, only NULL is null


def test_typed_columns_and_lineage(tmp_path):
    body = b"id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n7\t42\tcourse-v1:A+B+C\t2016-01-02 03:04:05\t1\thonor\n"
    rows, rejects, con = parse(write(tmp_path, body), ENROLL)
    assert rejects == []
    rel = tables.table_relation(con, tmp_path / "t.sql", ENROLL, tables.read_header(tmp_path / "t.sql", "t"), LINEAGE)
    assert dict(zip(rel.columns, rel.types, strict=True))["created"] == "TIMESTAMP"
    row = dict(zip(rel.columns, rows[0], strict=True))
    assert row["id"] == 7 and row["user_id"] == 42 and row["is_active"] is True
    assert row["course_key"] == "k" and str(row["snapshot_date"]) == "2016-07-04" and row["source_file"] == "f.sql"


def test_bad_rows_are_rejected_with_line_and_reason(tmp_path):
    body = (
        b"id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n"
        b"1\t1\tc\t2016-01-01 00:00:00\t1\thonor\n"
        b"2\tnot-a-number\tc\t2016-01-01 00:00:00\t1\thonor\n"
        b"3\t3\tc\n"
        b"4\t4\tc\t2016-01-01 00:00:00\t1\thonor\textra\n"
        b"5\t5\tc\t2016-02-30 00:00:00\t1\thonor\n"
    )
    rows, rejects, _ = parse(write(tmp_path, body), ENROLL)
    assert [row[0] for row in rows] == [1]
    assert [(r[1]) for r in rejects] == [3, 4, 5, 6]
    reasons = {r[1]: r[2] for r in rejects}
    assert "user_id" in reasons[3] and "CAST" in reasons[3]
    assert "MISSING COLUMNS" in reasons[4]
    assert "TOO MANY COLUMNS" in reasons[5]
    assert "created" in reasons[6]
    assert all(r[0] == "t.sql" for r in rejects)
    assert rejects[0][3].startswith("2\tnot-a-number")


def test_invalid_utf8_is_reported_then_repaired(tmp_path):
    body = PROFILE_HEADER + b"1\t10\tJos\xe9\tm\t1980\tb\t\tMX\tNULL\n2\t11\tAna\tf\t1981\tb\t\tCO\tNULL\n"
    path = write(tmp_path, body)
    _, rejects, con = parse(path, PROFILE)
    assert tables.retry_reasons(con) == (1, False, 1)  # one line to repair, one line rejected
    fixed = tmp_path / "fixed.sql"
    tables.repair_utf8(path, fixed)
    rows, rejects, _ = parse(fixed, PROFILE)
    assert rejects == []
    assert sorted(row[2] for row in rows) == ["Ana", "Jos\ufffd"]


def test_missing_required_column_names_the_file(tmp_path):
    path = write(tmp_path, b"id\tuser_id\tcourse_id\tcreated\tmode\n1\t1\tc\t2016-01-01 00:00:00\thonor\n", "x-enroll.sql")
    with pytest.raises(SourceFormatError, match=r"x-enroll.sql: missing required column\(s\) .*is_active"):
        tables.check_header(ENROLL, tables.read_header(path, path.name), path.name)


def test_extra_columns_are_kept_as_text_and_optional_ones_null(tmp_path):
    body = b"id\tuser_id\tgender\tyear_of_birth\tlevel_of_education\tcountry\tshoe_size\n1\t2\tf\t1990\tm\tPE\t4\\t1\n"
    path = write(tmp_path, body)
    check = tables.check_header(PROFILE, tables.read_header(path, "t"), "t")
    assert check.extra == ["shoe_size"]
    con = duckdb.connect()
    rel = tables.table_relation(con, path, PROFILE, check.columns, LINEAGE)
    row = dict(zip(rel.columns, rel.fetchall()[0], strict=True))
    assert row["shoe_size"] == "4\t1"
    assert row["city"] is None
    assert rel.columns[: len(PROFILE.columns)] == PROFILE.column_names


def test_empty_file_is_a_format_error(tmp_path):
    with pytest.raises(SourceFormatError, match="no header row"):
        tables.read_header(write(tmp_path, b""), "empty.sql")


# The corpus's teams dump has two impossible days (2015-09-31, 2015-11-31): those rows are rejected.
CORPUS_REJECTS = {"teams": [3, 4]}


def test_corpus_tables_parse_typed(corpus):
    folder = corpus / "package" / "edX-DemoX-Demo_Course"
    parsed = set()
    for name, schema in tables.TABLES.items():
        matches = list(folder.glob(f"*-{name}-acceptance.sql"))
        if not matches:
            continue
        rows, rejects, con = parse(matches[0], schema)
        assert [line for _, line, _, _ in rejects] == CORPUS_REJECTS.get(name, []), name
        assert len(rows) + len(rejects) == matches[0].read_bytes().count(b"\n") - 1, name
        parsed.add(matches[0].name)
    assert parsed == {path.name for path in folder.glob("*.sql")}, "every table of the corpus package is declared"
    rows, _, con = parse(
        folder / "edX-DemoX-Demo_Course-courseware_studentmodule-acceptance.sql", tables.TABLES["courseware_studentmodule"]
    )
    states = [row[4] for row in rows]
    assert all(con.execute("SELECT json_valid(?)", [s]).fetchall()[0][0] for s in states)
    answer = con.execute(
        "SELECT json_extract_string(?, '$.student_answers.5b60fa3470a2440eafeee24d6806eb1a_2_1')", [states[0]]
    ).fetchall()[0][0]
    assert answer.startswith('{"answer":"correct"')


def test_rows_over_the_default_line_limit_are_read_on_request(tmp_path):
    state = "x" * 3_000_000
    body = (
        "id\tmodule_type\tmodule_id\tstudent_id\tstate\tcreated\tmodified\tcourse_id\n"
        f"1\tproblem\tm\t5\t{state}\t2016-01-01 00:00:00\t2016-01-01 00:00:00\tc\n"
    ).encode()
    path = write(tmp_path, body)
    schema = tables.TABLES["courseware_studentmodule"]
    rows, rejects, con = parse(path, schema)
    assert rows == [] and tables.retry_reasons(con) == (0, True, 1)
    con = duckdb.connect()
    header = tables.read_header(path, "t")
    rel = tables.table_relation(con, path, schema, header, LINEAGE, long_lines=True)
    assert len(dict(zip(rel.columns, rel.fetchall()[0], strict=True))["state"]) == 3_000_000
