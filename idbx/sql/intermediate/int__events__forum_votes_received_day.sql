/*
description: >
  Forum votes each user received in each course on each day, keyed by the voted-on author's
  username (edX's learner engagement report credits a vote to the event's target_username:
  edx-analytics-pipeline, edx/analytics/tasks/data_api/student_engagement.py,
  StudentEngagementTask, the vote_received events its mapper emits). Votes from events with a
  username and a vote_value of up or down; +1, or -1 when undone; only thread and response votes
  count, but any received vote makes the day active for its receiver, as in edX's reducer.
grain: [course_key, receiver_key, event_date]
materialized: incremental
partition_by: event_date
columns:
  course_key: Short key of the course run.
  course_id: The edX course id as the events give it.
  receiver_key: Keyed hash of the receiver's username (its first 60 bits as a number; matches username_key of int__events__learner_engagement_day).
  event_date: UTC date of the votes.
  forum_upvotes_received: Up votes received on threads and responses, less those undone.
  forum_downvotes_received: Down votes received on threads and responses, less those undone.
*/
WITH received AS (
    SELECT
        course_key,
        forum_vote_receiver_hash,
        event_date,
        min(course_id) AS course_id,
        coalesce(sum(CASE WHEN forum_vote_undone THEN -1 ELSE 1 END) FILTER (
            WHERE event_type IN ('edx.forum.thread.voted', 'edx.forum.response.voted') AND forum_vote_value = 'up'
        ), 0) AS forum_upvotes_received,
        coalesce(sum(CASE WHEN forum_vote_undone THEN -1 ELSE 1 END) FILTER (
            WHERE event_type IN ('edx.forum.thread.voted', 'edx.forum.response.voted') AND forum_vote_value = 'down'
        ), 0) AS forum_downvotes_received
    FROM stg__edx__events
    -- The two vote types counted, by equality: the scan skips the bodies of row groups without
    -- them. A vote_value of up or down implies a body that is an object.
    WHERE event_type IN ('edx.forum.thread.voted', 'edx.forum.response.voted')
        AND forum_vote_receiver_hash IS NOT NULL AND has_username AND forum_vote_value IN ('up', 'down')
    GROUP BY course_key, forum_vote_receiver_hash, event_date
)

SELECT
    course_key,
    course_id,
    learner_pseudonym('username:' || forum_vote_receiver_hash) AS receiver_key,
    event_date,
    CAST(forum_upvotes_received AS BIGINT) AS forum_upvotes_received,
    CAST(forum_downvotes_received AS BIGINT) AS forum_downvotes_received
FROM received
