"""Every file of a delivery lands: tables we do not know, many-course dumps, forum dumps, exports."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from datetime import date
from pathlib import Path

import duckdb

from idbx.ingest.course_data import ingest_package
from idbx.local.sample import course_export, course_structure


def catalog(lake):
    return duckdb.connect(str(lake.catalog_path), read_only=True)


def delivery(tmp_path: Path, files: dict[str, bytes | str], name: str = "idbx-2016-08-01") -> Path:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    for file, content in files.items():
        (folder / file).write_bytes(content.encode() if isinstance(content, str) else content)
    return folder


def test_a_table_we_do_not_know_lands_as_text_and_is_reported(lake, tmp_path):
    folder = delivery(
        tmp_path,
        {
            "IDBx-IDB1x-2T2014-proctoring_proctoredexam-prod-analytics.sql": (
                "id\tcourse_id\texam_name\ttime_limit_mins\n1\tIDBx/IDB1x/2T2014\tFinal\\tExam\t90\n2\tIDBx/IDB1x/2T2014\tNULL\t\n"
            ),
            "IDBx-IDB1x-2T2014-teams-prod-analytics.sql": "id\tteam_id\tcourse_id\n1\tt1\tIDBx/IDB1x/2T2014\n",
        },
    )
    summary = ingest_package([folder], lake, None)
    assert not summary.failed and summary.count("unhandled") == 0
    assert {(f.dataset, f.untyped, f.rows) for f in summary.files} == {("teams", False, 1), ("proctoring_proctoredexam", True, 2)}
    con = catalog(lake)
    rows = con.execute("SELECT id, exam_name, time_limit_mins, course_key FROM proctoring_proctoredexam ORDER BY id").fetchall()
    assert rows == [("1", "Final\tExam", "90", "idb1x_2t2014"), ("2", None, "", "idb1x_2t2014")]
    types = {
        name: kind
        for name, kind in con.execute("SELECT column_name, column_type FROM (DESCRIBE proctoring_proctoredexam)").fetchall()
    }
    assert types["id"] == types["time_limit_mins"] == "VARCHAR" and types["snapshot_date"] == "DATE"
    assert con.execute("SELECT count(*) FROM proctoring_proctoredexam_history").fetchall() == [(2,)]
    # reported by the command, and again when the unchanged file is skipped
    done = subprocess.run(
        [str(Path(sys.executable).with_name("idbx")), "ingest", "package", str(folder), "--lake", str(lake.root)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    assert done.returncode == 0 and "landed untyped (1): proctoring_proctoredexam" in done.stderr, done.stderr


def test_a_table_dump_cannot_take_a_name_the_lake_uses(lake, tmp_path):
    folder = delivery(
        tmp_path,
        {
            "IDBx-IDB1x-2T2014-course_blocks-prod-analytics.sql": "block_id\nx\n",
            "IDBx-IDB1x-2T2014-events-prod-analytics.sql": "id\n1\n",
        },
    )
    summary = ingest_package([folder], lake, None)
    assert len(summary.failed) == 2 and all("a name the lake keeps" in f.error for f in summary.failed)
    assert not (lake.bronze / "course_blocks").exists() and not (lake.bronze / "events").exists()


DUMP = """-- a self-hosted Open edX: whole tables, every course in one file
CREATE TABLE `student_courseenrollment` (`id` int(11), `user_id` int(11), `course_id` varchar(255),
  `created` datetime, `is_active` tinyint(1), `mode` varchar(100));
INSERT INTO `student_courseenrollment` VALUES (1,1,'course-v1:IDBx+IDB6x+2016_T1','2016-01-01 00:00:00',1,'audit'),
(2,2,'course-v1:IDBx+IDB6x+2016_T1','2016-01-02 00:00:00',1,'verified'),
(3,2,'IDBx/IDB1x/2T2014','2016-01-03 00:00:00',1,'honor'),
(4,3,'not a course','2016-01-04 00:00:00',1,'honor'),
(5,3,'IDBx/IDB1x/2T2014','yesterday',1,'honor');
CREATE TABLE `auth_user` (`id` int(11), `username` varchar(30), `email` varchar(75), `date_joined` datetime);
INSERT INTO `auth_user` VALUES (1,'ana','ana@example.org','2015-01-01 00:00:00'),
(2,'bob','bob@example.org','2015-01-01 00:00:00'),
(9,'staff','staff@example.org','2015-01-01 00:00:00');
"""


def test_a_many_course_dump_lands_one_partition_per_course(lake, tmp_path):
    folder = delivery(tmp_path, {"edxapp.sql": DUMP})
    # --course-id names the course of single-course files; a many-course dump names its own
    summary = ingest_package([folder], lake, None, course_id="course-v1:IDBx+Other+1T2016")
    assert not summary.failed and summary.count("unhandled") == 0
    outcome = summary.files[0]
    assert outcome.dataset == "auth_user, student_courseenrollment"
    assert sorted(p.split("/", 2)[1:] for p in outcome.partitions) == [
        ["auth_user", "snapshot_date=2016-08-01/course=idb1x_2t2014"],
        ["auth_user", "snapshot_date=2016-08-01/course=idb6x_2016_t1"],
        ["student_courseenrollment", "snapshot_date=2016-08-01/course=idb1x_2t2014"],
        ["student_courseenrollment", "snapshot_date=2016-08-01/course=idb6x_2016_t1"],
    ]
    con = catalog(lake)
    enrolled = con.execute(
        "SELECT course_key, course_id, list(user_id ORDER BY user_id) FROM student_courseenrollment GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert enrolled == [("idb1x_2t2014", "IDBx/IDB1x/2T2014", [2]), ("idb6x_2016_t1", "course-v1:IDBx+IDB6x+2016_T1", [1, 2])]
    # learners go to the courses they are enrolled in (bob to both); staff enrolled nowhere is left out, and said so
    users = con.execute(
        "SELECT course_key, course_id, list(username ORDER BY id) FROM auth_user GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert users == [
        ("idb1x_2t2014", "IDBx/IDB1x/2T2014", ["bob"]),
        ("idb6x_2016_t1", "course-v1:IDBx+IDB6x+2016_T1", ["ana", "bob"]),
    ]
    assert "auth_user: 1 row(s) of learners enrolled in no course, left out" in outcome.notes
    # rows that cannot land name their line: a bad time in its course, a bad course id in no course
    rejects = con.execute("SELECT table_name, course_key, line_number, reason FROM table_rejects ORDER BY line_number").fetchall()
    assert [r[:3] for r in rejects] == [
        ("student_courseenrollment", "_unassigned", 7),
        ("student_courseenrollment", "idb1x_2t2014", 8),
    ]
    assert rejects[0][3] == "course_id is not an edX course id" and "created" in rejects[1][3]
    assert (outcome.rows, outcome.rejects) == (6, 2)
    # unchanged: skipped; changed so that a course has gone: its partitions go with it
    assert ingest_package([folder], lake, None).count("unchanged") == 1
    (folder / "edxapp.sql").write_text(
        DUMP.replace("(3,2,'IDBx/IDB1x/2T2014'", "(3,2,'course-v1:IDBx+IDB6x+2016_T1'").replace(
            "(5,3,'IDBx/IDB1x/2T2014','yesterday'", "(5,3,'course-v1:IDBx+IDB6x+2016_T1','yesterday'"
        )
    )
    again = ingest_package([folder], lake, None)
    assert again.count("ingested") == 1 and not again.failed
    assert sorted(p.name for p in lake.bronze.glob("*/snapshot_date=2016-08-01/course=*/data.parquet")) == ["data.parquet"] * 2
    assert not list(lake.bronze.glob("**/course=idb1x_2t2014/*"))


def test_the_corpus_dumps_split_by_their_course_ids(corpus, lake, tmp_path):
    folder = delivery(
        tmp_path,
        {
            name: (corpus / "mysql_dumps" / name).read_bytes()
            for name in ("load_course_groups_courseusergroup.sql", "load_student_courseenrollment.sql")
        },
    )
    summary = ingest_package([folder], lake, None)
    assert not summary.failed and summary.rejects == 0
    con = catalog(lake)
    groups = con.execute("SELECT course_key, course_id, name FROM course_groups_courseusergroup ORDER BY id").fetchall()
    assert groups == [
        ("demox_demo_course", "edX/DemoX/Demo_Course", "Group 1"),
        ("demox_demo_course_2", "edX/DemoX/Demo_Course_2", "Group 2"),
        ("demox_demo_course_2015", "course-v1:edX+DemoX+Demo_Course_2015", "Group 3"),
    ]
    assert con.execute("SELECT course_key, count(*) FROM student_courseenrollment GROUP BY 1 ORDER BY 1").fetchall() == [
        ("open_demox_edx_demo_course", 6),
        ("open_demox_edx_demo_course2", 1),
    ]


def test_a_sql_file_that_names_no_course_and_is_no_dump_fails_clearly(lake, tmp_path):
    folder = delivery(tmp_path, {"enrollments.sql": "id\tuser_id\tcourse_id\n1\t1\tIDBx/IDB1x/2T2014\n"})
    summary = ingest_package([folder], lake, None)
    assert len(summary.failed) == 1 and "cannot tell which course it holds" in summary.failed[0].error


def test_forum_lines_that_are_not_posts_are_rejected_with_their_line(lake, tmp_path):
    folder = delivery(
        tmp_path,
        {
            "IDBx-IDB6x-2016_T1-prod.mongo": (
                '{"_id": {"$oid": "a1"}, "_type": "CommentThread", "author_id": "1", "author_username": "ana", "body": "hola",'
                ' "title": "t", "created_at": {"$date": "2016-02-01T10:00:00Z"}}\n'
                '{"_id": {"$oid": "a2"}, "_type": "Comment", "author_id": "2", "comment_thread_id": {"$oid": "a1"}, "body": '
                '"ok"}\n'
                '{"_id": {"$oid": "a3"}, "_type": "Comment", "body": \n'
                "\n"
                '{"_id": {"$oid": "a4"}, "_type": "Comment", "author_id": "2", "body": "lost thread"}\n'
            )
        },
    )
    summary = ingest_package([folder], lake, None)
    assert (summary.rows, summary.rejects) == (2, 2) and summary.files[0].notes == ["1 blank line(s)"]
    con = catalog(lake)
    assert con.execute("SELECT post_id, thread_id, author_id, course_id FROM forum_posts ORDER BY 1").fetchall() == [
        ("a1", "a1", 1, "course-v1:IDBx+IDB6x+2016_T1"),
        ("a2", "a1", 2, "course-v1:IDBx+IDB6x+2016_T1"),
    ]
    assert con.execute("SELECT table_name, course_key, line_number, reason FROM table_rejects ORDER BY 3").fetchall() == [
        ("forum_posts", "idb6x_2016_t1", 3, "malformed JSON"),
        ("forum_posts", "idb6x_2016_t1", 5, "comment without comment_thread_id"),
    ]


def test_a_forum_dump_without_a_single_post_fails(lake, tmp_path):
    folder = delivery(tmp_path, {"IDBx-IDB6x-2016_T1-prod.mongo": "<html>404</html>\n"})
    summary = ingest_package([folder], lake, None)
    assert "none of its 1 lines is a forum post; line 1: malformed JSON" in summary.failed[0].error
    assert not (lake.bronze / "forum_posts").exists()


def test_the_export_stands_in_for_a_missing_structure(lake, tmp_path):
    course_id = "course-v1:IDBx+IDB6x+2016_T1"
    export = course_export(course_structure(course_id, 1))
    folder = delivery(tmp_path, {"IDBx-IDB6x-2016_T1-course-prod-analytics.xml.tar.gz": export})
    summary = ingest_package([folder], lake, None)
    assert not summary.failed and summary.files[0].rows == 1 + 5
    con = catalog(lake)
    chapters = con.execute(
        "SELECT block_id, display_name, position, depth, chapter_id = block_id, start FROM course_blocks "
        "WHERE block_type = 'chapter' ORDER BY position"
    ).fetchall()
    assert [c[0] for c in chapters] == [f"block-v1:IDBx+IDB6x+2016_T1+type@chapter+block@ch0{i}" for i in range(1, 6)]
    assert chapters[0][1:5] == ("Módulo 1", 1, 1, True) and str(chapters[1][5]) == "2016-03-08 00:00:00"
    kept = lake.landing / "idbx-2016-08-01" / "IDBx-IDB6x-2016_T1-course-prod-analytics.xml.tar.gz"
    assert kept.read_bytes() == export
    # a structure JSON in a later delivery wins; the export is then only kept
    with tarfile.open(fileobj=io.BytesIO(export)) as archive:
        assert "course/course/course.xml" in archive.getnames()
    later = delivery(
        tmp_path,
        {
            "IDBx-IDB6x-2016_T1-course-prod-analytics.xml.tar.gz": export,
            "IDBx-IDB6x-2016_T1-course_structure-prod-analytics.json": json.dumps(course_structure(course_id, 1)),
        },
        name="idbx-2016-08-08",
    )
    summary = ingest_package([later], lake, None)
    blocks = len(course_structure(course_id, 1))
    assert [(f.dataset, f.rows) for f in summary.files] == [("course_blocks", blocks), ("course_export", 0)]
    assert catalog(lake).execute("SELECT count(*) FROM course_blocks").fetchall() == [(blocks,)]


def test_a_kept_export_is_never_replaced(lake, tmp_path):
    name = "IDBx-IDB6x-2016_T1-course-prod-analytics.xml.tar.gz"
    folder = delivery(tmp_path, {name: b"first delivery", "IDBx-IDB6x-2016_T1-course_structure-prod-analytics.json": "{}"})
    assert not ingest_package([folder], lake, None).failed
    (folder / name).write_bytes(b"another file, same name, same day")
    summary = ingest_package([folder], lake, None)
    assert "already holds another file of that name; kept files are never replaced" in summary.failed[0].error
    assert (lake.landing / "idbx-2016-08-01" / name).read_bytes() == b"first delivery"


def test_two_files_for_one_partition_in_one_run(lake, tmp_path):
    table = "id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n1\t1\tIDBx/IDB1x/2T2014\t2016-01-01 00:00:00\t1\thonor\n"
    folder = delivery(
        tmp_path,
        {
            "IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql": table,
            "IDBx-IDB1x-2T2014-student_courseenrollment-edge-analytics.sql": table,
        },
    )
    summary = ingest_package([folder], lake, None, snapshot_date=date(2016, 8, 1))
    assert len(summary.failed) == 1 and "already lands bronze/student_courseenrollment" in summary.failed[0].error


USERS_ONLY_DUMP = """-- mysqldump edxapp auth_user: the users of every course, no enrolment table
CREATE TABLE `auth_user` (`id` int(11), `username` varchar(30), `email` varchar(75), `date_joined` datetime);
INSERT INTO `auth_user` VALUES (1,'ana','ana@example.org','2015-01-01 00:00:00'),
(2,'bob','bob@example.org','2015-01-01 00:00:00'),
(9,'staff','staff@example.org','2015-01-01 00:00:00');
"""


def test_a_dump_without_enrolments_assigns_its_users_by_the_enrolments_the_lake_knows(lake, tmp_path):
    from idbx.ingest.events import ingest_events

    # nothing known yet: refused, naming what to land first
    refused = ingest_package([delivery(tmp_path, {"edxapp.sql": USERS_ONLY_DUMP}, "idbx-2016-08-01")], lake, None)
    assert len(refused.failed) == 1 and "neither the dump nor the lake knows an enrolment" in refused.failed[0].error
    # ana enrolled by an event (a staff member enrolling her: the body names her), bob by an earlier table
    log = tmp_path / "events.log"
    log.write_text(
        json.dumps(
            {
                "username": "staff",
                "event_type": "edx.course.enrollment.activated",
                "event_source": "server",
                "time": "2016-07-01T10:00:00+00:00",
                "context": {"user_id": 9, "course_id": "course-v1:IDBx+IDB6x+2016_T1"},
                "event": {"user_id": 1, "course_id": "course-v1:IDBx+IDB6x+2016_T1", "mode": "audit"},
            }
        )
        + "\n"
    )
    assert not ingest_events([log], lake, log_date=date(2016, 7, 1)).failed
    earlier = delivery(
        tmp_path,
        {
            "IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql": (
                "id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n1\t2\tIDBx/IDB1x/2T2014\t2016-01-01 00:00:00\t1\thonor\n"
            )
        },
        "idbx-2016-07-25",
    )
    assert not ingest_package([earlier], lake, None).failed
    summary = ingest_package([delivery(tmp_path, {"edxapp.sql": USERS_ONLY_DUMP}, "idbx-2016-08-01")], lake, None)
    assert not summary.failed, [f.error for f in summary.failed]
    users = (
        catalog(lake).execute("SELECT course_key, list(username ORDER BY id) FROM auth_user GROUP BY ALL ORDER BY 1").fetchall()
    )
    assert users == [("idb1x_2t2014", ["bob"]), ("idb6x_2016_t1", ["ana"])]
    assert "auth_user: 1 row(s) of learners enrolled in no course, left out" in summary.files[0].notes
