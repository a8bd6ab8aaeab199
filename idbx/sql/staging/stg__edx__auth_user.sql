/*
description: >
  Learners whose edX account was retired (erased on the learner's request by edX's retirement
  pipeline), one row per learner of the latest auth_user and user_id_map dumps. edX replaces a
  retired learner's username with `retired__user_<hash>` and their email with
  `retired__user_<hash>@retired.invalid` (edx-platform lms/envs/common.py: RETIRED_USERNAME_PREFIX,
  RETIRED_EMAIL_PREFIX, RETIRED_EMAIL_DOMAIN) and keeps their user id, enrollments and
  certificates: they stay counted everywhere, flagged. A learner is retired when any course's
  latest dump says so (retirement is per account, and a course's dump may predate it). The
  username and email are read here and dropped.
grain: [learner_key]
materialized: table
columns:
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  is_retired: Whether edX retired the learner's account (retired username or email in a latest dump).
*/
WITH accounts AS (
    SELECT CAST(id AS BIGINT) AS user_id, username, email FROM auth_user
    UNION ALL
    SELECT CAST(id AS BIGINT), username, NULL FROM user_id_map
)

SELECT
    pseudonym.learner_key,
    bool_or(
        coalesce(left(accounts.username, 14) = 'retired__user_', false)
        OR coalesce(left(accounts.email, 14) = 'retired__user_' AND right(accounts.email, 16) = '@retired.invalid', false)
    ) AS is_retired
FROM accounts
JOIN stg__edx__user_pseudonyms AS pseudonym ON pseudonym.user_id = accounts.user_id
GROUP BY pseudonym.learner_key
