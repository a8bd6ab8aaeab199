#!/usr/bin/env bash
# Installs everything, then runs the job as the deployments do, on a generated sample: an encrypted
# delivery and a week of tracking logs served by a local S3 server, fetched and landed in ./lake by
# the Prefect flows (ephemeral API); then queries over the catalog, the indicators, a report and the dashboard.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH"
python -m flows.quickstart --courses 4 --learners 300 --days 7
idbx query "SELECT course_key, count(*) AS enrollments FROM student_courseenrollment GROUP BY ALL ORDER BY 1" --lake lake
idbx query "SELECT log_date, event_source, count(*) AS events FROM events GROUP BY ALL ORDER BY ALL" --lake lake
idbx query "SELECT course_key, count(*) FILTER (block_type = 'chapter') AS chapters,
  (SELECT count(*) FROM forum_posts f WHERE f.course_key = b.course_key) AS forum_posts
  FROM course_blocks b GROUP BY ALL ORDER BY 1" --lake lake
# The demo's own pseudonym key; a real lake keeps its key secret (a Prefect Secret, or the environment).
export IDBX_PSEUDONYM_KEY="idbx-demo-pseudonym-key"
idbx build --lake lake
idbx report general --lake lake
# The offline dashboard of the indicators: open the index.html it prints in any browser.
idbx dashboard --lake lake
echo "Lake ready: duckdb lake/catalog.duckdb  (or: .venv/bin/idbx query \"SQL\" --lake lake)"
