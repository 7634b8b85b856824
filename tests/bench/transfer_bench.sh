#!/usr/bin/env bash
# The transfer against cp + sync and rsync --checksum, on the same obs set of full-size
# simulated mosaics, runs alternating, medians reported. Not part of the test suite.
#
#   tests/bench/transfer_bench.sh [BUILD_DIR] [RUNS] [SCIENCE]   (default build/release, 5, 4)
#
# The obs set (1 bias, 1 flat, SCIENCE science exposures, 321 MB each) is simulated once
# into $BENCH_DIR (default /var/tmp). Before each run the destination is removed and, when
# run as root, the page cache is emptied, so that every tool reads the buffer from disk.
# Every tool must leave the data on disk: cp and rsync are followed by sync; paudm
# fsyncs each file itself and also verifies it against the YAML.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/bench_lib.sh
build=${1:-build/release}
runs=${2:-5}
science=${3:-4}
paudm=$(realpath "$build/app/paudm")
[ -x "$paudm" ] || { echo "no $paudm: cmake --preset release && cmake --build --preset release" >&2; exit 1; }
command -v rsync >/dev/null || { echo "rsync is not installed (packaging/install-deps.sh)" >&2; exit 1; }

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/paudm-transfer-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$paudm" simulate --out "$work/buffer" --night 2026-11-20 --geometry full --bias 1 --flats-per-tray 1 \
  --trays NB455 --science "$science" --threads 2 --no-db >/dev/null 2>&1
set_dir=$(ls -d "$work"/buffer/*_001)
bytes=$(du -sb "$set_dir" | cut -f1)
echo "obs set: $(ls "$set_dir" | wc -l) files, $((bytes / 1000000)) MB"

ours_once() { "$paudm" transfer --from "$work/buffer" --archive "$work/dst" --no-db --streams "${STREAMS:-4}"; }
cp_once() { mkdir -p "$work/dst" && cp -r "$set_dir" "$work/dst/" && sync; }
rsync_once() { mkdir -p "$work/dst" && rsync -a --checksum "$set_dir" "$work/dst/" && sync; }

ours=(); cps=(); rs=()
for ((i = 0; i < runs; i++)); do
  # Rotate the order so that none always runs first after the cache drop.
  for tool in $(printf 'ours\ncp\nrsync\n' | awk -v s=$i '{a[NR]=$0} END {for (k=0;k<NR;k++) print a[(k+s)%NR+1]}'); do
    rm -rf "$work/dst"; drop_caches
    case $tool in
      ours) ours+=("$(seconds ours_once)") ;;
      cp) cps+=("$(seconds cp_once)") ;;
      rsync) rs+=("$(seconds rsync_once)") ;;
    esac
  done
  echo "run $((i + 1)): ours ${ours[-1]} s, cp+sync ${cps[-1]} s, rsync --checksum ${rs[-1]} s"
done
mo=$(median "${ours[@]}"); mc=$(median "${cps[@]}"); mr=$(median "${rs[@]}")
mbs() { echo "scale=0; $bytes / 1000000 / $1" | bc -l; }
echo "median: ours $mo s ($(mbs "$mo") MB/s), cp+sync $mc s ($(mbs "$mc") MB/s), rsync --checksum $mr s ($(mbs "$mr") MB/s)"
echo "throughput ratio: ours/cp+sync $(echo "scale=2; $mc / $mo" | bc -l), ours/rsync $(echo "scale=2; $mr / $mo" | bc -l)"
