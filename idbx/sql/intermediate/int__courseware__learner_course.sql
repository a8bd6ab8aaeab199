/*
description: >
  Each learner's courseware rows in each course (latest snapshot): the predecessor's "progress"
  and "active" come from here, person-course's viewed and nchapters too.
grain: [course_key, learner_key]
materialized: table
columns:
  course_key: Short key of the course run.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  courseware_rows: Rows in courseware_studentmodule (modules the learner opened).
  chapters_viewed: Distinct chapters the learner opened (chapter rows).
  first_module_at: When the learner first opened a module (UTC).
  last_module_at: Last change to any of the learner's modules (UTC).
*/
SELECT
    course_key,
    learner_key,
    count(*) AS courseware_rows,
    count(DISTINCT module_id) FILTER (WHERE module_type = 'chapter') AS chapters_viewed,
    min(created_at) AS first_module_at,
    max(modified_at) AS last_module_at
FROM stg__edx__courseware_studentmodule
GROUP BY course_key, learner_key
