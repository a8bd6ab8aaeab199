/*
description: >
  Each learner's activity in each course over every day of events (HarvardX/MITx counts): the sums
  of the learner-day aggregate, with sum_dt completed by the gaps that cross midnight, where the
  enrollment events leave the learner, and the country of their latest public address. A view
  inside the build, stored as part of person_course: when person_course recomputes only the
  learners new days changed, this is computed for those learners only.
grain: [course_key, learner_key]
materialized: view
columns:
  course_key: Short key of the course run.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  nevents: Events with a username, excluding /xblock/ event types.
  ndays_act: Days with such events.
  first_event: Time of the first such event (UTC).
  last_event: Time of the last such event (UTC).
  nplay_video: Video plays (play_video, edx.video.played).
  npause_video: Video pauses (pause_video, edx.video.paused).
  nseek_video: Video seeks (seek_video, edx.video.position.changed).
  nproblem_check: Problem submissions (server problem_check events).
  nshow_answer: Answers shown (showanswer, show_answer).
  nseq_goto: Sequence navigations (seq_goto).
  nforum_events: Forum events (edx.forum.* types and /discussion/ URLs).
  nforum_created: Forum posts created (server edx.forum.*.created events).
  sum_dt: Seconds between consecutive such events, counting only gaps of at most 300 s (across midnight too).
  ever_activated: Whether an activation event enrolled the learner.
  first_activated_at: Time of the learner's first activation event.
  last_deactivated_at: Time of the learner's last deactivation event.
  enrolled_now: Whether the learner's last enrollment event leaves them enrolled (NULL without one).
  mode_now: The mode after the learner's last enrollment event.
  country_by_ip: Country (ISO 3166 alpha-2) of the address of the learner's latest event in the course from a public address (int__events__learner_course_day_location); NULL when unknown.
*/
WITH totals AS (
    SELECT
        course_key,
        learner_key,
        CAST(sum(nevents) AS BIGINT) AS nevents,
        count(*) FILTER (WHERE nevents > 0) AS ndays_act,
        min(first_event) AS first_event,
        max(last_event) AS last_event,
        CAST(sum(nplay_video) AS BIGINT) AS nplay_video,
        CAST(sum(npause_video) AS BIGINT) AS npause_video,
        CAST(sum(nseek_video) AS BIGINT) AS nseek_video,
        CAST(sum(nproblem_check) AS BIGINT) AS nproblem_check,
        CAST(sum(nshow_answer) AS BIGINT) AS nshow_answer,
        CAST(sum(nseq_goto) AS BIGINT) AS nseq_goto,
        CAST(sum(nforum_events) AS BIGINT) AS nforum_events,
        CAST(sum(posted_forum_events) AS BIGINT) AS nforum_created,
        -- Whole microseconds again (sum_dt holds an exact count of them), so that the sum is exact.
        CAST(sum(CAST(round(sum_dt * 1000000) AS BIGINT)) AS BIGINT) AS sum_dt_within_days_us
    FROM int__events__learner_course_day
    GROUP BY course_key, learner_key
),

-- A day's first event and the day before's last one, both within 300 s of midnight: the only gaps
-- the per-day sums leave out (a join of the few such days, not a window over all of them).
gaps_across_days AS (
    SELECT
        today.course_key,
        today.learner_key,
        CAST(sum(date_diff('microsecond', yesterday.last_event, today.first_event)) AS BIGINT) AS sum_dt_across_days_us
    FROM int__events__learner_course_day AS today
    JOIN int__events__learner_course_day AS yesterday
        ON yesterday.course_key = today.course_key
        AND yesterday.learner_key = today.learner_key
        AND yesterday.event_date = today.event_date - INTERVAL 1 DAY
    WHERE
        today.first_event < today.event_date + INTERVAL 300 SECOND
        AND yesterday.last_event >= today.event_date - INTERVAL 300 SECOND
        AND date_diff('microsecond', yesterday.last_event, today.first_event) <= 300000000
    GROUP BY today.course_key, today.learner_key
),

enrollment_events AS (
    SELECT
        course_key,
        learner_key,
        bool_or(action = 'activated') AS ever_activated,
        min(time) FILTER (WHERE action = 'activated') AS first_activated_at,
        max(time) FILTER (WHERE action = 'deactivated') AS last_deactivated_at,
        arg_max(enrolled, change_number) AS enrolled_now,
        arg_max(mode, change_number) AS mode_now
    FROM int__enrollment__learner_states
    GROUP BY course_key, learner_key
),

locations AS (
    SELECT course_key, learner_key, arg_max(country_by_ip, last_public_event) AS country_by_ip
    FROM int__events__learner_course_day_location
    GROUP BY course_key, learner_key
)

SELECT
    coalesce(totals.course_key, enrollment_events.course_key) AS course_key,
    coalesce(totals.learner_key, enrollment_events.learner_key) AS learner_key,
    coalesce(totals.nevents, 0) AS nevents,
    coalesce(totals.ndays_act, 0) AS ndays_act,
    totals.first_event,
    totals.last_event,
    coalesce(totals.nplay_video, 0) AS nplay_video,
    coalesce(totals.npause_video, 0) AS npause_video,
    coalesce(totals.nseek_video, 0) AS nseek_video,
    coalesce(totals.nproblem_check, 0) AS nproblem_check,
    coalesce(totals.nshow_answer, 0) AS nshow_answer,
    coalesce(totals.nseq_goto, 0) AS nseq_goto,
    coalesce(totals.nforum_events, 0) AS nforum_events,
    coalesce(totals.nforum_created, 0) AS nforum_created,
    (coalesce(totals.sum_dt_within_days_us, 0) + coalesce(gaps_across_days.sum_dt_across_days_us, 0)) / 1000000.0 AS sum_dt,
    coalesce(enrollment_events.ever_activated, false) AS ever_activated,
    enrollment_events.first_activated_at,
    enrollment_events.last_deactivated_at,
    enrollment_events.enrolled_now,
    enrollment_events.mode_now,
    locations.country_by_ip
FROM totals
LEFT JOIN gaps_across_days
    ON gaps_across_days.course_key = totals.course_key AND gaps_across_days.learner_key = totals.learner_key
FULL OUTER JOIN enrollment_events
    ON enrollment_events.course_key = totals.course_key AND enrollment_events.learner_key = totals.learner_key
LEFT JOIN locations
    ON locations.course_key = coalesce(totals.course_key, enrollment_events.course_key)
    AND locations.learner_key = coalesce(totals.learner_key, enrollment_events.learner_key)
