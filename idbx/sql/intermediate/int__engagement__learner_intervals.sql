/*
description: >
  edX's learner engagement report (edx-analytics-pipeline,
  edx/analytics/tasks/data_api/student_engagement.py: StudentEngagementTask for the counts,
  JoinedStudentEngagementTableTask for the rows) over the intervals of int__engagement__intervals,
  from the days of int__engagement__learner_day: what `idbx report engagement` runs for daily,
  weekly or other intervals (its own intervals in that view's place). One row per learner enrolled
  in the course at the end of the interval's last day, with the cohort
  (int__engagement__enrolled_learners); learners with no activity in the interval get zeros and an
  empty last subsection. days_active = days with events (and days the learner
  received forum votes, as edX counts them); problems_attempted, problems_correct and
  videos_played count distinct problems and videos; the forum, vote and textbook counts are sums
  over the days (definitions in int__events__learner_engagement_day); last_subsection_viewed = the
  path of the last courseware subsection page viewed in the interval. The learner_engagement mart
  is this report over the whole range, from per-learner totals the build keeps by key (tested: the
  two agree).
grain: [course_key, learner_key, end_date]
materialized: view
not_null: [course_key, learner_key]
columns:
  course_id: The edX course id.
  course_key: Short key of the course run.
  end_date: Last day of the interval (UTC).
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  cohort: The learner's cohort, empty when none.
  days_active: Days of the interval with the learner's events.
  problems_attempted: Distinct problems checked.
  problem_attempts: Problem checks.
  problems_correct: Distinct problems with a correct check.
  videos_played: Distinct videos played.
  forum_posts: Threads created.
  forum_responses: Responses created.
  forum_comments: Comments created.
  forum_upvotes_given: Up votes given on threads and responses, less those undone.
  forum_downvotes_given: Down votes given, less those undone.
  forum_upvotes_received: Up votes received, less those undone.
  forum_downvotes_received: Down votes received, less those undone.
  textbook_pages_viewed: Textbook pages viewed.
  last_subsection_viewed: URL path of the last courseware subsection viewed in the interval, empty when none.
*/
WITH activity AS (
    SELECT
        days.course_key,
        days.learner_key,
        intervals.end_date,
        count(*) AS days_active,
        len(list_distinct(flatten(list(days.attempted_problems)))) AS problems_attempted,
        CAST(sum(days.problem_attempts) AS BIGINT) AS problem_attempts,
        len(list_distinct(flatten(list(days.correct_problems)))) AS problems_correct,
        len(list_distinct(flatten(list(days.played_videos)))) AS videos_played,
        CAST(sum(days.forum_posts) AS BIGINT) AS forum_posts,
        CAST(sum(days.forum_responses) AS BIGINT) AS forum_responses,
        CAST(sum(days.forum_comments) AS BIGINT) AS forum_comments,
        CAST(sum(days.forum_upvotes_given) AS BIGINT) AS forum_upvotes_given,
        CAST(sum(days.forum_downvotes_given) AS BIGINT) AS forum_downvotes_given,
        CAST(sum(days.forum_upvotes_received) AS BIGINT) AS forum_upvotes_received,
        CAST(sum(days.forum_downvotes_received) AS BIGINT) AS forum_downvotes_received,
        CAST(sum(days.textbook_pages_viewed) AS BIGINT) AS textbook_pages_viewed,
        arg_max(days.last_subsection_viewed, (days.last_subsection_viewed_at, days.last_subsection_viewed))
            FILTER (WHERE days.last_subsection_viewed IS NOT NULL) AS last_subsection_viewed
    FROM int__engagement__learner_day AS days
    JOIN int__engagement__intervals AS intervals ON days.event_date BETWEEN intervals.first_day AND intervals.end_date
    GROUP BY days.course_key, days.learner_key, intervals.end_date
)

SELECT
    enrolled.course_id,
    enrolled.course_key,
    enrolled.end_date,
    enrolled.learner_key,
    enrolled.cohort,
    coalesce(activity.days_active, 0) AS days_active,
    coalesce(activity.problems_attempted, 0) AS problems_attempted,
    coalesce(activity.problem_attempts, 0) AS problem_attempts,
    coalesce(activity.problems_correct, 0) AS problems_correct,
    coalesce(activity.videos_played, 0) AS videos_played,
    coalesce(activity.forum_posts, 0) AS forum_posts,
    coalesce(activity.forum_responses, 0) AS forum_responses,
    coalesce(activity.forum_comments, 0) AS forum_comments,
    coalesce(activity.forum_upvotes_given, 0) AS forum_upvotes_given,
    coalesce(activity.forum_downvotes_given, 0) AS forum_downvotes_given,
    coalesce(activity.forum_upvotes_received, 0) AS forum_upvotes_received,
    coalesce(activity.forum_downvotes_received, 0) AS forum_downvotes_received,
    coalesce(activity.textbook_pages_viewed, 0) AS textbook_pages_viewed,
    coalesce(activity.last_subsection_viewed, '') AS last_subsection_viewed
FROM int__engagement__enrolled_learners AS enrolled
LEFT JOIN activity
    ON activity.course_key = enrolled.course_key AND activity.learner_key = enrolled.learner_key AND activity.end_date = enrolled.end_date
