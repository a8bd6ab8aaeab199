/*
description: >
  edX's anonymous user ids (the per-course hash edX uses in some reports) linked to learner keys,
  from the latest user_id_map of each course; the username is dropped.
grain: [course_key, learner_key]
materialized: table
columns:
  course_key: Short key of the course run.
  course_id: The edX course id.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  anonymous_user_id: edX's anonymous id of the learner (user_id_map.hash_id).
  snapshot_date: Delivery date of the snapshot the row comes from.
*/
SELECT
    id_map.course_key,
    id_map.course_id,
    pseudonym.learner_key,
    id_map.hash_id AS anonymous_user_id,
    id_map.snapshot_date
FROM user_id_map AS id_map
JOIN stg__edx__user_pseudonyms AS pseudonym ON pseudonym.user_id = id_map.id
QUALIFY row_number() OVER (PARTITION BY id_map.course_key, id_map.id ORDER BY id_map.hash_id) = 1
