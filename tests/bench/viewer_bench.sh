#!/usr/bin/env bash
# The FITS viewer on a full-size simulated raw mosaic (72 amplifiers of 1024 x 4096 + overscan):
#   - inside the console (bench_viewer): first view of one CCD, the whole focal plane, pan
#     and zoom redraws on a 2048 x 4096 CCD, memory with the mosaic open;
#   - whole process, against DS9 (Debian's saods9 under one Xvfb for all runs, so that no
#     X server start is counted): open the first amplifier extension with zscale and write
#     it as PNG, `paudm-console --panel viewer --open RAW[2] --scale zscale --screenshot`
#     (the whole window, the embedded database connected) vs `ds9 RAW[1] -zscale -export
#     png -exit` (DS9 counts extensions from 0, we HDUs from 1: the same extension). DS9's
#     -saveimage waits for a window manager that Xvfb does not have, so DS9 exports the
#     scaled image instead. Alternating order, RUNS rounds, medians.
# Not part of the test suite. Needs packaging/install-deps.sh --bench (saods9, xvfb).
#
#   tests/bench/viewer_bench.sh [BUILD_DIR] [RUNS]   (default build/release 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/bench_lib.sh
build=${1:-build/release}
runs=${2:-5}
bench_start "$build" bench_viewer
console=$(realpath "$build/app/paudm-console")
echo "simulating one full-size science exposure..."
"$paudm" simulate --out "$work/buffer" --night 2026-11-24 --bias 0 --flats-per-tray 0 --trays NB455 --science 1 \
  --no-db >/dev/null
raw=$(find "$work/buffer" -name 'paucam.*.fits' | head -1)
echo "raw mosaic: $(du -m "$raw" | cut -f1) MB, $("$paudm" fits info "$raw" | sed -n 1p | sed "s/.*: //")"

echo "== inside the console"
inside=$("$bench" "$raw" "$runs")
echo "$inside"

echo "== whole process vs DS9"
Xvfb :97 -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true; "$paudm" db stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
sleep 1
ours=() ds9t=()
run_ours() { ours+=("$(seconds "$console" --panel viewer --open "$raw[2]" --scale zscale --screenshot "$work/ours.png")"); }
run_ds9() { ds9t+=("$(seconds env DISPLAY=:97 ds9 "$raw[1]" -zscale -export png "$work/ds9.png" -exit)"); }
for ((r = 0; r < runs; r++)); do
  if ((r % 2)); then run_ds9; run_ours; else run_ours; run_ds9; fi
done
[ -s "$work/ours.png" ] && [ -s "$work/ds9.png" ] || { echo "a screenshot is missing" >&2; exit 1; }
o=$(median "${ours[@]}"); d=$(median "${ds9t[@]}")
printf 'paudm-console --open RAW[2] --screenshot: %.2f s (runs: %s)\n' "$o" "${ours[*]}"
printf 'ds9 RAW[1] -zscale -export png -exit:  %.2f s (runs: %s)\n' "$d" "${ds9t[*]}"
printf 'ratio: ours %.2fx faster than DS9\n' "$(echo "$d / $o" | bc -l)"

echo "== the whole mosaic: our focal plane vs DS9's mosaic mode (IRAF DETSEC), 60 s at most"
fp=$(seconds "$console" --panel viewer --open "$raw" --focal-plane --screenshot "$work/ours-fp.png")
printf 'paudm-console --open RAW --focal-plane --screenshot: %.2f s\n' "$fp"
t0=$(date +%s.%N)
if timeout 60 env DISPLAY=:97 ds9 -mosaicimage iraf "$raw" -zscale -export png "$work/ds9-fp.png" -exit >/dev/null 2>&1; then
  printf 'ds9 -mosaicimage iraf RAW -zscale -export png -exit: %.2f s\n' "$(echo "$(date +%s.%N) - $t0" | bc -l)"
else
  echo "ds9 -mosaicimage iraf RAW: did not finish within 60 s"
fi
