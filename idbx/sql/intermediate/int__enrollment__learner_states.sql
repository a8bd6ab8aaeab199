/*
description: >
  The enrollment state machine: each learner's enrollment events in order, with the state after
  each one. activated enrolls, deactivated unenrolls, mode_changed changes the mode (and, for a
  learner whose activation predates the logs, shows them enrolled). Events at the same instant
  apply in the order activated, mode_changed, deactivated.
grain: [course_key, learner_key, change_number]
materialized: incremental
merge_by: [course_key, learner_key]
not_null: [course_key, learner_key]
accepted_values:
  mode: [audit, honor, verified, professional, no-id-professional, credit, masters, executive-education, paid-executive-education, unpaid-executive-education, paid-bootcamp, unpaid-bootcamp, unknown]
  action: [activated, deactivated, mode_changed]
columns:
  course_key: Short key of the course run.
  course_id: The edX course id as the events give it.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  change_number: Position of the event among the learner's enrollment events in the course (1 = first).
  event_date: UTC date of the event.
  time: Event time (UTC).
  action: activated, deactivated or mode_changed.
  enrolled: Whether the learner is enrolled after this event.
  mode: The learner's mode after this event (unknown when no event named one).
*/
SELECT
    course_key,
    course_id,
    learner_key,
    row_number() OVER learner_history AS change_number,
    event_date,
    time,
    action,
    coalesce(
        last_value(CASE action WHEN 'activated' THEN true WHEN 'deactivated' THEN false END IGNORE NULLS) OVER learner_history,
        true
    ) AS enrolled,
    coalesce(last_value(mode IGNORE NULLS) OVER learner_history, 'unknown') AS mode
FROM int__events__enrollment_changes
-- One ordering for the three windows, so that DuckDB sorts the events once.
WINDOW learner_history AS (
    PARTITION BY course_key, learner_key
    ORDER BY time, CASE action WHEN 'activated' THEN 1 WHEN 'mode_changed' THEN 2 ELSE 3 END, mode
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
)
