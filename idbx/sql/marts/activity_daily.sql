/*
description: >
  Activity of each course per day (UTC date of the events' own time, whichever day's file
  delivered them), a row for every day from the course's first event to the latest event day in
  the lake, zeros included. Learners count with edX's rules (events with a username; active =
  not task-source, not edx.course.enrollment.*).
grain: [course_key, date]
materialized: table
not_null: [course_key]
columns:
  course_id: The edX course id.
  course_key: Short key of the course run.
  date: The day (UTC).
  active_learners: Distinct learners with an event that makes them ACTIVE.
  events: Events with a username, excluding /xblock/ types (person-course's nevents).
  video_plays: Video plays (play_video, edx.video.played).
  video_learners: Distinct learners who played a video.
  problem_checks: Problem submissions (server problem_check).
  problem_learners: Distinct learners who submitted a problem.
  forum_posts: Forum posts created (server edx.forum.*.created events).
*/
WITH runs AS (
    SELECT course_key, course_id FROM int__courses__runs_with_events WHERE NOT excluded
),

learner_days AS (
    SELECT days.*
    FROM int__events__learner_course_day AS days
    JOIN runs ON runs.course_key = days.course_key
),

per_day AS (
    SELECT
        course_key,
        event_date,
        count(*) FILTER (WHERE active_events > 0) AS active_learners,
        CAST(sum(nevents) AS BIGINT) AS events,
        CAST(sum(nplay_video) AS BIGINT) AS video_plays,
        count(*) FILTER (WHERE nplay_video > 0) AS video_learners,
        CAST(sum(nproblem_check) AS BIGINT) AS problem_checks,
        count(*) FILTER (WHERE nproblem_check > 0) AS problem_learners,
        CAST(sum(posted_forum_events) AS BIGINT) AS forum_posts
    FROM learner_days
    GROUP BY course_key, event_date
),

calendar AS (
    SELECT course_key, CAST(unnest(generate_series(first_date, last_date, INTERVAL 1 DAY)) AS DATE) AS date
    FROM (
        SELECT course_key, min(event_date) AS first_date
        FROM learner_days
        GROUP BY course_key
    ) AS course_starts
    CROSS JOIN (SELECT max(event_date) AS last_date FROM int__events__course_day) AS lake_end
)

SELECT
    runs.course_id,
    calendar.course_key,
    calendar.date,
    coalesce(per_day.active_learners, 0) AS active_learners,
    coalesce(per_day.events, 0) AS events,
    coalesce(per_day.video_plays, 0) AS video_plays,
    coalesce(per_day.video_learners, 0) AS video_learners,
    coalesce(per_day.problem_checks, 0) AS problem_checks,
    coalesce(per_day.problem_learners, 0) AS problem_learners,
    coalesce(per_day.forum_posts, 0) AS forum_posts
FROM calendar
JOIN runs ON runs.course_key = calendar.course_key
LEFT JOIN per_day ON per_day.course_key = calendar.course_key AND per_day.event_date = calendar.date
