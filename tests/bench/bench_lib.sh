# Shell helpers shared by the benchmark scripts (sourced, not run).

# Seconds a command takes (its output discarded); fails when the command fails.
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || { echo "benchmark step failed: $*" >&2; return 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
# Median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# Empties the page cache when allowed (root), so that reads come from the disk.
drop_caches() { sync; if [ -w /proc/sys/vm/drop_caches ]; then echo 3 >/proc/sys/vm/drop_caches; fi; }

# The start of a benchmark script: BUILD's paudm and the benchmark binary NAME, a scratch
# folder under $BENCH_DIR (default /var/tmp) with its own embedded database, both removed
# when the script ends. Sets paudm, bench, work and PAUDM_HOME.
bench_start() {
  local build=$1 name=$2
  bench=$(realpath "$build/tests/bench/$name")
  [ -x "$bench" ] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 1; }
  bench_db_start "$build" "$name"
}

# The same without a benchmark binary: BUILD's paudm, a scratch folder, its embedded
# database (url set), children and all removed when the script ends.
bench_db_start() {
  local build=$1 name=$2
  paudm=$(realpath "$build/app/paudm")
  [ -x "$paudm" ] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 1; }
  work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/paudm-$name-XXXXXX")
  chmod 755 "$work"
  export PAUDM_HOME="$work/home"
  unset PAUDM_DB
  trap 'pkill -P $$ 2>/dev/null || true; "$paudm" db stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
  "$paudm" db start >/dev/null
  url=$("$paudm" db url)
}

# graphile-worker (from npm into tests/bench/graphile) on a database "graphile" of the same
# server: sets graphile (its connection string) and node (the command).
graphile_start() {
  psql "$url" -qc "CREATE DATABASE graphile"
  graphile="postgresql:///graphile?host=$PAUDM_HOME/run&user=$(id -un)"
  (cd tests/bench/graphile && npm install --no-audit --no-fund --silent >/dev/null)
  node=(node tests/bench/graphile/bench.mjs)
}
