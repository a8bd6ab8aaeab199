/*
description: >
  The predecessor's per-course report (its Mongo `reports` documents), one row per course run the
  registry does not exclude, from the latest snapshot of each course: users total = enrollment
  rows; enrollments_active = those still enrolled; users active = learners with courseware rows;
  certificates failed = status notpassing, certified = status downloadable, approved = grade at or
  above the course's passing grade (the predecessor meant this; its query counted every row).
  Breakdowns as maps, in the shape of the predecessor's document (empty values dropped). Runs
  listed in the registry but with no data yet have zeros and no snapshot date; runs found in the
  data but not in the registry have registered = false and no metadata.
grain: [course_key]
materialized: table
not_null: [course_key]
columns:
  course_key: Short key of the course run (the predecessor's report _id).
  course_id: The edX course id.
  name: Course name (registry).
  sme: The bank department(s) responsible (registry).
  start_date: Course start (registry).
  end_date: Course end (registry).
  registered: Whether the registry lists the run.
  passing_grade: Grade needed to pass (registry, default 0.65).
  snapshot_date: Delivery date of the tables the report counts, NULL when none.
  users_total: Enrollment rows (report.users.total).
  enrollments_active: Enrollment rows still active (not unenrolled).
  users_active: Learners with at least one courseware row (report.users.active).
  certificates_failed: Certificates with status notpassing.
  certificates_approved: Certificates with a grade at or above the passing grade.
  certificates_certified: Certificates with status downloadable.
  male: Profiles with gender m.
  female: Profiles with gender f.
  countries_count: Distinct profile countries.
  gender: Profiles by gender code (report.gender).
  education: Profiles by level of education (report.education).
  countries: Per country, its total and its gender, education and year-of-birth counts (report.countries).
*/
WITH runs AS (
    SELECT * FROM int__courses__course_runs WHERE NOT excluded
),

enrollments AS (
    SELECT
        course_key,
        count(*) AS users_total,
        count(*) FILTER (WHERE is_active) AS enrollments_active
    FROM stg__edx__student_courseenrollment
    GROUP BY course_key
),

active AS (
    SELECT course_key, count(*) AS users_active
    FROM int__courseware__learner_course
    GROUP BY course_key
),

certificates AS (
    SELECT
        certificate.course_key,
        count(*) FILTER (WHERE certificate.status = 'notpassing') AS certificates_failed,
        count(*) FILTER (WHERE certificate.grade >= runs.passing_grade) AS certificates_approved,
        count(*) FILTER (WHERE certificate.status = 'downloadable') AS certificates_certified
    FROM stg__edx__certificates_generatedcertificate AS certificate
    JOIN runs ON runs.course_key = certificate.course_key
    GROUP BY certificate.course_key
),

course_breakdowns AS (
    SELECT
        course_key,
        CAST(sum(learners) FILTER (WHERE breakdown = 'gender' AND category = 'm') AS BIGINT) AS male,
        CAST(sum(learners) FILTER (WHERE breakdown = 'gender' AND category = 'f') AS BIGINT) AS female,
        count(*) FILTER (WHERE breakdown = 'country') AS countries_count,
        map_from_entries(
            list(struct_pack(key := category, value := learners) ORDER BY category) FILTER (WHERE breakdown = 'gender')
        ) AS gender,
        map_from_entries(
            list(struct_pack(key := category, value := learners) ORDER BY category) FILTER (WHERE breakdown = 'education')
        ) AS education
    FROM course_demographics
    WHERE country IS NULL
    GROUP BY course_key
),

country_breakdowns AS (
    SELECT
        course_key,
        country,
        map_from_entries(
            list(struct_pack(key := category, value := learners) ORDER BY category) FILTER (WHERE breakdown = 'country_gender')
        ) AS gender,
        map_from_entries(
            list(struct_pack(key := category, value := learners) ORDER BY category) FILTER (WHERE breakdown = 'country_education')
        ) AS education,
        map_from_entries(
            list(struct_pack(key := category, value := learners) ORDER BY category) FILTER (WHERE breakdown = 'country_birth')
        ) AS birth
    FROM course_demographics
    WHERE country IS NOT NULL
    GROUP BY course_key, country
),

countries AS (
    SELECT
        totals.course_key,
        map_from_entries(list(
            struct_pack(
                key := totals.category,
                value := struct_pack(
                    total := totals.learners,
                    gender := coalesce(by_country.gender, CAST(MAP {} AS MAP(VARCHAR, BIGINT))),
                    education := coalesce(by_country.education, CAST(MAP {} AS MAP(VARCHAR, BIGINT))),
                    birth := coalesce(by_country.birth, CAST(MAP {} AS MAP(VARCHAR, BIGINT)))
                )
            ) ORDER BY totals.category
        )) AS countries
    FROM course_demographics AS totals
    LEFT JOIN country_breakdowns AS by_country
        ON by_country.course_key = totals.course_key AND by_country.country = totals.category
    WHERE totals.breakdown = 'country'
    GROUP BY totals.course_key
)

SELECT
    runs.course_key,
    runs.course_id,
    runs.name,
    runs.sme,
    runs.start_date,
    runs.end_date,
    runs.registered,
    runs.passing_grade,
    runs.snapshot_date,
    coalesce(enrollments.users_total, 0) AS users_total,
    coalesce(enrollments.enrollments_active, 0) AS enrollments_active,
    coalesce(active.users_active, 0) AS users_active,
    coalesce(certificates.certificates_failed, 0) AS certificates_failed,
    coalesce(certificates.certificates_approved, 0) AS certificates_approved,
    coalesce(certificates.certificates_certified, 0) AS certificates_certified,
    coalesce(course_breakdowns.male, 0) AS male,
    coalesce(course_breakdowns.female, 0) AS female,
    coalesce(course_breakdowns.countries_count, 0) AS countries_count,
    coalesce(course_breakdowns.gender, CAST(MAP {} AS MAP(VARCHAR, BIGINT))) AS gender,
    coalesce(course_breakdowns.education, CAST(MAP {} AS MAP(VARCHAR, BIGINT))) AS education,
    coalesce(
        countries.countries,
        CAST(MAP {} AS MAP(
            VARCHAR,
            STRUCT(total BIGINT, gender MAP(VARCHAR, BIGINT), education MAP(VARCHAR, BIGINT), birth MAP(VARCHAR, BIGINT))
        ))
    ) AS countries
FROM runs
LEFT JOIN enrollments ON enrollments.course_key = runs.course_key
LEFT JOIN active ON active.course_key = runs.course_key
LEFT JOIN certificates ON certificates.course_key = runs.course_key
LEFT JOIN course_breakdowns ON course_breakdowns.course_key = runs.course_key
LEFT JOIN countries ON countries.course_key = runs.course_key
