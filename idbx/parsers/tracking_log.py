"""Parse edX tracking logs (JSON lines, usually ``.log.gz``) into a typed DuckDB relation.

One streaming pass, no Python loop per line::

    file --(Arrow, exact '\\n' split, 1-based line numbers)--> DuckDB SQL (classify + extract)
         --> router (rejects set aside, blanks counted, exact duplicates dropped) --> caller's COPY

The router is a side-effecting Arrow UDF in the query's WHERE clause, so the pipeline stays
file -> DuckDB -> COPY (DuckDB's Python UDFs need numpy).

Why this shape (measured, see the prototype report):

* DuckDB's own readers cannot give exact line numbers on dirty input: ``read_csv`` drops
  invalid-UTF-8 lines (so ``row_number()`` shifts), splits on a lone ``\\r`` even with
  ``new_line='\\n'``, silently truncates a line containing the delimiter when
  ``strict_mode=false`` and fails on lines > 2 MB by default; ``read_json`` has no line number.
  So lines are split here, as bytes, by pyarrow (``split_pattern`` per multi-MB chunk),
  and handed to DuckDB as ``(line_number BIGINT, raw BLOB)``; UTF-8 is checked in SQL.
* All envelope fields come from ONE ``json_extract_string(txt, [paths])`` call (one parse);
  a ``json_valid`` guard is cheaper than ``TRY(...)``, which falls back to row-at-a-time.
* Rejects and duplicates are decided in the same pass, per batch, so the file is read and
  parsed once and the accepted rows stream straight into ``COPY``; memory does not grow with
  the file except the set of 64-bit line hashes needed for exact de-duplication (8 bytes per
  distinct line: 32 MB at 4x10^6 lines).
* Which copy of a duplicated line is kept (its line_number) is the first one *routed*; with
  ``preserve_insertion_order=false`` that is not necessarily the lowest line number.
* Python code here runs per chunk or per batch of lines (Arrow compute), never per line.

Typical use (the caller owns the writing)::

    p = TrackingLogParse(con, "day.log.gz")
    p.accepted.to_parquet(...)   # or con.execute(f"COPY ({p.accepted_sql}) TO ...")
    p.rejects                     # pyarrow Table: line_number, reason, raw
    p.counts                      # lines, accepted, rejected, blank, duplicate

``p.accepted`` can be consumed once (it reads the file as it goes). Set
``preserve_insertion_order=false`` on the connection for the fast path (rows then come out in
no particular order; ``line_number`` keeps the order).
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import BinaryIO

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from idbx.config import DEFAULT_MAX_LINE_MB
from idbx.errors import StreamError
from idbx.parsers import RAW_CLIP
from idbx.parsers.event_fields import DERIVED_EVENT_COLUMNS, with_event_fields
from idbx.parsers.lines import LineCount
from idbx.parsers.naming import course_key_sql
from idbx.quoting import sql_string

LINES_SCHEMA = pa.schema([("line_number", pa.int64()), ("raw", pa.binary()), ("overlong", pa.int64())])

# ----------------------------------------------------------------------------- reading lines


def _open(source) -> pa.NativeFile:
    """A pyarrow stream over a path (gzip detected by magic bytes) or a binary file object."""
    f = pa.OSFile(os.fspath(source), "rb") if isinstance(source, (str, os.PathLike)) else pa.PythonFile(source, mode="r")
    try:
        magic = f.read(2)
        f.seek(0)
    except Exception:  # non-seekable stream: caller must pass it already decompressed
        return f
    return pa.CompressedInputStream(f, "gzip") if magic == b"\x1f\x8b" else f


def _prefetched(stream: pa.NativeFile, chunk_bytes: int, depth: int) -> Iterator[bytes]:
    """Read (and gunzip) in a background thread: pyarrow drops the GIL while inflating, so
    decompression overlaps with splitting and with DuckDB's work on the previous chunk. If the
    consumer stops early (a failed query), the reader notices and ends instead of waiting forever."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def hand_over(item) -> bool:
        while not stopped.is_set():
            try:
                q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run():
        try:
            while hand_over(b := stream.read(chunk_bytes)) and b:
                pass
        except BaseException as e:  # surfaced in the consumer
            hand_over(e)
        finally:
            stream.close()

    threading.Thread(target=run, daemon=True, name="tracking-log-inflate").start()
    try:
        while True:
            b = q.get()
            if isinstance(b, BaseException):
                raise b
            if not b:
                return
            yield b
    finally:
        stopped.set()


_BOM = b"\xef\xbb\xbf"
# Of a line over the limit, this much is kept for its reject's raw text (RAW_CLIP characters of UTF-8).
_HEAD_BYTES = 4 * RAW_CLIP


def _split(data: bytes, end: int, first: int, max_line: int, counter: dict) -> tuple[pa.RecordBatch, int]:
    """Split data[:end] on b'\\n' in C (one zero-copy binary value -> split_pattern); lines over
    `max_line` keep only their head and their length; empty lines are counted, not passed on."""
    offsets = pa.array([0, end], pa.int32() if end < 2**31 else pa.int64()).buffers()[1]
    kind = pa.binary() if end < 2**31 else pa.large_binary()
    whole = pa.Array.from_buffers(kind, 1, [None, offsets, pa.py_buffer(data)])
    lines = pc.split_pattern(whole, pattern=b"\n").flatten().cast(pa.binary())
    lengths = pc.binary_length(lines).to_numpy()
    split = len(lengths)
    present = np.flatnonzero(lengths)
    if len(present) < split:
        counter["empty"] = counter.get("empty", 0) + split - len(present)
        lines, lengths = lines.take(present), lengths[present]
    overlong = pa.nulls(len(lines), pa.int64())
    too_long = lengths > max_line
    if too_long.any():
        mask = pa.array(too_long)
        lines = pc.if_else(mask, pc.binary_slice(lines, 0, _HEAD_BYTES), lines)
        overlong = pc.if_else(mask, pa.array(lengths, pa.int64()), overlong)
    numbers = pa.array(present + first, pa.int64())
    return pa.RecordBatch.from_arrays([numbers, lines, overlong], schema=LINES_SCHEMA), split


def _overlong_line(number: int, head: bytes, length: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array([number], pa.int64()), pa.array([head], pa.binary()), pa.array([length], pa.int64())], schema=LINES_SCHEMA
    )


class _PendingLine:
    """The unfinished line carried from chunk to chunk: pieces joined once when it ends (linear
    whatever its length), or, past the limit, only its head and its length."""

    def __init__(self, max_line: int):
        self.max_line = max_line
        self.pieces: list[bytes] = []
        self.length = 0
        self.head: bytes | None = None  # set once the line is over the limit

    def add(self, piece: bytes) -> None:
        self.length += len(piece)
        if self.head is not None:
            self.head += piece[: _HEAD_BYTES - len(self.head)]
        elif self.length > self.max_line:
            self.head = b"".join([*self.pieces, piece[:_HEAD_BYTES]])[:_HEAD_BYTES]
            self.pieces = []
        elif piece:
            self.pieces.append(piece)

    def finish(self, last: bytes) -> tuple[bytes | None, int, bytes]:
        """End the line with `last`: (its head if over the limit, its length, what was carried
        before `last`), and start afresh."""
        carried, length, head = b"".join(self.pieces), self.length + len(last), self.head
        if head is not None or length > self.max_line:
            head = ((head or carried) + last[:_HEAD_BYTES])[:_HEAD_BYTES]
        self.pieces, self.length, self.head = [], 0, None
        return head, length, carried


def _check_start(first: bytes) -> bytes:
    """The first chunk without a UTF-8 BOM; a file whose lines end in a lone CR is refused plainly."""
    if first.startswith(_BOM):
        first = first[len(_BOM) :]
    if b"\n" not in first and b"\r" in first:
        raise StreamError("lines end with CR (\\r) only, not \\n (old Mac line endings): convert the file first")
    return first


def _checked_chunks(chunks: Iterator[bytes], counted: LineCount, max_bytes: int | None) -> Iterator[bytes]:
    """The chunks, the first checked for how the stream starts, each counted, their total held to `max_bytes`."""
    seen = 0
    for buf in chunks:
        if not seen:
            buf = _check_start(buf)
        seen += len(buf)
        counted.feed(buf)
        if max_bytes is not None and seen > max_bytes:
            raise StreamError(
                f"inflates to more than {max_bytes / (1 << 20):,.0f} MB (the limit, "
                "IDBX_MAX_INFLATE_MB); refused as a possible bomb"
            )
        yield buf


def iter_line_batches(
    source,
    chunk_bytes: int = 1 << 20,
    prefetch: int = 4,
    counter: dict | None = None,
    max_line: int = DEFAULT_MAX_LINE_MB << 20,
    max_bytes: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """Yield (line_number, raw, overlong) batches; line i is the i-th b'\\n'-separated piece (1-based).

    Exact for any bytes: NUL, invalid UTF-8, lone CR, tabs, quotes, lines of many MB. A line over
    `max_line` bytes comes with only its head and `overlong` = its length, in time linear in
    its size; empty lines are only counted (`counter["empty"]`). A final line without a trailing
    newline is kept; an empty tail after the last newline is not a line. A UTF-8 BOM is dropped.
    More than `max_bytes` read (after gunzip) fails the stream. ~1 MB chunks measured best:
    smaller batches let DuckDB's threads share work. ``counter["lines"]`` gets the lines counted
    in the raw bytes, apart from the split, for the caller to check that every line was accounted for.
    """
    counter = {} if counter is None else counter
    stream = _open(source)
    counted = LineCount()
    next_line, pending = 1, _PendingLine(max_line)
    chunks = _prefetched(stream, chunk_bytes, prefetch) if prefetch else iter(lambda: stream.read(chunk_bytes), b"")
    for buf in _checked_chunks(chunks, counted, max_bytes):
        nl = buf.find(b"\n")
        if nl < 0:  # the carried line goes on
            pending.add(buf)
            continue
        head, length, carried = pending.finish(buf[:nl])
        if head is not None:
            yield _overlong_line(next_line, head, length)
            next_line += 1
            data, start = buf, nl + 1
        else:
            data, start = (carried + buf if carried else buf), 0
        cut = data.rfind(b"\n")
        if cut >= start:
            batch, count = _split(data[start : cut + 1] if start else data, cut - start, next_line, max_line, counter)
            next_line += count
            if batch.num_rows:
                yield batch
        pending.add(data[max(cut, start - 1) + 1 :])
    head, length, whole = pending.finish(b"")
    if head is not None:
        yield _overlong_line(next_line, head, length)
        next_line += 1
    elif whole:
        batch, count = _split(whole, len(whole), next_line, max_line, counter)
        next_line += count
        if batch.num_rows:
            yield batch
    counter["lines"] = counted.lines


def read_lines(source, **kw) -> pa.RecordBatchReader:
    """Arrow stream of (line_number BIGINT, raw BLOB, overlong BIGINT) for a path or binary file object."""
    return pa.RecordBatchReader.from_batches(LINES_SCHEMA, iter_line_batches(source, **kw))


# ----------------------------------------------------------------------------- SQL pieces

# A valid UTC offset is at most 14 hours (Pacific/Kiritimati) and 59 minutes.
_VALID_OFFSET = "([zZ]|[+-](0[0-9]|1[0-4]):?[0-5][0-9])$"
_ANY_OFFSET = "[+-][0-9][0-9]:?[0-9][0-9]$"
# edX began logging in 2012: an earlier time is a client's broken clock or a forged line.
EDX_EPOCH = datetime(2012, 1, 1)
# A file's events may run past its day (rotation, clients' clocks a little ahead); a week later is
# a broken clock or a forged line.
DAYS_AFTER_FILE = 7


def time_utc_sql(x: str) -> str:
    """SQL turning an edX time string into a UTC ``TIMESTAMP`` (NULL if unparseable or its
    offset is not a real one, such as +99:99).

    TIMESTAMP, not TIMESTAMPTZ: portable to Parquet readers/Spark/Trino without a session time
    zone, and all values are UTC by construction. Pitfalls this avoids: ``CAST(.. AS
    TIMESTAMP)`` silently *drops* an offset ('12:00-05:00' -> 12:00), and ``CAST(.. AS
    TIMESTAMPTZ)`` reads a string *without* offset in the session TimeZone and accepts offsets
    of any size. So strings with a valid offset/Z go through TIMESTAMPTZ and back to UTC;
    strings without one are taken as UTC. Accepts 'T' or space, 0-9 fraction digits, 'Z',
    '+hh:mm', '+hhmm', date only.
    """
    return (
        f"(CASE WHEN regexp_matches({x}, '{_VALID_OFFSET}') "
        f"THEN timezone('UTC', try_cast({x} AS TIMESTAMPTZ)) "
        f"WHEN NOT regexp_matches({x}, '{_ANY_OFFSET}') THEN try_cast({x} AS TIMESTAMP) END)"
    )


# Epoch times some log collectors write in place of edX's ISO string: a JSON number of seconds
# (fraction allowed) or milliseconds. Below 10^11 is seconds (10^11 ms is 1973, 10^11 s the year
# 5138); up to 14 integer digits are read, so microseconds or more stay unparseable.
_EPOCH_NUMBER = "[0-9]{1,14}([.][0-9]+)?"
_JSON_NUMBER_TYPES = "('UBIGINT', 'BIGINT', 'DOUBLE')"


def epoch_time_sql(x: str, json_type: str) -> str:
    """SQL turning an epoch time written as a JSON number into a UTC ``TIMESTAMP`` (NULL for
    anything else). `x` is the value as text, `json_type` SQL giving its JSON type, so that a
    string of digits is not taken for a number; evaluated only for values that look like one."""
    number = f"CAST({x} AS DECIMAL(24, 9))"
    return (
        f"(CASE WHEN regexp_full_match({x}, '{_EPOCH_NUMBER}') AND {json_type} IN {_JSON_NUMBER_TYPES} "
        f"THEN make_timestamp(CAST(round({number} * CASE WHEN {number} < 100000000000 THEN 1000000 ELSE 1000 END) "
        f"AS BIGINT)) END)"
    )


def time_window(day: date | None, now: datetime | None = None) -> tuple[datetime, datetime, str]:
    """Plausible event times for a log: from edX's beginning to a week after the file's day (or,
    for a file of unknown day, to tomorrow), with the reason given past the end."""
    if day is None:
        latest = (now or datetime.now(UTC).replace(tzinfo=None)) + timedelta(days=1)
        return EDX_EPOCH, latest, "time in the future"
    return (
        EDX_EPOCH,
        datetime.combine(day + timedelta(days=DAYS_AFTER_FILE), time.min),
        f"time over {DAYS_AFTER_FILE} days after the file's day ({day})",
    )


def course_from_url_sql(x: str) -> str:
    """Course id inside a URL/path '/courses/<id>/...', new form (course-v1:O+C+R) or old
    (O/C/R); url-decoded (pages may carry 'course-v1:edX%2BDemoX...'). NULL if none."""
    return f"nullif(url_decode(regexp_extract({x}, '/courses/(course-v1:[^/?#]+|[^/?#]+/[^/?#]+/[^/?#]+)', 1)), '')"


def course_id_sql(
    context_course_id: str = "course_id", event: str = "event", page: str = "page", event_type: str = "event_type"
) -> str:
    """Resolved course id: context.course_id, else event body's course_id, else the id in the
    page URL, else in the event_type path; NULL for events of no course. COALESCE is lazy in
    DuckDB, so the later (costlier) branches only run for rows still without an id."""
    return (
        f"coalesce(nullif({context_course_id}, ''), "
        f"nullif(json_extract_string({event}, '$.course_id'), ''), "
        f"{course_from_url_sql(page)}, {course_from_url_sql(event_type)})"
    )


# order matters: f[1] .. f[18] below
_PATHS = [
    "$.time",
    "$.username",
    "$.event_type",
    "$.event_source",
    "$.name",
    "$.ip",
    "$.agent",
    "$.host",
    "$.referer",
    "$.accept_language",
    "$.page",
    "$.session",
    "$.context",
    "$.event",
    "$.context.user_id",
    "$.context.org_id",
    "$.context.course_id",
    "$.context.received_at",
]
_PATHS_SQL = "[" + ", ".join(f"'{p}'" for p in _PATHS) + "]"
_WS = "E' \\t\\r\\n'"


def _as_json(x: str) -> str:
    # extracted value is JSON text (object/array/number) or an unescaped string: keep valid
    # JSON as is, wrap anything else as a JSON string value
    return f"(CASE WHEN {x} IS NOT NULL THEN coalesce(try_cast({x} AS JSON), to_json({x})) END)"


ACCEPTED_COLUMNS = [
    "line_number",
    "time",
    "username",
    "user_id",
    "event_type",
    "event_source",
    "name",
    "ip",
    "agent",
    "host",
    "referer",
    "accept_language",
    "page",
    "session",
    "org_id",
    "course_id",
    "received_at",
    "context",
    "event",
    "line_hash",
]


def line_problem_sql(txt: str, overlong: str = "overlong") -> str:
    """SQL saying what keeps a JSON-lines line (decoded text, NULL when not UTF-8; `overlong`: the
    length of a line over the limit, see `read_lines`) from being a JSON object: a reject reason,
    'blank' for a line to skip, NULL for a JSON object. Tracking logs and forum dumps are cut and
    judged the same way."""
    return f"""CASE
      WHEN {overlong} IS NOT NULL THEN 'line too long: ' || format('{{:,}}', {overlong}) || ' bytes'
      WHEN {txt} IS NULL THEN 'invalid UTF-8'
      WHEN json_valid({txt}) THEN
        CASE WHEN left(ltrim(left({txt}, 64), {_WS}), 1) <> '{{' THEN 'not a JSON object' END
      WHEN contains({txt}, chr(0)) THEN 'NUL byte'
      WHEN trim({txt}, {_WS}) = '' THEN 'blank'
      WHEN starts_with(ltrim({txt}, {_WS}), '#') THEN 'comment line'
      ELSE 'malformed JSON'
    END"""


def classified_sql(lines: str, window: tuple[datetime, datetime, str] | None = None) -> str:
    """SELECT over a (line_number, raw BLOB) relation: every line with ``reject_reason``
    (NULL = accepted, 'blank' = skip) and the typed columns (NULL for rejects).

    ``event``: a string holding JSON becomes that JSON, any other string stays a JSON string,
    an object stays the object. ``user_id``: context.user_id if numeric, else the event body's.
    ``line_hash``: 64-bit ``hash(raw)`` (md5_number cost 4x more CPU here); P(false duplicate)
    ~ n^2/2^65, about 3e-8 for a 10^6-line day. ``window`` (see ``time_window``): times outside
    it are rejected with their reason.
    """
    earliest, latest, too_late = window or time_window(None)
    return f"""
WITH l AS (SELECT line_number, raw, overlong, CASE WHEN overlong IS NULL THEN try(decode(raw)) END AS txt
           FROM {lines}),
r AS (SELECT *, {line_problem_sql("txt")} AS pre FROM l),
x AS (SELECT *, CASE WHEN pre IS NULL THEN json_extract_string(txt, {_PATHS_SQL}) END AS f FROM r),
t AS (SELECT *, coalesce({time_utc_sql("f[1]")}, {epoch_time_sql("f[1]", "json_type(txt, '$.time')")}) AS time_utc FROM x)
SELECT
  line_number,
  coalesce(pre, CASE WHEN f[1] IS NULL THEN 'missing time'
                     WHEN time_utc IS NULL AND regexp_matches(f[1], '{_ANY_OFFSET}')
                       THEN 'invalid UTC offset: ' || left(f[1], 200)
                     WHEN time_utc IS NULL THEN 'unparseable time: ' || left(f[1], 200)
                     WHEN time_utc < TIMESTAMP '{earliest}' THEN 'time before edX existed: ' || left(f[1], 200)
                     WHEN time_utc >= TIMESTAMP '{latest}' THEN {sql_string(too_late + ": ")} || left(f[1], 200)
                END)
    AS reject_reason,
  time_utc AS time,
  f[2] AS username,
  coalesce(try_cast(f[15] AS BIGINT),
           CASE WHEN f[14] IS NOT NULL
                THEN try_cast(json_extract_string(try_cast(f[14] AS JSON), '$.user_id') AS BIGINT)
           END) AS user_id,
  f[3] AS event_type, f[4] AS event_source, f[5] AS name, f[6] AS ip, f[7] AS agent,
  f[8] AS host, f[9] AS referer, f[10] AS accept_language, f[11] AS page, f[12] AS session,
  f[16] AS org_id,
  nullif(f[17], '') AS course_id,
  {time_utc_sql("f[18]")} AS received_at,
  {_as_json("f[13]")} AS context,
  {_as_json("f[14]")} AS event,
  hash(raw) AS line_hash,
  CASE WHEN pre IS NOT NULL OR f[1] IS NULL OR time_utc IS NULL
            OR time_utc < TIMESTAMP '{earliest}' OR time_utc >= TIMESTAMP '{latest}'
       THEN left(coalesce(txt, decode(raw, 'replace')), {RAW_CLIP}) END AS raw_text
FROM t"""


# The bronze `events` columns, in order (the catalog's empty view uses the types): those a line
# lands with, then those derived from its body.
LANDED_EVENT_COLUMNS = {
    "time": "TIMESTAMP",
    "username": "VARCHAR",
    "user_id": "BIGINT",
    "event_type": "VARCHAR",
    "event_source": "VARCHAR",
    "name": "VARCHAR",
    "ip": "VARCHAR",
    "agent": "VARCHAR",
    "host": "VARCHAR",
    "referer": "VARCHAR",
    "accept_language": "VARCHAR",
    "page": "VARCHAR",
    "session": "VARCHAR",
    "org_id": "VARCHAR",
    "course_id": "VARCHAR",
    "course_key": "VARCHAR",
    "received_at": "TIMESTAMP",
    "context": "JSON",
    "event": "JSON",
    "source_file": "VARCHAR",
    "line_number": "BIGINT",
}
EVENT_COLUMNS = {**LANDED_EVENT_COLUMNS, **DERIVED_EVENT_COLUMNS}
# Learner PII in events: these columns, and these keys of the `context` and `event` JSON objects
# (who the learner is, where from, free text they wrote, form posts, the learner an instructor
# acted on, the learner a forum vote was for). `name` here is a key inside the JSON; the `name`
# column is the event's name.
EVENT_PII_COLUMNS = ("username", "ip", "agent", "session")
EVENT_PII_KEYS = {
    "context": ("username", "ip", "agent", "session", "client_id"),
    "event": ("username", "user", "student", "email", "name", "full_name", "ip", "title", "body", "POST", "target_username"),
}


def events_select(accepted_sql: str, source: str) -> str:
    """Bronze rows from accepted lines: envelope fields, the course resolved as edX's pipelines
    resolve it, its short key, lineage (file and line), and the body fields the models read
    (idbx/parsers/event_fields.py)."""
    literal = sql_string(source)
    return with_event_fields(f"""(
        SELECT time, username, user_id, event_type, event_source, name, ip, agent, host, referer,
               accept_language, page, session, org_id, resolved AS course_id,
               {course_key_sql("resolved")} AS course_key, received_at, context, event,
               {literal} AS source_file, line_number
        FROM (SELECT *, {course_id_sql()} AS resolved FROM ({accepted_sql})))""")


# ----------------------------------------------------------------------------- the pass

_REJECTS_SCHEMA = pa.schema([("line_number", pa.int64()), ("reason", pa.string()), ("raw", pa.string())])
_ids = itertools.count()


class _HashSet:
    """A set of 64-bit line hashes kept as a few sorted numpy runs: 8 bytes a line (a Python set
    takes ~70), lookups by binary search. Runs are merged so that each is at least twice the size
    of the next, which keeps their number logarithmic in the lines seen."""

    def __init__(self):
        self.runs: list[np.ndarray] = []

    def contains(self, values: np.ndarray) -> np.ndarray:
        found = np.zeros(len(values), dtype=bool)
        for run in self.runs:
            at = np.minimum(np.searchsorted(run, values), len(run) - 1)
            found |= run[at] == values
        return found

    def add(self, values: np.ndarray) -> None:
        """Add sorted values that are not in the set yet."""
        if not len(values):
            return
        self.runs.append(values)
        while len(self.runs) > 1 and len(self.runs[-2]) < 2 * len(self.runs[-1]):
            newer, older = self.runs.pop(), self.runs.pop()
            self.runs.append(np.sort(np.concatenate([older, newer]), kind="stable"))


class _Router:
    """Vectorised routing: per batch of classified rows, set reject rows aside, count blanks,
    drop exact duplicates (first seen wins) and say which rows to keep. Python runs per batch,
    never per line; the set of line hashes is the only state that grows (8 bytes a line)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = _HashSet()
        self.rejects: list[pa.Table] = []
        self.blank = self.dup = self.kept = 0

    def keep_mask(self, line_number: pa.Array, reason: pa.Array, line_hash: pa.Array, raw: pa.Array) -> pa.Array:
        ok = pc.is_null(reason)
        with self.lock:
            if reason.null_count < len(reason):
                blank = pc.fill_null(pc.equal(reason, "blank"), False)
                self.blank += pc.sum(blank).as_py() or 0
                bad = pc.and_(pc.invert(ok), pc.invert(blank))
                if pc.any(bad).as_py():
                    self.rejects.append(
                        pa.Table.from_arrays(
                            [pc.filter(line_number, bad), pc.filter(reason, bad), pc.filter(raw, bad)], schema=_REJECTS_SCHEMA
                        )
                    )
            rows = np.flatnonzero(ok.to_numpy(zero_copy_only=False))
            hashes = line_hash.to_numpy(zero_copy_only=False)[rows]
            unique, first = np.unique(hashes, return_index=True)
            fresh = ~self.seen.contains(unique)
            self.seen.add(unique[fresh])
            self.kept += int(fresh.sum())
            self.dup += len(hashes) - int(fresh.sum())
            keep = np.zeros(len(line_hash), dtype=bool)
            keep[rows[first[fresh]]] = True
            return pa.array(keep)


class TrackingLogParse:
    """One streaming parse of one tracking-log file on a DuckDB connection.

    ``accepted`` (relation) / ``accepted_sql``: the typed rows (``ACCEPTED_COLUMNS``), one per
    accepted, first-seen line. Single-use: it reads the file as it runs. Once it has been
    consumed: ``rejects`` (pyarrow Table: line_number, reason, raw clipped to 2000 chars),
    ``rejects_relation()`` and ``counts``: lines (counted in the raw bytes) and what became of
    them, accepted + rejected + blank + duplicate (equal to lines, or a line was lost).
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source: str | os.PathLike | BinaryIO,
        chunk_bytes: int = 1 << 20,
        prefetch: int = 4,
        max_line: int = DEFAULT_MAX_LINE_MB << 20,
        max_bytes: int | None = None,
        day: date | None = None,
    ):
        self._con = con
        self._feed: dict = {}
        self._r = _Router()
        tag = f"{os.getpid()}_{next(_ids)}"
        lines_view = f"__tracking_lines_{tag}"
        route = f"__tracking_route_{tag}"
        con.register(
            lines_view,
            read_lines(
                source, chunk_bytes=chunk_bytes, prefetch=prefetch, counter=self._feed, max_line=max_line, max_bytes=max_bytes
            ),
        )
        con.create_function(
            route,
            self._r.keep_mask,
            ["BIGINT", "VARCHAR", "UBIGINT", "VARCHAR"],
            "BOOLEAN",
            type="arrow",
            side_effects=True,
            null_handling="special",
        )
        self._cleanup = [lambda: con.unregister(lines_view), lambda: con.remove_function(route)]
        self.accepted_sql = (
            f"SELECT {', '.join(ACCEPTED_COLUMNS)} FROM ({classified_sql(lines_view, time_window(day))}) "
            f"WHERE {route}(line_number, reject_reason, line_hash, raw_text)"
        )

    @property
    def accepted(self) -> duckdb.DuckDBPyRelation:
        return self._con.sql(self.accepted_sql)

    def _check_done(self):
        if "lines" not in self._feed:
            raise RuntimeError("consume `accepted` first: rejects and counts come from that pass")

    @property
    def rejects(self) -> pa.Table:
        self._check_done()
        return pa.concat_tables([_REJECTS_SCHEMA.empty_table(), *self._r.rejects]).sort_by("line_number")

    def rejects_relation(self, source: str) -> duckdb.DuckDBPyRelation:
        """The rejects in the lake's shape: source_file, line_number, reason, raw."""
        literal = sql_string(source)
        return self._con.from_arrow(self.rejects).select(f"{literal} AS source_file, line_number, reason, raw")

    @property
    def counts(self) -> dict:
        self._check_done()
        r = self._r
        return {
            "lines": self._feed["lines"],
            "accepted": r.kept,
            "rejected": sum(t.num_rows for t in r.rejects),
            "blank": r.blank + self._feed.get("empty", 0),
            "duplicate": r.dup,
        }

    def close(self) -> None:
        """Unregister the stream and the UDF this parse put on the connection."""
        for undo in self._cleanup:
            undo()
