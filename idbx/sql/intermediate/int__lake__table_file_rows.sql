/*
description: >
  Rows in bronze per source file of the course datasets the marts read (the six report tables,
  the course structure and the forum dump), to reconcile with the rows the ingestion counted in
  each file (the manifest).
grain: [lake_partition, source_file]
materialized: table
columns:
  table_name: The bronze dataset (edX table, course_blocks or forum_posts).
  course_key: Short key of the course run.
  snapshot_date: Delivery date.
  lake_partition: The bronze partition (as the manifest names it).
  source_file: The file the rows came from.
  bronze_rows: Rows in bronze from that file.
*/
WITH file_rows AS (
    SELECT 'auth_user' AS table_name, course_key, snapshot_date, source_file, count(*) AS bronze_rows
    FROM auth_user_history GROUP BY course_key, snapshot_date, source_file
    UNION ALL
    SELECT 'auth_userprofile', course_key, snapshot_date, source_file, count(*)
    FROM auth_userprofile_history GROUP BY course_key, snapshot_date, source_file
    UNION ALL
    SELECT 'certificates_generatedcertificate', course_key, snapshot_date, source_file, count(*)
    FROM certificates_generatedcertificate_history GROUP BY course_key, snapshot_date, source_file
    UNION ALL
    SELECT 'courseware_studentmodule', course_key, snapshot_date, source_file, count(*)
    FROM courseware_studentmodule_history GROUP BY course_key, snapshot_date, source_file
    UNION ALL
    SELECT 'student_courseenrollment', course_key, snapshot_date, source_file, count(*)
    FROM student_courseenrollment_history GROUP BY course_key, snapshot_date, source_file
    UNION ALL
    SELECT 'user_id_map', course_key, snapshot_date, source_file, count(*)
    FROM user_id_map_history GROUP BY course_key, snapshot_date, source_file
    UNION ALL
    SELECT 'course_blocks', course_key, snapshot_date, source_file, count(*)
    FROM course_blocks_history GROUP BY course_key, snapshot_date, source_file
    UNION ALL
    SELECT 'forum_posts', course_key, snapshot_date, source_file, count(*)
    FROM forum_posts_history GROUP BY course_key, snapshot_date, source_file
)

SELECT
    table_name,
    course_key,
    snapshot_date,
    'bronze/' || table_name || '/snapshot_date=' || CAST(snapshot_date AS VARCHAR) || '/course=' || course_key AS lake_partition,
    source_file,
    bronze_rows
FROM file_rows
