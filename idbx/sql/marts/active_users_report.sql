/*
description: >
  The predecessor's active-users list (its Active users notebooks): every learner with at least
  one courseware row in a course the registry does not exclude, with the number of rows
  ("Repetitions") and the certificate status.
grain: [course_key, learner_id]
materialized: table
not_null: [course_key, learner_id]
columns:
  course_key: Short key of the course run (the predecessor's course_id).
  course_id: The edX course id.
  course_name: Course name (registry).
  learner_id: Pseudonymous learner id, 15 hex digits (idbx/privacy/pseudonym.py).
  repetitions: Courseware rows of the learner in the course.
  certificate_status: Certificate status, NULL without a certificate row.
*/
SELECT
    courseware.course_key,
    runs.course_id,
    runs.name AS course_name,
    learner_id_of(courseware.learner_key) AS learner_id,
    courseware.courseware_rows AS repetitions,
    certificate.status AS certificate_status
FROM int__courseware__learner_course AS courseware
JOIN int__courses__course_runs AS runs ON runs.course_key = courseware.course_key AND NOT runs.excluded
LEFT JOIN stg__edx__certificates_generatedcertificate AS certificate
    ON certificate.course_key = courseware.course_key AND certificate.learner_key = courseware.learner_key
