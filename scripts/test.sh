#!/usr/bin/env bash
# Installs everything, checks the code with ruff (lint and format), and runs the whole test suite on
# pytest-xdist workers, one per core and one more: about a third of the suite's time is spent
# waiting (on the processes, servers and disk the tests start and use), which the extra worker
# fills (tests/conftest.py says which tests share a worker); extra arguments go to pytest (`-n 0`
# runs it in one process).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check idbx flows tests benchmarks
.venv/bin/ruff format --check idbx flows tests benchmarks
exec .venv/bin/python -m pytest -n "$(($(nproc) + 1))" "$@"
