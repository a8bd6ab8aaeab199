"""The forum's MongoDB dump (`…-prod.mongo`) into one typed row per thread or comment.

The dump is `mongoexport` output: one document per line in MongoDB extended JSON (`{"$oid": …}`
for ids, `{"$date": …}` for times, as an ISO string, milliseconds, or `{"$numberLong": …}`).
Lines are cut and judged exactly as tracking-log lines are (tracking_log.read_lines and
line_problem_sql: invalid UTF-8, malformed JSON, not an object, …); a document that is JSON but
not a forum post (no `_id`, a `_type` other than CommentThread or Comment, a comment without its
thread, an author id that is not a number) is rejected with that reason.
"""

from __future__ import annotations

from idbx.ingest.parsers import RAW_CLIP
from idbx.ingest.parsers.tracking_log import line_problem_sql, time_utc_sql


def _text(path: str) -> str:
    return f"json_extract_string(doc, '{path}')"


def _oid(path: str) -> str:
    """An id: `{"$oid": "…"}` or a plain string."""
    return f"(CASE WHEN json_type(doc, '{path}') = 'OBJECT' THEN {_text(path + '.$oid')} ELSE {_text(path)} END)"


def _date(path: str) -> str:
    """A UTC TIMESTAMP from `{"$date": ISO string | epoch ms | {"$numberLong": ms}}` or a plain ISO string."""
    date = f"{path}.$date"
    millis = f"epoch_ms(TRY_CAST(coalesce({_text(date + '.$numberLong')}, {_text(date)}) AS BIGINT))"
    return (f"(CASE WHEN json_type(doc, '{date}') IS NULL THEN {time_utc_sql(_text(path))} "
            f"WHEN json_type(doc, '{date}') = 'VARCHAR' THEN {time_utc_sql(_text(date))} ELSE {millis} END)")


def _classified_sql(lines: str) -> str:
    """SELECT over a (line_number, raw BLOB) relation: every line with `reject_reason` (NULL =
    accepted, 'blank' = skip) and the forum_posts columns."""
    return f"""
WITH l AS (SELECT line_number, raw, try(decode(raw)) AS txt FROM {lines}),
j AS (SELECT *, {line_problem_sql('txt')} AS problem FROM l),
d AS (SELECT *, CASE WHEN problem IS NULL THEN CAST(txt AS JSON) END AS doc FROM j),
p AS (
  SELECT line_number, problem, txt, raw, doc,
         {_oid('$._id')} AS post_id,
         {_text('$._type')} AS post_type,
         {_text('$.author_id')} AS author_text
  FROM d)
SELECT
  line_number,
  coalesce(problem,
           CASE WHEN post_id IS NULL THEN 'missing _id'
                WHEN post_type IS NULL THEN 'missing _type'
                WHEN post_type NOT IN ('CommentThread', 'Comment') THEN 'not a forum post: _type ' || left(post_type, 100)
                WHEN post_type = 'Comment' AND {_oid('$.comment_thread_id')} IS NULL THEN 'comment without comment_thread_id'
                WHEN author_text IS NOT NULL AND TRY_CAST(author_text AS BIGINT) IS NULL
                  THEN 'author_id is not a number: ' || left(author_text, 100)
           END) AS reject_reason,
  post_id,
  post_type,
  CASE WHEN post_type = 'CommentThread' THEN post_id ELSE {_oid('$.comment_thread_id')} END AS thread_id,
  {_oid('$.parent_id')} AS parent_id,
  TRY_CAST(author_text AS BIGINT) AS author_id,
  {_text('$.author_username')} AS author_username,
  {_text('$.course_id')} AS course_id,
  {_date('$.created_at')} AS created_at,
  {_date('$.updated_at')} AS updated_at,
  {_text('$.title')} AS title,
  {_text('$.body')} AS body,
  TRY_CAST({_text('$.votes.up_count')} AS INTEGER) AS votes_up,
  TRY_CAST({_text('$.votes.down_count')} AS INTEGER) AS votes_down,
  TRY_CAST({_text('$.comment_count')} AS INTEGER) AS comment_count,
  TRY_CAST({_text('$.anonymous')} AS BOOLEAN) AS anonymous,
  TRY_CAST({_text('$.anonymous_to_peers')} AS BOOLEAN) AS anonymous_to_peers,
  {_text('$.commentable_id')} AS commentable_id,
  {_text('$.thread_type')} AS thread_type,
  TRY_CAST({_text('$.endorsed')} AS BOOLEAN) AS endorsed,
  TRY_CAST({_text('$.closed')} AS BOOLEAN) AS closed,
  TRY_CAST({_text('$.pinned')} AS BOOLEAN) AS pinned,
  {_date('$.last_activity_at')} AS last_activity_at,
  txt, raw
FROM p"""


def posts_sql(lines: str) -> str:
    """SELECT over a (line_number, raw BLOB) relation: every line with `reject_reason` (NULL =
    accepted, 'blank' = skip), the forum_posts columns, and `raw_text` (clipped) for rejects."""
    return f"""
SELECT * EXCLUDE (txt, raw),
       CASE WHEN reject_reason IS NOT NULL THEN left(coalesce(txt, decode(raw, 'replace')), {RAW_CLIP}) END AS raw_text
FROM ({_classified_sql(lines)})"""
