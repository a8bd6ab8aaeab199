/*
description: Enrollments of the latest snapshot of each course, learners pseudonymised.
grain: [course_key, learner_key]
materialized: table
columns:
  course_key: The registry's short key of the course run (idb1x_2t2014).
  course_id: The edX course id, in the form edX used for the course.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  enrolled_at: When the enrollment row was created (UTC).
  is_active: Whether the learner is enrolled now (false once unenrolled).
  mode: Enrollment mode (audit, honor, verified, ...).
  snapshot_date: Delivery date of the snapshot the row comes from.
*/
SELECT
    enrollment.course_key,
    enrollment.course_id,
    pseudonym.learner_key,
    enrollment.created AS enrolled_at,
    enrollment.is_active,
    enrollment.mode,
    enrollment.snapshot_date
FROM student_courseenrollment AS enrollment
JOIN stg__edx__user_pseudonyms AS pseudonym ON pseudonym.user_id = enrollment.user_id
