#!/usr/bin/env bash
# Set up (first run only) and run the linters and the whole test suite.
# PostgreSQL variants of the server tests run when RECOUP_TEST_POSTGRES_URL is set
# (.ci/run starts a local PostgreSQL and sets it); otherwise they are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
