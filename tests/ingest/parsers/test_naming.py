from datetime import date

import duckdb
import pytest

from idbx.ingest.parsers.naming import (
    course_key_sql,
    events_log_date,
    package_date,
    parse_table_file,
    short_course_key,
    table_file_name,
)


@pytest.mark.parametrize(
    "name, table, key, encrypted",
    [
        ("IDBx-IDB1x-2T2014-auth_user-prod-analytics.sql.gpg", "auth_user", "idb1x_2t2014", True),
        ("IDBx-IDB4.1x-2015_T4-courseware_studentmodule-prod-analytics.sql", "courseware_studentmodule", "idb4_1x_2015_t4", False),
        ("edX-DemoX-Demo_Course-student_courseenrollment-acceptance.sql", "student_courseenrollment", "demox_demo_course", False),
        ("idbx-2016-05-02/IDBx-IDB6x-2016_T1-user_id_map-edge-analytics.sql.gpg", "user_id_map", "idb6x_2016_t1", True),
    ],
)
def test_table_files_are_recognised_by_name(name, table, key, encrypted):
    parsed = parse_table_file(name)
    assert parsed is not None
    assert (parsed.table, parsed.course_key, parsed.encrypted) == (table, key, encrypted)


@pytest.mark.parametrize(
    "name",
    [
        "edX-DemoX-Demo_Course-course_structure-acceptance.json",
        "edX-DemoX-Demo_Course-acceptance.mongo",
        "edX-DemoX-Demo_Course-course-acceptance.xml.tar.gz",
        "README.txt",
        "auth_user.sql",
    ],
)
def test_other_files_are_not_tables(name):
    assert parse_table_file(name) is None


def test_course_keys_follow_the_registry_convention():
    assert short_course_key("IDB1x", "2T2014") == "idb1x_2t2014"
    con = duckdb.connect()
    keys = con.execute(
        f"SELECT {course_key_sql('id')} FROM (SELECT unnest(?) AS id, generate_subscripts(?, 1) AS i) ORDER BY i",
        [["IDBx/IDB1x/2T2014", "course-v1:IDBx+IDB4.1x+2015_T4", "not a course", "a/b/c/d", ""]] * 2,
    ).fetchall()
    assert [k for (k,) in keys] == ["idb1x_2t2014", "idb4_1x_2015_t4", None, None, None]


def test_dates_come_from_delivery_and_log_names():
    assert package_date("idbx-2016-05-02.zip") == date(2016, 5, 2)
    assert package_date("idbx-2016-05-02") == date(2016, 5, 2)
    assert package_date("delivery.zip") is None
    assert events_log_date("idbx-edx-events-2016-05-02.log.gz.gpg") == date(2016, 5, 2)
    assert events_log_date("tracking.log") is None


def test_file_names_round_trip_through_the_parser():
    name = table_file_name("course-v1:IDBx+IDB6x+2016_T1", "auth_userprofile")
    assert name == "IDBx-IDB6x-2016_T1-auth_userprofile-prod-analytics.sql.gpg"
    assert parse_table_file(name).course_key == "idb6x_2016_t1"
