/*
description: >
  Certificate rows of the latest snapshot of each course, without the personal fields (name,
  download URL, verification and download ids, key).
grain: [course_key, learner_key]
materialized: table
columns:
  course_key: Short key of the course run.
  course_id: The edX course id.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  grade: Final grade between 0 and 1.
  status: Certificate status (downloadable, notpassing, audit_passing, ...).
  mode: Certificate mode (honor, verified, audit, ...).
  distinction: Whether the certificate was awarded with distinction.
  created_at: When the certificate row was created (UTC).
  modified_at: When it last changed (UTC).
  snapshot_date: Delivery date of the snapshot the row comes from.
*/
SELECT
    certificate.course_key,
    certificate.course_id,
    pseudonym.learner_key,
    CAST(certificate.grade AS DOUBLE) AS grade,
    certificate.status,
    certificate.mode,
    certificate.distinction,
    certificate.created_date AS created_at,
    certificate.modified_date AS modified_at,
    certificate.snapshot_date
FROM certificates_generatedcertificate AS certificate
JOIN stg__edx__user_pseudonyms AS pseudonym ON pseudonym.user_id = certificate.user_id
QUALIFY row_number() OVER (PARTITION BY certificate.course_key, certificate.user_id ORDER BY certificate.modified_date DESC, certificate.id DESC) = 1
