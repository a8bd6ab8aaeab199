/*
description: >
  The predecessor's enrollments report (enrollments-report.js): one row per enrollment of the
  latest snapshot of each course the registry does not exclude, with the learner's profile gender
  and country (empty when the learner has no profile row). Its columns first, then ours.
grain: [mooc_id, learner_id]
materialized: table
columns:
  mooc_name: Course name (registry).
  mooc_id: Short key of the course run.
  registration_date: When the learner enrolled (UTC).
  gender: Profile gender code.
  country: Profile country code.
  learner_id: Pseudonymous learner id, 15 hex digits (idbx/privacy/pseudonym.py).
  course_id: The edX course id.
  mode: Enrollment mode.
  is_active: Whether the learner is still enrolled.
*/
SELECT
    runs.name AS mooc_name,
    enrollment.course_key AS mooc_id,
    enrollment.enrolled_at AS registration_date,
    profile.gender,
    profile.country,
    learner_id_of(enrollment.learner_key) AS learner_id,
    enrollment.course_id,
    enrollment.mode,
    enrollment.is_active
FROM stg__edx__student_courseenrollment AS enrollment
JOIN int__courses__course_runs AS runs ON runs.course_key = enrollment.course_key AND NOT runs.excluded
LEFT JOIN stg__edx__auth_userprofile AS profile
    ON profile.course_key = enrollment.course_key AND profile.learner_key = enrollment.learner_key
