/*
description: >
  The viewings of each video by each learner on each day (UTC date of the play event that began
  the viewing), as the segments they covered, with edX's video-timeline definitions
  (edx-analytics-pipeline, edx/analytics/tasks/insights/video.py, UserVideoViewingTask and
  VideoUsageTask; VIDEO_VIEWING_SECONDS_PER_SEGMENT = 5). A learner's play, pause, seek and stop
  events of one video (browser and mobile players, legacy and edx.video.* names), in time order: a
  play begins a viewing, at the new position of the seek that ended the previous viewing when there
  is one, else at its own currentTime; the next event ends it (pause or stop: at its currentTime;
  seek: at its old_time), unless it is another play, which begins a new viewing instead; a viewing
  with no end is dropped. Positions that are not numbers, negative or over 10 hours drop their
  event. A viewing is dropped when it ends before it starts, lasts under 0.25 s, or ends past the
  video's duration + 1 s. A viewing covers every segment from int(start) / 5 to int(end) / 5.
  Where we differ: viewings are paired within one UTC day (edX pairs across its 3-day window), so
  that a late log file recomputes only its own days; a viewing open at midnight is dropped. One row
  per learner, video and day with the list of its viewings, not one per segment: int__videos__segment_usage
  counts the segments from the list, and the 36 times as many segment rows are never written (full
  build: 4.9 + 2.0 s against 7.4 + 1.3 s, the segment rows' write and check included).
grain: [course_key, video_id, learner_key, event_date]
materialized: incremental
partition_by: event_date
columns:
  course_key: Short key of the course run.
  video_id: The video's encoded module id (the events' id).
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  event_date: UTC date of the plays that began the viewings.
  viewings: The day's viewings, each (course_id as the events give it, first_segment, last_segment, duration of its play, -1 when the play gave none), sorted.
  first_segment: The least segment a viewing covered (0 = seconds 0 to 4.999, 1 = 5 to 9.999, ...).
  last_segment: The greatest segment a viewing covered.
*/
-- Materialized: read twice (the videos, then the events), scanned once.
WITH player_events AS MATERIALIZED (
    SELECT
        course_key,
        course_id,
        user_id,
        event_date,
        time,
        -- the action as a number in the names' order (pause, play, seek, stop): ordered alike, sorted faster
        CASE video_action WHEN 'pause_video' THEN 1 WHEN 'play_video' THEN 2 WHEN 'seek_video' THEN 3 ELSE 4 END AS action_code,
        video_id,
        try_cast(video_position AS DOUBLE) AS position,
        try_cast(video_seek_from AS DOUBLE) AS seek_from,
        -- edX: a missing, null or zero duration is unknown (-1)
        coalesce(nullif(try_cast(video_duration AS DOUBLE), 0), -1) AS duration
    FROM stg__edx__events
    WHERE video_action IS NOT NULL AND user_id IS NOT NULL
),

-- Each video, and each course id, as an integer: the rows that go through the sorts below carry
-- numbers only, and fit the build's memory. One join gives both numbers.
video_courses AS (
    SELECT
        course_key,
        video_id,
        course_id,
        dense_rank() OVER (ORDER BY course_key, video_id) AS video_number,
        dense_rank() OVER (ORDER BY course_id) AS course_number
    FROM (
        SELECT DISTINCT course_key, video_id, course_id FROM player_events WHERE coalesce(video_id, '') <> ''
    ) AS distinct_videos
),

valid_events AS (
    SELECT
        video_courses.video_number,
        video_courses.course_number,
        player_events.user_id,
        player_events.event_date,
        player_events.time,
        player_events.action_code,
        player_events.position,
        player_events.seek_from,
        player_events.duration
    FROM player_events
    JOIN video_courses
        ON video_courses.course_key = player_events.course_key
        AND video_courses.video_id = player_events.video_id
        AND video_courses.course_id IS NOT DISTINCT FROM player_events.course_id
    WHERE isfinite(position) AND position BETWEEN 0 AND 36000
        AND (action_code <> 3 OR (isfinite(seek_from) AND seek_from BETWEEN 0 AND 36000))
),

sequenced AS (
    SELECT
        *,
        lead(action_code) OVER learner_video AS next_action,
        lead(position) OVER learner_video AS next_position,
        lead(seek_from) OVER learner_video AS next_seek_from
    FROM valid_events
    WINDOW learner_video AS (PARTITION BY user_id, video_number, event_date ORDER BY time, action_code, position, seek_from NULLS FIRST, duration)
),

-- Where a play's viewing starts: edX takes the last event before it that was a play or came right
-- after one; when that was a seek, the viewing starts where the seek went. Between two plays that
-- event is the one right after the previous play (or that play itself): so the previous play's
-- next event says it, and only the plays need ordering again.
viewings AS (
    SELECT
        video_number,
        course_number,
        user_id,
        event_date,
        duration,
        CASE
            WHEN lag(next_action) OVER plays_in_order = 3 THEN lag(next_position) OVER plays_in_order
            ELSE position
        END AS start_position,
        CASE next_action WHEN 3 THEN next_seek_from ELSE next_position END AS end_position,
        action_code,
        next_action
    FROM sequenced
    WHERE action_code = 2
    WINDOW plays_in_order AS (PARTITION BY user_id, video_number, event_date ORDER BY time, action_code, position, seek_from NULLS FIRST, duration)
),

kept_viewings AS (
    SELECT *
    FROM viewings
    WHERE next_action IS NOT NULL AND next_action <> 2
        AND end_position - start_position >= 0.25
        AND (duration = -1 OR end_position <= duration + 1)
),

-- A learner's viewings of a video in a day as one row, the course ids back (each list sorted whole,
-- so that it is the same in every build and on either engine; the least course id first).
learner_viewings AS (
    SELECT
        kept_viewings.video_number,
        kept_viewings.user_id,
        kept_viewings.event_date,
        list_sort(list(struct_pack(
            course_id := course_ids.course_id,
            first_segment := CAST(floor(start_position) AS BIGINT) // 5,
            last_segment := CAST(floor(end_position) AS BIGINT) // 5,
            duration := duration
        ))) AS viewings,
        min(CAST(floor(start_position) AS BIGINT) // 5) AS first_segment,
        max(CAST(floor(end_position) AS BIGINT) // 5) AS last_segment
    FROM kept_viewings
    JOIN (SELECT DISTINCT course_number, course_id FROM video_courses) AS course_ids
        ON course_ids.course_number = kept_viewings.course_number
    GROUP BY kept_viewings.video_number, kept_viewings.user_id, kept_viewings.event_date
),

pseudonyms AS (
    SELECT user_id, learner_pseudonym(user_id) AS learner_key
    FROM (SELECT DISTINCT user_id FROM learner_viewings) AS user_ids
)

SELECT
    videos.course_key,
    videos.video_id,
    pseudonyms.learner_key,
    learner_viewings.event_date,
    learner_viewings.viewings,
    learner_viewings.first_segment,
    learner_viewings.last_segment
FROM learner_viewings
JOIN (SELECT DISTINCT video_number, course_key, video_id FROM video_courses) AS videos
    ON videos.video_number = learner_viewings.video_number
JOIN pseudonyms ON pseudonyms.user_id = learner_viewings.user_id
