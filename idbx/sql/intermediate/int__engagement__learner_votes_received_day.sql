/*
description: >
  The forum votes each learner received in each course on each day
  (int__events__forum_votes_received_day, keyed by the receiver's username), credited to a
  learner: the least learner key whose own engagement events carry that username (edX credits the
  event's target_username; a username maps to one learner but the ids are per user_id, so the
  least is the rule). Votes to a username without events of its own are not credited. Read by
  int__engagement__learner_day (the days the report sums) and by the learner_engagement mart.
grain: [course_key, learner_key, event_date]
materialized: view
columns:
  course_key: Short key of the course run.
  learner_key: Pseudonymous learner key of the receiver.
  event_date: UTC date of the votes.
  forum_upvotes_received: Up votes received on threads and responses, less those undone.
  forum_downvotes_received: Down votes received on threads and responses, less those undone.
*/
WITH receivers AS (
    SELECT own.username_key, min(own.learner_key) AS learner_key
    FROM int__events__learner_engagement_day AS own
    WHERE own.username_key IN (SELECT receiver_key FROM int__events__forum_votes_received_day)
    GROUP BY own.username_key
)

SELECT
    votes.course_key,
    receivers.learner_key,
    votes.event_date,
    CAST(sum(votes.forum_upvotes_received) AS BIGINT) AS forum_upvotes_received,
    CAST(sum(votes.forum_downvotes_received) AS BIGINT) AS forum_downvotes_received
FROM int__events__forum_votes_received_day AS votes
JOIN receivers ON receivers.username_key = votes.receiver_key
GROUP BY votes.course_key, receivers.learner_key, votes.event_date
