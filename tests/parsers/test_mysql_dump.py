import pytest

from idbx.errors import SourceFormatError
from idbx.parsers import mysql_dump, tables


def test_dumps_are_told_from_tsv_by_their_first_bytes(tmp_path, corpus):
    assert tables.is_mysql_dump(corpus / "mysql_dumps" / "auth_user.sql")
    assert tables.is_mysql_dump(corpus / "mysql_dumps" / "load_auth_userprofile.sql")
    assert not tables.is_mysql_dump(
        corpus / "package" / "edX-DemoX-Demo_Course" / "edX-DemoX-Demo_Course-auth_user-acceptance.sql"
    )


def test_values_escapes_and_line_numbers(corpus):
    table = mysql_dump.read_dump(corpus / "mysql_dumps" / "load_auth_userprofile.sql", "p.sql")["auth_userprofile"]
    assert table.columns[:3] == ["id", "user_id", "name"]
    first = dict(zip(table.columns, table.rows[0], strict=True))
    assert first["mailing_address"] == "Luna\n10 - 3\n28300\nARANJUEZ"
    assert first["goals"] == "Me\tencanta\taprender."
    second = dict(zip(table.columns, table.rows[1], strict=True))
    assert second["mailing_address"] is None and second["country"] == ""
    assert len(max((v or "" for v in table.rows[3]), key=len)) == 32788  # the whole literal, not truncated
    assert table.lines[:2] == [3, 4]


def test_multi_row_inserts_use_create_table_columns(corpus):
    table = mysql_dump.read_dump(corpus / "mysql_dumps" / "load_student_courseenrollment.sql", "e.sql")[
        "student_courseenrollment"
    ]
    assert table.columns == ["id", "user_id", "course_id", "created", "is_active", "mode"]
    assert len(table.rows) == 7
    assert table.rows[6] == ["7", "4", "course-v1:edX+Open_DemoX+edx_demo_course2", "2014-06-27 16:02:44", "1", "honor"]


def test_rows_with_the_wrong_number_of_values_are_rejected(tmp_path):
    dump = tmp_path / "d.sql"
    dump.write_text("CREATE TABLE `t` (`a` int, `b` varchar(3));\nINSERT INTO `t` VALUES (1,'x'),\n(2);\n")
    table = mysql_dump.read_dump(dump, "d.sql")["t"]
    assert table.rows == [["1", "x"]]
    assert [(line, reason) for line, reason, _ in table.rejects] == [(3, "expected 2 values, found 1")]


def test_unparseable_dump_names_file_and_line(tmp_path):
    dump = tmp_path / "broken.sql"
    dump.write_text("INSERT INTO `t` VALUES (1,'x');\nINSERT INTO `t` VALUES ((((;\n")
    with pytest.raises(SourceFormatError, match=r"broken.sql: line \d+"):
        mysql_dump.read_dump(dump, "broken.sql")


def test_written_tsv_round_trips_awkward_values(tmp_path):
    table = mysql_dump.DumpTable("t", ["a", "b"], rows=[["x\ty", None], ["back\\slash\n", "NULL?"]], lines=[1, 2])
    out = tmp_path / "t.tsv"
    table.write_tsv(out)
    assert out.read_text() == "a\tb\nx\\ty\tNULL\nback\\\\slash\\n\tNULL?\n"
