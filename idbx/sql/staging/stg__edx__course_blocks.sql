/*
description: >
  The blocks of each course's latest structure (course_blocks, when a delivery held the course
  structure; empty otherwise).
grain: [course_key, block_id]
materialized: view
columns:
  course_key: Short key of the course run.
  course_id: The edX course id.
  block_id: The block's usage key.
  block_type: course, chapter, sequential, vertical, problem, video, html, ...
  chapter_id: The chapter the block is or sits in (NULL for the course root).
  graded: Whether the block is graded.
  snapshot_date: Delivery date of the structure.
*/
SELECT course_key, course_id, block_id, block_type, chapter_id, graded, snapshot_date
FROM course_blocks
