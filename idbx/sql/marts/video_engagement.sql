/*
description: >
  One row per video watched in each course run: edX's video table (edx-analytics-pipeline,
  edx/analytics/tasks/insights/video.py, VideoDataTask over VideoUsageTask; definitions in
  int__videos__segment_usage). total_viewed_seconds = the views of all its segments times the
  segment length, as edX computes it (a segment counts whole however little of it was watched).
grain: [course_id, video_id]
materialized: table
columns:
  course_id: The edX course id as the events give it.
  video_id: The video's encoded module id.
  duration: Video length in seconds (from the players' events; when any play gave none, inferred from where viewers stop).
  segment_length: Seconds per segment (5).
  users_at_start: Learners who watched the first segment.
  users_at_end: Learners who watched the video to its end (the segment of max(duration - 30 s, 95 % of it)).
  total_viewed_seconds: Seconds viewed by all learners over all segments (views times the segment length).
*/
SELECT
    course_id,
    video_id,
    duration,
    segment_length,
    users_at_start,
    users_at_end,
    CAST(sum(num_views) * segment_length AS BIGINT) AS total_viewed_seconds
FROM int__videos__segment_usage
GROUP BY course_id, video_id, duration, segment_length, users_at_start, users_at_end
