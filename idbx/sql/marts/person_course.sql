/*
description: >
  One row per learner and course run, in the spirit of the HarvardX/MITx person-course dataset:
  every learner an enrollment row, a certificate, a courseware row or an event ties to a course
  the registry does not exclude. Tables give the latest snapshot; events give activity.
  Definitions:
  viewed = has a chapter row in courseware_studentmodule (opened the courseware);
  nchapters = distinct chapters opened;
  explored = nchapters at least half the course's chapters (the course structure's when
  delivered, else the chapters any learner opened; NULL when neither is known);
  certified = a certificate with status downloadable;
  completed = grade at or above the course's passing grade, or certified;
  nevents and the n* counts = events with a username, excluding /xblock/ event types;
  ndays_act = days with such events;
  sum_dt = seconds between the learner's consecutive such events in the course, counting only gaps
  of at most 300 s (across midnight too);
  nforum_posts = posts in the course's forum dump when one was delivered, else the learner's forum
  .created events.
  Counts are 0 for a learner with no events.
grain: [course_key, learner_id]
materialized: table
columns:
  course_id: The edX course id.
  course_key: Short key of the course run.
  learner_id: Pseudonymous learner id.
  enrolled: Whether an enrollment row or an activation event enrolls the learner.
  enrolled_at: When the learner enrolled (the enrollment row, else the first activation event).
  unenrolled_at: When the learner last unenrolled, if their last enrollment event unenrolls them.
  is_active: Whether the learner is enrolled now (the enrollment row, else the events).
  mode: Enrollment mode (the enrollment row, else the events).
  viewed: Opened the courseware (has a chapter row).
  explored: Opened at least half of the course's chapters.
  certified: Has a downloadable certificate.
  completed: Grade at or above the passing grade, or certified.
  grade: Certificate grade, NULL without a certificate row.
  nchapters: Distinct chapters opened.
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
  nforum_posts: Forum posts written (forum dump when delivered, else .created forum events).
  sum_dt: Seconds of activity (gaps of at most 300 s between consecutive events).
  gender: Profile gender code.
  year_of_birth: Profile year of birth.
  level_of_education: Profile education code.
  country: Profile country code (ISO 3166 alpha-2).
  country_by_ip: Country (ISO 3166 alpha-2) of the address of the learner's latest event in the course that came from a public address (edX's last-country rule); NULL when there is none or the IP-to-country database does not know it.
  country_source: Where the learner's country comes from, profile (the profile gives one), ip (it does not, the address does) or unknown.
*/
WITH runs AS (
    SELECT course_key, course_id, passing_grade FROM int__courses__runs_with_events WHERE NOT excluded
),

learner_days AS (
    SELECT days.*
    FROM int__events__learner_course_day AS days
    JOIN runs ON runs.course_key = days.course_key
),

activity AS (
    SELECT
        course_key,
        learner_id,
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
        CAST(sum(posted_forum_events) AS BIGINT) AS forum_created_events,
        -- Whole microseconds again (sum_dt holds an exact count of them), so that the sum is exact.
        CAST(sum(CAST(round(sum_dt * 1000000) AS BIGINT)) AS BIGINT) AS sum_dt_within_days_us
    FROM learner_days
    GROUP BY course_key, learner_id
),

-- A gap between a day's last event and the next day's first one counts when it is short enough.
gaps_across_days AS (
    SELECT course_key, learner_id, CAST(sum(gap_microseconds) AS BIGINT) AS sum_dt_across_days_us
    FROM (
        SELECT
            course_key,
            learner_id,
            event_date,
            lag(event_date) OVER learner_history AS previous_date,
            date_diff('microsecond', lag(last_event) OVER learner_history, first_event) AS gap_microseconds
        FROM learner_days
        WHERE nevents > 0
        WINDOW learner_history AS (PARTITION BY course_key, learner_id ORDER BY event_date)
    ) AS consecutive_days
    WHERE previous_date = event_date - INTERVAL 1 DAY AND gap_microseconds <= 300000000
    GROUP BY course_key, learner_id
),

enrollment_events AS (
    SELECT
        course_key,
        learner_id,
        min(time) FILTER (WHERE action = 'activated') AS first_activated_at,
        max(time) FILTER (WHERE action = 'deactivated') AS last_deactivated_at,
        arg_max(enrolled, change_number) AS enrolled_now,
        arg_max(mode, change_number) AS mode_now,
        bool_or(action = 'activated') AS ever_activated
    FROM int__enrollment__learner_states
    GROUP BY course_key, learner_id
),

locations AS (
    SELECT course_key, learner_id, arg_max(country_by_ip, last_public_event) AS country_by_ip
    FROM int__events__learner_course_day_location
    GROUP BY course_key, learner_id
),

forum_dump_courses AS (
    SELECT DISTINCT course_key FROM stg__edx__forum_posts
),

forum_posts AS (
    SELECT course_key, learner_id, count(*) AS posts
    FROM stg__edx__forum_posts
    WHERE learner_id IS NOT NULL
    GROUP BY course_key, learner_id
),

learners AS (
    SELECT course_key, learner_id FROM stg__edx__student_courseenrollment
    UNION
    SELECT course_key, learner_id FROM stg__edx__certificates_generatedcertificate
    UNION
    SELECT course_key, learner_id FROM int__courseware__learner_course
    UNION
    SELECT course_key, learner_id FROM activity
    UNION
    SELECT course_key, learner_id FROM enrollment_events
)

SELECT
    runs.course_id,
    learners.course_key,
    learners.learner_id,
    enrollment.learner_id IS NOT NULL OR coalesce(enrollment_events.ever_activated, false) AS enrolled,
    coalesce(enrollment.enrolled_at, enrollment_events.first_activated_at) AS enrolled_at,
    CASE WHEN NOT enrollment_events.enrolled_now THEN enrollment_events.last_deactivated_at END AS unenrolled_at,
    coalesce(enrollment.is_active, enrollment_events.enrolled_now, false) AS is_active,
    coalesce(enrollment.mode, enrollment_events.mode_now) AS mode,
    coalesce(courseware.chapters_viewed, 0) > 0 AS viewed,
    CASE WHEN chapters.chapters > 0 THEN coalesce(courseware.chapters_viewed, 0) >= chapters.chapters / 2.0 END AS explored,
    coalesce(certificate.status = 'downloadable', false) AS certified,
    coalesce(certificate.grade >= runs.passing_grade, false) OR coalesce(certificate.status = 'downloadable', false) AS completed,
    certificate.grade,
    coalesce(courseware.chapters_viewed, 0) AS nchapters,
    coalesce(activity.nevents, 0) AS nevents,
    coalesce(activity.ndays_act, 0) AS ndays_act,
    activity.first_event,
    activity.last_event,
    coalesce(activity.nplay_video, 0) AS nplay_video,
    coalesce(activity.npause_video, 0) AS npause_video,
    coalesce(activity.nseek_video, 0) AS nseek_video,
    coalesce(activity.nproblem_check, 0) AS nproblem_check,
    coalesce(activity.nshow_answer, 0) AS nshow_answer,
    coalesce(activity.nseq_goto, 0) AS nseq_goto,
    coalesce(activity.nforum_events, 0) AS nforum_events,
    CASE
        WHEN forum_dump_courses.course_key IS NOT NULL THEN coalesce(forum_posts.posts, 0)
        ELSE coalesce(activity.forum_created_events, 0)
    END AS nforum_posts,
    (coalesce(activity.sum_dt_within_days_us, 0) + coalesce(gaps_across_days.sum_dt_across_days_us, 0)) / 1000000.0 AS sum_dt,
    profile.gender,
    profile.year_of_birth,
    profile.level_of_education,
    profile.country,
    locations.country_by_ip,
    CASE
        WHEN profile.country IS NOT NULL THEN 'profile'
        WHEN locations.country_by_ip IS NOT NULL THEN 'ip'
        ELSE 'unknown'
    END AS country_source
FROM learners
JOIN runs ON runs.course_key = learners.course_key
LEFT JOIN stg__edx__student_courseenrollment AS enrollment
    ON enrollment.course_key = learners.course_key AND enrollment.learner_id = learners.learner_id
LEFT JOIN stg__edx__certificates_generatedcertificate AS certificate
    ON certificate.course_key = learners.course_key AND certificate.learner_id = learners.learner_id
LEFT JOIN int__courseware__learner_course AS courseware
    ON courseware.course_key = learners.course_key AND courseware.learner_id = learners.learner_id
LEFT JOIN stg__edx__auth_userprofile AS profile
    ON profile.course_key = learners.course_key AND profile.learner_id = learners.learner_id
LEFT JOIN activity
    ON activity.course_key = learners.course_key AND activity.learner_id = learners.learner_id
LEFT JOIN gaps_across_days
    ON gaps_across_days.course_key = learners.course_key AND gaps_across_days.learner_id = learners.learner_id
LEFT JOIN enrollment_events
    ON enrollment_events.course_key = learners.course_key AND enrollment_events.learner_id = learners.learner_id
LEFT JOIN forum_posts
    ON forum_posts.course_key = learners.course_key AND forum_posts.learner_id = learners.learner_id
LEFT JOIN locations
    ON locations.course_key = learners.course_key AND locations.learner_id = learners.learner_id
LEFT JOIN forum_dump_courses ON forum_dump_courses.course_key = learners.course_key
LEFT JOIN int__courses__chapters AS chapters ON chapters.course_key = learners.course_key
