/*
description: >
  Each learner's record on each problem part, from their server problem_check events
  (int__events__problem_responses): on the problem, their submissions, whether the first was right,
  whether any was and after how many; on the part, their first and their most recent answer (by
  time, as edx-analytics-pipeline's answer distribution takes them,
  edx/analytics/tasks/insights/answer_dist.py), each with its grouping key (choice ids, else the
  answer), variant, text, correctness and question. Per learner, so that a new day recomputes only
  its learners; problem engagement and the answer distribution aggregate these rows.
grain: [course_key, learner_key, problem_id, part_id]
materialized: incremental
merge_by: [course_key, learner_key]
not_null: [course_key, learner_key]
columns:
  course_key: Short key of the course run.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  problem_id: Usage key of the problem.
  part_id: The answer (input) id ('' for submissions that name no part).
  problem_name: The problem's display name (the learner's latest submission's).
  submissions: The learner's submissions of the problem.
  first_right: Whether the learner's first submission of the problem was right.
  ever_right: Whether any submission of the problem was right.
  submissions_to_right: Submissions up to and including the first right one (NULL when never right).
  problem_row: Whether this row is the one that carries the problem's figures for the learner (its first part), so that they are counted once.
  first_at: Time of the first answer to the part.
  first_order: Order key of the first answer (int__events__problem_responses' response_order).
  first_value_key: What the first answer is grouped by (the choice ids, else the answer).
  first_variant: Its problem variant.
  first_value_id: Its choice id(s) ('' for typed answers).
  first_answer_value: Its text as shown.
  first_correct: Whether it was right.
  last_at: Time of the most recent answer to the part.
  last_order: Order key of the most recent answer.
  last_value_key: What the most recent answer is grouped by.
  last_variant: Its problem variant.
  last_value_id: Its choice id(s).
  last_answer_value: Its text as shown.
  last_correct: Whether it was right.
  last_question: The part's question then.
  last_response_type: The part's response type in the most recent answer.
*/
-- One row per submission (server problem_check), with the least part it answered: the learner's
-- figures on the problem go on the problem's least part (no window over the parts needed).
-- The responses are read where they are used, not kept in a CTE: two scans of the columns each
-- needs cost less than holding every column of 2 M rows.
WITH submissions AS (
    SELECT course_key, learner_key, problem_id, response_order, success, problem_name, min(part_id) AS first_part_id
    FROM int__events__problem_responses
    GROUP BY course_key, learner_key, problem_id, response_order, success, problem_name
),

learner_problems AS (
    SELECT
        course_key,
        learner_key,
        problem_id,
        count(*) AS submissions,
        arg_min(success, response_order) AS first_right,
        bool_or(success) AS ever_right,
        min(response_order) FILTER (WHERE success) AS first_right_order,
        arg_max(problem_name, response_order) AS problem_name,
        min(first_part_id) AS first_part_id
    FROM submissions
    GROUP BY course_key, learner_key, problem_id
),

to_right AS (
    SELECT submissions.course_key, submissions.learner_key, submissions.problem_id, count(*) AS submissions
    FROM submissions
    JOIN learner_problems
        ON learner_problems.course_key = submissions.course_key AND learner_problems.learner_key = submissions.learner_key
        AND learner_problems.problem_id = submissions.problem_id
    WHERE submissions.response_order <= learner_problems.first_right_order
    GROUP BY submissions.course_key, submissions.learner_key, submissions.problem_id
),

parts AS (
    SELECT
        course_key,
        learner_key,
        problem_id,
        part_id,
        min(response_order) AS first_order,
        max(response_order) AS last_order,
        arg_min(struct_pack(at := time, value_key, variant, value_id, answer_value, correct), response_order) AS first_answer,
        arg_max(struct_pack(at := time, value_key, variant, value_id, answer_value, correct, question, response_type), response_order) AS last_answer
    FROM (
        SELECT *, CASE WHEN value_id <> '' THEN value_id ELSE answer_value END AS value_key
        FROM int__events__problem_responses
    ) AS responses
    GROUP BY course_key, learner_key, problem_id, part_id
)

SELECT
    parts.course_key,
    parts.learner_key,
    parts.problem_id,
    parts.part_id,
    learner_problems.problem_name,
    learner_problems.submissions,
    learner_problems.first_right,
    learner_problems.ever_right,
    to_right.submissions AS submissions_to_right,
    parts.part_id IS NOT DISTINCT FROM learner_problems.first_part_id AS problem_row,
    parts.first_answer.at AS first_at,
    parts.first_order,
    parts.first_answer.value_key AS first_value_key,
    parts.first_answer.variant AS first_variant,
    parts.first_answer.value_id AS first_value_id,
    parts.first_answer.answer_value AS first_answer_value,
    parts.first_answer.correct AS first_correct,
    parts.last_answer.at AS last_at,
    parts.last_order,
    parts.last_answer.value_key AS last_value_key,
    parts.last_answer.variant AS last_variant,
    parts.last_answer.value_id AS last_value_id,
    parts.last_answer.answer_value AS last_answer_value,
    parts.last_answer.correct AS last_correct,
    parts.last_answer.question AS last_question,
    parts.last_answer.response_type AS last_response_type
FROM parts
JOIN learner_problems
    ON learner_problems.course_key = parts.course_key AND learner_problems.learner_key = parts.learner_key
    AND learner_problems.problem_id = parts.problem_id
LEFT JOIN to_right
    ON to_right.course_key = parts.course_key AND to_right.learner_key = parts.learner_key AND to_right.problem_id = parts.problem_id
