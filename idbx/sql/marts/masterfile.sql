/*
description: >
  The predecessor's MASTERFILE: every enrolled learner of every course run the registry does not
  exclude (latest snapshot), with demographics, progress (courseware rows), certificate and course
  metadata. Pseudonymous; the internal variant with names is an export option.
grain: [course_key, learner_id]
materialized: table
not_null: [course_key, learner_id]
columns:
  course_key: Short key of the course run.
  course_id: The edX course id.
  learner_id: Pseudonymous learner id, 15 hex digits (idbx/privacy/pseudonym.py).
  gender: Profile gender code.
  year_of_birth: Profile year of birth.
  level_of_education: Profile education code.
  country: Profile country code.
  progress: Courseware rows of the learner in the course (0 when none).
  grade: Certificate grade, NULL without a certificate row.
  certificate_status: Certificate status, NULL without a certificate row.
  certificate_mode: Certificate mode, NULL without a certificate row.
  enrollment_mode: Enrollment mode.
  is_active: Whether the learner is still enrolled.
  enrolled_at: When the learner enrolled (UTC).
  course_name: Course name (registry).
  sme: The bank department(s) responsible (registry).
  start_date: Course start (registry).
  end_date: Course end (registry).
*/
SELECT
    enrollment.course_key,
    enrollment.course_id,
    learner_id_of(enrollment.learner_key) AS learner_id,
    profile.gender,
    profile.year_of_birth,
    profile.level_of_education,
    profile.country,
    coalesce(courseware.courseware_rows, 0) AS progress,
    certificate.grade,
    certificate.status AS certificate_status,
    certificate.mode AS certificate_mode,
    enrollment.mode AS enrollment_mode,
    enrollment.is_active,
    enrollment.enrolled_at,
    runs.name AS course_name,
    runs.sme,
    runs.start_date,
    runs.end_date
FROM stg__edx__student_courseenrollment AS enrollment
JOIN int__courses__course_runs AS runs ON runs.course_key = enrollment.course_key AND NOT runs.excluded
LEFT JOIN stg__edx__auth_userprofile AS profile
    ON profile.course_key = enrollment.course_key AND profile.learner_key = enrollment.learner_key
LEFT JOIN int__courseware__learner_course AS courseware
    ON courseware.course_key = enrollment.course_key AND courseware.learner_key = enrollment.learner_key
LEFT JOIN stg__edx__certificates_generatedcertificate AS certificate
    ON certificate.course_key = enrollment.course_key AND certificate.learner_key = enrollment.learner_key
