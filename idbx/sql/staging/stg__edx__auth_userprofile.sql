/*
description: >
  Learner profiles of the latest snapshot of each course (edX dumps the profiles of a course's
  learners with each course), without the personal fields (name, location, address, goals, bio,
  meta, city). Empty strings and the text NULL become NULL.
grain: [course_key, learner_key]
materialized: table
columns:
  course_key: Short key of the course run whose dump held the profile.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  gender: Gender code as edX stores it (m, f, o), NULL when not given.
  year_of_birth: Year of birth, NULL when not given.
  level_of_education: Education code as edX stores it (p, m, b, a, hs, jhs, el, none, other), NULL when not given.
  country: Profile country (ISO 3166 alpha-2), NULL when not given.
  language: Profile language, NULL when not given.
  snapshot_date: Delivery date of the snapshot the row comes from.
*/
SELECT
    profile.course_key,
    pseudonym.learner_key,
    nullif(nullif(trim(profile.gender), ''), 'NULL') AS gender,
    profile.year_of_birth,
    nullif(nullif(trim(profile.level_of_education), ''), 'NULL') AS level_of_education,
    nullif(nullif(upper(trim(profile.country)), ''), 'NULL') AS country,
    nullif(nullif(trim(profile.language), ''), 'NULL') AS language,
    profile.snapshot_date
FROM auth_userprofile AS profile
JOIN stg__edx__user_pseudonyms AS pseudonym ON pseudonym.user_id = profile.user_id
QUALIFY row_number() OVER (PARTITION BY profile.course_key, profile.user_id ORDER BY profile.id DESC) = 1
