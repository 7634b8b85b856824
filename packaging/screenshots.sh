#!/usr/bin/env bash
# Regenerates the screenshots shown in the README from a throw-away embedded database with
# two simulated nights: last night's, transferred and registered by 'paudm night', and an
# older one in which one file arrived damaged (quarantined).
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
unset PAUDM_DB DISPLAY WAYLAND_DISPLAY PAUDM_BUFFER PAUDM_ARCHIVE
"$bin/paudm" db start >/dev/null
"$bin/paudm-console" --screenshot "$out/console.png" --size 1400x900
echo "wrote $out/console.png"

# An older night with one file damaged on the way (a flipped bit in the buffer copy).
"$bin/paudm" simulate --out "$home/buffer" --night "$(date -u -d '6 days ago' +%F)" --geometry small \
  --bias 2 --flats-per-tray 1 --trays NB455 --science 6 --no-db >/dev/null 2>&1
damaged=$(ls "$home"/buffer/*/paucam.*.fits | sed -n 3p)
printf '\x55' | dd of="$damaged" bs=1 seek=300000 conv=notrunc status=none
"$bin/paudm" night >/dev/null 2>&1 || true # incomplete, as it should be
# Last night, complete, on a field with reference stars enough for every CCD (as run.sh).
"$bin/paudm" simulate --out "$home/buffer" --night "$(date -u -d yesterday +%F)" --geometry small \
  --bias 3 --flats-per-tray 3 --trays NB455,NB535,NB615 --science 24 \
  --field transit,2.2 --max-airmass 2 --star-density 40000 >/dev/null 2>&1
"$bin/paudm" night >/dev/null 2>&1 || true # the older night stays incomplete
"$bin/paudm-console" --panel transfer --screenshot "$out/transfer.png" --size 1400x900
echo "wrote $out/transfer.png"
# Operations and the Job graph on the older night's register job, the one that failed.
failed=$("$bin/paudm" jobs list --status FAILED --task register --limit 1 | awk '$1 ~ /^[0-9]+$/ {print $1; exit}')
"$bin/paudm-console" --panel operations --job "$failed" --screenshot "$out/operations.png" --size 1400x900
echo "wrote $out/operations.png"
# The graph and timeline of last night's register job.
last=$("$bin/paudm" jobs list --task register --limit 1 | awk '$1 ~ /^[0-9]+$/ {print $1; exit}')
"$bin/paudm-console" --panel graph --job "$last" --screenshot "$out/graph.png" --size 1400x900
echo "wrote $out/graph.png"
"$bin/paudm-console" --panel graph --job "$last" --graph-view status --screenshot "$out/graph-status.png" --size 1400x900
echo "wrote $out/graph-status.png"
"$bin/paudm-console" --panel runners --screenshot "$out/runners.png" --size 1400x900
echo "wrote $out/runners.png"
"$bin/paudm-console" --panel report --night "$(date -u -d yesterday +%F)" --screenshot "$out/report.png" --size 1900x1000
echo "wrote $out/report.png"
"$bin/paudm-console" --panel schema --table image --screenshot "$out/schema.png" --size 1900x1000
echo "wrote $out/schema.png"
"$bin/paudm-console" --panel sql --size 1900x1000 --screenshot "$out/sql.png" --query "SELECT m.exp_num, m.airmass, m.filtertray AS tray,
       round(avg(i.psf_fwhm)::numeric, 3) AS seeing, round(avg(i.transparency)::numeric, 3) AS transparency,
       round(avg(i.zp_nightly)::numeric, 3) AS zero_point, sum(i.n_extracted) AS detections
FROM mosaic m JOIN image i ON i.mosaic_id = m.id
WHERE i.psf_fwhm IS NOT NULL
GROUP BY m.id ORDER BY seeing DESC"
echo "wrote $out/sql.png"
