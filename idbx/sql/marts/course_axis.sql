/*
description: >
  The outline of each course run: one row per block of its latest structure, in course order (the
  order a learner meets them: chapter, then its sequentials, their verticals, their components),
  after edx2bigquery's course_axis (mitodl/edx2bigquery, edx2bigquery/edx2course_axis.py: index =
  the block's place in a depth-first walk of the course tree, with its chapter, grading format,
  due date and display name). Built from course_blocks (the structure JSON, or the course export's
  chapter list when a delivery lacks it); a course without a structure has no rows (the
  reconciliation mart lists it under course_outline). Blocks the structure lists but no root
  reaches have no place in the order and are left out. Roots of a structure that is not a whole
  course come in the order of their depth, then their ids (the file gives no order between them).
grain: [course_key, block_id]
materialized: table
not_null: [course_key]
columns:
  course_id: The edX course id.
  course_key: Short key of the course run.
  course_index: 1-based place of the block in course order.
  block_id: The block's usage key.
  url_name: The last part of the usage key.
  block_type: course, chapter, sequential, vertical, problem, video, html, ...
  display_name: The block's display name.
  depth: 0 for the course, 1 chapter, 2 sequential, 3 vertical, 4 component.
  parent_id: The block's parent (NULL for a root).
  chapter_id: The chapter the block is or sits in (NULL for the course root).
  chapter_index: 1-based place of that chapter among the course's chapters.
  chapter_name: That chapter's display name.
  sequential_id: The sequential (subsection) the block is or sits in (NULL above it).
  sequential_index: 1-based place of that sequential among the course's sequentials.
  graded: Whether the block (or, below a subsection, its subsection) is graded.
  format: The grading format of the block's subsection (Homework, Exam, ...).
  due: Due date (UTC) of the block, else of its subsection.
  video_duration: A video's duration in seconds when the structure gives it (NULL otherwise).
  snapshot_date: Delivery date of the structure.
*/
WITH RECURSIVE placed AS (
    SELECT *
    FROM stg__edx__course_blocks
    WHERE depth IS NOT NULL AND course_key NOT IN (SELECT course_key FROM int__courses__course_runs WHERE excluded)
),

-- Each block's path from its root as a string of zero-padded positions: sorting it is walking the tree.
tree AS (
    SELECT
        course_key,
        block_id,
        lpad(CAST(row_number() OVER (PARTITION BY course_key ORDER BY depth, block_id) AS VARCHAR), 6, '0') AS path
    FROM placed
    WHERE parent_id IS NULL
    UNION ALL
    SELECT placed.course_key, placed.block_id, tree.path || '.' || lpad(CAST(placed.position AS VARCHAR), 6, '0')
    FROM tree
    JOIN placed ON placed.course_key = tree.course_key AND placed.parent_id = tree.block_id
),

ordered AS (
    SELECT
        placed.*,
        row_number() OVER (PARTITION BY placed.course_key ORDER BY tree.path) AS course_index
    FROM placed
    JOIN tree ON tree.course_key = placed.course_key AND tree.block_id = placed.block_id
),

chapters AS (
    SELECT
        course_key,
        block_id AS chapter_id,
        display_name AS chapter_name,
        row_number() OVER (PARTITION BY course_key ORDER BY course_index) AS chapter_index
    FROM ordered
    WHERE block_type = 'chapter'
),

sequentials AS (
    SELECT
        course_key,
        block_id AS sequential_id,
        graded,
        format,
        due,
        row_number() OVER (PARTITION BY course_key ORDER BY course_index) AS sequential_index
    FROM ordered
    WHERE block_type = 'sequential'
)

SELECT
    ordered.course_id,
    ordered.course_key,
    ordered.course_index,
    ordered.block_id,
    ordered.url_name,
    ordered.block_type,
    ordered.display_name,
    ordered.depth,
    ordered.parent_id,
    ordered.chapter_id,
    chapters.chapter_index,
    chapters.chapter_name,
    ordered.sequential_id,
    sequentials.sequential_index,
    coalesce(ordered.graded, sequentials.graded, false) AS graded,
    coalesce(ordered.format, sequentials.format) AS format,
    coalesce(ordered.due, sequentials.due) AS due,
    ordered.video_duration,
    ordered.snapshot_date
FROM ordered
LEFT JOIN chapters ON chapters.course_key = ordered.course_key AND chapters.chapter_id = ordered.chapter_id
LEFT JOIN sequentials ON sequentials.course_key = ordered.course_key AND sequentials.sequential_id = ordered.sequential_id
