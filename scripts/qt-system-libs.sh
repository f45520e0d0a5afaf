#!/usr/bin/env bash
# Make sure Qt can open a window on this Linux machine: the X11 libraries its xcb plugin
# needs are Debian packages, not Python wheels. Installs them when run as root with apt,
# otherwise prints the command. Does nothing on other systems or when all are present.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname -s)" = "Linux" ] || exit 0
case "${QT_QPA_PLATFORM:-}" in offscreen|minimal|vnc*) exit 0 ;; esac

plugin="$(.venv/bin/python - <<'PY'
import pathlib, PySide6
print(pathlib.Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so")
PY
)"
[ -f "$plugin" ] || exit 0
missing="$(ldd "$plugin" "$(dirname "$plugin")/../../lib/libQt6XcbQpa.so.6" 2>/dev/null | grep -c 'not found' || true)"
[ "$missing" = "0" ] && exit 0

packages="libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
libxcb-xkb1 libxkbcommon-x11-0 libxcb-randr0 libxcb-shape0 libxcb-xinerama0 libegl1 libgl1"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Installing the X11 libraries Qt needs to open a window ..."
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086 # the package list is meant to split into words
    apt-get install -y -q $packages >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q $packages >/dev/null; }
else
    echo "Qt needs X11 libraries that this machine lacks. Install them with:" >&2
    echo "    sudo apt-get install $packages" >&2
    exit 1
fi
