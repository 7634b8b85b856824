#!/usr/bin/env bash
# The SQL browser's full export against psql's \copy, on the same table, the same
# read-only role and the same server (an embedded database of its own): a table of ROWS
# rows shaped like a catalogue (bigint id, two doubles, a real, a boolean, a text name).
#   - psql:    psql READER -c "\copy (SELECT * FROM t) to FILE csv header"   (whole process)
#   - paudm:   paudm sql "SELECT * FROM t" --all --out FILE.csv               (whole process)
#   - console: the SQL panel's background export (bench_sql_export), with the longest gap
#              of the GUI event loop while it runs and the process's peak memory;
#              run at ROWS/10 too, to show that memory does not grow with the row count.
# Alternating order, RUNS rounds, medians. Not part of the test suite.
#
#   tests/bench/sql_export_bench.sh [BUILD_DIR] [ROWS] [RUNS]   (default build/release 10000000 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/bench_lib.sh
build=${1:-build/release}
rows=${2:-10000000}
runs=${3:-5}
bench_start "$build" bench_sql_export
admin=$("$paudm" db url)
reader=$("$paudm" db url --read-only)
echo "filling a table of $rows rows..."
psql -q "$admin" <<SQL
CREATE TABLE bench_export AS
  SELECT g::bigint AS id, 150 + (g % 36000) / 100.0::double precision AS ra,
         2 + (g % 9000) / 1000.0::double precision AS dec, (18 + (g % 700) / 100.0)::real AS mag,
         g % 7 = 0 AS flagged, 'obj_' || g AS name
  FROM generate_series(1, $rows) g;
GRANT SELECT ON bench_export TO paudm_reader;
VACUUM ANALYZE bench_export;
CREATE TABLE bench_export_small AS SELECT * FROM bench_export WHERE id <= $rows / 10;
GRANT SELECT ON bench_export_small TO paudm_reader;
VACUUM ANALYZE bench_export_small;
SQL
out="$work/out"
mkdir -p "$out"
psql_t=() cli_t=() gui_t=() gui_worst=() gui_p99=() gui_rss=() small_rss=()
for ((r = 0; r < runs; r++)); do
  run_psql() { psql_t+=("$(seconds psql -q "$reader" -c "\\copy (SELECT * FROM bench_export) to '$out/psql.csv' csv header")"); rm -f "$out/psql.csv"; }
  run_cli() { cli_t+=("$(seconds "$paudm" sql "SELECT * FROM bench_export" --all --out "$out/paudm.csv")"); rm -f "$out/paudm.csv"; }
  run_gui() {
    local line
    line=$("$bench" "$reader" "SELECT * FROM bench_export" "$out/gui.csv")
    gui_t+=("$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$line")")
    gui_worst+=("$(sed -E 's/.*worst_frame_ms=([0-9.]+).*/\1/' <<<"$line")")
    gui_p99+=("$(sed -E 's/.*p99_frame_ms=([0-9.]+).*/\1/' <<<"$line")")
    gui_rss+=("$(sed -E 's/.*peak_rss_mb=([0-9.]+).*/\1/' <<<"$line")")
    rm -f "$out/gui.csv"
  }
  case $((r % 3)) in
    0) run_psql; run_cli; run_gui ;;
    1) run_cli; run_gui; run_psql ;;
    2) run_gui; run_psql; run_cli ;;
  esac
  line=$("$bench" "$reader" "SELECT * FROM bench_export_small" "$out/small.csv")
  small_rss+=("$(sed -E 's/.*peak_rss_mb=([0-9.]+).*/\1/' <<<"$line")")
  rm -f "$out/small.csv"
done
bytes=$("$paudm" sql "SELECT * FROM bench_export" --all --out "$out/size.csv" 2>&1 | sed -E 's/.*\(([0-9.]+) MB.*/\1/')
p=$(median "${psql_t[@]}"); c=$(median "${cli_t[@]}"); g=$(median "${gui_t[@]}")
printf 'rows %s (%s MB of CSV), %s runs, medians\n' "$rows" "$bytes" "$runs"
printf 'psql \\copy:            %6.2f s  %6.2f M rows/s   (runs: %s)\n' "$p" "$(echo "$rows / $p / 1000000" | bc -l)" "${psql_t[*]}"
printf 'paudm sql --all:       %6.2f s  %6.2f M rows/s   %.2fx psql   (runs: %s)\n' "$c" "$(echo "$rows / $c / 1000000" | bc -l)" "$(echo "$p / $c" | bc -l)" "${cli_t[*]}"
printf 'console full export:   %6.2f s  %6.2f M rows/s   %.2fx psql   (runs: %s)\n' "$g" "$(echo "$rows / $g / 1000000" | bc -l)" "$(echo "$p / $g" | bc -l)" "${gui_t[*]}"
printf 'console event loop while exporting: longest gap %s ms (runs: %s), p99 %s ms\n' "$(median "${gui_worst[@]}")" "${gui_worst[*]}" "$(median "${gui_p99[@]}")"
printf 'console peak memory: %s MB at %s rows, %s MB at %s rows\n' "$(median "${gui_rss[@]}")" "$rows" "$(median "${small_rss[@]}")" "$((rows / 10))"
