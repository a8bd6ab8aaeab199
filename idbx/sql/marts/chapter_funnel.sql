/*
description: >
  Where learners stop: for each chapter and subsection of a course run's outline (course_axis), in
  course order, the learners who reached it (opened any block of it: a courseware page or a block
  named in their events, or a courseware_studentmodule row of the chapter, the subsection or a
  block inside), and that count as a share of the previous chapter's (subsection's) and of the
  first's (counted from int__content__learner_units). Learners may skip ahead, so a share can pass 1. Courses without an outline have no rows
  (the reconciliation mart lists them under course_outline).
grain: [course_key, block_id]
materialized: table
not_null: [course_key]
columns:
  course_id: The edX course id.
  course_key: Short key of the course run.
  block_id: Usage key of the chapter or subsection.
  block_type: chapter or sequential.
  display_name: Its display name.
  course_index: Its place in course order.
  chapter_index: Place of the chapter (of the subsection's chapter) among the course's chapters.
  sequential_index: Place of the subsection among the course's subsections (NULL for a chapter).
  learners: Learners who reached it (events or courseware rows).
  learners_from_events: Learners the tracking logs show reaching it.
  learners_from_courseware: Learners whose courseware rows show them reaching it.
  share_of_previous: learners / the previous chapter's (subsection's) learners, NULL for the first or after none.
  share_of_first: learners / the first chapter's (subsection's) learners.
*/
WITH runs AS (
    SELECT course_key, course_id FROM int__courses__runs_with_events WHERE NOT excluded
),

reach AS (
    SELECT
        course_key,
        block_id,
        count(*) AS learners,
        count(*) FILTER (WHERE from_events) AS learners_from_events,
        count(*) FILTER (WHERE from_courseware) AS learners_from_courseware
    FROM int__content__learner_units
    GROUP BY course_key, block_id
),

steps AS (
    SELECT
        axis.course_key,
        axis.block_id,
        axis.block_type,
        axis.display_name,
        axis.course_index,
        axis.chapter_index,
        CASE WHEN axis.block_type = 'sequential' THEN axis.sequential_index END AS sequential_index,
        coalesce(reach.learners, 0) AS learners,
        coalesce(reach.learners_from_events, 0) AS learners_from_events,
        coalesce(reach.learners_from_courseware, 0) AS learners_from_courseware
    FROM course_axis AS axis
    LEFT JOIN reach ON reach.course_key = axis.course_key AND reach.block_id = axis.block_id
    WHERE axis.block_type IN ('chapter', 'sequential')
)

SELECT
    runs.course_id,
    steps.course_key,
    steps.block_id,
    steps.block_type,
    steps.display_name,
    steps.course_index,
    steps.chapter_index,
    steps.sequential_index,
    steps.learners,
    steps.learners_from_events,
    steps.learners_from_courseware,
    steps.learners / nullif(lag(steps.learners) OVER (PARTITION BY steps.course_key, steps.block_type ORDER BY steps.course_index), 0) AS share_of_previous,
    steps.learners / nullif(first_value(steps.learners) OVER (PARTITION BY steps.course_key, steps.block_type ORDER BY steps.course_index), 0) AS share_of_first
FROM steps
JOIN runs ON runs.course_key = steps.course_key
