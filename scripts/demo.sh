#!/usr/bin/env bash
# Installs everything, then runs the whole job as the deployments do, on a generated sample
# (flows/quickstart.py): an encrypted delivery and a week of tracking logs served by a local S3
# server, fetched and landed in ./lake, built into indicators, exported as CSV, published to a local
# MongoDB-wire server and drawn as the dashboard by the Prefect flows (ephemeral API); each server
# it starts is stopped by pid. Then two queries over the lake it left (events per day, the general report).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH"
python -m flows.quickstart --courses 4 --learners 300 --days 7
idbx query "SELECT log_date, count(*) AS events FROM events GROUP BY ALL ORDER BY ALL" --lake lake
idbx query "SELECT id, total_users, active_users, approved_users, countries FROM general_report WHERE total_users > 0 ORDER BY id" --lake lake
