/*
description: >
  Every edX user id the latest course tables name, with its pseudonymous learner key. The one
  place where the keyed hash is computed for the tables (once per user, not once per row); the
  other staging models join it. Holds edX user ids: keep it in the lake, never publish it. Its
  grain is the key, so that two users whose keys collide fail the build (user_id is unique: the
  ids are a UNION).
grain: [learner_key]
materialized: table
columns:
  user_id: edX user id (auth_user.id), as the course tables give it.
  learner_key: Pseudonymous learner key, the first 60 bits of the HMAC-SHA256 of the user id's decimal text keyed by IDBX_PSEUDONYM_KEY, as a number (idbx/privacy/pseudonym.py).
*/
WITH user_ids AS (
    SELECT CAST(id AS BIGINT) AS user_id FROM auth_user
    UNION SELECT CAST(user_id AS BIGINT) FROM auth_userprofile
    UNION SELECT CAST(user_id AS BIGINT) FROM student_courseenrollment
    UNION SELECT CAST(user_id AS BIGINT) FROM certificates_generatedcertificate
    UNION SELECT CAST(student_id AS BIGINT) FROM courseware_studentmodule
    UNION SELECT CAST(id AS BIGINT) FROM user_id_map
    UNION SELECT CAST(author_id AS BIGINT) FROM forum_posts
)
SELECT user_id, learner_pseudonym(user_id) AS learner_key
FROM user_ids
WHERE user_id IS NOT NULL
