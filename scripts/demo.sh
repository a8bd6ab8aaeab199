#!/usr/bin/env bash
# Installs everything, writes an encrypted sample delivery and lands it in ./lake, then queries it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH"
idbx sample sample --courses 4 --learners 300
export IDBX_GPG_KEY="$PWD/sample/partner-key.asc"
export IDBX_GPG_PASSPHRASE="idbx-sample-passphrase"
idbx ingest package sample/idbx-2016-07-04.zip --lake lake
idbx query "SELECT course_key, count(*) AS enrollments FROM student_courseenrollment GROUP BY ALL ORDER BY 1" --lake lake
echo "Lake ready: duckdb lake/catalog.duckdb  (or: .venv/bin/idbx query \"SQL\" --lake lake)"
