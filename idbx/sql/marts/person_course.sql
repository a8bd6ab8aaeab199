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
grain: [course_key, learner_key]
materialized: incremental
merge_by: [course_key, learner_key]
not_null: [course_key, learner_key, learner_id]
accepted_values:
  mode: [audit, honor, verified, professional, no-id-professional, credit, masters, executive-education, paid-executive-education, unpaid-executive-education, paid-bootcamp, unpaid-bootcamp, unknown]
  country_source: [profile, ip, unknown]
columns:
  course_id: The edX course id.
  course_key: Short key of the course run.
  learner_id: Pseudonymous learner id, 15 hex digits (idbx/privacy/pseudonym.py).
  learner_key: The same pseudonym as a number, the key the lake joins and merges by (never published).
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
  is_retired: Whether edX retired the learner's account on their request (retired__user_ username or @retired.invalid email); such learners stay in every count, with their profile as edX left it.
*/
WITH runs AS (
    SELECT course_key, course_id, passing_grade FROM int__courses__runs_with_events WHERE NOT excluded
),

forum_dump_courses AS (
    SELECT DISTINCT course_key FROM stg__edx__forum_posts
),

forum_posts AS (
    SELECT course_key, learner_key, count(*) AS posts
    FROM stg__edx__forum_posts
    WHERE learner_key IS NOT NULL
    GROUP BY course_key, learner_key
),

-- What the tables say, beside what the events say: one join of the two per-learner tables.
learners AS (
    SELECT
        coalesce(tables.course_key, activity.course_key) AS course_key,
        coalesce(tables.learner_key, activity.learner_key) AS learner_key,
        tables.* EXCLUDE (course_key, learner_key),
        activity.* EXCLUDE (course_key, learner_key)
    FROM int__tables__learner_course AS tables
    FULL OUTER JOIN int__events__learner_course AS activity
        ON activity.course_key = tables.course_key AND activity.learner_key = tables.learner_key
)

SELECT
    runs.course_id,
    learners.course_key,
    learner_id_of(learners.learner_key) AS learner_id,
    learners.learner_key,
    coalesce(learners.in_enrollments, false) OR coalesce(learners.ever_activated, false) AS enrolled,
    coalesce(learners.enrolled_at, learners.first_activated_at) AS enrolled_at,
    CASE WHEN NOT learners.enrolled_now THEN learners.last_deactivated_at END AS unenrolled_at,
    coalesce(learners.is_active, learners.enrolled_now, false) AS is_active,
    coalesce(learners.mode, learners.mode_now) AS mode,
    coalesce(learners.chapters_viewed, 0) > 0 AS viewed,
    CASE WHEN chapters.chapters > 0 THEN coalesce(learners.chapters_viewed, 0) >= chapters.chapters / 2.0 END AS explored,
    coalesce(learners.certificate_status = 'downloadable', false) AS certified,
    coalesce(learners.grade >= runs.passing_grade, false) OR coalesce(learners.certificate_status = 'downloadable', false) AS completed,
    learners.grade,
    coalesce(learners.chapters_viewed, 0) AS nchapters,
    coalesce(learners.nevents, 0) AS nevents,
    coalesce(learners.ndays_act, 0) AS ndays_act,
    learners.first_event,
    learners.last_event,
    coalesce(learners.nplay_video, 0) AS nplay_video,
    coalesce(learners.npause_video, 0) AS npause_video,
    coalesce(learners.nseek_video, 0) AS nseek_video,
    coalesce(learners.nproblem_check, 0) AS nproblem_check,
    coalesce(learners.nshow_answer, 0) AS nshow_answer,
    coalesce(learners.nseq_goto, 0) AS nseq_goto,
    coalesce(learners.nforum_events, 0) AS nforum_events,
    CASE
        WHEN forum_dump_courses.course_key IS NOT NULL THEN coalesce(forum_posts.posts, 0)
        ELSE coalesce(learners.nforum_created, 0)
    END AS nforum_posts,
    coalesce(learners.sum_dt, 0) AS sum_dt,
    learners.gender,
    learners.year_of_birth,
    learners.level_of_education,
    learners.country,
    learners.country_by_ip,
    CASE
        WHEN learners.country IS NOT NULL THEN 'profile'
        WHEN learners.country_by_ip IS NOT NULL THEN 'ip'
        ELSE 'unknown'
    END AS country_source,
    coalesce(learners.is_retired, false) AS is_retired
FROM learners
JOIN runs ON runs.course_key = learners.course_key
LEFT JOIN forum_posts
    ON forum_posts.course_key = learners.course_key AND forum_posts.learner_key = learners.learner_key
LEFT JOIN forum_dump_courses ON forum_dump_courses.course_key = learners.course_key
LEFT JOIN int__courses__chapters AS chapters ON chapters.course_key = learners.course_key
