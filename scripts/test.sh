#!/usr/bin/env bash
# Installs everything, checks the code with ruff, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check idbx flows tests benchmarks
exec .venv/bin/python -m pytest "$@"
