/*
description: >
  The address each learner's events came from, per course and day: each distinct address with the
  time of its latest event. Only for locating learners (int__events__learner_course_day_location);
  a view inside the build, never stored. The learner is the one the envelope names (context user,
  else the event body's), who made the request.
grain: [course_key, user_id, event_date, ip]
materialized: view
columns:
  event_date: UTC date of the events' own time.
  course_key: Short key of the course run.
  user_id: edX user id of the learner.
  ip: Address the events came from, as the log wrote it (personal data, never selected into a stored model).
  last_seen: Time of the latest event of that day from that address.
*/
SELECT
    CAST(time AS DATE) AS event_date,
    course_key,
    user_id,
    ip,
    max(time) AS last_seen
FROM events
WHERE course_key IS NOT NULL AND time IS NOT NULL AND user_id IS NOT NULL AND coalesce(ip, '') <> ''
GROUP BY ALL
