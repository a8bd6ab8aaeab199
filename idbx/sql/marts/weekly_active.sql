/*
description: >
  Weekly active learners per course with edX's own definitions (its learner-activity pipeline):
  distinct learners per ISO week (Monday to Sunday, UTC) with events that have a username and a
  course; events from the task source and edx.course.enrollment.* events never count.
  ACTIVE = any other event; PLAYED_VIDEO = play_video from the browser or mobile source;
  ATTEMPTED_PROBLEM = problem_check from the server source; POSTED_FORUM = a server event whose
  type starts with edx.forum. and ends with .created. A row for every week from the course's first
  event to the latest event day in the lake and every label, zeros included.
grain: [course_key, week_start, label]
materialized: table
not_null: [course_key]
columns:
  course_id: The edX course id.
  course_key: Short key of the course run.
  week_start: Monday of the ISO week.
  label: ACTIVE, PLAYED_VIDEO, ATTEMPTED_PROBLEM or POSTED_FORUM.
  learners: Distinct learners with such an event in the week.
*/
WITH runs AS (
    SELECT course_key, course_id FROM int__courses__runs_with_events WHERE NOT excluded
),

learner_weeks AS (
    SELECT
        days.course_key,
        days.learner_key,
        CAST(date_trunc('week', days.event_date) AS DATE) AS week_start,
        sum(days.active_events) > 0 AS active,
        sum(days.played_video_events) > 0 AS played_video,
        sum(days.attempted_problem_events) > 0 AS attempted_problem,
        sum(days.posted_forum_events) > 0 AS posted_forum
    FROM int__events__learner_course_day AS days
    JOIN runs ON runs.course_key = days.course_key
    GROUP BY days.course_key, days.learner_key, CAST(date_trunc('week', days.event_date) AS DATE)
),

per_week AS (
    SELECT
        course_key,
        week_start,
        count(*) FILTER (WHERE active) AS active,
        count(*) FILTER (WHERE played_video) AS played_video,
        count(*) FILTER (WHERE attempted_problem) AS attempted_problem,
        count(*) FILTER (WHERE posted_forum) AS posted_forum
    FROM learner_weeks
    GROUP BY course_key, week_start
),

calendar AS (
    SELECT course_key, CAST(unnest(generate_series(first_week, last_week, INTERVAL 7 DAY)) AS DATE) AS week_start
    FROM (
        SELECT course_key, min(week_start) AS first_week
        FROM learner_weeks
        GROUP BY course_key
    ) AS course_starts
    CROSS JOIN (
        SELECT CAST(date_trunc('week', max(event_date)) AS DATE) AS last_week FROM int__events__course_day
    ) AS lake_end
),

labels AS (
    SELECT 1 AS label_order, 'ACTIVE' AS label
    UNION ALL SELECT 2, 'PLAYED_VIDEO'
    UNION ALL SELECT 3, 'ATTEMPTED_PROBLEM'
    UNION ALL SELECT 4, 'POSTED_FORUM'
)

SELECT
    runs.course_id,
    calendar.course_key,
    calendar.week_start,
    labels.label,
    coalesce(CASE labels.label
        WHEN 'ACTIVE' THEN per_week.active
        WHEN 'PLAYED_VIDEO' THEN per_week.played_video
        WHEN 'ATTEMPTED_PROBLEM' THEN per_week.attempted_problem
        ELSE per_week.posted_forum
    END, 0) AS learners
FROM calendar
CROSS JOIN labels
JOIN runs ON runs.course_key = calendar.course_key
LEFT JOIN per_week ON per_week.course_key = calendar.course_key AND per_week.week_start = calendar.week_start
