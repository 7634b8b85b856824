#!/usr/bin/env bash
# Sets up (Debian packages), builds, starts the embedded PostgreSQL with the PAUdb schema
# and opens the PAUdm console on it. Without a display, the console is rendered to
# paudm-console.png instead of opened.
#
#   packaging/run.sh                  embedded database under $PAUDM_HOME (default ~/.local/share/paudm)
#   PAUDM_DB="service=paudb" packaging/run.sh     an external PostgreSQL instead
set -euo pipefail
cd "$(dirname "$0")/.."

packaging/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target paudm paudm-console
bin=build/release/app

if [ -z "${PAUDM_DB:-}" ]; then
  "$bin/paudm" db start
else
  "$bin/paudm" db migrate
fi
"$bin/paudm" db status || true

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$bin/paudm-console"
else
  "$bin/paudm-console" --screenshot paudm-console.png
  echo "no display: the console was rendered to $(pwd)/paudm-console.png"
fi
