#!/usr/bin/env bash
# A night of full-size science mosaics through the nightly pipeline on this machine, and
# what it projects for a survey night of 300: 3 bias, 3 flats of one tray and N science
# mosaics (default 20) are simulated, then 'paudm night' transfers, registers and reduces
# them with its default runner (2 threads). The nightly job's span is read from PAUdb:
# the masters once, then the single_epoch jobs (detrending and measuring, two at a time);
# the projection is the masters plus 300 / N times the single_epoch span. (One mosaic's
# single_epoch against the floor, and its memory: reduction_bench.sh.) Not part of the
# test suite.
#
#   tests/bench/night_bench.sh [BUILD_DIR] [N]   (default build/release, 20; ~0.33 GB a mosaic)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/bench_lib.sh
build=${1:-build/release}
n=${2:-20}
bench_start "$build" bench_reduction # its database and scratch folder (the benchmark binary is not used)
echo "simulating $n full-size science mosaics..."
"$paudm" simulate --out "$work/buffer" --night 2026-11-20 --geometry full --bias 3 --flats-per-tray 3 \
  --trays NB615 --science "$n" --field transit,2.2 --max-airmass 2 --threads 2 --quiet >/dev/null
t0=$(date +%s.%N)
"$paudm" night --buffer "$work/buffer" --archive "$work/archive" | tail -2
t1=$(date +%s.%N)
q() { psql "$("$paudm" db url)" -Atc "$1"; }
masters=$(q "SELECT extract(epoch FROM max(ts_ended) - min(ts_started)) FROM job WHERE name IN ('master_bias', 'master_flat')")
span=$(q "SELECT extract(epoch FROM max(ts_ended) - min(ts_started)) FROM job WHERE name = 'single_epoch'")
each=$(q "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ts_ended - ts_started)) FROM job WHERE name = 'single_epoch'")
done_=$(q "SELECT count(*) FILTER (WHERE status = 'DONE') || ' of ' || count(*) FROM job WHERE name = 'single_epoch'")
printf 'paudm night, %d mosaics: %.0f s in all (transfer and register included)\n' "$n" "$(echo "$t1 - $t0" | bc -l)"
printf 'masters %.1f s; single_epoch: %s done, %.1f s for all (two at a time), %.1f s each (median)\n' \
  "$masters" "$done_" "$span" "$each"
printf 'projection for 300 mosaics: %.1f min\n' "$(echo "($masters + 300 / $n * $span) / 60" | bc -l)"
