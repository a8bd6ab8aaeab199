/*
description: >
  How many learners watched each 5-second segment of each video, and how often: edX's
  video_timeline table (edx-analytics-pipeline, edx/analytics/tasks/insights/video.py,
  VideoTimelineDataTask over VideoUsageTask; definitions in int__videos__segment_usage). Segments
  nobody watched have no row; segments after the video's final one are left out.
grain: [course_id, video_id, segment]
materialized: table
columns:
  course_id: The edX course id as the events give it.
  video_id: The video's encoded module id.
  segment: Segment of the video (0 = seconds 0 to 4.999, 1 = 5 to 9.999, ...).
  num_users: Distinct learners who watched any part of the segment.
  num_views: Viewings that covered the segment, whoever watched.
*/
SELECT course_id, video_id, segment, num_users, num_views
FROM int__videos__segment_usage
