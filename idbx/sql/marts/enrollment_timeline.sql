/*
description: >
  Enrolled learners per course, day and mode over the course's whole life, so that the series ends
  where the course's enrollment count does: the tracking logs reach back only to the first day
  delivered, the enrollment table to the course's start. Each row of the latest enrollment snapshot
  counts from the day it was created, in the mode it has (the table keeps only the current mode,
  and counts unenrolled learners too, as course_report's users_total does); learners the
  enrollment events enrol after the snapshot date, and every learner of a course without an
  enrollment table, count from their first enrollment day in the mode they first enrolled in.
  Unenrollments are not subtracted (the table cannot date them). enrollment_daily keeps the
  events' own day-by-day state.
grain: [course_key, date, mode]
materialized: table
not_null: [course_key]
accepted_values:
  mode: [audit, honor, verified, professional, no-id-professional, credit, masters, executive-education, paid-executive-education, unpaid-executive-education, paid-bootcamp, unpaid-bootcamp, unknown]
columns:
  course_id: The edX course id.
  course_key: Short key of the course run.
  date: The day (UTC).
  mode: Enrollment mode (the table's, else the first the events give; unknown when none).
  enrolled: Learners enrolled in this mode by the end of the day (cumulative).
  source: Where the day's count comes from, table (up to the snapshot date), table and events (after it) or events (no table).
  snapshot_date: The enrollment snapshot the table rows come from (NULL without one).
*/
WITH runs AS (
    SELECT course_key, course_id FROM int__courses__runs_with_events WHERE NOT excluded
),

snapshots AS (
    SELECT course_key, max(snapshot_date) AS snapshot_date
    FROM stg__edx__student_courseenrollment
    GROUP BY course_key
),

from_table AS (
    SELECT course_key, learner_key, CAST(enrolled_at AS DATE) AS first_date, coalesce(mode, 'unknown') AS mode
    FROM stg__edx__student_courseenrollment
),

from_events AS (
    SELECT course_key, learner_key, min(event_date) AS first_date, arg_min(mode, change_number) AS mode
    FROM int__enrollment__learner_states
    WHERE enrolled
    GROUP BY course_key, learner_key
),

learners AS (
    SELECT course_key, first_date, mode FROM from_table
    UNION ALL
    SELECT from_events.course_key, from_events.first_date, from_events.mode
    FROM from_events
    LEFT JOIN snapshots ON snapshots.course_key = from_events.course_key
    ANTI JOIN from_table ON from_table.course_key = from_events.course_key AND from_table.learner_key = from_events.learner_key
    WHERE snapshots.snapshot_date IS NULL OR from_events.first_date > snapshots.snapshot_date
),

firsts AS (
    SELECT learners.course_key, learners.mode, learners.first_date AS date, count(*) AS learners
    FROM learners
    JOIN runs ON runs.course_key = learners.course_key
    GROUP BY learners.course_key, learners.mode, learners.first_date
),

calendar AS (
    SELECT course_modes.course_key, course_modes.mode, CAST(unnest(generate_series(course_starts.first_date, greatest(lake_end.last_date, course_starts.snapshot_date), INTERVAL 1 DAY)) AS DATE) AS date
    FROM (SELECT DISTINCT course_key, mode FROM firsts) AS course_modes
    JOIN (
        SELECT firsts.course_key, min(firsts.date) AS first_date, max(snapshots.snapshot_date) AS snapshot_date
        FROM firsts
        LEFT JOIN snapshots ON snapshots.course_key = firsts.course_key
        GROUP BY firsts.course_key
    ) AS course_starts ON course_starts.course_key = course_modes.course_key
    CROSS JOIN (SELECT coalesce(max(event_date), DATE '1970-01-01') AS last_date FROM int__events__course_day) AS lake_end
)

SELECT
    runs.course_id,
    calendar.course_key,
    calendar.date,
    calendar.mode,
    CAST(sum(coalesce(firsts.learners, 0)) OVER (PARTITION BY calendar.course_key, calendar.mode ORDER BY calendar.date) AS BIGINT) AS enrolled,
    CASE
        WHEN snapshots.snapshot_date IS NULL THEN 'events'
        WHEN calendar.date <= snapshots.snapshot_date THEN 'table'
        ELSE 'table and events'
    END AS source,
    snapshots.snapshot_date
FROM calendar
JOIN runs ON runs.course_key = calendar.course_key
LEFT JOIN snapshots ON snapshots.course_key = calendar.course_key
LEFT JOIN firsts ON firsts.course_key = calendar.course_key AND firsts.mode = calendar.mode AND firsts.date = calendar.date
