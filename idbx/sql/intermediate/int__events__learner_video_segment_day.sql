/*
description: >
  The 5-second segments of each video each learner watched on each day (UTC date of the play event
  that began the viewing), with edX's video-timeline definitions (edx-analytics-pipeline,
  edx/analytics/tasks/insights/video.py, UserVideoViewingTask and VideoUsageTask;
  VIDEO_VIEWING_SECONDS_PER_SEGMENT = 5). A learner's play, pause, seek and stop events of one
  video (browser and mobile players, legacy and edx.video.* names), in time order: a play begins a
  viewing, at the new position of the seek that ended the previous viewing when there is one, else
  at its own currentTime; the next event ends it (pause or stop: at its currentTime; seek: at its
  old_time), unless it is another play, which begins a new viewing instead; a viewing with no end
  is dropped. Positions that are not numbers, negative or over 10 hours drop their event. A
  viewing is dropped when it ends before it starts, lasts under 0.25 s, or ends past the video's
  duration + 1 s. A viewing covers every segment from int(start) / 5 to int(end) / 5. Where we
  differ: viewings are paired within one UTC day (edX pairs across its 3-day window), so that a
  late log file recomputes only its own days; a viewing open at midnight is dropped.
grain: [course_key, video_id, learner_id, event_date, segment]
materialized: incremental
partition_by: event_date
columns:
  course_key: Short key of the course run.
  course_id: The edX course id as the events give it.
  video_id: The video's encoded module id (the events' id).
  learner_id: Pseudonymous learner id.
  event_date: UTC date of the plays that began the viewings.
  segment: Segment of the video (0 = seconds 0 to 4.999, 1 = 5 to 9.999, ...).
  views: Viewings of the day that covered the segment.
  known_duration: Longest duration (seconds) the plays of those viewings gave, NULL when none gave one.
  unknown_duration_views: Those viewings whose play gave no duration (edX then treats the video's duration as unknown).
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

-- Each video as one integer, to partition and order by numbers only (strings make the sorts slow).
videos AS (
    SELECT course_key, video_id, row_number() OVER (ORDER BY course_key, video_id) AS video_number
    FROM (SELECT DISTINCT course_key, video_id FROM player_events WHERE coalesce(video_id, '') <> '') AS distinct_videos
),

-- Each course id as an integer in the ids' order (so that the least number is the least id): the
-- rows that go through the sorts below carry numbers only, and fit the build's memory.
course_ids AS (
    SELECT course_id, dense_rank() OVER (ORDER BY course_id) AS course_number
    FROM (SELECT DISTINCT course_id FROM player_events) AS distinct_ids
),

valid_events AS (
    SELECT
        videos.video_number,
        course_ids.course_number,
        player_events.user_id,
        player_events.event_date,
        player_events.time,
        player_events.action_code,
        player_events.position,
        player_events.seek_from,
        player_events.duration
    FROM player_events
    JOIN videos ON videos.course_key = player_events.course_key AND videos.video_id = player_events.video_id
    JOIN course_ids ON course_ids.course_id IS NOT DISTINCT FROM player_events.course_id
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

viewed_segments AS (
    SELECT
        video_number,
        course_number,
        user_id,
        event_date,
        duration,
        unnest(generate_series(CAST(floor(start_position) AS BIGINT) // 5, CAST(floor(end_position) AS BIGINT) // 5)) AS segment
    FROM kept_viewings
),

learner_segments AS (
    SELECT
        video_number,
        user_id,
        event_date,
        segment,
        min(course_number) AS course_number,
        count(*) AS views,
        max(duration) FILTER (WHERE duration <> -1) AS known_duration,
        count(*) FILTER (WHERE duration = -1) AS unknown_duration_views
    FROM viewed_segments
    GROUP BY video_number, user_id, event_date, segment
),

pseudonyms AS (
    SELECT user_id, learner_pseudonym(user_id) AS learner_id
    FROM (SELECT DISTINCT user_id FROM learner_segments) AS user_ids
),

-- The numbers back to names by place (they run 1..n): the rows look them up in a list instead of
-- going through two more hash joins (DuckDB built those on the 6 M rows' side).
names AS (
    SELECT
        (
            SELECT list(struct_pack(video_number := video_number, course_key := course_key, video_id := video_id) ORDER BY video_number)
            FROM videos
        ) AS videos,
        (SELECT list(struct_pack(course_number := course_number, course_id := course_id) ORDER BY course_number) FROM course_ids) AS course_ids
)

SELECT
    names.videos[learner_segments.video_number].course_key AS course_key,
    names.course_ids[learner_segments.course_number].course_id AS course_id,
    names.videos[learner_segments.video_number].video_id AS video_id,
    pseudonyms.learner_id,
    learner_segments.event_date,
    learner_segments.segment,
    learner_segments.views,
    learner_segments.known_duration,
    learner_segments.unknown_duration_views
FROM learner_segments
JOIN pseudonyms ON pseudonyms.user_id = learner_segments.user_id
CROSS JOIN names
