#!/usr/bin/env bash
# Create .venv and install the pinned requirements; does nothing when already up to date.
# Usage: bash scripts/setup.sh [app|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-app}"
requirements="requirements/${profile}.txt"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Recoup needs Python 3.11 or newer; '$python' is $("$python" --version 2>&1)." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "Creating the virtual environment in .venv ..."
    "$python" -m venv .venv
fi
stamp=".venv/.setup-stamp-${profile}"
wanted="$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "Installing pinned requirements ($requirements) ..."
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" > "$stamp"
fi
.venv/bin/python scripts/translations.py build
