#!/usr/bin/env bash
# Set up (first run only) and start the booth demo: no configuration needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh app
exec .venv/bin/python main.py --demo "$@"
