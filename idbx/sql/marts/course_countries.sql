/*
description: >
  Learners of each course by country, locating those whose profile gives none by the address of
  their latest event in the course (person_course.country_by_ip). A companion to the
  predecessor's profile-only breakdown (course_demographics, course_report), which stays as it
  was. One row per course and country, and one with country NULL for the learners neither locates.
  Courses the registry excludes are left out (as in person_course).
grain: [course_key, country]
materialized: table
not_null: [course_key]
columns:
  course_key: Short key of the course run.
  course_id: The edX course id.
  country: Country (ISO 3166 alpha-2) from the profile, else from the address; NULL for learners neither locates.
  learners: Learners of the course in that country.
  from_profile: Of these, located by their profile.
  from_ip: Of these, located by the address (no profile country).
*/
SELECT
    course_key,
    min(course_id) AS course_id,
    CASE country_source WHEN 'profile' THEN country WHEN 'ip' THEN country_by_ip END AS country,
    count(*) AS learners,
    count(*) FILTER (WHERE country_source = 'profile') AS from_profile,
    count(*) FILTER (WHERE country_source = 'ip') AS from_ip
FROM person_course
GROUP BY course_key, CASE country_source WHEN 'profile' THEN country WHEN 'ip' THEN country_by_ip END
