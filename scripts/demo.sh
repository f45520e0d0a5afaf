#!/usr/bin/env bash
# Set up (first run only) and start the booth demo: no configuration needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh app
if [ "$(uname -s)" = "Linux" ] && [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] \
    && [ -z "${QT_QPA_PLATFORM:-}" ]; then
    echo "No screen here (DISPLAY is not set). Start the demo from a desktop session, or on a" >&2
    echo "virtual screen: xvfb-run -a -s '-screen 0 1600x1000x24' bash scripts/demo.sh" >&2
    exit 1
fi
bash scripts/qt-system-libs.sh
exec .venv/bin/python main.py --demo "$@"
