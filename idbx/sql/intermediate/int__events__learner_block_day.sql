/*
description: >
  Which blocks of the courseware each learner opened or used on each day (UTC date of the events'
  own time), from the tracking logs' URLs, stored by event date: the chapter and subsection of each
  courseware page (/courses/<course>/courseware/<chapter>/<subsection>/) and the block of each xblock
  handler URL (/courses/<course>/xblock/<usage key>/handler/..., which every problem submission,
  video transcript or other block interaction goes through). Read from the event type alone: no
  event body is parsed (a body per event cost more than all the other event models together).
  Blocks are named by type and url name (the last part of their usage key), the form courseware
  URLs, old i4x ids and new block ids share, so that the outline (course_axis) places them
  whichever form the events use.
grain: [course_key, learner_key, event_date, block_type, url_name]
materialized: incremental
partition_by: event_date
columns:
  course_key: Short key of the course run.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  event_date: UTC date of the events.
  block_type: chapter, sequential, problem, video, ... (as the URL or the usage key gives it).
  url_name: The block's url name.
  events: The learner's events of that day about the block.
*/
WITH learner_events AS (
    SELECT
        course_key,
        user_id,
        event_date,
        event_type,
        CASE WHEN event_type LIKE '/courses/%/xblock/%' THEN regexp_extract(event_type, '/xblock/([^/]+)', 1) END AS usage_key
    FROM stg__edx__events
    WHERE
        user_id IS NOT NULL AND has_username
        AND (event_type LIKE '/courses/%/courseware/%' OR event_type LIKE '/courses/%/xblock/%')
),

opened AS (
    SELECT course_key, user_id, event_date, 'chapter' AS block_type, regexp_extract(event_type, '/courseware/([^/]+)', 1) AS url_name
    FROM learner_events
    WHERE event_type LIKE '/courses/%/courseware/%'
    UNION ALL
    SELECT course_key, user_id, event_date, 'sequential', regexp_extract(event_type, '/courseware/[^/]+/([^/]+)', 1)
    FROM learner_events
    WHERE event_type LIKE '/courses/%/courseware/%'
    UNION ALL
    SELECT
        course_key,
        user_id,
        event_date,
        coalesce(nullif(regexp_extract(usage_key, 'type@([^+]+)\+block@', 1), ''), regexp_extract(usage_key, '^i4x://[^/]+/[^/]+/([^/]+)/', 1)),
        regexp_replace(usage_key, '^.*(block@|/)', '')
    FROM learner_events
    WHERE usage_key LIKE 'block-v1:%' OR usage_key LIKE 'i4x://%'
),

learner_blocks AS (
    SELECT course_key, user_id, event_date, block_type, url_name, count(*) AS events
    FROM opened
    WHERE url_name <> '' AND block_type <> ''
    GROUP BY course_key, user_id, event_date, block_type, url_name
),

pseudonyms AS (
    SELECT user_id, learner_pseudonym(user_id) AS learner_key
    FROM (SELECT DISTINCT user_id FROM learner_blocks) AS user_ids
)

SELECT
    learner_blocks.course_key,
    pseudonyms.learner_key,
    learner_blocks.event_date,
    learner_blocks.block_type,
    learner_blocks.url_name,
    learner_blocks.events
FROM learner_blocks
JOIN pseudonyms ON pseudonyms.user_id = learner_blocks.user_id
