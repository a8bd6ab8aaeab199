/*
description: >
  Events of each course on each day (UTC date of their own time), including those no learner can
  be named for; stored by event date and rebuilt with the learner-day aggregate.
grain: [course_key, event_date]
materialized: incremental
partition_by: event_date
columns:
  course_key: Short key of the course run.
  course_id: The edX course id as the events give it.
  event_date: UTC date of the events.
  events: Events of the course that day.
  events_with_learner: Events with a username and an edX user id (the ones learner marts count).
  events_without_username: Events with no username (anonymous page views, some server events).
  events_without_user_id: Events with a username but no user id, which no learner key can be made for.
*/
SELECT
    course_key,
    min(course_id) AS course_id,
    event_date,
    count(*) AS events,
    count(*) FILTER (WHERE has_username AND user_id IS NOT NULL) AS events_with_learner,
    count(*) FILTER (WHERE NOT has_username) AS events_without_username,
    count(*) FILTER (WHERE has_username AND user_id IS NULL) AS events_without_user_id
FROM stg__edx__events
GROUP BY course_key, event_date
