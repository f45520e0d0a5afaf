#!/usr/bin/env bash
# Compile the Windows installer script with makensis (Debian's nsis package) to check it.
# Uses the built bundle dist/Recoup/ when there is one (packaging/build.sh), otherwise a
# small stand-in folder with the same layout. Warnings count as errors. Compressed with
# zlib for speed: 1.5 min on 2 cores for the real bundle, against 5 min for the release's
# solid LZMA.
# Usage: bash packaging/check-installer.sh      (writes dist/Recoup-<version>-setup.exe)
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v makensis >/dev/null 2>&1; then
    echo "== installing NSIS (Debian package nsis)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nsis >/dev/null
fi

python=.venv/bin/python
[ -x "$python" ] || python=python3
version="$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
source_dir="$PWD/dist/Recoup"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ ! -f "$source_dir/_internal/config.example.toml" ]; then
    echo "== no dist/Recoup bundle: compiling against a stand-in folder"
    source_dir="$work/Recoup"
    mkdir -p "$source_dir/_internal"
    printf 'stand-in\n' > "$source_dir/Recoup.exe"
    cp config.example.toml "$source_dir/_internal/"
fi
icon_args=()
if "$python" packaging/make_assets.py "$work/assets" >/dev/null 2>&1; then
    icon_args=("-DICON=$work/assets/recoup.ico")
fi
mkdir -p dist
output="$PWD/dist/Recoup-${version}-setup.exe"
makensis -V2 -WX -DFAST_COMPRESSION -DSOURCE_DIR="$source_dir" -DVERSION="$version" "${icon_args[@]}" \
    -DOUTFILE="$output" packaging/recoup.nsi
echo "makensis: packaging/recoup.nsi compiled -> $output ($(du -m "$output" | cut -f1) MB)"
