/*
description: >
  Every course run the registry or the course tables know, with the registry's metadata. Courses
  found in the tables but missing from the registry are kept with registered = false and empty
  metadata; marts leave out only the runs the registry excludes. (Runs seen only in the events are
  added by int__courses__runs_with_events, for the event marts.)
grain: [course_key]
materialized: table
columns:
  course_key: Short key of the course run.
  course_id: The edX course id (NULL for a registered run with no data yet).
  name: Course name from the registry.
  sme: The bank department(s) responsible (registry).
  start_date: Course start (registry).
  end_date: Course end (registry; may be empty while unknown).
  passing_grade: Grade needed to pass (registry; the default, 0.65, when not given or not registered).
  registered: Whether the registry lists the run.
  excluded: Whether the registry excludes the run from reports (test and never-launched runs).
  snapshot_date: Latest delivery of the course's tables, NULL when none.
*/
WITH table_courses AS (
    SELECT course_key, min(course_id) AS course_id, max(snapshot_date) AS snapshot_date
    FROM (
        SELECT course_key, course_id, snapshot_date FROM stg__edx__student_courseenrollment
        UNION ALL
        SELECT course_key, course_id, snapshot_date FROM stg__edx__certificates_generatedcertificate
        UNION ALL
        SELECT course_key, course_id, snapshot_date FROM stg__edx__user_id_map
        UNION ALL
        SELECT course_key, NULL AS course_id, snapshot_date FROM stg__edx__auth_userprofile
    ) AS course_rows
    GROUP BY course_key
),

course_keys AS (
    SELECT course_key FROM course_registry
    UNION
    SELECT course_key FROM table_courses
)

SELECT
    course_keys.course_key,
    table_courses.course_id,
    course_registry.name,
    course_registry.sme,
    course_registry.start_date,
    course_registry.end_date,
    coalesce(course_registry.passing_grade, default_passing_grade()) AS passing_grade,
    course_registry.course_key IS NOT NULL AS registered,
    coalesce(course_registry.excluded, false) AS excluded,
    table_courses.snapshot_date
FROM course_keys
LEFT JOIN course_registry ON course_registry.course_key = course_keys.course_key
LEFT JOIN table_courses ON table_courses.course_key = course_keys.course_key
