/*
description: >
  What each learner did in each course on each day (UTC date of the events' own time) toward
  edX's learner engagement report (edx-analytics-pipeline,
  edx/analytics/tasks/data_api/student_engagement.py, StudentEngagementTask.mapper), stored by
  event date so that any interval is summed from its days. Events count when they have a username,
  a course and a body that is a JSON object, except those edX's task drops: problem_check events
  not from the server or without a problem_id, play_video events without a video id, and forum
  votes whose vote_value is neither up nor down. Problems and videos are kept as sets (an
  interval's counts are of distinct ones); votes count +1, or -1 when undone; only
  edx.forum.thread.voted and edx.forum.response.voted count as votes given. textbook pages are
  `book` events; a subsection viewed is an implicit page event of /courses/{course}/courseware/
  {chapter}/{sequential}/. edX counts videos from play_video only (not edx.video.played).
grain: [course_key, learner_key, event_date]
materialized: incremental
partition_by: event_date
columns:
  course_key: Short key of the course run.
  course_id: The edX course id as the events give it.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  event_date: UTC date of the events.
  username_key: Keyed hash of the learner's username (the pseudonym key; its first 60 bits as a number), to credit the forum votes they received.
  attempted_problems: Distinct problem ids the learner checked (server problem_check), sorted.
  problem_attempts: Problem checks.
  correct_problems: Distinct problem ids with a correct check, sorted.
  played_videos: Distinct video ids the learner played (play_video), sorted.
  forum_posts: edx.forum.thread.created events.
  forum_responses: edx.forum.response.created events.
  forum_comments: edx.forum.comment.created events.
  forum_upvotes_given: Up votes on threads and responses, less those undone.
  forum_downvotes_given: Down votes on threads and responses, less those undone.
  textbook_pages_viewed: book events.
  last_subsection_viewed: URL path of the day's last courseware subsection page (the greater path when two share the time); NULL when none.
  last_subsection_viewed_at: Its time.
*/
WITH body_events AS (
    SELECT
        course_key,
        course_id,
        user_id,
        event_date,
        time,
        event_type,
        body_is_object,
        username_hash,
        problem_id,
        coalesce(problem_success, false) AS problem_correct,
        video_id,
        forum_vote_value,
        forum_vote_undone,
        subsection_path
    FROM stg__edx__events
    WHERE user_id IS NOT NULL AND has_username
),

engagement_events AS (
    SELECT *
    FROM body_events
    WHERE body_is_object
        AND NOT (event_type = 'problem_check' AND coalesce(problem_id, '') = '')
        AND NOT (event_type = 'play_video' AND coalesce(video_id, '') = '')
        AND NOT (event_type LIKE 'edx.forum.%.voted' AND coalesce(forum_vote_value, '') NOT IN ('up', 'down'))
),

learner_days AS (
    SELECT
        course_key,
        user_id,
        event_date,
        min(course_id) AS course_id,
        min(username_hash) AS username_hash,
        list_sort(list_distinct(list(problem_id) FILTER (WHERE event_type = 'problem_check'))) AS attempted_problems,
        count(*) FILTER (WHERE event_type = 'problem_check') AS problem_attempts,
        list_sort(list_distinct(list(problem_id) FILTER (WHERE problem_correct))) AS correct_problems,
        list_sort(list_distinct(list(video_id) FILTER (WHERE event_type = 'play_video'))) AS played_videos,
        count(*) FILTER (WHERE event_type = 'edx.forum.thread.created') AS forum_posts,
        count(*) FILTER (WHERE event_type = 'edx.forum.response.created') AS forum_responses,
        count(*) FILTER (WHERE event_type = 'edx.forum.comment.created') AS forum_comments,
        coalesce(sum(CASE WHEN forum_vote_undone THEN -1 ELSE 1 END) FILTER (
            WHERE event_type IN ('edx.forum.thread.voted', 'edx.forum.response.voted') AND forum_vote_value = 'up'
        ), 0) AS forum_upvotes_given,
        coalesce(sum(CASE WHEN forum_vote_undone THEN -1 ELSE 1 END) FILTER (
            WHERE event_type IN ('edx.forum.thread.voted', 'edx.forum.response.voted') AND forum_vote_value = 'down'
        ), 0) AS forum_downvotes_given,
        count(*) FILTER (WHERE event_type = 'book') AS textbook_pages_viewed,
        arg_max(subsection_path, (time, subsection_path)) FILTER (WHERE subsection_path IS NOT NULL) AS last_subsection_viewed,
        max(time) FILTER (WHERE subsection_path IS NOT NULL) AS last_subsection_viewed_at
    FROM engagement_events
    GROUP BY course_key, user_id, event_date
),

pseudonyms AS (
    SELECT user_id, learner_pseudonym(user_id) AS learner_key
    FROM (SELECT DISTINCT user_id FROM learner_days) AS user_ids
),

username_keys AS (
    SELECT username_hash, learner_pseudonym('username:' || username_hash) AS username_key
    FROM (SELECT DISTINCT username_hash FROM learner_days) AS hashes
)

SELECT
    learner_days.course_key,
    learner_days.course_id,
    pseudonyms.learner_key,
    learner_days.event_date,
    username_keys.username_key,
    coalesce(learner_days.attempted_problems, []) AS attempted_problems,
    learner_days.problem_attempts,
    coalesce(learner_days.correct_problems, []) AS correct_problems,
    coalesce(learner_days.played_videos, []) AS played_videos,
    learner_days.forum_posts,
    learner_days.forum_responses,
    learner_days.forum_comments,
    CAST(learner_days.forum_upvotes_given AS BIGINT) AS forum_upvotes_given,
    CAST(learner_days.forum_downvotes_given AS BIGINT) AS forum_downvotes_given,
    learner_days.textbook_pages_viewed,
    learner_days.last_subsection_viewed,
    learner_days.last_subsection_viewed_at
FROM learner_days
JOIN pseudonyms ON pseudonyms.user_id = learner_days.user_id
JOIN username_keys ON username_keys.username_hash = learner_days.username_hash
