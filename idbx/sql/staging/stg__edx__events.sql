/*
description: >
  Tracking-log events of a course, without the personal fields (username, IP, agent, session,
  host, referer, page, context, body). A view: the event-date aggregates downstream are what is
  stored. It keeps the edX user id, which those aggregates replace with learner_id (hashing once
  per learner, not once per event). Enrollment events name their learner in the body (a staff
  member may enroll someone else): that id and the mode have their own columns, read from the body
  only for those events. Server problem_check events (graded submissions) have their body's fields
  in columns too (problem, attempts, success, grade, the answers as submitted: learner-written text
  without any identity, kept for the answer distribution); the rest of the body stays out.
grain: [source_file, line_number]
materialized: view
columns:
  event_date: UTC date of the event's own time (not the day of the file that delivered it).
  time: Event time (UTC).
  log_date: Day of the log file that delivered the event.
  user_id: edX user id of the user who made the event, NULL when unknown.
  has_username: Whether the event names a user (edX counts only those).
  course_key: Short key of the course run, NULL for events of no course.
  course_id: The edX course id as resolved from the event.
  event_type: Event type (play_video, problem_check, edx.course.enrollment.activated, implicit URL events, ...).
  event_source: browser, server, mobile or task.
  enrollment_user_id: For enrollment events, the learner enrolled or unenrolled (the body's user_id, else the user's); NULL for other events.
  enrollment_mode: For enrollment events, the mode the body gives; NULL for other events.
  problem_id: For server problem_check events, the usage key of the problem (the body's problem_id); NULL for other events.
  problem_name: For server problem_check events, the problem's display name as the context gives it.
  problem_attempts: For server problem_check events, the attempt number the body gives; NULL for other events.
  problem_success: For server problem_check events, whether the submission was correct (success = correct).
  problem_grade: For server problem_check events, the points scored.
  problem_max_grade: For server problem_check events, the points possible.
  problem_submission: For server problem_check events, the body's submission object (part id -> answer, correct, response_type, input_type, variant, question).
  problem_answers: For server problem_check events, the body's answers object (part id -> the value or the choice ids).
  problem_correct_map: For server problem_check events, the body's correct_map object (part id -> correctness), what events without a submission give.
  source_file: The log file that delivered the event.
  line_number: The event's line in that file (with source_file, what tells one event from another).
*/
SELECT
    CAST(time AS DATE) AS event_date,
    time,
    log_date,
    user_id,
    coalesce(username, '') <> '' AS has_username,
    course_key,
    course_id,
    event_type,
    event_source,
    CASE
        WHEN event_type LIKE 'edx.course.enrollment.%'
            THEN coalesce(try_cast(json_extract_string(event, '$.user_id') AS BIGINT), user_id)
    END AS enrollment_user_id,
    CASE WHEN event_type LIKE 'edx.course.enrollment.%' THEN json_extract_string(event, '$.mode') END AS enrollment_mode,
    problem_body[1] ->> '$' AS problem_id,
    problem_body[9] ->> '$' AS problem_name,
    try_cast(problem_body[2] ->> '$' AS INTEGER) AS problem_attempts,
    (problem_body[3] ->> '$') = 'correct' AS problem_success,
    try_cast(problem_body[4] ->> '$' AS DOUBLE) AS problem_grade,
    try_cast(problem_body[5] ->> '$' AS DOUBLE) AS problem_max_grade,
    problem_body[6] AS problem_submission,
    problem_body[7] AS problem_answers,
    problem_body[8] AS problem_correct_map,
    source_file,
    line_number
FROM (
    -- A submission's fields, each body parsed once (what a JSON path per column would parse nine times).
    SELECT
        *,
        CASE WHEN event_type = 'problem_check' AND event_source = 'server' THEN list_concat(
            json_extract(event, ['$.problem_id', '$.attempts', '$.success', '$.grade', '$.max_grade', '$.submission', '$.answers', '$.correct_map']),
            json_extract(context, ['$.module.display_name'])
        ) END AS problem_body
    FROM events
    WHERE course_key IS NOT NULL AND time IS NOT NULL
) AS events
