/*
description: >
  The blocks of each course's latest structure (course_blocks, when a delivery held the course
  structure or, without it, the course export's chapter list; empty otherwise), with the place the
  structure gives each block (parent, 1-based position among its siblings, depth).
grain: [course_key, block_id]
materialized: view
columns:
  course_key: Short key of the course run.
  course_id: The edX course id.
  block_id: The block's usage key.
  url_name: The last part of the usage key (what courseware URLs, old i4x ids and event ids name the block by).
  block_type: course, chapter, sequential, vertical, problem, video, html, ...
  display_name: The block's display name.
  parent_id: The block's parent (NULL for a root).
  position: 1-based place among its parent's children (NULL for a root).
  depth: 0 for the course, 1 chapter, 2 sequential, 3 vertical, 4 component; NULL for a block no root reaches.
  chapter_id: The chapter the block is or sits in (NULL for the course root).
  sequential_id: The sequential the block is or sits in (NULL above it).
  graded: Whether the block is graded.
  format: The grading format (assignment type) of a graded subsection.
  due: Due date (UTC).
  start: Release date (UTC).
  video_duration: A video's duration in seconds when the structure's metadata gives it.
  snapshot_date: Delivery date of the structure.
*/
SELECT
    course_key,
    course_id,
    block_id,
    regexp_replace(block_id, '^.*(block@|/)', '') AS url_name,
    block_type,
    display_name,
    parent_id,
    position,
    depth,
    chapter_id,
    sequential_id,
    graded,
    format,
    due,
    start,
    CASE WHEN block_type = 'video' THEN try_cast(json_extract_string(metadata, '$.duration') AS DOUBLE) END AS video_duration,
    snapshot_date
FROM course_blocks
