import duckdb
import pytest

from idbx.errors import SourceFormatError
from idbx.parsers import mysql_dump, mysql_inserts, tables
from idbx.quoting import sql_string


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


# -- the fast path (whole INSERT lines split in DuckDB) against sqlglot's reading --------------

HOSTILE = [
    ("quote doubled", "'it''s'", "it's"),
    ("quote escaped", r"'\'x\''", "'x'"),
    ("double quote escaped", r"'say \"hi\"'", 'say "hi"'),
    ("backslash", r"'C:\\dir\\'", "C:\\dir\\"),
    ("backslash then quote", r"'\\'''", "\\'"),
    ("commas and parentheses", "'a,b),(c'", "a,b),(c"),
    ("looks like a tuple end", "'x'');--'", "x');--"),
    ("escaped newline", r"'line\nbreak\r\n'", "line\nbreak\r\n"),
    ("escaped backslash before n", r"'not\\nbreak'", "not\\nbreak"),
    ("control escapes", r"'\0\b\t\Z'", "\0\b\t\x1a"),
    ("LIKE escapes kept", r"'100\% \_'", "100\\% \\_"),
    ("unknown escapes", r"'\q\é'", "qé"),
    ("escaped raw tab", "'a\\\tb'", "a\tb"),
    ("NULL the word", "'NULL'", "NULL"),
    ("empty", "''", ""),
    ("unicode", "'ñandú 🎓 中文'", "ñandú 🎓 中文"),
    ("null", "NULL", None),
    ("null lower case", "null", None),
    ("number", "-1.50e3", "-1.50e3"),
    ("leading zeros", "007", "007"),
]


def _equal_to_sqlglot(dump, name="t"):
    fast = mysql_dump.read_dump(dump, "d.sql")
    whole = mysql_dump._read_whole(dump, "d.sql")
    assert list(fast) == list(whole)
    for table, slow in zip(fast.values(), whole.values(), strict=True):
        assert (table.columns, table.rows, table.lines, table.rejects) == (slow.columns, slow.rows, slow.lines, slow.rejects)
    return fast[name]


def _fast(line: str) -> bool:
    return duckdb.sql(f"SELECT regexp_full_match({sql_string(line)}, {sql_string(mysql_inserts.STATEMENT)})").fetchall()[0][0]


def test_hostile_strings_read_as_sqlglot_reads_them(tmp_path):
    columns = ", ".join(f"`c{i}` text" for i in range(len(HOSTILE)))
    insert = "INSERT INTO `t` VALUES (" + ",".join(v for _, v, _ in HOSTILE) + "),(" + ", ".join(v for _, v, _ in HOSTILE) + ");"
    assert _fast(insert)
    dump = tmp_path / "d.sql"
    dump.write_text(f"CREATE TABLE `t` ({columns});\n{insert}\n", encoding="utf-8")
    table = _equal_to_sqlglot(dump)
    expected = [value for _, _, value in HOSTILE]
    assert table.rows == [expected, expected] and table.lines == [2, 2]
    value = dict(zip([name for name, _, _ in HOSTILE], table.rows[0], strict=True))
    assert value["null"] is None and value["NULL the word"] == "NULL"


def test_a_spooled_table_writes_the_same_tsv_as_its_rows(tmp_path):
    dump = tmp_path / "d.sql"
    values = ",".join(v for _, v, _ in HOSTILE)
    dump.write_text(f"INSERT INTO `t` ({', '.join(f'`c{i}`' for i in range(len(HOSTILE)))}) VALUES ({values});\n")
    table = mysql_dump.read_dump(dump, "d.sql")["t"]
    table.write_tsv(tmp_path / "spooled.tsv")
    in_memory = mysql_dump.DumpTable("t", table.columns, rows=table.rows, lines=table.lines)
    in_memory.write_tsv(tmp_path / "memory.tsv")
    assert (tmp_path / "spooled.tsv").read_bytes() == (tmp_path / "memory.tsv").read_bytes()
    assert (tmp_path / "spooled.tsv").read_text().count("\n") == 2


REFUSED = """-- mysqldump 10.13
/*!40101 SET NAMES utf8 */;
DROP TABLE IF EXISTS `t`;
CREATE TABLE `t` (`a` int, `b` text, `c` text);
LOCK TABLES `t` WRITE;
INSERT INTO `t` VALUES (1,'one','x'),(2,'two','y');
INSERT INTO `t` VALUES
  (3,'spans',
   'lines'),
  (4,'four','z');
INSERT INTO `t` VALUES (5,'a','b'); INSERT INTO `t` VALUES (6,'two on a line','c');
INSERT INTO `t` VALUES (7,0x1F,TRUE),(8,'hex','bit');
INSERT INTO `t` (`c`,`a`) VALUES ('c first',9),('c again',10);
INSERT INTO `t` VALUES (11,'too few'),(12,'fine','w'),(13,'too','many','values');
INSERT INTO `t` VALUES (14,'too few, sqlglot'),
(15,'fine','v');

INSERT INTO `t` VALUES (16,'after a blank line','u');
UNLOCK TABLES;
"""


def test_statements_the_fast_path_refuses_are_read_by_sqlglot_in_place(tmp_path):
    dump = tmp_path / "d.sql"
    dump.write_text(REFUSED)
    fast_lines = [number for number, line in enumerate(REFUSED.splitlines(), 1) if _fast(line)]
    assert fast_lines == [6, 13, 14, 18]
    table = _equal_to_sqlglot(dump)
    assert [row[0] for row in table.rows] == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "12", "15", "16"]
    assert table.lines == [6, 6, 8, 10, 11, 11, 12, 12, 13, 13, 14, 16, 18]
    assert table.rows[8] == ["9", None, "c first"]
    assert table.rows[6] == ["7", "x'1F'", "1"]
    assert [(line, reason) for line, reason, _ in table.rejects] == [
        (14, "expected 3 values, found 2"),
        (14, "expected 3 values, found 4"),
        (15, "expected 3 values, found 2"),
    ]
    assert table.rejects[0][2] == "(11, 'too few')"
    # every tuple accounted for: landed or rejected
    assert len(table.rows) + len(table.rejects) == 16


def test_an_insert_line_inside_a_string_is_not_taken_for_a_statement(tmp_path):
    dump = tmp_path / "d.sql"
    inside = "INSERT INTO `t` VALUES (2,NULL);"  # a whole INSERT, but a line of the string around it
    dump.write_text(f"CREATE TABLE `t` (`a` int, `b` text);\nINSERT INTO `t` VALUES (1,'a\n{inside}\n');\n")
    table = _equal_to_sqlglot(dump)
    assert _fast(inside) and table.rows == [["1", f"a\n{inside}\n"]]


def test_errors_after_fast_lines_name_the_dump_line(tmp_path):
    dump = tmp_path / "broken.sql"
    fast = "INSERT INTO `t` VALUES (1);\nINSERT INTO `t` VALUES (2);\n"
    dump.write_text(f"CREATE TABLE `t` (`a` int);\n{fast}INSERT INTO `t` VALUES ((((;\n")
    with pytest.raises(SourceFormatError, match=r"broken.sql: line 4: not a readable MySQL dump"):
        mysql_dump.read_dump(dump, "broken.sql")
    dump.write_text("CREATE TABLE `t` (`a` text);\nINSERT INTO `t` VALUES ('ana@example.com);\n")
    with pytest.raises(SourceFormatError, match=r"broken.sql: not a readable MySQL dump \(a quoted string") as error:
        mysql_dump.read_dump(dump, "broken.sql")
    assert "ana@example.com" not in str(error.value)
    dump.write_text("INSERT INTO `u` VALUES (1);\nCREATE TABLE `u` (`a` int);\n")
    with pytest.raises(SourceFormatError, match="INSERT INTO u names no columns and the dump has no CREATE TABLE u"):
        mysql_dump.read_dump(dump, "broken.sql")


def test_rejects_of_a_spooled_table_point_at_the_dump_lines(tmp_path):
    dump = tmp_path / "d.sql"
    dump.write_text("CREATE TABLE `t` (`a` int);\n\nINSERT INTO `t` VALUES (1),(2);\nINSERT INTO `t` VALUES (3),(4,5);\n")
    table = mysql_dump.read_dump(dump, "d.sql")["t"]
    con = duckdb.connect()
    # the TSV's line 4 holds the third row (line 2 the first)
    tsv_rejects = con.sql("SELECT 'd.sql' AS source_file, 4::BIGINT AS line_number, 'CAST' AS reason, '3' AS raw")
    rejects = table.rejects_in_dump_lines(con, tsv_rejects, "d.sql").order("line_number, reason").fetchall()
    assert rejects == [("d.sql", 4, "CAST", "3"), ("d.sql", 4, "expected 1 values, found 2", "(4, 5)")]


def test_a_line_longer_than_the_cut_takes_is_refused_naming_it(tmp_path, monkeypatch):
    monkeypatch.setattr(mysql_dump, "_MAX_LINE", 1 << 20)
    dump = tmp_path / "d.sql"
    dump.write_text("CREATE TABLE `t` (`a` text);\nINSERT INTO `t` VALUES ('" + "x" * (1 << 20) + "');\n")
    with pytest.raises(SourceFormatError, match="d.sql: line 2: longer than 1 MB"):
        mysql_dump.read_dump(dump, "d.sql")
