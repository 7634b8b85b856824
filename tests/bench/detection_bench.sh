#!/usr/bin/env bash
# Background and detection on one full 2048 x 4096 reduced CCD: 'paudm detect' (SEP's mesh
# background with the sources masked and estimated again, a matched filter, windowed
# centroids, Kron and PSF fluxes) against Debian's source-extractor with the equivalent
# settings (64-pixel mesh, 3x3 median filter; the same smoothing kernel, the Gaussian of
# the seeing that paudm detect reports, and the same threshold over the raw noise, 4 sigma
# of the smoothed noise; 3 pixels; no cleaning; windowed centroids, AUTO fluxes, our mask as
# its weight map), both on one core, alternating, medians. Then how many of SExtractor's
# detections over 10 sigma we find within 0.1 px. Not part of the test suite.
#
#   tests/bench/detection_bench.sh [BUILD_DIR] [RUNS] [REDUCED_CCD]   (default build/release, 5)
#
# Without REDUCED_CCD, a full-size night (3 bias, 3 flats, 2 science mosaics) is simulated
# and reduced first, into a scratch folder under $BENCH_DIR (default /var/tmp).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/bench_lib.sh
build=${1:-build/release}
runs=${2:-5}
ccd=${3:-}
paudm=$(realpath "$build/app/paudm")
[ -x "$paudm" ] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 1; }
command -v source-extractor >/dev/null || { echo "source-extractor missing: packaging/install-deps.sh --bench" >&2; exit 1; }
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/paudm-detect-XXXXXX")
chmod 755 "$work"
if [ -z "$ccd" ]; then
  export PAUDM_HOME="$work/home"
  unset PAUDM_DB
  trap '"$paudm" db stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
  "$paudm" db start >/dev/null
  echo "simulating and reducing a full-size night..."
  "$paudm" simulate --out "$work/buffer" --night 2026-11-20 --geometry full --bias 3 --flats-per-tray 3 \
    --trays NB615 --science 2 --threads 2 --quiet >/dev/null
  "$paudm" night --buffer "$work/buffer" --archive "$work/archive" | tail -1
  ccd=$(ls "$work"/archive/red/R1/*/paucam.*.ccd09.fits | tail -1) # the second: the moon is down
else
  trap 'rm -rf "$work"' EXIT
fi
share=/usr/share/source-extractor
# What our MASK HDU leaves out (bad pixels, cosmic rays, no data) is given to SExtractor as
# zero weight, so that both measure the same pixels: without it, SExtractor's list over 10
# sigma is a third cosmic rays.
/usr/bin/python3 - "$ccd" "$work/weight.fits" <<'PY'
import sys
import numpy as np
from astropy.io import fits
with fits.open(sys.argv[1]) as h:
    mask = h["MASK"].data if "MASK" in h else np.zeros(h[0].data.shape, np.uint8)
fits.PrimaryHDU(np.where(mask & 13, 0, 1).astype(np.float32)).writeto(sys.argv[2])
PY
printf 'NUMBER\nXWIN_IMAGE\nYWIN_IMAGE\nFLUX_AUTO\nFLUXERR_AUTO\nFLAGS\n' >"$work/se.param"
ours() { taskset -c 0 "$paudm" detect "$ccd" --out "$work/ours.csv"; }
# Our kernel and threshold in SExtractor's terms, as paudm detect writes and reports them
# (its DETECT_THRESH is over the raw noise, ours over the smoothed noise).
thresh=$(taskset -c 0 "$paudm" detect "$ccd" --out "$work/ours.csv" --sextractor-filter "$work/kernel.conv" |
  sed -n 's/.*DETECT_THRESH \([0-9.]*\)$/\1/p')
[ -n "$thresh" ] || { echo "paudm detect did not write its SExtractor filter" >&2; exit 1; }
se() {
  taskset -c 0 source-extractor "$ccd[0]" -c "$share/default.sex" -PARAMETERS_NAME "$work/se.param" \
    -CATALOG_NAME "$work/se.cat" -CATALOG_TYPE ASCII_HEAD -FILTER_NAME "$work/kernel.conv" \
    -BACK_SIZE 64 -BACK_FILTERSIZE 3 -DETECT_THRESH "$thresh" -DETECT_MINAREA 3 -CLEAN N -GAIN 1 -NTHREADS 1 \
    -CHECKIMAGE_TYPE NONE -VERBOSE_TYPE QUIET -WEIGHT_TYPE MAP_WEIGHT -WEIGHT_IMAGE "$work/weight.fits"
}
se >/dev/null 2>&1 # warm the page cache and check it works
echo "detection kernel: $(sed -n 2p "$work/kernel.conv" | cut -c3-); source-extractor's DETECT_THRESH $thresh"
t_se=() t_ours=()
for ((i = 0; i < runs; i++)); do
  t_ours+=("$(seconds ours)")
  t_se+=("$(seconds se)")
done
m_ours=$(median "${t_ours[@]}")
m_se=$(median "${t_se[@]}")
echo "CCD: $ccd"
printf 'background + detection, one core, median of %d: ours %.2f s, source-extractor %.2f s: %.1fx\n' \
  "$runs" "$m_ours" "$m_se" "$(echo "$m_se / $m_ours" | bc -l)"
/usr/bin/python3 - "$work/se.cat" "$work/ours.csv" <<'PY'
import csv, sys
import numpy as np
se = np.loadtxt(sys.argv[1], comments="#", ndmin=2)
x, y, f, e = se[:, 1], se[:, 2], se[:, 3], se[:, 4]
bright = (e > 0) & (f / np.where(e > 0, e, 1) > 10)
rows = list(csv.DictReader(open(sys.argv[2])))
ox = np.array([float(r["x"]) for r in rows]); oy = np.array([float(r["y"]) for r in rows])
order = np.argsort(ox); ox, oy = ox[order], oy[order]
matched = 0
for xi, yi in zip(x[bright], y[bright]):
    lo, hi = np.searchsorted(ox, xi - 0.1), np.searchsorted(ox, xi + 0.1)
    matched += bool(np.any(np.hypot(ox[lo:hi] - xi, oy[lo:hi] - yi) < 0.1))
n = int(bright.sum())
print(f"source-extractor: {len(x)} detections, {n} over 10 sigma; ours: {len(rows)}; "
      f"{matched} of {n} ({100 * matched / max(n, 1):.1f} %) matched within 0.1 px")
PY
