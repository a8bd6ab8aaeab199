/*
description: >
  The answer distribution of each problem part, edx-analytics-pipeline's definition
  (edx/analytics/tasks/insights/answer_dist.py, AnswerDistributionPerCourse): for each learner
  and problem, the first and the most recent submission (by time); each part's answers grouped by
  value (the choice ids when the part has them, else the answer) and variant, counting how many
  learners gave it first and how many gave it last; the answer text, correctness and question of a
  group are those of its most recent submission (by the submissions' order key). Counted from each
  learner's first and last answers (int__problems__learner_parts). Parts whose most recent submission is of a
  response type edX leaves out (custom, code, open-ended, or none given) are left out.
  Answer values are what learners typed: aggregates only, shown to course teams, never tied to a
  learner here.
grain: [course_key, problem_id, part_id, value_key, variant]
materialized: table
not_null: [course_key]
columns:
  course_id: The edX course id.
  course_key: Short key of the course run.
  problem_id: Usage key of the problem.
  part_id: The answer (input) id within the problem.
  value_key: What the answers are grouped by (the choice ids when the part has them, else the answer).
  variant: The problem's variant ('1' when none).
  value_id: The choice id(s) ('' for typed answers).
  answer_value: The answer as shown.
  correct: Whether the answer was correct (its most recent submission).
  first_response_count: Learners whose first submission gave this answer.
  last_response_count: Learners whose most recent submission gave this answer.
  problem_name: The problem's display name (from the events).
  question: The part's question text.
  response_type: The part's response type (its most recent submission's).
*/
WITH runs AS (
    SELECT course_key, course_id FROM int__courses__runs_with_events WHERE NOT excluded
),

answers AS (
    SELECT
        course_key, problem_id, part_id, first_value_key AS value_key, first_variant AS variant, first_order AS answer_order,
        first_value_id AS value_id, first_answer_value AS answer_value, first_correct AS correct, last_question AS question,
        problem_name, true AS is_first
    FROM int__problems__learner_parts
    WHERE part_id <> ''
    UNION ALL
    SELECT
        course_key, problem_id, part_id, last_value_key, last_variant, last_order,
        last_value_id, last_answer_value, last_correct, last_question,
        problem_name, false
    FROM int__problems__learner_parts
    WHERE part_id <> ''
),

latest_of_part AS (
    SELECT course_key, problem_id, part_id, arg_max(last_response_type, last_order) AS response_type
    FROM int__problems__learner_parts
    WHERE part_id <> ''
    GROUP BY course_key, problem_id, part_id
),

groups AS (
    SELECT
        course_key,
        problem_id,
        part_id,
        value_key,
        variant,
        arg_max(value_id, answer_order) AS value_id,
        arg_max(answer_value, answer_order) AS answer_value,
        arg_max(correct, answer_order) AS correct,
        count(*) FILTER (WHERE is_first) AS first_response_count,
        count(*) FILTER (WHERE NOT is_first) AS last_response_count,
        arg_max(problem_name, answer_order) AS problem_name,
        arg_max(question, answer_order) AS question
    FROM answers
    GROUP BY course_key, problem_id, part_id, value_key, variant
)

SELECT
    runs.course_id,
    groups.course_key,
    groups.problem_id,
    groups.part_id,
    groups.value_key,
    groups.variant,
    groups.value_id,
    groups.answer_value,
    groups.correct,
    groups.first_response_count,
    groups.last_response_count,
    groups.problem_name,
    groups.question,
    latest_of_part.response_type
FROM groups
JOIN runs ON runs.course_key = groups.course_key
JOIN latest_of_part
    ON latest_of_part.course_key = groups.course_key
    AND latest_of_part.problem_id = groups.problem_id
    AND latest_of_part.part_id = groups.part_id
WHERE latest_of_part.response_type IN (
    'choiceresponse', 'optionresponse', 'multiplechoiceresponse', 'numericalresponse', 'stringresponse', 'formularesponse'
)
