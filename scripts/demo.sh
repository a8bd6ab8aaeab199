#!/usr/bin/env bash
# Installs everything, writes an encrypted sample delivery and three days of tracking logs, lands
# them in ./lake, runs two queries over the catalog, builds the indicators and prints a report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH"
idbx sample sample --courses 4 --learners 300 --days 3
export IDBX_GPG_KEY="$PWD/sample/partner-key.asc"
export IDBX_GPG_PASSPHRASE="idbx-sample-passphrase"
idbx ingest package sample/idbx-2016-07-04.zip --lake lake
# The sample logs hold a few dirty lines on purpose: they are reported and kept in event_rejects.
idbx ingest events sample --lake lake
idbx query "SELECT course_key, count(*) AS enrollments FROM student_courseenrollment GROUP BY ALL ORDER BY 1" --lake lake
idbx query "SELECT log_date, event_source, count(*) AS events FROM events GROUP BY ALL ORDER BY ALL" --lake lake
idbx query "SELECT course_key, count(*) FILTER (block_type = 'chapter') AS chapters,
  (SELECT count(*) FROM forum_posts f WHERE f.course_key = b.course_key) AS forum_posts
  FROM course_blocks b GROUP BY ALL ORDER BY 1" --lake lake
# The demo's own pseudonym key; a real lake keeps its key secret (a Prefect Secret, or the environment).
export IDBX_PSEUDONYM_KEY="idbx-demo-pseudonym-key"
idbx build --lake lake
idbx report general --lake lake
echo "Lake ready: duckdb lake/catalog.duckdb  (or: .venv/bin/idbx query \"SQL\" --lake lake)"
