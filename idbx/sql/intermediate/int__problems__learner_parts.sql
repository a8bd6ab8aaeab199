/*
description: >
  Each learner's record on each problem part, from their server problem_check events
  (int__events__problem_responses): on the problem, their submissions, whether the first was right,
  whether any was and after how many; on the part, their first and their most recent answer (by
  time, as edx-analytics-pipeline's answer distribution takes them,
  edx/analytics/tasks/insights/answer_dist.py), each with its grouping key (choice ids, else the
  answer), variant, text, correctness and question. Per learner, so that a new day recomputes only
  its learners; problem engagement and the answer distribution aggregate these rows.
grain: [course_key, learner_id, problem_id, part_id]
materialized: incremental
merge_by: [course_key, learner_id]
columns:
  course_key: Short key of the course run.
  learner_id: Pseudonymous learner id.
  problem_id: Usage key of the problem.
  part_id: The answer (input) id ('' for submissions that name no part).
  problem_name: The problem's display name (the learner's latest submission's).
  submissions: The learner's submissions of the problem.
  first_right: Whether the learner's first submission of the problem was right.
  ever_right: Whether any submission of the problem was right.
  submissions_to_right: Submissions up to and including the first right one (NULL when never right).
  first_at: Time of the first answer to the part.
  first_value_key: What the first answer is grouped by (the choice ids, else the answer).
  first_variant: Its problem variant.
  first_value_id: Its choice id(s) ('' for typed answers).
  first_answer_value: Its text as shown.
  first_correct: Whether it was right.
  first_question: The part's question then.
  last_at: Time of the most recent answer to the part.
  last_value_key: What the most recent answer is grouped by.
  last_variant: Its problem variant.
  last_value_id: Its choice id(s).
  last_answer_value: Its text as shown.
  last_correct: Whether it was right.
  last_question: The part's question then.
  last_response_type: The part's response type in the most recent answer.
*/
WITH responses AS (
    SELECT
        *,
        CASE WHEN value_id <> '' THEN value_id ELSE answer_value END AS value_key
    FROM int__events__problem_responses
),

submissions AS (
    SELECT DISTINCT course_key, learner_id, problem_id, time, success, problem_name, source_file, line_number
    FROM responses
),

learner_problems AS (
    SELECT
        course_key,
        learner_id,
        problem_id,
        count(*) AS submissions,
        arg_min(success, (time, source_file, line_number)) AS first_right,
        bool_or(success) AS ever_right,
        min((time, source_file, line_number)) FILTER (WHERE success) AS first_right_at,
        arg_max(problem_name, (time, source_file, line_number)) AS problem_name
    FROM submissions
    GROUP BY course_key, learner_id, problem_id
),

to_right AS (
    SELECT submissions.course_key, submissions.learner_id, submissions.problem_id, count(*) AS submissions
    FROM submissions
    JOIN learner_problems
        ON learner_problems.course_key = submissions.course_key AND learner_problems.learner_id = submissions.learner_id
        AND learner_problems.problem_id = submissions.problem_id
    WHERE (submissions.time, submissions.source_file, submissions.line_number) <= learner_problems.first_right_at
    GROUP BY submissions.course_key, submissions.learner_id, submissions.problem_id
),

parts AS (
    SELECT
        course_key,
        learner_id,
        problem_id,
        part_id,
        min(time) AS first_at,
        arg_min(value_key, (time, source_file, line_number)) AS first_value_key,
        arg_min(variant, (time, source_file, line_number)) AS first_variant,
        arg_min(value_id, (time, source_file, line_number)) AS first_value_id,
        arg_min(answer_value, (time, source_file, line_number)) AS first_answer_value,
        arg_min(correct, (time, source_file, line_number)) AS first_correct,
        arg_min(question, (time, source_file, line_number)) AS first_question,
        max(time) AS last_at,
        arg_max(value_key, (time, source_file, line_number)) AS last_value_key,
        arg_max(variant, (time, source_file, line_number)) AS last_variant,
        arg_max(value_id, (time, source_file, line_number)) AS last_value_id,
        arg_max(answer_value, (time, source_file, line_number)) AS last_answer_value,
        arg_max(correct, (time, source_file, line_number)) AS last_correct,
        arg_max(question, (time, source_file, line_number)) AS last_question,
        arg_max(response_type, (time, source_file, line_number)) AS last_response_type
    FROM responses
    GROUP BY course_key, learner_id, problem_id, part_id
)

SELECT
    parts.course_key,
    parts.learner_id,
    parts.problem_id,
    parts.part_id,
    learner_problems.problem_name,
    learner_problems.submissions,
    learner_problems.first_right,
    learner_problems.ever_right,
    to_right.submissions AS submissions_to_right,
    parts.first_at,
    parts.first_value_key,
    parts.first_variant,
    parts.first_value_id,
    parts.first_answer_value,
    parts.first_correct,
    parts.first_question,
    parts.last_at,
    parts.last_value_key,
    parts.last_variant,
    parts.last_value_id,
    parts.last_answer_value,
    parts.last_correct,
    parts.last_question,
    parts.last_response_type
FROM parts
JOIN learner_problems
    ON learner_problems.course_key = parts.course_key AND learner_problems.learner_id = parts.learner_id
    AND learner_problems.problem_id = parts.problem_id
LEFT JOIN to_right
    ON to_right.course_key = parts.course_key AND to_right.learner_id = parts.learner_id AND to_right.problem_id = parts.problem_id
