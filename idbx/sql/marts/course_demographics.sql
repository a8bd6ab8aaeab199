/*
description: >
  The predecessor's demographic breakdowns of each course in long form: learners by gender, by
  level of education and by country, and for each country by gender, education and year of
  birth, counted over the profiles of the course's latest snapshot. Empty values and NULL are
  dropped, as the predecessor did. Courses the registry excludes are left out.
grain: [course_key, breakdown, country, category]
materialized: table
not_null: [course_key]
columns:
  course_key: Short key of the course run.
  course_id: The edX course id.
  breakdown: gender, education, country, country_gender, country_education or country_birth.
  country: For the country_* breakdowns, the country the counts are within; NULL otherwise.
  category: The value counted (gender code, education code, country code or year of birth).
  learners: Profiles with that value.
*/
WITH runs AS (
    SELECT course_key, course_id FROM int__courses__course_runs WHERE NOT excluded
),

profiles AS (
    SELECT profile.*
    FROM stg__edx__auth_userprofile AS profile
    JOIN runs ON runs.course_key = profile.course_key
),

values_counted AS (
    SELECT course_key, 'gender' AS breakdown, NULL AS country, gender AS category
    FROM profiles WHERE gender IS NOT NULL
    UNION ALL
    SELECT course_key, 'education', NULL, level_of_education
    FROM profiles WHERE level_of_education IS NOT NULL
    UNION ALL
    SELECT course_key, 'country', NULL, country
    FROM profiles WHERE country IS NOT NULL
    UNION ALL
    SELECT course_key, 'country_gender', country, gender
    FROM profiles WHERE country IS NOT NULL AND gender IS NOT NULL
    UNION ALL
    SELECT course_key, 'country_education', country, level_of_education
    FROM profiles WHERE country IS NOT NULL AND level_of_education IS NOT NULL
    UNION ALL
    SELECT course_key, 'country_birth', country, CAST(year_of_birth AS VARCHAR)
    FROM profiles WHERE country IS NOT NULL AND year_of_birth IS NOT NULL
)

SELECT
    values_counted.course_key,
    runs.course_id,
    values_counted.breakdown,
    CAST(values_counted.country AS VARCHAR) AS country,
    values_counted.category,
    count(*) AS learners
FROM values_counted
JOIN runs ON runs.course_key = values_counted.course_key
GROUP BY values_counted.course_key, runs.course_id, values_counted.breakdown, values_counted.country, values_counted.category
