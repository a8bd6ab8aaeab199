/*
description: >
  What each learner did in each course on each day (UTC date of the events' own time), from the
  tracking logs. The base of every event-derived mart; stored by event date and rebuilt only for
  the dates that new or changed log files hold (a late event updates its own day).
  Counted events (nevents and the n* counts, first/last event, sum_dt) are events with a username,
  excluding `/xblock/` event types (HarvardX/MITx person-course). The *_events label counts follow
  edX's weekly learner-activity definitions: events with a username; task-source and
  edx.course.enrollment.* events never count as ACTIVE.
grain: [course_key, learner_key, event_date]
materialized: incremental
partition_by: event_date
not_null: [course_key, learner_key]
columns:
  course_key: Short key of the course run.
  course_id: The edX course id as the events give it.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  event_date: UTC date of the events.
  nevents: Counted events (with a username, not /xblock/ types).
  active_events: Events that make the learner ACTIVE (with a username, not from the task source, not edx.course.enrollment.*).
  played_video_events: play_video events from the browser or mobile source (edX's PLAYED_VIDEO).
  attempted_problem_events: problem_check events from the server source (edX's ATTEMPTED_PROBLEM).
  posted_forum_events: Server events whose type starts with edx.forum. and ends with .created (edX's POSTED_FORUM).
  nplay_video: Counted play_video and edx.video.played events (browser and mobile players).
  npause_video: Counted pause_video and edx.video.paused events.
  nseek_video: Counted seek_video and edx.video.position.changed events.
  nproblem_check: Counted problem_check events from the server (one per submitted answer).
  nshow_answer: Counted showanswer and show_answer events.
  nseq_goto: Counted seq_goto events.
  nforum_events: Counted forum events (edx.forum.* types and /discussion/ URLs).
  first_event: Time of the first counted event of the day.
  last_event: Time of the last counted event of the day.
  sum_dt: Seconds between consecutive counted events of the day, summing only gaps of at most 300 s.
*/
WITH learner_events AS (
    SELECT
        *,
        has_username AND event_type NOT LIKE '%/xblock/%' AS is_counted
    FROM stg__edx__events
    WHERE user_id IS NOT NULL
),

learner_days AS (
    SELECT
        course_key,
        user_id,
        event_date,
        min(course_id) AS course_id,
        count(*) FILTER (WHERE is_counted) AS nevents,
        count(*) FILTER (
            WHERE has_username AND event_source <> 'task' AND event_type NOT LIKE 'edx.course.enrollment.%'
        ) AS active_events,
        count(*) FILTER (
            WHERE has_username AND event_type = 'play_video' AND event_source IN ('browser', 'mobile')
        ) AS played_video_events,
        count(*) FILTER (
            WHERE has_username AND event_type = 'problem_check' AND event_source = 'server'
        ) AS attempted_problem_events,
        count(*) FILTER (
            WHERE has_username AND event_source = 'server' AND event_type LIKE 'edx.forum.%' AND event_type LIKE '%.created'
        ) AS posted_forum_events,
        count(*) FILTER (WHERE is_counted AND event_type IN ('play_video', 'edx.video.played')) AS nplay_video,
        count(*) FILTER (WHERE is_counted AND event_type IN ('pause_video', 'edx.video.paused')) AS npause_video,
        count(*) FILTER (WHERE is_counted AND event_type IN ('seek_video', 'edx.video.position.changed')) AS nseek_video,
        count(*) FILTER (WHERE is_counted AND event_type = 'problem_check' AND event_source = 'server') AS nproblem_check,
        count(*) FILTER (WHERE is_counted AND event_type IN ('showanswer', 'show_answer')) AS nshow_answer,
        count(*) FILTER (WHERE is_counted AND event_type = 'seq_goto') AS nseq_goto,
        count(*) FILTER (
            WHERE is_counted AND (event_type LIKE 'edx.forum.%' OR event_type LIKE '%/discussion/%')
        ) AS nforum_events,
        min(time) FILTER (WHERE is_counted) AS first_event,
        max(time) FILTER (WHERE is_counted) AS last_event,
        -- The day's counted event times in order, in microseconds: sorting each learner-day's few
        -- events costs half of a window function over every event (measured on 20 million).
        list_sort(list(epoch_us(time)) FILTER (WHERE is_counted)) AS counted_times
    FROM learner_events
    GROUP BY course_key, user_id, event_date
),

pseudonyms AS (
    SELECT user_id, learner_pseudonym(user_id) AS learner_key
    FROM (SELECT DISTINCT user_id FROM learner_days) AS user_ids
)

SELECT
    learner_days.course_key,
    learner_days.course_id,
    pseudonyms.learner_key,
    learner_days.event_date,
    learner_days.nevents,
    learner_days.active_events,
    learner_days.played_video_events,
    learner_days.attempted_problem_events,
    learner_days.posted_forum_events,
    learner_days.nplay_video,
    learner_days.npause_video,
    learner_days.nseek_video,
    learner_days.nproblem_check,
    learner_days.nshow_answer,
    learner_days.nseq_goto,
    learner_days.nforum_events,
    learner_days.first_event,
    learner_days.last_event,
    -- Gaps between consecutive counted events, those of at most 300 s, summed as whole
    -- microseconds: exact, so every build gives the same value whatever the order of the rows.
    -- (sum_of_short_gaps: idbx/models/functions.py, defined for each engine.)
    sum_of_short_gaps(learner_days.counted_times, 300000000) / 1000000.0 AS sum_dt
FROM learner_days
JOIN pseudonyms ON pseudonyms.user_id = learner_days.user_id
