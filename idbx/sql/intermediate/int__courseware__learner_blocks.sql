/*
description: >
  The blocks each learner opened in each course by the latest snapshot's courseware rows, named by
  type and url name (the last part of the usage key) as the event URLs name them, for the chapter
  funnel. A table of its own so that the per-learner reach reads only the learners a build
  recomputes.
grain: [course_key, learner_key, block_type, url_name]
materialized: table
columns:
  course_key: Short key of the course run.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  block_type: The module's type (chapter, sequential, problem, video, ...).
  url_name: The module's url name.
*/
SELECT DISTINCT
    course_key,
    learner_key,
    module_type AS block_type,
    regexp_replace(module_id, '^.*(block@|/)', '') AS url_name
FROM stg__edx__courseware_studentmodule
