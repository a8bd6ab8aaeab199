/*
description: >
  One row per part of each server problem_check event (a learner's submission of a problem,
  graded), stored by event date. Follows edx-analytics-pipeline's answer distribution
  (edx/analytics/tasks/insights/answer_dist.py, ProblemCheckEventMixin): parts come from the
  event's submission (else, for old events, its answers and correct_map); parts whose id ends in
  _dynamath or _comment are hidden inputs and left out; a part's value id is the answers entry when
  it differs from the submitted answer (choice ids), and then the answer text is the submission's
  with its markup stripped; a list answer reads [a|b|c]; an empty variant is '1'. A submission
  whose body names its problem but no part still counts as an attempt: one row, part_id ''.
grain: [source_file, line_number, part_id]
materialized: incremental
partition_by: event_date
columns:
  course_key: Short key of the course run.
  course_id: The edX course id as the event gives it.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  event_date: UTC date of the submission.
  time: Time of the submission (UTC).
  response_order: Orders the submissions by time in one integer (the time in microseconds, ties broken by a hash of the event's file and line).
  problem_id: Usage key of the problem.
  problem_name: The problem's display name as the event's context gives it.
  attempt: The attempt number the event gives.
  success: Whether the whole submission was correct.
  grade: Points scored.
  max_grade: Points possible.
  part_id: The answer (input) id within the problem ('' for a submission that names no part).
  answer_value: The answer as shown (text, markup stripped for choices; [a|b] for several).
  value_id: The choice id(s) when the part is a choice ('' otherwise).
  correct: Whether this part was correct.
  response_type: The part's response type (multiplechoiceresponse, stringresponse, ...), NULL for old events.
  variant: The variant (random seed) of the problem ('1' when none).
  question: The part's question text when the event gives it.
  source_file: The log file that delivered the event.
  line_number: The event's line in that file.
*/
WITH checks AS (
    SELECT *
    FROM stg__edx__events
    WHERE event_type = 'problem_check' AND event_source = 'server' AND user_id IS NOT NULL AND has_username AND problem_id IS NOT NULL
),

parts AS (
    SELECT
        checks.*,
        part.part_id,
        -- Each part's submission parsed once into the fields read below.
        json_transform(
            json_extract(checks.problem_submission, '$."' || part.part_id || '"'),
            '{"answer": "JSON", "correct": "BOOLEAN", "response_type": "VARCHAR", "variant": "VARCHAR", "question": "VARCHAR"}'
        ) AS submitted,
        json_extract(checks.problem_answers, '$."' || part.part_id || '"') AS answered
    FROM checks,
        unnest(coalesce(nullif(json_keys(coalesce(checks.problem_submission, checks.problem_answers)), []), [''])) AS part(part_id)
    WHERE part.part_id NOT LIKE '%\_dynamath' ESCAPE '\' AND part.part_id NOT LIKE '%\_comment' ESCAPE '\'
),

values_of AS (
    SELECT
        parts.*,
        CASE WHEN submitted IS NOT NULL THEN submitted.answer ELSE answered END AS answer_json,
        submitted IS NOT NULL AND CAST(answered AS VARCHAR) IS DISTINCT FROM CAST(submitted.answer AS VARCHAR) AS has_value_id
    FROM parts
),

-- Each value as a list of strings (a single answer is a list of one), to stringify them alike.
listed AS (
    SELECT
        values_of.*,
        json_type(answer_json) = 'ARRAY' AS answer_is_list,
        CASE WHEN json_type(answer_json) = 'ARRAY' THEN json_extract_string(answer_json, '$[*]') ELSE [json_extract_string(answer_json, '$')] END AS answer_list,
        CASE WHEN json_type(answered) = 'ARRAY' THEN json_extract_string(answered, '$[*]') ELSE [json_extract_string(answered, '$')] END AS value_list
    FROM values_of
),

pseudonyms AS (
    SELECT user_id, learner_pseudonym(user_id) AS learner_key
    FROM (SELECT DISTINCT user_id FROM checks) AS user_ids
)

SELECT
    listed.course_key,
    listed.course_id,
    pseudonyms.learner_key,
    listed.event_date,
    listed.time,
    -- One integer that orders submissions as (time, file, line) would, for cheap first/last picks.
    epoch_us(listed.time) * 1024 + CAST(hash(listed.source_file, listed.line_number) % 1024 AS BIGINT) AS response_order,
    listed.problem_id,
    listed.problem_name,
    listed.problem_attempts AS attempt,
    listed.problem_success AS success,
    listed.problem_grade AS grade,
    listed.problem_max_grade AS max_grade,
    listed.part_id,
    CASE WHEN listed.answer_is_list THEN '[' ELSE '' END
    || array_to_string(list_transform(listed.answer_list, lambda answer: CASE
        WHEN listed.has_value_id THEN trim(regexp_replace(regexp_replace(answer, '<[^>]*>', ' ', 'g'), '\s+', ' ', 'g'))
        ELSE trim(answer)
    END), '|')
    || CASE WHEN listed.answer_is_list THEN ']' ELSE '' END AS answer_value,
    CASE
        WHEN NOT listed.has_value_id THEN ''
        WHEN json_type(listed.answered) = 'ARRAY' THEN '[' || array_to_string(list_transform(listed.value_list, lambda v: trim(v)), '|') || ']'
        ELSE trim(listed.value_list[1])
    END AS value_id,
    CASE
        WHEN listed.submitted IS NOT NULL THEN coalesce(listed.submitted.correct, false)
        ELSE coalesce(json_extract_string(listed.problem_correct_map, '$."' || listed.part_id || '".correctness') = 'correct', false)
    END AS correct,
    listed.submitted.response_type AS response_type,
    coalesce(nullif(listed.submitted.variant, ''), '1') AS variant,
    coalesce(listed.submitted.question, '') AS question,
    listed.source_file,
    listed.line_number
FROM listed
JOIN pseudonyms ON pseudonyms.user_id = listed.user_id
