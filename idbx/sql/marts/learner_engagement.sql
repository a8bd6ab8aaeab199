/*
description: >
  edX's learner engagement report (edx-analytics-pipeline,
  edx/analytics/tasks/data_api/student_engagement.py: StudentEngagementTask for the counts,
  JoinedStudentEngagementTableTask for the rows) over the whole range of the events, the one
  interval of int__engagement__intervals. One row per learner enrolled in the course at the end of
  the range's last day, with the cohort (int__engagement__enrolled_learners); learners with no
  activity get zeros and an empty last subsection. The learner's own activity is
  int__engagement__learner_totals (kept by learner: a new day recomputes only the learners active
  in it); the forum votes received are added here (int__engagement__learner_votes_received_day),
  and a day with received votes only is a day active, as in edX's report. `idbx report engagement`
  runs int__engagement__learner_intervals, the same report over any intervals from the days; for
  the whole range the two agree (tested).
grain: [course_key, learner_id, end_date]
materialized: table
not_null: [course_key, learner_id]
columns:
  course_id: The edX course id.
  course_key: Short key of the course run.
  end_date: Last day of the interval (UTC).
  learner_id: Pseudonymous learner id, 15 hex digits (idbx/privacy/pseudonym.py).
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
WITH received AS (
    SELECT
        received_days.course_key,
        received_days.learner_key,
        CAST(sum(received_days.forum_upvotes_received) AS BIGINT) AS forum_upvotes_received,
        CAST(sum(received_days.forum_downvotes_received) AS BIGINT) AS forum_downvotes_received,
        count(*) FILTER (WHERE own.learner_key IS NULL) AS days_received_only
    FROM int__engagement__learner_votes_received_day AS received_days
    LEFT JOIN int__events__learner_engagement_day AS own
        ON own.course_key = received_days.course_key AND own.learner_key = received_days.learner_key
        AND own.event_date = received_days.event_date
    GROUP BY received_days.course_key, received_days.learner_key
)

SELECT
    enrolled.course_id,
    enrolled.course_key,
    enrolled.end_date,
    learner_id_of(enrolled.learner_key) AS learner_id,
    enrolled.cohort,
    coalesce(totals.days_active, 0) + coalesce(received.days_received_only, 0) AS days_active,
    coalesce(totals.problems_attempted, 0) AS problems_attempted,
    coalesce(totals.problem_attempts, 0) AS problem_attempts,
    coalesce(totals.problems_correct, 0) AS problems_correct,
    coalesce(totals.videos_played, 0) AS videos_played,
    coalesce(totals.forum_posts, 0) AS forum_posts,
    coalesce(totals.forum_responses, 0) AS forum_responses,
    coalesce(totals.forum_comments, 0) AS forum_comments,
    coalesce(totals.forum_upvotes_given, 0) AS forum_upvotes_given,
    coalesce(totals.forum_downvotes_given, 0) AS forum_downvotes_given,
    coalesce(received.forum_upvotes_received, 0) AS forum_upvotes_received,
    coalesce(received.forum_downvotes_received, 0) AS forum_downvotes_received,
    coalesce(totals.textbook_pages_viewed, 0) AS textbook_pages_viewed,
    coalesce(totals.last_subsection_viewed, '') AS last_subsection_viewed
FROM int__engagement__enrolled_learners AS enrolled
LEFT JOIN int__engagement__learner_totals AS totals
    ON totals.course_key = enrolled.course_key AND totals.learner_key = enrolled.learner_key
LEFT JOIN received
    ON received.course_key = enrolled.course_key AND received.learner_key = enrolled.learner_key
