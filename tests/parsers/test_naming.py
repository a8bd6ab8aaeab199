from datetime import date

import duckdb
import pytest

from idbx.parsers.naming import (
    EXPORT,
    FORUM,
    STRUCTURE,
    TABLE,
    course_key_sql,
    delivery_folder,
    events_log_date,
    is_many_course_dump,
    package_date,
    parse_course_file,
    short_course_key,
    table_file_name,
)


@pytest.mark.parametrize(
    "name, table, key, encrypted",
    [
        ("IDBx-IDB1x-2T2014-auth_user-prod-analytics.sql.gpg", "auth_user", "idb1x_2t2014", True),
        (
            "IDBx-IDB4.1x-2015_T4-courseware_studentmodule-prod-analytics.sql",
            "courseware_studentmodule",
            "idb4_1x_2015_t4",
            False,
        ),
        ("edX-DemoX-Demo_Course-student_courseenrollment-acceptance.sql", "student_courseenrollment", "demox_demo_course", False),
        ("idbx-2016-05-02/IDBx-IDB6x-2016_T1-user_id_map-edge-analytics.sql.gpg", "user_id_map", "idb6x_2016_t1", True),
        ("edX-DemoX-Demo_Course-teams-acceptance.sql", "teams", "demox_demo_course", False),
    ],
)
def test_table_files_are_recognised_by_name(name, table, key, encrypted):
    parsed = parse_course_file(name)
    assert parsed is not None
    assert (parsed.kind, parsed.table, parsed.course_key, parsed.encrypted) == (TABLE, table, key, encrypted)


@pytest.mark.parametrize(
    "name, kind, dataset",
    [
        ("edX-DemoX-Demo_Course-course_structure-acceptance.json", STRUCTURE, "course_blocks"),
        ("IDBx-IDB1x-2T2014-course_structure-prod-analytics.json.gpg", STRUCTURE, "course_blocks"),
        ("edX-DemoX-Demo_Course-acceptance.mongo", FORUM, "forum_posts"),
        ("IDBx-IDB1x-2T2014-prod.mongo.gpg", FORUM, "forum_posts"),
        ("edX-DemoX-Demo_Course-course-acceptance.xml.tar.gz", EXPORT, "course_blocks"),
        ("IDBx-IDB1x-2T2014-course-prod-analytics.xml.tar.gz.gpg", EXPORT, "course_blocks"),
    ],
)
def test_a_course_runs_other_files_are_recognised_by_name(name, kind, dataset):
    parsed = parse_course_file(name)
    assert (parsed.kind, parsed.table, parsed.course_key) == (kind, dataset, short_course_key(*name.split("-")[1:3]))


@pytest.mark.parametrize("name", ["README.txt", "auth_user.sql", "idbx-2016-05-02.zip", "x-y-z.json", "a-b-c-d-e.csv"])
def test_other_files_are_not_course_files(name):
    assert parse_course_file(name) is None


def test_sql_files_not_named_after_a_course_are_many_course_dumps():
    assert is_many_course_dump("auth_user.sql") and is_many_course_dump("edxapp-2016-07-04.sql.gpg")
    assert not is_many_course_dump("IDBx-IDB1x-2T2014-auth_user-prod-analytics.sql")
    assert not is_many_course_dump("notes.txt")


def test_kept_files_go_to_the_delivery_folder():
    assert delivery_folder("idbx-2016-07-04.zip", "IDBx", date(2016, 7, 4)) == "idbx-2016-07-04"
    assert delivery_folder("some folder", "IDBx", date(2016, 7, 11)) == "idbx-2016-07-11"


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
    assert parse_course_file(name).course_key == "idb6x_2016_t1"


def test_edge_logs_are_dated_like_edx_logs():
    """Courses on edge.edx.org come as `{org}-edge-events-{date}` beside `{org}-edx-events-{date}`."""
    assert events_log_date("idbx-edge-events-2016-05-02.log.gz.gpg") == date(2016, 5, 2)
    assert events_log_date("IDBx-edge-events-2016-05-02.log") == date(2016, 5, 2)
    assert events_log_date("idbx-other-events-2016-05-02.log") is None
