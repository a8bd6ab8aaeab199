/*
description: >
  The rows of edX's learner engagement report before its counts (edx-analytics-pipeline,
  edx/analytics/tasks/data_api/student_engagement.py, JoinedStudentEngagementTableTask): one per
  learner enrolled in the course at the end of each interval's last day of
  int__engagement__intervals (int__enrollment__learner_spans: the enrollment table, else the
  enrollment events), with the learner's cohort from the course-groups tables when delivered, else
  empty. The learner_engagement mart and int__engagement__learner_intervals put their counts on it.
grain: [course_key, learner_key, end_date]
materialized: view
columns:
  course_id: The edX course id.
  course_key: Short key of the course run.
  end_date: Last day of the interval (UTC).
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  cohort: The learner's cohort, empty when none.
*/
WITH enrolled AS (
    SELECT
        spans.course_key,
        spans.learner_key,
        intervals.end_date,
        min(spans.course_id) AS course_id
    FROM int__enrollment__learner_spans AS spans
    JOIN int__engagement__intervals AS intervals
        ON spans.enrolled_from <= intervals.end_date AND (spans.enrolled_until IS NULL OR spans.enrolled_until > intervals.end_date)
    GROUP BY spans.course_key, spans.learner_key, intervals.end_date
)

SELECT
    enrolled.course_id,
    enrolled.course_key,
    enrolled.end_date,
    enrolled.learner_key,
    coalesce(cohorts.cohort, '') AS cohort
FROM enrolled
LEFT JOIN stg__edx__course_groups_cohortmembership AS cohorts
    ON cohorts.course_key = enrolled.course_key AND cohorts.learner_key = enrolled.learner_key
