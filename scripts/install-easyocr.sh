#!/usr/bin/env bash
# Install the optional EasyOCR engine into .venv: CPU-only torch, easyocr and its offline
# English weights (requirements/easyocr.txt); does nothing when already up to date.
# Creates .venv first (scripts/setup.sh app) when there is none.
# Usage: bash scripts/install-easyocr.sh
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="requirements/easyocr.txt"

if [ ! -x .venv/bin/python ]; then
    bash scripts/setup.sh app
fi
stamp=".venv/.setup-stamp-easyocr"
wanted="$(cat requirements/app.txt "$requirements" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    echo "EasyOCR engine already installed."
    exit 0
fi

pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
# Installed with --no-deps: their declared requirements would pull the wrong torch.
no_deps='^(torchvision|easyocr)=='
step1="$(mktemp)"
step2="$(mktemp)"
trap 'rm -f "$step1" "$step2"' EXIT
grep -Ev "$no_deps" "$requirements" > "$step1"
grep -E "$no_deps" "$requirements" > "$step2"

echo "Installing CPU torch and EasyOCR's dependencies ..."
if ! "${pip[@]}" -c requirements/app.txt -r "$step1"; then
    echo "Could not install $(grep -E '^torch==' "$requirements"): the CPU-only torch wheel" \
        "must be available to pip (a local wheel on the project's machines)." >&2
    exit 1
fi
echo "Installing torchvision and easyocr without their declared dependencies ..."
"${pip[@]}" --no-deps -r "$step2"

# pip check always reports torchvision's declared torch==2.1.2 (installed with --no-deps
# on purpose); anything else it reports is worth a look.
if ! problems="$(.venv/bin/python -m pip check 2>&1)"; then
    problems="$(grep -Ev '^torchvision [^ ]+ has requirement torch==' <<<"$problems" || true)"
    if [ -n "$problems" ]; then
        echo "warning: pip check reports:" >&2
        echo "$problems" >&2
    fi
fi

echo "Checking that the engine imports and its weights match EasyOCR's md5 sums ..."
.venv/bin/python - <<'PY'
from desktop.recognition.easyocr_engine import bundled_model_dir, verify_weights

verify_weights(bundled_model_dir())
print(f"EasyOCR engine ready (weights in {bundled_model_dir()}).")
PY
echo "$wanted" > "$stamp"
