/*
description: >
  Per problem of each course run: who attempted it, how often, who got it right, at the first
  try or after how many. From the tracking logs' server problem_check events (one per graded
  submission, edX's ATTEMPTED_PROBLEM; first and last submission by time, as
  edx-analytics-pipeline's answer distribution orders them, edx/analytics/tasks/insights/answer_dist.py)
  when the logs hold any for the problem; else from courseware_studentmodule, whose state keeps
  only the latest outcome: attempted = a grade or attempts recorded, correct = full marks, first
  attempt correct = correct in one attempt, attempts to correct = the attempts recorded (source
  courseware). With the problem's place in the outline (course_axis) when the course has one.
  Counted from each learner's record (int__problems__learner_parts).
grain: [course_key, problem_id]
materialized: table
not_null: [course_key]
columns:
  course_id: The edX course id.
  course_key: Short key of the course run.
  problem_id: Usage key of the problem.
  url_name: The last part of the usage key.
  display_name: The problem's name (the outline's, else the events').
  course_index: Place of the problem in course order (NULL without an outline).
  chapter_index: Place of its chapter among the course's chapters.
  chapter_name: Its chapter's display name.
  sequential_index: Place of its subsection among the course's subsections.
  graded: Whether it counts towards the grade (NULL without an outline).
  source: events or courseware.
  learners_attempted: Learners who submitted it at least once.
  attempts: Submissions (events) or attempts recorded (courseware).
  learners_correct: Learners who got it right at least once (events) or have full marks (courseware).
  first_attempt_correct_rate: Share of the learners who attempted it whose first submission was correct.
  mean_attempts_to_correct: Among learners who got it right, the mean submissions up to and including the first correct one.
  correct_rate: learners_correct / learners_attempted.
*/
WITH runs AS (
    SELECT course_key, course_id FROM int__courses__runs_with_events WHERE NOT excluded
),

from_events AS (
    SELECT
        course_key,
        problem_id,
        max(problem_name) AS problem_name,
        'events' AS source,
        count(*) AS learners_attempted,
        CAST(sum(submissions) AS BIGINT) AS attempts,
        count(*) FILTER (WHERE ever_right) AS learners_correct,
        count(*) FILTER (WHERE first_right) AS first_correct,
        avg(submissions_to_right) AS mean_attempts_to_correct
    FROM int__problems__learner_parts
    WHERE problem_row
    GROUP BY course_key, problem_id
),

from_courseware AS (
    SELECT
        course_key,
        module_id AS problem_id,
        CAST(NULL AS VARCHAR) AS problem_name,
        'courseware' AS source,
        count(*) AS learners_attempted,
        CAST(sum(coalesce(attempts, 0)) AS BIGINT) AS attempts,
        count(*) FILTER (WHERE max_grade > 0 AND grade >= max_grade) AS learners_correct,
        count(*) FILTER (WHERE max_grade > 0 AND grade >= max_grade AND attempts = 1) AS first_correct,
        avg(attempts) FILTER (WHERE max_grade > 0 AND grade >= max_grade) AS mean_attempts_to_correct
    FROM stg__edx__courseware_studentmodule
    WHERE module_type = 'problem' AND (grade IS NOT NULL OR attempts > 0)
    GROUP BY course_key, module_id
),

problems AS (
    SELECT * FROM from_events
    UNION ALL
    SELECT from_courseware.*
    FROM from_courseware
    ANTI JOIN from_events
        ON from_events.course_key = from_courseware.course_key
        AND regexp_replace(from_events.problem_id, '^.*(block@|/)', '') = regexp_replace(from_courseware.problem_id, '^.*(block@|/)', '')
)

SELECT
    runs.course_id,
    problems.course_key,
    problems.problem_id,
    regexp_replace(problems.problem_id, '^.*(block@|/)', '') AS url_name,
    coalesce(axis.display_name, problems.problem_name) AS display_name,
    axis.course_index,
    axis.chapter_index,
    axis.chapter_name,
    axis.sequential_index,
    axis.graded,
    problems.source,
    problems.learners_attempted,
    problems.attempts,
    problems.learners_correct,
    problems.first_correct / problems.learners_attempted AS first_attempt_correct_rate,
    problems.mean_attempts_to_correct,
    problems.learners_correct / problems.learners_attempted AS correct_rate
FROM problems
JOIN runs ON runs.course_key = problems.course_key
LEFT JOIN course_axis AS axis
    ON axis.course_key = problems.course_key
    AND axis.block_type = 'problem'
    AND axis.url_name = regexp_replace(problems.problem_id, '^.*(block@|/)', '')
