"""The forum's MongoDB dump (`…-prod.mongo`) into one typed row per thread or comment.

The dump is `mongoexport` output: one document per line in MongoDB extended JSON (`{"$oid": …}`
for ids, `{"$date": …}` for times, as an ISO string, milliseconds, or `{"$numberLong": …}`).
Lines are cut and judged exactly as tracking-log lines are (tracking_log.read_lines and
line_problem_sql: invalid UTF-8, malformed JSON, not an object, …); a document that is JSON but
not a forum post (no `_id`, a `_type` other than CommentThread or Comment, a comment without its
thread, an author id that is not a number) is rejected with that reason.
"""

from __future__ import annotations

from idbx.parsers import RAW_CLIP
from idbx.parsers.tracking_log import line_problem_sql, time_utc_sql

# Every field is read by ONE json_extract_string call per line (one parse); f(name) is its value.
_DATES = ("created_at", "updated_at", "last_activity_at")
_PATHS = {
    "id": "$._id",
    "id.oid": "$._id.$oid",
    "type": "$._type",
    "author_id": "$.author_id",
    "thread": "$.comment_thread_id",
    "thread.oid": "$.comment_thread_id.$oid",
    "parent": "$.parent_id",
    "parent.oid": "$.parent_id.$oid",
    **{f"{name}{part}": f"$.{name}{part}" for name in _DATES for part in ("", ".$date", ".$date.$numberLong")},
    **{
        name: f"$.{name}"
        for name in (
            "author_username",
            "course_id",
            "title",
            "body",
            "comment_count",
            "anonymous",
            "anonymous_to_peers",
            "commentable_id",
            "thread_type",
            "endorsed",
            "closed",
            "pinned",
        )
    },
    "votes_up": "$.votes.up_count",
    "votes_down": "$.votes.down_count",
}
_PATHS_SQL = "[" + ", ".join(f"'{path}'" for path in _PATHS.values()) + "]"


def f(name: str) -> str:
    return f"f[{list(_PATHS).index(name) + 1}]"


def _oid(name: str) -> str:
    """An id: `{"$oid": "…"}` or a plain string."""
    return f"coalesce({f(name + '.oid')}, {f(name)})"


def _date(name: str) -> str:
    """A UTC TIMESTAMP from `{"$date": ISO text | epoch ms | {"$numberLong": ms}}` or plain ISO text."""
    date, long = f(f"{name}.$date"), f(f"{name}.$date.$numberLong")
    return f"""(CASE WHEN {long} IS NOT NULL THEN try(epoch_ms(TRY_CAST({long} AS BIGINT)))
      WHEN regexp_full_match({date}, '-?[0-9]+') THEN try(epoch_ms(CAST({date} AS BIGINT)))
      WHEN {date} IS NOT NULL THEN {time_utc_sql(date)}
      ELSE {time_utc_sql(f(name))} END)"""


def _classified_sql(lines: str) -> str:
    """SELECT over a (line_number, raw BLOB, overlong BIGINT) relation (tracking_log.read_lines):
    every line with `reject_reason` (NULL = accepted, 'blank' = skip) and the forum_posts columns."""
    return f"""
WITH l AS (SELECT line_number, raw, overlong, CASE WHEN overlong IS NULL THEN try(decode(raw)) END AS txt
           FROM {lines}),
j AS (SELECT *, {line_problem_sql("txt")} AS problem FROM l),
p AS (
  SELECT *, {_oid("id")} AS post_id, {f("type")} AS post_type, {_oid("thread")} AS thread
  FROM (SELECT *, CASE WHEN problem IS NULL THEN json_extract_string(txt, {_PATHS_SQL}) END AS f FROM j))
SELECT
  line_number,
  coalesce(problem,
           CASE WHEN post_id IS NULL THEN 'missing _id'
                WHEN post_type IS NULL THEN 'missing _type'
                WHEN post_type NOT IN ('CommentThread', 'Comment') THEN 'not a forum post: _type ' || left(post_type, 100)
                WHEN post_type = 'Comment' AND thread IS NULL THEN 'comment without comment_thread_id'
                WHEN {f("author_id")} IS NOT NULL AND TRY_CAST({f("author_id")} AS BIGINT) IS NULL
                  THEN 'author_id is not a number: ' || left({f("author_id")}, 100)
           END) AS reject_reason,
  post_id,
  post_type,
  CASE WHEN post_type = 'CommentThread' THEN post_id ELSE thread END AS thread_id,
  {_oid("parent")} AS parent_id,
  TRY_CAST({f("author_id")} AS BIGINT) AS author_id,
  {f("author_username")} AS author_username,
  {f("course_id")} AS course_id,
  {_date("created_at")} AS created_at,
  {_date("updated_at")} AS updated_at,
  {f("title")} AS title,
  {f("body")} AS body,
  TRY_CAST({f("votes_up")} AS INTEGER) AS votes_up,
  TRY_CAST({f("votes_down")} AS INTEGER) AS votes_down,
  TRY_CAST({f("comment_count")} AS INTEGER) AS comment_count,
  TRY_CAST({f("anonymous")} AS BOOLEAN) AS anonymous,
  TRY_CAST({f("anonymous_to_peers")} AS BOOLEAN) AS anonymous_to_peers,
  {f("commentable_id")} AS commentable_id,
  {f("thread_type")} AS thread_type,
  TRY_CAST({f("endorsed")} AS BOOLEAN) AS endorsed,
  TRY_CAST({f("closed")} AS BOOLEAN) AS closed,
  TRY_CAST({f("pinned")} AS BOOLEAN) AS pinned,
  {_date("last_activity_at")} AS last_activity_at,
  txt, raw
FROM p"""


def posts_sql(lines: str) -> str:
    """SELECT over a (line_number, raw BLOB, overlong BIGINT) relation (tracking_log.read_lines):
    every line with `reject_reason` (NULL = accepted, 'blank' = skip), the forum_posts columns, and
    `raw_text` (clipped) for rejects."""
    return f"""
SELECT * EXCLUDE (txt, raw),
       CASE WHEN reject_reason IS NOT NULL THEN left(coalesce(txt, decode(raw, 'replace')), {RAW_CLIP}) END AS raw_text
FROM ({_classified_sql(lines)})"""
