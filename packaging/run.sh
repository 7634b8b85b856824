#!/usr/bin/env bash
# Sets up (Debian packages), builds, starts the embedded PostgreSQL with the PAUdb schema,
# simulates last night's PAUCam observation set into the observatory buffer under
# $PAUDM_HOME (the first time only; small geometry, so that it takes seconds) with the
# field's reference catalogues in PAUdb, runs the morning routine on it (paudm night:
# verified transfer into the archive, registration in PAUdb, the nightly reduction into
# archive/red/R1, with local runners), and opens the PAUdm console on it. Without a display, the console is rendered to
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

home="${PAUDM_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/paudm}"
night="$(date -u -d yesterday +%F)"
if ! ls -d "$home/buffer/$(date -u -d yesterday +%Y%m%d)"_* >/dev/null 2>&1; then
  # A field on the meridian at midnight, observed while under airmass 2, at low galactic
  # latitude, so that the small CCDs hold stars enough for each to be calibrated.
  "$bin/paudm" simulate --out "$home/buffer" --night "$night" --geometry small \
    --bias 3 --flats-per-tray 3 --trays NB455,NB535,NB615 --science 24 --truth "$home/truth" \
    --field transit,2.2 --max-airmass 2 --star-density 40000
fi
# Safe to repeat: verified files are skipped, registered and reduced obs sets left as they are.
"$bin/paudm" night --buffer "$home/buffer" --archive "$home/archive"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$bin/paudm-console"
else
  "$bin/paudm-console" --panel transfer --screenshot paudm-console.png
  echo "no display: the console was rendered to $(pwd)/paudm-console.png"
fi
