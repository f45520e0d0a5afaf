#!/usr/bin/env bash
# Build the packaged booth app (PyInstaller, one folder) into dist/Recoup/, run the bundle's
# own self-test, and report its size and cold start time. Works from a fresh clone: the
# app's pins, the packaging tools and the translations are installed/built first.
# Usage: bash packaging/build.sh        (ends with: bundle_mb=... self_test_s=... files=...)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    bash scripts/setup.sh app
fi
echo "== packaging tools (requirements/packaging.txt)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/packaging.txt
echo "== translations"
.venv/bin/python scripts/translations.py build

echo "== PyInstaller (packaging/recoup.spec -> dist/Recoup/)"
build_start=$(date +%s%N)
.venv/bin/python -m PyInstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/recoup.spec
build_s=$(( ($(date +%s%N) - build_start) / 1000000 ))

executable=dist/Recoup/Recoup
[ -x "$executable" ] || executable=dist/Recoup/Recoup.exe

echo "== bundle self-test: $executable self-test"
# A home of its own, so the build machine's booth config does not decide the result.
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
start=$(date +%s%N)
status=0
env -u QT_QPA_PLATFORM RECOUP_HOME="$home" "$executable" self-test || status=$?
self_test_ms=$(( ($(date +%s%N) - start) / 1000000 ))

bundle_mb=$(du -sm dist/Recoup | cut -f1)
files=$(find dist/Recoup -type f | wc -l)
self_test_s=$(printf '%d.%02d' $((self_test_ms / 1000)) $(((self_test_ms % 1000) / 10)))
printf 'PyInstaller build: %d.%d s\n' $((build_s / 1000)) $(((build_s % 1000) / 100))
echo "bundle: dist/Recoup, ${bundle_mb} MB in ${files} files; self-test (cold start) ${self_test_s} s"
echo "bundle_mb=${bundle_mb} self_test_s=${self_test_s} files=${files}"
if [ "$status" -ne 0 ]; then
    echo "the bundle's self-test FAILED (exit $status)" >&2
    exit "$status"
fi
