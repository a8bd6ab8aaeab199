/*
description: >
  The intervals the learner engagement mart reports: one, the whole range of the events (edX's
  interval type `all`, whose end date is the last day). `idbx report engagement` puts its own
  intervals in this view's place (each day, each Monday-Sunday week, or a range) and runs the
  mart's SQL over them, so that the two share every definition.
grain: [end_date]
materialized: view
columns:
  end_date: Last day of the interval (UTC), the day at whose end enrolment is taken.
  first_day: First day of the interval.
*/
SELECT max(event_date) AS end_date, min(event_date) AS first_day
FROM int__events__course_day
HAVING count(*) > 0
