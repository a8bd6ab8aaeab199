/*
description: >
  Tracking-log events of a course, without the personal fields (username, IP, agent, session,
  host, referer, page, context, body). A view: the event-date aggregates downstream are what is
  stored. It keeps the edX user id, which those aggregates replace with learner_key (hashing once
  per learner, not once per event). Enrollment events name their learner in the body (a staff
  member may enroll someone else): that id and the mode have their own columns, read from the body
  only for those events. Server problem_check events (graded submissions) have their body's fields
  in columns too (problem, attempts, success, grade, the answers as submitted: learner-written text
  without any identity, kept for the answer distribution); the rest of the body stays out. The
  body's fields come from bronze's `event_fields`, read out of each body once, when it landed
  (idbx/parsers/event_fields.py): a build reads those narrow columns, not the bodies.
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
  video_action: For video player events, edX's legacy name (play_video, pause_video, seek_video, stop_video; the mobile players' edx.video.played, .paused, .stopped, .position.changed and .seeked mapped to them as edX's event shim maps them); NULL for other events.
  video_id: For video player events, the video's encoded module id (the body's id, else its module_id; a usage key given there becomes its html id, as edX's event shim derives it); NULL for other events.
  video_position: For video player events, the body's position in seconds as text (currentTime, or current_time, for play, pause and stop; new_time for seek; '0' for a pause without one, as edX reads it).
  video_seek_from: For seek events, the position sought from (old_time) as text.
  video_duration: For video player events, the body's duration as text, NULL when absent.
  body_is_object: Whether the event body is a JSON object (edX's pipelines skip events whose body is not).
  forum_vote_value: For edx.forum.*.voted events, the body's vote_value (up or down).
  forum_vote_undone: For edx.forum.*.voted events, the body's undo_vote.
  forum_vote_receiver_hash: For edx.forum.*.voted events, a 64-bit hash of the target_username (an in-build join key, hashed again with the pseudonym key before it is stored).
  username_hash: A 64-bit hash of the event's username (the same in-build join key; never stored as is).
  subsection_path: For implicit page events of a courseware subsection (/courses/{course}/courseware/{chapter}/{sequential}/...), the URL path (edX's student-engagement pattern); NULL for other events.
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
            THEN coalesce(try_cast(event_fields.user_id AS BIGINT), user_id)
    END AS enrollment_user_id,
    CASE WHEN event_type LIKE 'edx.course.enrollment.%' THEN event_fields.mode END AS enrollment_mode,
    CASE
        WHEN event_type IN ('play_video', 'pause_video', 'seek_video', 'stop_video') THEN event_type
        WHEN event_type = 'edx.video.played' THEN 'play_video'
        WHEN event_type = 'edx.video.paused' THEN 'pause_video'
        WHEN event_type = 'edx.video.stopped' THEN 'stop_video'
        WHEN event_type IN ('edx.video.position.changed', 'edx.video.seeked') THEN 'seek_video'
    END AS video_action,
    -- A usage key becomes the html id edX's shim derives from it: its block id, or an old i4x://
    -- location's path with dashes (an html id has no slash); the patterns only where they can match.
    CASE WHEN event_type IN (
        'play_video', 'pause_video', 'seek_video', 'stop_video', 'edx.video.played', 'edx.video.paused', 'edx.video.stopped',
        'edx.video.position.changed', 'edx.video.seeked'
    ) THEN replace(CASE
        WHEN raw_video_id LIKE 'block-v1:%' THEN regexp_replace(raw_video_id, '^block-v1:.*block@([^+@]+)$', '\1')
        WHEN raw_video_id LIKE 'i4x://%' THEN 'i4x-' || raw_video_id[7:]
        ELSE raw_video_id
    END, '/', '-') END AS video_id,
    CASE
        WHEN event_type IN ('seek_video', 'edx.video.position.changed', 'edx.video.seeked') THEN event_fields.new_time
        WHEN event_type IN ('pause_video', 'edx.video.paused') AND NOT event_fields.position_given THEN '0'
        WHEN event_type IN ('play_video', 'pause_video', 'stop_video', 'edx.video.played', 'edx.video.paused', 'edx.video.stopped')
            THEN coalesce(event_fields.currentTime, event_fields.current_time)
    END AS video_position,
    CASE WHEN event_type IN ('seek_video', 'edx.video.position.changed', 'edx.video.seeked') THEN event_fields.old_time END AS video_seek_from,
    CASE WHEN event_type IN (
        'play_video', 'pause_video', 'seek_video', 'stop_video', 'edx.video.played', 'edx.video.paused', 'edx.video.stopped',
        'edx.video.position.changed', 'edx.video.seeked'
    ) THEN event_fields.duration END AS video_duration,
    body_is_object,
    CASE WHEN event_type LIKE 'edx.forum.%.voted' THEN event_fields.vote_value END AS forum_vote_value,
    CASE WHEN event_type LIKE 'edx.forum.%.voted' THEN coalesce(try_cast(event_fields.undo_vote AS BOOLEAN), false) END AS forum_vote_undone,
    CASE WHEN event_type LIKE 'edx.forum.%.voted' AND nullif(event_fields.target_username, '') IS NOT NULL
        THEN hash(event_fields.target_username) END AS forum_vote_receiver_hash,
    CASE WHEN coalesce(username, '') <> '' THEN hash(username) END AS username_hash,
    CASE WHEN event_type LIKE '/courses/%'
        AND regexp_matches(event_type, '^/courses/[^/+]+(/|\+)[^/+]+(/|\+)[^/]+/courseware/[^/]+/[^/]+/.*$') THEN event_type END AS subsection_path,
    -- server problem_check events only (event_fields holds them for no other event)
    event_fields.problem_id AS problem_id,
    event_fields.module_display_name AS problem_name,
    try_cast(event_fields.attempts AS INTEGER) AS problem_attempts,
    event_fields.success = 'correct' AS problem_success,
    try_cast(event_fields.grade AS DOUBLE) AS problem_grade,
    try_cast(event_fields.max_grade AS DOUBLE) AS problem_max_grade,
    event_fields.submission AS problem_submission,
    event_fields.answers AS problem_answers,
    event_fields.correct_map AS problem_correct_map,
    source_file,
    line_number
FROM (
    -- The video id as the body gives it: its id, else the mobile players' module_id.
    SELECT *, coalesce(nullif(trim(event_fields.id, ' ' || chr(9) || chr(10) || chr(13)), ''), event_fields.module_id) AS raw_video_id
    FROM events
    WHERE course_key IS NOT NULL AND time IS NOT NULL
) AS events
