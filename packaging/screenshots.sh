#!/usr/bin/env bash
# Regenerates the screenshots shown in the README from a throw-away embedded database.
#   packaging/screenshots.sh [BUILD_DIR]     (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release}/app
out=resources/screenshots
mkdir -p "$out"
home=$(mktemp -d)
chmod 755 "$home" # when run as root, the server account must reach it
trap 'PAUDM_HOME="$home" "$bin/paudm" db stop >/dev/null 2>&1 || true; rm -rf "$home"' EXIT
export PAUDM_HOME="$home" XDG_CONFIG_HOME="$home/config"
unset PAUDM_DB DISPLAY WAYLAND_DISPLAY
"$bin/paudm" db start >/dev/null
"$bin/paudm-console" --screenshot "$out/console.png" --size 1400x900
echo "wrote $out/console.png"
