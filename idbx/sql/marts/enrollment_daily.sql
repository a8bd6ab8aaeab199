/*
description: >
  Enrollments per course, day and mode from the enrollment events, as a per-learner state machine
  (int__enrollment__learner_states): enrolled = learners whose state at the end of the day is
  enrolled in that mode; cumulative = distinct learners who were ever enrolled in that mode up to
  that day (activated in it, or switched to it while enrolled). A row for every day from the
  course's first enrollment event to the latest event day in the lake, for every mode seen in the
  course, zeros included.
grain: [course_key, date, mode]
materialized: table
not_null: [course_key]
accepted_values:
  mode: [audit, honor, verified, professional, no-id-professional, credit, masters, executive-education, paid-executive-education, unpaid-executive-education, paid-bootcamp, unpaid-bootcamp, unknown]
columns:
  course_id: The edX course id.
  course_key: Short key of the course run.
  date: The day (UTC).
  mode: Enrollment mode (audit, honor, verified, ...; unknown when the events name none).
  enrolled: Learners enrolled in this mode at the end of the day.
  cumulative: Distinct learners ever enrolled in this mode up to the end of the day.
  activations: Activation events of the day in this mode.
  deactivations: Deactivation events of the day in this mode.
*/
WITH runs AS (
    SELECT course_key, course_id FROM int__courses__runs_with_events WHERE NOT excluded
),

states AS (
    SELECT states.*
    FROM int__enrollment__learner_states AS states
    JOIN runs ON runs.course_key = states.course_key
),

end_of_day AS (
    SELECT
        *,
        lead(event_date) OVER (PARTITION BY course_key, learner_key ORDER BY event_date) AS next_change_date
    FROM (
        SELECT course_key, learner_key, event_date, enrolled, mode
        FROM states
        QUALIFY row_number() OVER (PARTITION BY course_key, learner_key, event_date ORDER BY change_number DESC) = 1
    ) AS last_change_of_day
),

-- +1 on the day a learner's end-of-day state becomes (enrolled, mode), -1 when the next state begins.
enrolled_changes AS (
    SELECT course_key, mode, event_date AS date, count(*) AS change
    FROM end_of_day
    WHERE enrolled
    GROUP BY course_key, mode, event_date
    UNION ALL
    SELECT course_key, mode, next_change_date AS date, -count(*) AS change
    FROM end_of_day
    WHERE enrolled AND next_change_date IS NOT NULL
    GROUP BY course_key, mode, next_change_date
),

first_enrolled AS (
    SELECT course_key, mode, first_date AS date, count(*) AS learners
    FROM (
        SELECT course_key, learner_key, mode, min(event_date) AS first_date
        FROM states
        WHERE enrolled
        GROUP BY course_key, learner_key, mode
    ) AS learner_modes
    GROUP BY course_key, mode, first_date
),

actions AS (
    SELECT
        course_key,
        mode,
        event_date AS date,
        count(*) FILTER (WHERE action = 'activated') AS activations,
        count(*) FILTER (WHERE action = 'deactivated') AS deactivations
    FROM states
    GROUP BY course_key, mode, event_date
),

calendar AS (
    SELECT course_modes.course_key, course_modes.mode, CAST(unnest(generate_series(course_starts.first_date, lake_end.last_date, INTERVAL 1 DAY)) AS DATE) AS date
    FROM (SELECT DISTINCT course_key, mode FROM states) AS course_modes
    JOIN (SELECT course_key, min(event_date) AS first_date FROM states GROUP BY course_key) AS course_starts
        ON course_starts.course_key = course_modes.course_key
    CROSS JOIN (SELECT max(event_date) AS last_date FROM int__events__course_day) AS lake_end
),

changes_per_day AS (
    SELECT course_key, mode, date, sum(change) AS change
    FROM enrolled_changes
    GROUP BY course_key, mode, date
)

SELECT
    runs.course_id,
    calendar.course_key,
    calendar.date,
    calendar.mode,
    CAST(sum(coalesce(changes_per_day.change, 0)) OVER running AS BIGINT) AS enrolled,
    CAST(sum(coalesce(first_enrolled.learners, 0)) OVER running AS BIGINT) AS cumulative,
    coalesce(actions.activations, 0) AS activations,
    coalesce(actions.deactivations, 0) AS deactivations
FROM calendar
JOIN runs ON runs.course_key = calendar.course_key
LEFT JOIN changes_per_day
    ON changes_per_day.course_key = calendar.course_key AND changes_per_day.mode = calendar.mode
    AND changes_per_day.date = calendar.date
LEFT JOIN first_enrolled
    ON first_enrolled.course_key = calendar.course_key AND first_enrolled.mode = calendar.mode
    AND first_enrolled.date = calendar.date
LEFT JOIN actions
    ON actions.course_key = calendar.course_key AND actions.mode = calendar.mode AND actions.date = calendar.date
WINDOW running AS (PARTITION BY calendar.course_key, calendar.mode ORDER BY calendar.date)
