/*
description: >
  The predecessor's general report (general-report.js), one row per course run the registry does
  not exclude; its columns first, in its order, then ours.
grain: [id]
materialized: table
columns:
  id: Short key of the course run.
  name: Course name (registry).
  sme: The bank department(s) responsible (registry).
  start_date: Course start (registry).
  end_date: Course end (registry).
  total_users: Enrollment rows.
  active_users: Learners with at least one courseware row.
  approved_users: Certificates with a grade at or above the passing grade.
  certified_users: Certificates with status downloadable.
  failed_users: Certificates with status notpassing.
  male: Profiles with gender m.
  female: Profiles with gender f.
  countries: Distinct profile countries.
  course_id: The edX course id.
  registered: Whether the registry lists the run.
  enrollments_active: Enrollment rows still active.
  snapshot_date: Delivery date of the tables counted.
*/
SELECT
    course_key AS id,
    name,
    sme,
    start_date,
    end_date,
    users_total AS total_users,
    users_active AS active_users,
    certificates_approved AS approved_users,
    certificates_certified AS certified_users,
    certificates_failed AS failed_users,
    male,
    female,
    countries_count AS countries,
    course_id,
    registered,
    enrollments_active,
    snapshot_date
FROM course_report
