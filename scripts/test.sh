#!/usr/bin/env bash
# Installs everything, checks the code with ruff (lint and format), and runs the whole test suite, one pytest-xdist
# worker per core (tests/conftest.py says which tests share a worker); extra arguments go to
# pytest (`-n 0` runs it in one process).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check idbx flows tests benchmarks
.venv/bin/ruff format --check idbx flows tests benchmarks
exec .venv/bin/python -m pytest -n auto "$@"
