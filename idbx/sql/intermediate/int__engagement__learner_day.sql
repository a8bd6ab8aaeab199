/*
description: >
  Each learner's engagement on each day in each course: their own events' counts
  (int__events__learner_engagement_day) with the forum votes they received that day
  (int__engagement__learner_votes_received_day). A day with received votes only is a day of
  activity, as in edX's report. `idbx report engagement` sums intervals from it
  (int__engagement__learner_intervals).
grain: [course_key, learner_key, event_date]
materialized: view
columns:
  course_key: Short key of the course run.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  event_date: UTC date.
  attempted_problems: Distinct problem ids checked.
  problem_attempts: Problem checks.
  correct_problems: Distinct problem ids with a correct check.
  played_videos: Distinct video ids played.
  forum_posts: Threads created.
  forum_responses: Responses created.
  forum_comments: Comments created.
  forum_upvotes_given: Up votes given, less those undone.
  forum_downvotes_given: Down votes given, less those undone.
  forum_upvotes_received: Up votes received, less those undone.
  forum_downvotes_received: Down votes received, less those undone.
  textbook_pages_viewed: Textbook pages viewed.
  last_subsection_viewed: URL path of the day's last courseware subsection viewed.
  last_subsection_viewed_at: Its time.
*/
SELECT
    coalesce(own.course_key, received.course_key) AS course_key,
    coalesce(own.learner_key, received.learner_key) AS learner_key,
    coalesce(own.event_date, received.event_date) AS event_date,
    coalesce(own.attempted_problems, []) AS attempted_problems,
    coalesce(own.problem_attempts, 0) AS problem_attempts,
    coalesce(own.correct_problems, []) AS correct_problems,
    coalesce(own.played_videos, []) AS played_videos,
    coalesce(own.forum_posts, 0) AS forum_posts,
    coalesce(own.forum_responses, 0) AS forum_responses,
    coalesce(own.forum_comments, 0) AS forum_comments,
    coalesce(own.forum_upvotes_given, 0) AS forum_upvotes_given,
    coalesce(own.forum_downvotes_given, 0) AS forum_downvotes_given,
    coalesce(received.forum_upvotes_received, 0) AS forum_upvotes_received,
    coalesce(received.forum_downvotes_received, 0) AS forum_downvotes_received,
    coalesce(own.textbook_pages_viewed, 0) AS textbook_pages_viewed,
    own.last_subsection_viewed,
    own.last_subsection_viewed_at
FROM int__events__learner_engagement_day AS own
FULL JOIN int__engagement__learner_votes_received_day AS received
    ON received.course_key = own.course_key AND received.learner_key = own.learner_key AND received.event_date = own.event_date
