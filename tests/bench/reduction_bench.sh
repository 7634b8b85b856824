#!/usr/bin/env bash
# The reduction at full size against its peers (bench_reduction): combining 10 frames
# against ccdproc, L.A.Cosmic on one CCD against astroscrappy, the single_epoch job of a
# science mosaic (detrending and measuring) against the cfitsio floor of reading its raw
# file and writing its products, the mosaic's astrometry against SCAMP, and background and
# detection on one CCD against source-extractor (detection_bench.sh). Not part of the test
# suite.
#
#   tests/bench/reduction_bench.sh [BUILD_DIR] [RUNS]   (default build/release, 5)
#
# A full-size night (3 bias, 3 flats of one tray, 2 science mosaics; ~2.6 GB) is simulated
# into $BENCH_DIR (default /var/tmp) and reduced by 'paudm night' on the embedded
# database; the peers come from 'packaging/install-deps.sh --bench'.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/bench_lib.sh
build=${1:-build/release}
runs=${2:-5}
bench_start "$build" bench_reduction
echo "simulating and reducing a full-size night..."
"$paudm" simulate --out "$work/buffer" --night 2026-11-20 --geometry full --bias 3 --flats-per-tray 3 \
  --trays NB615 --science 2 --threads 2 --quiet >/dev/null
"$paudm" night --buffer "$work/buffer" --archive "$work/archive" | tail -3
ccd=$(ls "$work"/archive/red/R1/*/paucam.*.ccd09.fits | tail -1) # the second: the moon is down

"$bench" combine "$runs"
"$bench" cosmics "$ccd" "$runs"
taskset -c 0 "$bench" detrend "$("$paudm" db url)" "$runs"
tests/bench/detection_bench.sh "$build" "$runs" "$ccd"
taskset -c 0 "$bench" astrometry "$("$paudm" db url)" "$work/astrometry" "$runs"
# Last: Debian's SCAMP 2.10 has been seen to crash while reading the catalogues.
/usr/bin/python3 tests/peers/scamp_astrometry.py "$work/astrometry" "$runs" ||
  echo "the SCAMP comparison failed (see above); the other figures stand" >&2
