"""The exports of the sample: the predecessor's columns, CSV that reads back, no personal data."""

from __future__ import annotations

import csv
import io
import re

import duckdb
import pytest

from idbx.errors import IdbxError
from idbx.exports.writer import write_report, write_standard_exports
from idbx.lake.store import Lake

# What the sample's learners are called, write from and are reached at (idbx/local/sample.py).
PII = re.compile(r"learner[0-9]+|@example\.org|190\.[0-9]+\.[0-9]+\.7|181\.[0-9]+\.1\.9|Pérez|Gómez|Nuñez|da Silva|O'Neil")


@pytest.mark.parametrize(
    "name, header",
    [
        (
            "general",
            "id,name,sme,start_date,end_date,total_users,active_users,approved_users,certified_users,failed_users,male,female,countries",
        ),
        ("enrollments", "mooc_name,mooc_id,registration_date,gender,country,learner_id,mode,is_active"),
        ("active-users", "course_id,learner_id,repetitions,status,course_name"),
        (
            "masterfile",
            "country,gender,level_of_education,learner_id,year_of_birth,course_id,progress,grade,mode,status,"
            "enrollment_mode,is_active,enrolled_at,course_name,sme,start_date,end_date",
        ),
        ("person-course", "course_id,course_key,learner_id,enrolled,enrolled_at,unenrolled_at"),
    ],
)
def test_reports_have_the_predecessor_columns_and_no_pii(built_sample, tmp_path, name, header):
    out = tmp_path / f"{name}.csv"
    rows = write_report(built_sample, name, out)
    text = out.read_text(encoding="utf-8")
    assert text.startswith(header)
    assert not PII.search(text)
    table = list(csv.reader(io.StringIO(text)))
    assert len(table) == rows + 1 and rows > 0 and all(len(row) == len(table[0]) for row in table)
    assert not list(tmp_path.glob(".*tmp*"))


def test_general_report_matches_the_mart(built_sample, tmp_path):
    out = tmp_path / "general.csv"
    write_report(built_sample, "general", out, courses=["idb1x_2t2014"])
    (row,) = list(csv.DictReader(out.open(encoding="utf-8")))
    with duckdb.connect(str(built_sample.catalog_path), read_only=True) as con:
        total, active = con.execute(
            "SELECT users_total, users_active FROM course_report WHERE course_key = 'idb1x_2t2014'"
        ).fetchall()[0]
    assert (row["id"], int(row["total_users"]), int(row["active_users"])) == ("idb1x_2t2014", total, active)
    assert row["name"] == "Introducción a la Gestión para Resultados en el Desarrollo (1ed.)"


def test_excel_variant_starts_with_a_byte_order_mark(built_sample, tmp_path):
    out = tmp_path / "general.csv"
    write_report(built_sample, "general", out, excel=True)
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,name,") and "Gestión".encode() in data


def test_no_export_before_a_build(tmp_path):
    (tmp_path / "lake").mkdir()
    with pytest.raises(IdbxError, match="no catalog"):
        write_report(Lake(tmp_path / "lake"), "general", None)


def test_standard_exports_are_every_report_with_its_rows_and_nothing_aside(built_sample, tmp_path):
    written = write_standard_exports(built_sample, tmp_path / "exports")
    assert (
        sorted(path.name for path in written)
        == sorted(path.name for path in (tmp_path / "exports").iterdir())
        == ["active-users.csv", "engagement.csv", "enrollments.csv", "general.csv", "masterfile.csv", "person-course.csv"]
    )
    for path, rows in written.items():
        assert len(list(csv.reader(io.StringIO(path.read_text())))) == rows + 1 > 1, path.name
    assert not PII.search("".join(path.read_text() for path in written))
