/*
description: >
  When each learner was enrolled in each course, as spans of days, to tell who was enrolled at
  the end of a given day (the learner engagement report's rows: edX joins its course_enrollment
  table, at_end = 1, on the interval's end date; edx-analytics-pipeline,
  edx/analytics/tasks/data_api/student_engagement.py, JoinedStudentEngagementTableTask). From the
  enrollment table where it has the learner enrolled (active: from the day the row was created,
  with no end); else, for learners it shows unenrolled or does not have, and in courses delivered
  without one, from the tracking logs' enrollment events (the state at the end of each day with
  changes, until the next such day). We choose the table first because it reaches back before the
  logs; an unenrolled learner without enrollment events has no span (we cannot tell when).
grain: [course_key, learner_key, enrolled_from]
materialized: incremental
merge_by: [course_key, learner_key]
columns:
  course_key: Short key of the course run.
  course_id: The edX course id (the table's, else the events').
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  enrolled_from: First day (UTC) at whose end the learner is enrolled.
  enrolled_until: First day at whose end the learner is no longer enrolled (or changed state again); NULL while still enrolled.
*/
WITH day_states AS (
    SELECT
        course_key,
        learner_key,
        event_date,
        min(course_id) AS course_id,
        arg_max(enrolled, change_number) AS enrolled
    FROM int__enrollment__learner_states
    GROUP BY course_key, learner_key, event_date
),

event_spans AS (
    SELECT
        course_key,
        course_id,
        learner_key,
        event_date AS enrolled_from,
        lead(event_date) OVER (PARTITION BY course_key, learner_key ORDER BY event_date) AS enrolled_until,
        enrolled
    FROM day_states
),

active_rows AS (
    SELECT course_key, course_id, learner_key, CAST(enrolled_at AS DATE) AS enrolled_from
    FROM stg__edx__student_courseenrollment
    WHERE is_active AND enrolled_at IS NOT NULL
)

SELECT course_key, course_id, learner_key, enrolled_from, CAST(NULL AS DATE) AS enrolled_until
FROM active_rows
UNION ALL
SELECT event_spans.course_key, event_spans.course_id, event_spans.learner_key, event_spans.enrolled_from, event_spans.enrolled_until
FROM event_spans
ANTI JOIN active_rows ON active_rows.course_key = event_spans.course_key AND active_rows.learner_key = event_spans.learner_key
WHERE event_spans.enrolled
