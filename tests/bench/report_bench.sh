#!/usr/bin/env bash
# The nightly report at a year's scale (bench_report): 300 nights x 300 mosaics x 18 CCDs
# seeded into an embedded database of its own, then opening a night's report and judging
# the whole year by a new cut-set version. Not part of the test suite.
#
#   tests/bench/report_bench.sh [BUILD_DIR] [NIGHTS] [PER_NIGHT] [CCDS]   (default build/release 300 300 18)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/bench_lib.sh
build=${1:-build/release}
bench_start "$build" bench_report
"$bench" "$("$paudm" db url)" "${2:-300}" "${3:-300}" "${4:-18}"
