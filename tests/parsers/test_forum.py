"""Forum mongoexport lines → forum_posts rows, malformed lines rejected with their line numbers."""

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb

from idbx.parsers import forum
from idbx.parsers.tables import TABLES
from idbx.parsers.tracking_log import read_lines

THREAD = {
    "_id": {"$oid": "5a0000000000000000000001"},
    "_type": "CommentThread",
    "author_id": "7",
    "author_username": "ana",
    "title": "¿Plazo?",
    "body": 'Hola\n"todos"',
    "course_id": "course-v1:IDBx+IDB6x+2016_T1",
    "created_at": {"$date": "2016-01-02T03:04:05.678Z"},
    "updated_at": {"$date": 1451703845678},
    "last_activity_at": {"$date": {"$numberLong": "1451703845678"}},
    "comment_count": 2,
    "votes": {"up": ["8"], "up_count": 3, "down_count": 1},
    "anonymous": False,
    "anonymous_to_peers": True,
    "commentable_id": "general",
    "thread_type": "question",
    "closed": False,
    "pinned": True,
}
COMMENT = {
    "_id": {"$oid": "5a0000000000000000000002"},
    "_type": "Comment",
    "author_id": "8",
    "author_username": "bob",
    "body": "Sí",
    "course_id": "course-v1:IDBx+IDB6x+2016_T1",
    "comment_thread_id": {"$oid": "5a0000000000000000000001"},
    "created_at": {"$date": "2016-01-02T05:00:00-05:00"},
    "endorsed": True,
}
REPLY = {
    "_id": {"$oid": "5a0000000000000000000003"},
    "_type": "Comment",
    "author_id": "7",
    "comment_thread_id": {"$oid": "5a0000000000000000000001"},
    "parent_id": {"$oid": "5a0000000000000000000002"},
    "created_at": "2016-01-03T00:00:00Z",
}


def parse(path: Path) -> tuple[list[dict], list[tuple]]:
    con = duckdb.connect()
    con.register("lines", read_lines(path, prefetch=0))
    relation = con.sql(forum.posts_sql("lines"))
    rows = [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]
    accepted = [row for row in rows if row["reject_reason"] is None]
    rejected = [
        (row["line_number"], row["reject_reason"], row["raw_text"]) for row in rows if row["reject_reason"] not in (None, "blank")
    ]
    return accepted, rejected


def test_threads_comments_and_replies(tmp_path):
    path = tmp_path / "f.mongo"
    path.write_text("\n".join(json.dumps(doc, ensure_ascii=False) for doc in (THREAD, COMMENT, REPLY)) + "\n")
    accepted, rejected = parse(path)
    assert rejected == []
    thread, comment, reply = accepted
    assert {k: thread[k] for k in ("post_id", "post_type", "thread_id", "parent_id", "author_id", "author_username")} == {
        "post_id": "5a0000000000000000000001",
        "post_type": "CommentThread",
        "thread_id": "5a0000000000000000000001",
        "parent_id": None,
        "author_id": 7,
        "author_username": "ana",
    }
    assert (thread["title"], thread["body"]) == ("¿Plazo?", 'Hola\n"todos"')
    # $date as an ISO string, as milliseconds, and as $numberLong all give the same UTC time
    moment = datetime(2016, 1, 2, 3, 4, 5, 678000)
    assert thread["created_at"] == thread["updated_at"] == thread["last_activity_at"] == moment
    assert (thread["votes_up"], thread["votes_down"], thread["comment_count"]) == (3, 1, 2)
    assert (thread["anonymous"], thread["anonymous_to_peers"], thread["closed"], thread["pinned"]) == (False, True, False, True)
    assert (thread["commentable_id"], thread["thread_type"]) == ("general", "question")
    assert (comment["thread_id"], comment["parent_id"], comment["endorsed"]) == ("5a0000000000000000000001", None, True)
    assert comment["created_at"] == datetime(2016, 1, 2, 10, 0)
    assert (reply["thread_id"], reply["parent_id"]) == ("5a0000000000000000000001", "5a0000000000000000000002")
    assert reply["created_at"] == datetime(2016, 1, 3) and reply["comment_count"] is None


def test_malformed_lines_are_rejected_with_their_line_numbers(tmp_path):
    path = tmp_path / "f.mongo"
    lines = [
        json.dumps(THREAD).encode(),
        b"",
        b'{"_id": {"$oid": "x"}, "_type": "Comment", "body": "no thread"}',
        b'{"_id": {"$oid": "u"}, "_type": "User"}',
        b'{"_type": "Comment"}',
        b'{"_id": "t9", "_type": "CommentThread", "author_id": "someone"}',
        b'{"_id": {"$oid": "5a"}, "_type": "CommentThread", "body": "cut',
        b"[1, 2]",
        b'{"_id": "bad\xff", "_type": "Comment"}',
        json.dumps(COMMENT).encode(),
    ]
    path.write_bytes(b"\n".join(lines))  # no newline after the last line: still a line
    accepted, rejected = parse(path)
    assert [row["line_number"] for row in accepted] == [1, 10]
    assert [(line, reason) for line, reason, _ in rejected] == [
        (3, "comment without comment_thread_id"),
        (4, "not a forum post: _type User"),
        (5, "missing _id"),
        (6, "author_id is not a number: someone"),
        (7, "malformed JSON"),
        (8, "not a JSON object"),
        (9, "invalid UTF-8"),
    ]
    assert rejected[4][2] == lines[6].decode() and rejected[6][2].startswith('{"_id": "bad')


def test_the_columns_are_the_declared_ones(tmp_path):
    path = tmp_path / "f.mongo"
    path.write_text(json.dumps(THREAD) + "\n")
    con = duckdb.connect()
    con.register("lines", read_lines(path, prefetch=0))
    relation = con.sql(forum.posts_sql("lines"))
    types = dict(zip(relation.columns, (str(t) for t in relation.types), strict=True))
    for column in TABLES["forum_posts"].columns:
        assert types[column.name] == column.type, column.name


def test_corpus_posts_per_author_match_the_file(corpus):
    path = corpus / "package" / "edX-DemoX-Demo_Course" / "edX-DemoX-Demo_Course-acceptance.mongo"
    docs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    accepted, rejected = parse(path)
    assert rejected == []
    assert Counter(row["author_id"] for row in accepted) == Counter(int(doc["author_id"]) for doc in docs)
    assert [row["post_id"] for row in accepted] == [doc["_id"]["$oid"] for doc in docs]
    assert [row["parent_id"] for row in accepted] == [doc.get("parent_id", {}).get("$oid") for doc in docs]
