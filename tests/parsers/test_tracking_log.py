"""The tracking-log parser on the corpus logs and on hand-written dirty lines."""

import datetime as dt
import gzip
import io
import json

import duckdb
import pytest

from idbx.errors import StreamError
from idbx.parsers import tracking_log as tl
from tests.conftest import CORPUS as CORPUS_ROOT

CORPUS = sorted((CORPUS_ROOT / "events").glob("*.log"))


def parse(path):
    con = duckdb.connect()
    p = tl.TrackingLogParse(con, path)
    rel = p.accepted
    rows = rel.fetchall()
    cols = rel.columns
    out = sorted((dict(zip(cols, r, strict=True)) for r in rows), key=lambda r: r["line_number"])
    return out, p.rejects.to_pylist(), p.counts, con


def write(tmp_path, lines, gz=True, name="t.log"):
    data = b"\n".join(lines)
    path = tmp_path / (name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)
    return str(path)


def ev(**kw):
    d = {
        "username": "u",
        "event_type": "x",
        "event_source": "server",
        "time": "2014-04-18T17:09:59.941616+00:00",
        "context": {"user_id": 7},
        "event": {},
    }
    d.update(kw)
    return json.dumps(d).encode()


# ---------------------------------------------------------------- line reading


def test_read_lines_exact_on_hostile_bytes(tmp_path):
    lines = [
        b"a",
        b"",
        b'tab\there, comma "q" back\\slash',
        b"\xff\xfe",
        b"nul\x00x",
        b"cr\rinside",
        b"x" * 3_000_000,
        b"last-without-newline",
    ]
    for gz in (True, False):
        counter = {}
        t = tl.read_lines(write(tmp_path, lines, gz=gz), chunk_bytes=4096, counter=counter).read_all()
        assert t["line_number"].to_pylist() == [n for n in range(1, len(lines) + 1) if n != 2]  # empty: counted only
        assert t["raw"].to_pylist() == [line for line in lines if line]
        assert counter == {"empty": 1, "lines": len(lines)}


def test_lines_over_the_limit_keep_their_head_and_length(tmp_path):
    lines = [b"a", b"y" * 10_000, b"b", b"z" * 50_000, b"x" * 100, b"w" * 9_000]  # long ones within and across chunks
    for gz in (True, False):
        t = tl.read_lines(write(tmp_path, lines, gz=gz), chunk_bytes=4096, max_line=5_000).read_all().to_pylist()
        assert [r["line_number"] for r in t] == [1, 2, 3, 4, 5, 6]
        assert [r["overlong"] for r in t] == [None, 10_000, None, 50_000, None, 9_000]
        assert [len(r["raw"]) for r in t] == [1, tl._HEAD_BYTES, 1, tl._HEAD_BYTES, 100, tl._HEAD_BYTES]


def test_bom_is_dropped_and_lone_cr_line_endings_are_refused(tmp_path):
    t = tl.read_lines(io.BytesIO(b"\xef\xbb\xbfa\nb")).read_all()
    assert t["raw"].to_pylist() == [b"a", b"b"]
    with pytest.raises(StreamError, match="CR"):
        tl.read_lines(io.BytesIO(b"a\rb\rc\r")).read_all()


def test_read_lines_from_file_object_and_trailing_newline():
    t = tl.read_lines(io.BytesIO(b"a\nb\n")).read_all()
    assert t["raw"].to_pylist() == [b"a", b"b"]


# ---------------------------------------------------------------- corpus


@pytest.mark.skipif(not CORPUS, reason="../shared/corpus is not present")
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_counts_match_python(path):
    raw = path.read_bytes().split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    blank = sum(1 for l in raw if not l.strip())
    comment = sum(1 for l in raw if l.lstrip().startswith(b"#"))
    uniq_json = len({l for l in raw if l.strip() and not l.lstrip().startswith(b"#")})
    rows, rejects, counts, _ = parse(path)
    assert counts["lines"] == len(raw)
    assert counts["blank"] == blank
    assert [r["reason"] for r in rejects] == ["comment line"] * comment
    assert counts["accepted"] == len(rows) == uniq_json
    assert counts["lines"] == counts["accepted"] + counts["rejected"] + counts["blank"] + counts["duplicate"]
    for r in rows:  # line numbers point at the right line
        src = json.loads(raw[r["line_number"] - 1])
        assert r["username"] == src["username"]
        assert r["event_type"] == src.get("event_type")
        assert r["time"] is not None


def test_corpus_event_string_vs_object(corpus):
    rows, _, _, _ = parse(corpus / "events" / "obfuscation_tracking.log")
    by_line = {r["line_number"]: r for r in rows}
    assert json.loads(by_line[1]["event"]) == {"POST": {}, "GET": {}}  # JSON in a string
    assert json.loads(by_line[4]["event"]) == "input_f6aaf7381cd6e8e80804_2_1=choice_2"  # non-JSON string


# ---------------------------------------------------------------- dirty lines


def test_dirty_lines(tmp_path):
    lines = [
        ev(username="ok1"),  # 1
        b'{"username": "trunc", "time": "2014-04-18T17:',  # 2 truncated
        b'{"username": "n\x00ul", "time": "2014-04-18T17:09:59Z"}',  # 3 NUL
        b'{"username": "bad\xff", "time": "2014-04-18T17:09:59Z"}',  # 4 invalid UTF-8
        json.dumps({"username": "notime", "event": {}}).encode(),  # 5 missing time
        ev(username="badtime", time="yesterday"),  # 6 bad time
        b"",  # 7 blank
        b"# comment",  # 8 comment
        ev(username="dup"),  # 9
        ev(username="dup"),  # 10 exact duplicate
        b"[1, 2]",  # 11 not an object
        ev(username='tab\t"q",\\'),  # 12 escaped specials
        b'{"username": "rawtab\t", "time": "2014-04-18T17:09:59Z"}',  # 13 raw control char
        ev(username="ok14"),  # 14
    ]
    rows, rejects, counts, _ = parse(write(tmp_path, lines))
    assert {r["line_number"]: r["reason"] for r in rejects} == {
        2: "malformed JSON",
        3: "NUL byte",
        4: "invalid UTF-8",
        5: "missing time",
        6: "unparseable time: yesterday",
        8: "comment line",
        11: "not a JSON object",
        13: "malformed JSON",
    }
    assert rejects[0]["raw"] == lines[1].decode()
    assert [r["line_number"] for r in rows] == [1, 9, 12, 14]
    assert rows[2]["username"] == 'tab\t"q",\\'
    assert counts == {"lines": 14, "accepted": 4, "rejected": 8, "blank": 1, "duplicate": 1}


def test_raw_clipped(tmp_path):
    _, rejects, _, _ = parse(write(tmp_path, [b"{" + b"x" * 5000]))
    assert len(rejects[0]["raw"]) == 2000


def test_long_line_accepted(tmp_path):
    rows, _, _, _ = parse(write(tmp_path, [ev(event={"big": "y" * 2_000_000}), ev()]))
    assert len(rows) == 2 and len(rows[0]["event"]) > 2_000_000


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2014-04-18T17:09:59.941616+00:00", dt.datetime(2014, 4, 18, 17, 9, 59, 941616)),
        ("2014-04-18T17:09:59+00:00", dt.datetime(2014, 4, 18, 17, 9, 59)),
        ("2014-04-18T17:09:59.941616Z", dt.datetime(2014, 4, 18, 17, 9, 59, 941616)),
        ("2014-04-18T12:09:59.5-05:00", dt.datetime(2014, 4, 18, 17, 9, 59, 500000)),
        ("2014-04-18T22:39:59+0530", dt.datetime(2014, 4, 18, 17, 9, 59)),
        ("2014-04-18T17:09:59.941616", dt.datetime(2014, 4, 18, 17, 9, 59, 941616)),
        ("2014-04-18 17:09:59", dt.datetime(2014, 4, 18, 17, 9, 59)),
        ("2014-13-45T00:00:00Z", None),
        ("", None),
        ("yesterday", None),
        ("2014-04-18T17:09:59+99:99", None),
        ("2014-04-18T17:09:59-0575", None),
    ],
)
def test_time_normalisation_independent_of_session_timezone(value, expected):
    for tz in ("UTC", "America/Bogota", "Asia/Kolkata"):
        con = duckdb.connect()
        con.execute(f"SET TimeZone='{tz}'")
        got = con.execute(f"SELECT {tl.time_utc_sql('v')} FROM (SELECT ?::VARCHAR AS v)", [value]).fetchall()[0][0]
        assert got == expected, (tz, value)


def test_epoch_times_land_as_the_same_instant_as_iso_times(tmp_path):
    """Collectors that write `time` as a JSON number of seconds or milliseconds: the same UTC
    instant as edX's ISO forms; a string of digits, microseconds or a non-number stay rejects,
    and the time window still applies."""
    same = [
        "2016-10-12T10:00:00Z",
        "2016-10-12T05:00:00-05:00",
        "2016-10-12 10:00:00",
        "2016-10-12T10:00:00.000000+00:00",
        1476266400,
        1476266400000,
        1476266400.0,
    ]
    lines = [ev(time=value) for value in same] + [
        ev(time="E").replace(b'"E"', b"1.4762664E9"),
        ev(time=1476266400.25),
        ev(time=1476266400250.5),
        ev(time="1476266400"),
        ev(time=1476266400000000),
        ev(time=-1476266400),
        ev(time=True),
        ev(time=[1476266400]),
        ev(time=1300000000),
        ev(time=99_999_999_999_999),
    ]
    con = duckdb.connect()
    con.execute("SET TimeZone='America/Bogota'")
    parse = tl.TrackingLogParse(con, write(tmp_path, lines), day=dt.date(2016, 10, 12))
    rows = sorted(parse.accepted.fetchall(), key=lambda row: row[0])
    noon = dt.datetime(2016, 10, 12, 10, 0)
    assert [row[1] for row in rows] == [noon] * 8 + [
        noon + dt.timedelta(microseconds=250_000),
        noon + dt.timedelta(microseconds=250_500),
    ]
    assert {r["line_number"]: r["reason"] for r in parse.rejects.to_pylist()} == {
        11: "unparseable time: 1476266400",
        12: "unparseable time: 1476266400000000",
        13: "unparseable time: -1476266400",
        14: "unparseable time: true",
        15: "unparseable time: [1476266400]",
        16: "time before edX existed: 1300000000",
        17: "time over 7 days after the file's day (2016-10-12): 99999999999999",
    }


def test_user_id_fallbacks_and_fields(tmp_path):
    lines = [
        ev(context={"user_id": 5}),  # int
        ev(context={"user_id": "6"}),  # numeric string
        ev(context={"user_id": ""}, event={"user_id": 8}),  # empty -> event body
        ev(context={"user_id": None}, event=json.dumps({"user_id": 9})),  # null -> body in string event
        ev(context={"user_id": "abc"}),  # not numeric -> null
        ev(context={}, event="plain text"),  # none
        ev(
            context={"user_id": 1, "org_id": "edX", "course_id": "", "received_at": "2014-04-18T17:10:00.5"},
            event_source="mobile",
            page=None,
            ip="1.2.3.4",
            agent="UA",
            host="h",
            referer="r",
            accept_language="es",
            session="s",
            name="n",
        ),
    ]
    rows, _, _, _ = parse(write(tmp_path, lines))
    assert [r["user_id"] for r in rows] == [5, 6, 8, 9, None, None, 1]
    last = rows[-1]
    assert last["received_at"] == dt.datetime(2014, 4, 18, 17, 10, 0, 500000)
    assert last["course_id"] is None and last["org_id"] == "edX"
    assert (
        last["ip"],
        last["agent"],
        last["host"],
        last["referer"],
        last["accept_language"],
        last["session"],
        last["name"],
        last["event_source"],
    ) == ("1.2.3.4", "UA", "h", "r", "es", "s", "n", "mobile")
    assert json.loads(rows[5]["event"]) == "plain text"
    assert json.loads(rows[3]["event"]) == {"user_id": 9}
    assert json.loads(last["context"])["org_id"] == "edX"


def test_output_types(tmp_path):
    con = duckdb.connect()
    p = tl.TrackingLogParse(con, write(tmp_path, [ev()]))
    types = dict(zip(p.accepted.columns, map(str, p.accepted.types), strict=True))
    assert types["time"] == "TIMESTAMP" and types["received_at"] == "TIMESTAMP"
    assert types["user_id"] == "BIGINT" and types["line_number"] == "BIGINT"
    assert types["context"] == "JSON" and types["event"] == "JSON"
    assert list(types) == tl.ACCEPTED_COLUMNS


@pytest.mark.parametrize(
    "ctx_course,event,page,event_type,expected",
    [
        ("course-v1:A+B+C", {}, None, "x", "course-v1:A+B+C"),
        ("", {"course_id": "A/B/C"}, None, "x", "A/B/C"),
        (None, {}, "https://h/courses/course-v1:edX+DemoX+Demo_Course/courseware/a/b/", "x", "course-v1:edX+DemoX+Demo_Course"),
        (None, {}, "https://h/courses/edX/DemoX/Demo_Course/courseware/a/", "x", "edX/DemoX/Demo_Course"),
        (None, {}, "https://h/courses/course-v1:edX%2BDemoX%2BT1/info?x=1", "x", "course-v1:edX+DemoX+T1"),
        (
            None,
            {},
            None,
            "/courses/course-v1:edX+DemoX+Demo_Course/xblock/block-v1:edX+DemoX+Demo_Course+type@video+block@1/handler/x",
            "course-v1:edX+DemoX+Demo_Course",
        ),
        (None, {}, None, "/courses/edX/DemoX/Demo_Course/info", "edX/DemoX/Demo_Course"),
        (None, json.dumps({"course_id": "course-v1:X+Y+Z"}), None, "x", "course-v1:X+Y+Z"),
        (None, {}, "https://h/dashboard", "/courses", None),
    ],
)
def test_course_id_resolution(tmp_path, ctx_course, event, page, event_type, expected):
    ctx = {"user_id": 1} if ctx_course is None else {"user_id": 1, "course_id": ctx_course}
    path = write(tmp_path, [ev(context=ctx, event=event, page=page, event_type=event_type)])
    con = duckdb.connect()
    p = tl.TrackingLogParse(con, path)
    got = con.sql(f"SELECT {tl.course_id_sql()} FROM ({p.accepted_sql})").fetchall()
    assert got == [(expected,)]


def test_duplicates_across_many_batches(tmp_path):
    lines = [ev(username=f"u{i}") for i in range(3000)]
    lines += [lines[i] for i in range(0, 3000, 7)]  # repeats of much earlier lines
    lines += [ev(username=f"v{i}") for i in range(500)]
    con = duckdb.connect()
    p = tl.TrackingLogParse(con, write(tmp_path, lines), chunk_bytes=4096)
    kept = sorted(r[0] for r in p.accepted.fetchall())
    assert p.counts["duplicate"] == len(range(0, 3000, 7))
    assert p.counts["accepted"] == 3500 == len(kept)
    assert kept == list(range(1, 3001)) + list(range(3001 + 429, 3001 + 429 + 500))


def test_hash_set_keeps_few_sorted_runs():
    import numpy as np

    seen = tl._HashSet()
    rng = np.random.default_rng(7)
    values = np.unique(rng.integers(0, 2**63, 50_000, dtype=np.uint64))
    rng.shuffle(values)
    for chunk in np.array_split(values, 200):
        fresh = np.unique(chunk)
        assert not seen.contains(fresh).any()
        seen.add(fresh)
    assert seen.contains(np.sort(values)).all()
    assert len(seen.runs) <= 10 and sum(len(r) for r in seen.runs) == len(values)


def test_reader_thread_ends_when_the_consumer_stops_early(tmp_path):
    import threading
    import time

    path = write(tmp_path, [ev(username=f"u{i}") for i in range(20000)])
    batches = tl.iter_line_batches(path, chunk_bytes=4096, prefetch=2)
    next(batches)
    batches.close()  # as when DuckDB abandons a failed query
    deadline = time.time() + 5
    while any(t.name == "tracking-log-inflate" for t in threading.enumerate()) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "tracking-log-inflate" for t in threading.enumerate())
