#!/usr/bin/env bash
# Creates .venv and installs the locked dependencies and the idbx package (editable) into it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
[ -x .venv/bin/uv ] || .venv/bin/python -m pip install --quiet "uv==0.13.9"
# Byte-compiled at install: with PYTHONDONTWRITEBYTECODE set (as on CI), every process would
# otherwise compile Prefect from source again (about twice as slow to start).
.venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python -r requirements.lock -e .
# The package itself is installed editable (its source is what runs): compiled here once, for the same reason.
.venv/bin/python -m compileall -q idbx flows >/dev/null
