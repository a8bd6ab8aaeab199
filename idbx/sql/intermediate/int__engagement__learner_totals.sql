/*
description: >
  Each learner's own engagement in each course over every day of the events: the whole-range sums
  of int__events__learner_engagement_day, with edX's definitions (edx-analytics-pipeline,
  edx/analytics/tasks/data_api/student_engagement.py, StudentEngagementTask.reducer: distinct
  problems and videos over the interval, counts summed, the last subsection viewed). The forum
  votes a learner received are not here: they are keyed by the receiver's username, which only the
  whole lake maps to a learner (the learner_engagement mart adds them). Merged by learner: a new
  day recomputes the learners active in it, not every learner (the distinct counts over every day
  are most of the mart's cost).
grain: [course_key, learner_key]
materialized: incremental
merge_by: [course_key, learner_key]
not_null: [course_key, learner_key]
columns:
  course_key: Short key of the course run.
  course_id: The edX course id as the events give it.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  days_active: Days with the learner's own events (days with received votes only are the mart's).
  problems_attempted: Distinct problems checked.
  problem_attempts: Problem checks.
  problems_correct: Distinct problems with a correct check.
  videos_played: Distinct videos played.
  forum_posts: Threads created.
  forum_responses: Responses created.
  forum_comments: Comments created.
  forum_upvotes_given: Up votes given on threads and responses, less those undone.
  forum_downvotes_given: Down votes given, less those undone.
  textbook_pages_viewed: Textbook pages viewed.
  last_subsection_viewed: URL path of the last courseware subsection viewed, NULL when none.
*/
SELECT
    course_key,
    min(course_id) AS course_id,
    learner_key,
    count(*) AS days_active,
    len(list_distinct(flatten(list(attempted_problems)))) AS problems_attempted,
    CAST(sum(problem_attempts) AS BIGINT) AS problem_attempts,
    len(list_distinct(flatten(list(correct_problems)))) AS problems_correct,
    len(list_distinct(flatten(list(played_videos)))) AS videos_played,
    CAST(sum(forum_posts) AS BIGINT) AS forum_posts,
    CAST(sum(forum_responses) AS BIGINT) AS forum_responses,
    CAST(sum(forum_comments) AS BIGINT) AS forum_comments,
    CAST(sum(forum_upvotes_given) AS BIGINT) AS forum_upvotes_given,
    CAST(sum(forum_downvotes_given) AS BIGINT) AS forum_downvotes_given,
    CAST(sum(textbook_pages_viewed) AS BIGINT) AS textbook_pages_viewed,
    arg_max(last_subsection_viewed, (last_subsection_viewed_at, last_subsection_viewed))
        FILTER (WHERE last_subsection_viewed IS NOT NULL) AS last_subsection_viewed
FROM int__events__learner_engagement_day
GROUP BY course_key, learner_key
