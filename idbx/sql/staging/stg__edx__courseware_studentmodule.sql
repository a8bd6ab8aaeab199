/*
description: >
  Courseware state rows of the latest snapshot of each course (one row per learner and module
  the learner opened), without the state JSON (only a problem's attempt count is read from it).
  A view: only its aggregates are stored.
grain: [course_key, learner_key, module_id]
materialized: view
columns:
  course_key: Short key of the course run.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  module_type: Block type of the module (chapter, sequential, problem, video, ...).
  module_id: The module's usage key.
  grade: Points scored on the module (problems), NULL otherwise.
  max_grade: Points possible on the module (problems), NULL otherwise.
  attempts: Submissions the state records for a problem (its attempts), NULL otherwise.
  created_at: When the learner first opened the module (UTC).
  modified_at: When the row last changed (UTC).
*/
SELECT
    module.course_key,
    pseudonym.learner_key,
    module.module_type,
    module.module_id,
    module.grade,
    module.max_grade,
    CASE
        WHEN module.module_type = 'problem' AND json_valid(module.state)
            THEN try_cast(json_extract_string(module.state, '$.attempts') AS INTEGER)
    END AS attempts,
    module.created AS created_at,
    module.modified AS modified_at
FROM courseware_studentmodule AS module
JOIN stg__edx__user_pseudonyms AS pseudonym ON pseudonym.user_id = module.student_id
