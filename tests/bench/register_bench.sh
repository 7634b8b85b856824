#!/usr/bin/env bash
# Registering a night of full-size mosaics: the register's header reader against a bare
# cfitsio header loop over the same files (bench_register), then the whole register of the
# night through the job engine (one register job, one sub-job per mosaic, runners here, the
# embedded PostgreSQL). Not part of the test suite.
#
#   tests/bench/register_bench.sh [BUILD_DIR] [RUNS] [MOSAICS]   (default build/release, 5, 300)
#
# Eight full-size mosaics (2 bias, 2 flats, 4 science; 321 MB each) are simulated into
# $BENCH_DIR (default /var/tmp); the night's MOSAICS files are hard links to them under
# distinct names, listed in the obs set's YAML (300 distinct full-size files would need
# 96 GB). Registering reads headers only, so what is measured is the same per file.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/bench_lib.sh
build=${1:-build/release}
runs=${2:-5}
mosaics=${3:-300}
bench_start "$build" bench_register
"$paudm" simulate --out "$work/sim" --night 2026-11-20 --geometry full --bias 2 --flats-per-tray 2 \
  --trays NB455 --science 4 --threads 2 --no-db >/dev/null 2>&1
sim=$(ls -d "$work"/sim/*_001)
set_name=20261120_001
raw="$work/archive/raw/$set_name"
mkdir -p "$raw"
mapfile -t sources < <(ls "$sim"/*.fits)
{
  echo "obs_set: $set_name"; echo "instrument: PAUCam"; echo "night: 2026-11-20"; echo "files:"
  for ((i = 0; i < mosaics; i++)); do
    src=${sources[$((i % ${#sources[@]}))]}
    name=$(printf 'paucam.%08d.fits' $((43000000 + i)))
    ln "$src" "$raw/$name"
    # The source's entry in the simulated YAML, under the new name.
    entry=$(grep -F "$(basename "$src")" "$sim"/*.yaml | sed "s/$(basename "$src")/$name/")
    echo "$entry"
  done
} >"$raw/$set_name.yaml"
echo "night: $mosaics full-size mosaics (hard links to ${#sources[@]} files)"

"$bench" "$runs" "$raw"/*.fits

url=$("$paudm" db url)
reg=()
for ((i = 0; i < runs; i++)); do
  psql "$url" -qc "DELETE FROM obs_set WHERE obs_set = '$set_name'" >/dev/null
  "$paudm" jobs create register --set obs_set=$set_name --set archive="$work/archive" --submit >/dev/null
  reg+=("$(seconds "$paudm" runner --threads "${THREADS:-2}" --tasks 'register*' --until-idle)")
  rows=$(psql "$url" -tAc "SELECT count(*) FROM mosaic m JOIN obs_set s ON s.id = m.obs_set_id
                            WHERE s.obs_set = '$set_name' AND s.registered IS NOT NULL")
  [ "$rows" = "$mosaics" ] || { echo "run $((i + 1)): $rows mosaics registered, not $mosaics" >&2; exit 1; }
  echo "run $((i + 1)): registered $mosaics mosaics in ${reg[-1]} s"
done
m=$(median "${reg[@]}")
echo "median: $mosaics mosaics registered through the engine in $m s ($(echo "scale=0; $mosaics / $m" | bc -l) mosaics/s)"
