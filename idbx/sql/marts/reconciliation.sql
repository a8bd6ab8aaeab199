/*
description: >
  Checks that make a broken or partial delivery visible, one row per check and course or file.
  enrollments_active: enrollments still active in the course's latest snapshot vs learners the
  enrollment events leave enrolled at the end of the snapshot date; enrollments_total: enrollment
  rows vs learners the events ever enrolled by then (events only cover the days the lake holds
  logs for, so a course older than its logs differs). file_rows: rows the ingestion counted in
  each landed source file (the manifest) vs rows bronze holds from it, for the datasets the marts
  read (the six report tables, course_blocks, forum_posts and the tracking logs). course_outline:
  blocks in the course's outline (course_axis) for every run with data, status no structure when
  no delivery held its structure (the outline, chapter funnel and problems' places then stay empty).
grain: [check_name, course_key, item]
materialized: table
not_null: [check_name, item, status]
accepted_values:
  check_name: [enrollments_active, enrollments_total, file_rows, course_outline]
  status: [ok, differs, no events, no snapshot, missing in bronze, not in manifest, no structure]
flags:  # counted in the build summary
  where: status <> 'ok'
  line: "{count} {check_name} check(s) {status}"
columns:
  check_name: enrollments_active, enrollments_total, file_rows or course_outline.
  course_key: Short key of the course run (NULL for a tracking-log file).
  course_id: The edX course id (enrollment checks).
  item: What is compared (the source file for file_rows).
  as_of: Snapshot date or log date the check is about.
  expected: The count from the source (snapshot, or the manifest).
  found: The count derived independently (events, or bronze).
  difference: found - expected.
  status: ok, differs, no events (the course has no enrollment events), no snapshot, missing in bronze, not in manifest or no structure.
*/
WITH runs AS (
    SELECT course_key, course_id, snapshot_date FROM int__courses__runs_with_events WHERE NOT excluded
),

snapshot_enrollments AS (
    SELECT course_key, count(*) AS total, count(*) FILTER (WHERE is_active) AS active
    FROM stg__edx__student_courseenrollment
    GROUP BY course_key
),

state_at_snapshot AS (
    SELECT
        states.course_key,
        count(*) FILTER (WHERE states.enrolled) AS active,
        count(*) AS ever
    FROM (
        SELECT states.course_key, states.learner_key, arg_max(states.enrolled, states.change_number) AS enrolled
        FROM int__enrollment__learner_states AS states
        JOIN runs ON runs.course_key = states.course_key
        WHERE runs.snapshot_date IS NULL OR states.event_date <= runs.snapshot_date
        GROUP BY states.course_key, states.learner_key
        HAVING bool_or(states.action = 'activated' OR states.enrolled)
    ) AS states
    GROUP BY states.course_key
),

courses_with_enrollment_events AS (
    SELECT DISTINCT course_key FROM int__enrollment__learner_states
),

enrollment_checks AS (
    SELECT
        checks.check_name,
        runs.course_key,
        runs.course_id,
        checks.item,
        runs.snapshot_date AS as_of,
        CASE checks.check_name WHEN 'enrollments_active' THEN snapshot_enrollments.active ELSE snapshot_enrollments.total END AS expected,
        coalesce(CASE checks.check_name WHEN 'enrollments_active' THEN state_at_snapshot.active ELSE state_at_snapshot.ever END, 0) AS found,
        courses_with_enrollment_events.course_key IS NOT NULL AS has_events
    FROM runs
    CROSS JOIN (
        SELECT 'enrollments_active' AS check_name, 'active enrollments in the snapshot vs enrolled by the events' AS item
        UNION ALL
        SELECT 'enrollments_total', 'enrollment rows in the snapshot vs ever enrolled by the events'
    ) AS checks
    LEFT JOIN snapshot_enrollments ON snapshot_enrollments.course_key = runs.course_key
    LEFT JOIN state_at_snapshot ON state_at_snapshot.course_key = runs.course_key
    LEFT JOIN courses_with_enrollment_events ON courses_with_enrollment_events.course_key = runs.course_key
    WHERE runs.snapshot_date IS NOT NULL OR courses_with_enrollment_events.course_key IS NOT NULL
),

manifest_files AS (
    SELECT
        partitions[1] AS lake_partition,
        regexp_extract(key, '[^/]+$') AS file_name,
        rows AS manifest_rows
    FROM ingest_manifest
    WHERE
        status = 'ingested'
        AND regexp_extract(partitions[1], '^bronze/([^/]+)/', 1) IN (
            'auth_user', 'auth_userprofile', 'certificates_generatedcertificate', 'courseware_studentmodule',
            'student_courseenrollment', 'user_id_map', 'course_blocks', 'forum_posts', 'events'
        )
),

bronze_files AS (
    SELECT course_key, snapshot_date AS as_of, lake_partition, source_file, bronze_rows
    FROM int__lake__table_file_rows
    UNION ALL
    SELECT NULL, log_date, lake_partition, source_file, bronze_rows
    FROM int__lake__event_file_rows
),

file_checks AS (
    SELECT
        'file_rows' AS check_name,
        bronze_files.course_key,
        CAST(NULL AS VARCHAR) AS course_id,
        coalesce(bronze_files.source_file, manifest_files.file_name) AS item,
        coalesce(bronze_files.as_of, CAST(regexp_extract(manifest_files.lake_partition, '=(\d{4}-\d{2}-\d{2})', 1) AS DATE)) AS as_of,
        manifest_files.manifest_rows AS expected,
        coalesce(bronze_files.bronze_rows, 0) AS found,
        CASE
            WHEN bronze_files.source_file IS NULL THEN 'missing in bronze'
            WHEN manifest_files.file_name IS NULL THEN 'not in manifest'
            WHEN bronze_files.bronze_rows = manifest_files.manifest_rows THEN 'ok'
            ELSE 'differs'
        END AS status
    FROM bronze_files
    FULL OUTER JOIN manifest_files
        ON manifest_files.lake_partition = bronze_files.lake_partition
        AND manifest_files.file_name = regexp_extract(bronze_files.source_file, '[^/]+$')
),

outlines AS (
    SELECT course_key, max(snapshot_date) AS snapshot_date, count(*) AS blocks
    FROM course_axis
    GROUP BY course_key
),

outline_checks AS (
    SELECT
        'course_outline' AS check_name,
        runs.course_key,
        runs.course_id,
        'blocks in the course outline' AS item,
        outlines.snapshot_date AS as_of,
        CAST(NULL AS BIGINT) AS expected,
        coalesce(outlines.blocks, 0) AS found,
        CASE WHEN outlines.course_key IS NULL THEN 'no structure' ELSE 'ok' END AS status
    FROM runs
    LEFT JOIN outlines ON outlines.course_key = runs.course_key
    WHERE runs.snapshot_date IS NOT NULL OR runs.course_key IN (SELECT course_key FROM int__events__course_day)
)

SELECT
    check_name,
    course_key,
    course_id,
    item,
    as_of,
    expected,
    found,
    found - expected AS difference,
    CASE
        WHEN expected IS NULL THEN 'no snapshot'
        WHEN NOT has_events THEN 'no events'
        WHEN found = expected THEN 'ok'
        ELSE 'differs'
    END AS status
FROM enrollment_checks
UNION ALL
SELECT check_name, course_key, course_id, item, as_of, expected, found, found - expected, status
FROM file_checks
UNION ALL
SELECT check_name, course_key, course_id, item, as_of, expected, found, CAST(NULL AS BIGINT), status
FROM outline_checks
