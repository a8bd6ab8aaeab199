#!/usr/bin/env bash
# Installs everything, then runs the job as the deployments do, on a generated sample: an encrypted
# delivery and a week of tracking logs served by a local S3 server, fetched and landed in ./lake by
# the Prefect flows (ephemeral API); then queries over the catalog, the indicators, a report and the dashboard;
# then the marts published to a local MongoDB-wire server that it starts and stops itself.
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

# Publish to SecantusDB (the idbx[local] extra) on a free port, data kept in ./mongo-data.
MONGO_PORT=$(python -c "from idbx.local.services import free_port; print(free_port())")
idbx mongo serve --port "$MONGO_PORT" --storage-path mongo-data &
MONGO_PID=$!
trap 'kill "$MONGO_PID" 2>/dev/null || true' EXIT
export IDBX_MONGO_URI="mongodb://127.0.0.1:$MONGO_PORT" IDBX_MONGO_DB=edx
idbx publish --lake lake   # waits for the server to answer
python - <<'PY'
import os, pymongo
db = pymongo.MongoClient(os.environ["IDBX_MONGO_URI"])[os.environ["IDBX_MONGO_DB"]]
print({name: db[name].count_documents({}) for name in ("reports", "courses", "learners")})
report = db.reports.find_one({"report.users.total": {"$gt": 0}})
print(report["_id"], report["metadata"]["name"], report["report"]["users"])
PY
kill "$MONGO_PID"; wait "$MONGO_PID" 2>/dev/null || true
echo "Published to database edx (reports, courses, learners); to look again: idbx mongo serve --storage-path mongo-data"
