/*
description: >
  What the latest course tables say about each learner in each course: enrollment, certificate,
  courseware progress and profile, one row per learner with an enrollment, certificate or
  courseware row. Rebuilt only when the tables change (person-course joins it to the activity).
grain: [course_key, learner_key]
materialized: table
not_null: [course_key, learner_key]
columns:
  course_key: Short key of the course run.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  in_enrollments: Whether the learner has an enrollment row.
  enrolled_at: When the enrollment row was created (UTC).
  is_active: Whether the enrollment row is active.
  mode: Enrollment mode.
  grade: Certificate grade, NULL without a certificate row.
  certificate_status: Certificate status, NULL without a certificate row.
  chapters_viewed: Distinct chapters opened (NULL without courseware rows).
  gender: Profile gender code.
  year_of_birth: Profile year of birth.
  level_of_education: Profile education code.
  country: Profile country code.
  is_retired: Whether edX retired the learner's account (see stg__edx__auth_user); false when no account row names them.
*/
WITH learners AS (
    SELECT course_key, learner_key FROM stg__edx__student_courseenrollment
    UNION
    SELECT course_key, learner_key FROM stg__edx__certificates_generatedcertificate
    UNION
    SELECT course_key, learner_key FROM int__courseware__learner_course
)

SELECT
    learners.course_key,
    learners.learner_key,
    enrollment.learner_key IS NOT NULL AS in_enrollments,
    enrollment.enrolled_at,
    enrollment.is_active,
    enrollment.mode,
    certificate.grade,
    certificate.status AS certificate_status,
    courseware.chapters_viewed,
    profile.gender,
    profile.year_of_birth,
    profile.level_of_education,
    profile.country,
    coalesce(account.is_retired, false) AS is_retired
FROM learners
LEFT JOIN stg__edx__student_courseenrollment AS enrollment
    ON enrollment.course_key = learners.course_key AND enrollment.learner_key = learners.learner_key
LEFT JOIN stg__edx__certificates_generatedcertificate AS certificate
    ON certificate.course_key = learners.course_key AND certificate.learner_key = learners.learner_key
LEFT JOIN int__courseware__learner_course AS courseware
    ON courseware.course_key = learners.course_key AND courseware.learner_key = learners.learner_key
LEFT JOIN stg__edx__auth_userprofile AS profile
    ON profile.course_key = learners.course_key AND profile.learner_key = learners.learner_key
LEFT JOIN stg__edx__auth_user AS account ON account.learner_key = learners.learner_key
