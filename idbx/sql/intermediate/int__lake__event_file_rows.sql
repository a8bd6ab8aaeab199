/*
description: >
  Rows in bronze per tracking-log source file, to reconcile with the lines the ingestion accepted
  in each file (the manifest). Stored by log day: a build counts only the days whose files changed.
grain: [lake_partition, source_file]
materialized: incremental
partition_by: log_date
columns:
  log_date: Day of the log file.
  lake_partition: The bronze partition (as the manifest names it).
  source_file: The log file the rows came from.
  bronze_rows: Events in bronze from that file.
*/
SELECT
    log_date,
    'bronze/events/log_date=' || CAST(log_date AS VARCHAR) AS lake_partition,
    source_file,
    count(*) AS bronze_rows
FROM events
GROUP BY log_date, source_file
