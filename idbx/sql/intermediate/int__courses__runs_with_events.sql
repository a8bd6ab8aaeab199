/*
description: >
  The course runs of int__courses__course_runs plus the runs seen only in the tracking logs (not
  registered, so not excluded): the course list of the marts that read events. Nothing in it
  changes with each new day of events (no event dates), so that the per-learner models merged by
  key, which read it whole, are not recomputed whole after each new day.
grain: [course_key]
materialized: table
columns:
  course_key: Short key of the course run.
  course_id: The edX course id (the tables' form, else the events').
  name: Course name from the registry.
  passing_grade: Grade needed to pass (registry; the default, 0.65, when not registered).
  registered: Whether the registry lists the run.
  excluded: Whether the registry excludes the run from reports.
  snapshot_date: Latest delivery of the course's tables, NULL when none.
*/
WITH event_courses AS (
    SELECT
        course_key,
        min(course_id) AS course_id
    FROM int__events__course_day
    GROUP BY course_key
)

SELECT
    coalesce(runs.course_key, event_courses.course_key) AS course_key,
    coalesce(runs.course_id, event_courses.course_id) AS course_id,
    runs.name,
    coalesce(runs.passing_grade, default_passing_grade()) AS passing_grade,
    coalesce(runs.registered, false) AS registered,
    coalesce(runs.excluded, false) AS excluded,
    runs.snapshot_date
FROM int__courses__course_runs AS runs
FULL OUTER JOIN event_courses ON event_courses.course_key = runs.course_key
