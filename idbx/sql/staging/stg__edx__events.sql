/*
description: >
  Tracking-log events of a course, without the personal fields (username, IP, agent, session,
  host, referer, page, context, body). A view: the event-date aggregates downstream are what is
  stored. It keeps the edX user id, which those aggregates replace with learner_id (hashing once
  per learner, not once per event). Enrollment events name their learner in the body (a staff
  member may enroll someone else): that id and the mode have their own columns, read from the body
  only for those events. The block an event is about (the module of its context, else a problem
  submission's problem_id) and, for server problem_check events only, the submission's fields
  (attempts, success, grade, the answers as submitted: learner-written text without any identity,
  kept for the answer distribution) have their own columns too; the rest of the body stays out.
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
  module_id: Usage key of the block the event is about (context.module.usage_key, else the body's problem_id of a problem_check), NULL when none.
  module_name: Display name of that block as the event's context gives it.
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
    coalesce(
        json_extract_string(context, '$.module.usage_key'),
        CASE WHEN event_type = 'problem_check' AND event_source = 'server' THEN json_extract_string(event, '$.problem_id') END
    ) AS module_id,
    json_extract_string(context, '$.module.display_name') AS module_name,
    CASE WHEN event_type = 'problem_check' AND event_source = 'server' THEN try_cast(json_extract_string(event, '$.attempts') AS INTEGER) END AS problem_attempts,
    CASE WHEN event_type = 'problem_check' AND event_source = 'server' THEN json_extract_string(event, '$.success') = 'correct' END AS problem_success,
    CASE WHEN event_type = 'problem_check' AND event_source = 'server' THEN try_cast(json_extract_string(event, '$.grade') AS DOUBLE) END AS problem_grade,
    CASE WHEN event_type = 'problem_check' AND event_source = 'server' THEN try_cast(json_extract_string(event, '$.max_grade') AS DOUBLE) END AS problem_max_grade,
    CASE WHEN event_type = 'problem_check' AND event_source = 'server' THEN json_extract(event, '$.submission') END AS problem_submission,
    CASE WHEN event_type = 'problem_check' AND event_source = 'server' THEN json_extract(event, '$.answers') END AS problem_answers,
    CASE WHEN event_type = 'problem_check' AND event_source = 'server' THEN json_extract(event, '$.correct_map') END AS problem_correct_map,
    source_file,
    line_number
FROM events
WHERE course_key IS NOT NULL AND time IS NOT NULL
