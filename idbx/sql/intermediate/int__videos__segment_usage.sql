/*
description: >
  Each watched 5-second segment of each video, with the video's duration and the learners at its
  start and end: edX's video_usage table (edx-analytics-pipeline,
  edx/analytics/tasks/insights/video.py, VideoUsageTask.reducer). num_users = distinct learners
  who watched any part of the segment; num_views = viewings that covered it. The duration is the
  longest the plays gave, unless any viewing's play gave none: then it is unknown and the final
  segment is where viewers drop sharply (going down from the last watched segment, the first whose
  next watched segment above has at most 5% of its viewers, edX's dropoff_threshold 0.05; else the
  last watched), and the duration is (final segment + 1) * 5 - 1. Segments after the final one are
  left out. users_at_start = learners of segment 0; users_at_end = learners of the segment of
  max(duration - 30, 0.95 * duration) (credits cut off). The segments are counted from the
  learners' viewings of each day (int__events__learner_video_viewings_day): each from the day's
  first to its last, with the viewings covering it. Merged by video: a new day recomputes the
  videos watched in it (their courses' files), not every video.
grain: [course_key, video_id, segment]
materialized: incremental
merge_by: [course_key, video_id]
columns:
  course_key: Short key of the course run.
  course_id: The edX course id as the events give it.
  video_id: The video's encoded module id.
  duration: Video length in seconds (known, or inferred as above).
  segment_length: Seconds per segment (5).
  users_at_start: Learners who watched the first segment.
  users_at_end: Learners who watched the segment where the video counts as watched to the end.
  segment: Segment of the video (0 = seconds 0 to 4.999, ...).
  num_users: Distinct learners who watched any part of the segment.
  num_views: Viewings that covered the segment.
*/
WITH viewed_segments AS (
    SELECT
        course_key,
        video_id,
        learner_key,
        viewings,
        unnest(generate_series(first_segment, last_segment)) AS segment
    FROM int__events__learner_video_viewings_day
),

-- The viewings of a learner's day that cover each segment (none: a gap between two viewings).
segment_viewings AS (
    SELECT
        course_key,
        video_id,
        learner_key,
        segment,
        list_filter(viewings, lambda viewing: viewing.first_segment <= segment AND segment <= viewing.last_segment) AS covering
    FROM viewed_segments
),

segments AS (
    SELECT
        course_key,
        video_id,
        segment,
        min(covering[1].course_id) AS course_id,
        count(DISTINCT learner_key) AS num_users,
        CAST(sum(array_length(covering)) AS BIGINT) AS num_views,
        max(list_max(list_transform(list_filter(covering, lambda viewing: viewing.duration <> -1), lambda viewing: viewing.duration))) AS known_duration,
        CAST(sum(array_length(list_filter(covering, lambda viewing: viewing.duration = -1))) AS BIGINT) AS unknown_duration_views
    FROM segment_viewings
    WHERE array_length(covering) > 0
    GROUP BY course_key, video_id, segment
),

with_next AS (
    SELECT
        *,
        lead(num_users) OVER (PARTITION BY course_key, video_id ORDER BY segment) AS users_of_next_watched
    FROM segments
),

videos AS (
    SELECT
        course_key,
        video_id,
        min(course_id) AS course_id,
        CASE
            WHEN sum(unknown_duration_views) > 0 OR max(known_duration) IS NULL THEN NULL
            ELSE max(known_duration)
        END AS known_duration,
        coalesce(
            max(segment) FILTER (WHERE users_of_next_watched <= num_users * 0.05),
            max(segment)
        ) AS dropoff_segment
    FROM with_next
    GROUP BY course_key, video_id
),

durations AS (
    SELECT
        course_key,
        video_id,
        course_id,
        coalesce(known_duration, (dropoff_segment + 1) * 5 - 1) AS duration,
        CASE WHEN known_duration IS NULL THEN dropoff_segment ELSE CAST(floor(known_duration) AS BIGINT) // 5 END AS final_segment
    FROM videos
),

edges AS (
    SELECT
        durations.*,
        CAST(floor(greatest(duration - 30, duration * 0.95)) AS BIGINT) // 5 AS end_segment
    FROM durations
)

SELECT
    segments.course_key,
    edges.course_id,
    segments.video_id,
    CAST(floor(edges.duration) AS BIGINT) AS duration,
    5 AS segment_length,
    coalesce(max(segments.num_users) FILTER (WHERE segments.segment = 0) OVER video, 0) AS users_at_start,
    coalesce(max(segments.num_users) FILTER (WHERE segments.segment = edges.end_segment) OVER video, 0) AS users_at_end,
    segments.segment,
    segments.num_users,
    segments.num_views
FROM segments
JOIN edges ON edges.course_key = segments.course_key AND edges.video_id = segments.video_id
WHERE segments.segment <= edges.final_segment
WINDOW video AS (PARTITION BY segments.course_key, segments.video_id)
