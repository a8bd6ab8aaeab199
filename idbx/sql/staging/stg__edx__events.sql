/*
description: >
  Tracking-log events of a course, without the personal fields (username, IP, agent, session,
  host, referer, page, context, body). A view: the event-date aggregates downstream are what is
  stored. It keeps the edX user id, which those aggregates replace with learner_id (hashing once
  per learner, not once per event). Enrollment events name their learner in the body (a staff
  member may enroll someone else): that id and the mode have their own columns, read from the body
  only for those events.
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
    source_file,
    line_number
FROM events
WHERE course_key IS NOT NULL AND time IS NOT NULL
