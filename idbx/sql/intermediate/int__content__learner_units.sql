/*
description: >
  The chapters and subsections of the outline (course_axis) each learner reached: a block of the
  unit in their events (int__events__learner_block_day) or in their courseware rows. Per learner,
  so that a new day recomputes only the learners it holds; the chapter funnel counts these rows.
grain: [course_key, learner_key, block_id]
materialized: incremental
merge_by: [course_key, learner_key]
not_null: [course_key, learner_key]
columns:
  course_key: Short key of the course run.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  block_id: Usage key of the chapter or subsection reached.
  from_events: Whether the tracking logs show the learner reaching it.
  from_courseware: Whether the learner's courseware rows show it.
*/
WITH reached AS (
    SELECT DISTINCT course_key, learner_key, 'events' AS source, block_type, url_name
    FROM int__events__learner_block_day
    UNION ALL
    SELECT course_key, learner_key, 'courseware', block_type, url_name
    FROM int__courseware__learner_blocks
),

placed AS (
    SELECT reached.course_key, reached.learner_key, reached.source, axis.chapter_id, axis.sequential_id
    FROM reached
    JOIN course_axis AS axis
        ON axis.course_key = reached.course_key AND axis.block_type = reached.block_type AND axis.url_name = reached.url_name
),

units AS (
    SELECT course_key, learner_key, source, chapter_id AS block_id FROM placed WHERE chapter_id IS NOT NULL
    UNION ALL
    SELECT course_key, learner_key, source, sequential_id FROM placed WHERE sequential_id IS NOT NULL
)

SELECT
    course_key,
    learner_key,
    block_id,
    bool_or(source = 'events') AS from_events,
    bool_or(source = 'courseware') AS from_courseware
FROM units
GROUP BY course_key, learner_key, block_id
