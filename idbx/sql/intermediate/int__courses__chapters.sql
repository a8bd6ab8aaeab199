/*
description: >
  How many chapters each course has, for person-course's "explored": the chapters of the course
  structure when one was delivered (course_blocks), else the distinct chapters learners opened.
grain: [course_key]
materialized: table
columns:
  course_key: Short key of the course run.
  chapters_in_structure: Chapters in the latest course structure, NULL when none was delivered.
  chapters_seen: Distinct chapters any learner opened (courseware chapter rows).
  chapters: The count explored is measured against (the structure's, else the seen ones).
  chapters_source: structure or seen.
*/
WITH structure AS (
    SELECT course_key, count(DISTINCT block_id) AS chapters
    FROM stg__edx__course_blocks
    WHERE block_type = 'chapter'
    GROUP BY course_key
),

seen AS (
    SELECT course_key, count(DISTINCT module_id) AS chapters
    FROM stg__edx__courseware_studentmodule
    WHERE module_type = 'chapter'
    GROUP BY course_key
)

SELECT
    coalesce(structure.course_key, seen.course_key) AS course_key,
    structure.chapters AS chapters_in_structure,
    coalesce(seen.chapters, 0) AS chapters_seen,
    coalesce(structure.chapters, seen.chapters) AS chapters,
    CASE WHEN structure.chapters IS NOT NULL THEN 'structure' ELSE 'seen' END AS chapters_source
FROM structure
FULL OUTER JOIN seen ON seen.course_key = structure.course_key
