#!/usr/bin/env bash
# The engine with no tuning and at a farm's scale, on one embedded PostgreSQL. Not part of
# the test suite.
#
#   tests/bench/farm_bench.sh [BUILD_DIR] [RUNS] [PILOTS]   (default build/release, 5, 200)
#   SECTIONS="1 4" tests/bench/farm_bench.sh ...             only those parts
#
#  1. 20,000 no-op jobs as the README runs them (`paudm jobs create fanout ... --submit`,
#     then `paudm runner --threads 4 --until-idle`, no other flag), timed as a whole
#     process, prolog included; graphile-worker batched on the same server, alternating.
#  2. Long jobs: 200 jobs of 0.5 s over 4 runners of 1 thread, no flags (ideal: 25 s).
#  3. Fan-in: 10,000 sub-jobs that all feed one sink, and the same number flat, no flags.
#  4. PILOTS single-thread pilot processes on one server: the server's CPU while they
#     wait, how soon after work appears they start it, jobs/s, how soon they end.
#
# Needs node and npm (graphile-worker from npm into tests/bench/graphile).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
runs=${2:-5}
pilots=${3:-200}
source tests/bench/bench_lib.sh
bench_db_start "$build" farm
home=$PAUDM_HOME
sql() { psql "$url" -qAt -c "SET client_min_messages = warning" "$@"; }
reset() { sql -c "TRUNCATE job, job_ready, job_lease CASCADE" -c "TRUNCATE runner CASCADE" -c "VACUUM ANALYZE job" -c "CHECKPOINT"; }
fanout() { "$paudm" jobs create fanout "$@" --submit >/dev/null; }

graphile_start
settle() { sql -c "VACUUM" -c "CHECKPOINT"; psql "$graphile" -qc "VACUUM"; }
want() { [[ " ${SECTIONS:-1 2 3 4} " == *" $1 "* ]]; }
rate() { echo "$1 / $2" | bc -l | xargs printf '%.0f'; }

if want 1; then
echo "== 1. 20,000 no-op jobs, no flags (process start to last job, prolog included), $runs alternating runs"
ours=(); gbat=()
for i in $(seq "$runs"); do
  reset; fanout --set n=20000 --set task=noop; settle
  ours+=("$(seconds "$paudm" runner --threads 4 --until-idle)")
  "${node[@]}" prepare 20000 "$graphile"; settle
  gbat+=("$(seconds "${node[@]}" batched 20000 "$graphile")")
  echo "run $i: ours ${ours[-1]} s, graphile-worker batched ${gbat[-1]} s"
done
mo=$(median "${ours[@]}"); mg=$(median "${gbat[@]}")
echo "median: ours $(rate 20001 "$mo") jobs/s, graphile-worker batched $(rate 20000 "$mg") jobs/s," \
     "ratio $(echo "$mg / $mo" | bc -l | xargs printf '%.2f')"

fi
if want 2; then
echo "== 2. 200 jobs of 0.5 s over 4 runners of 1 thread, no flags (ideal 25.0 s)"
reset; fanout --set n=200 --set task=noop --set subjob_config.sleep_s=0.5
t0=$(date +%s.%N)
for r in 1 2 3 4; do "$paudm" runner --threads 1 --until-idle >/dev/null 2>&1 & done
wait
t1=$(date +%s.%N)
total=$(echo "$t1 - $t0" | bc -l)
echo "total $(printf '%.2f' "$total") s ($(echo "100 * ($total / 25 - 1)" | bc -l | xargs printf '%+.1f') % over 25 s);" \
     "jobs per runner: $(sql -c "SELECT string_agg(n::text, ' ' ORDER BY n) FROM (SELECT count(*) n FROM job WHERE super_id IS NOT NULL GROUP BY runner_id) x")"
echo "   each runner's last sub-job ended (s after the first start): $(sql -c "SELECT string_agg(to_char(t, 'FM990.00'), ' ' ORDER BY t) FROM (SELECT extract(epoch FROM max(ts_ended) - (SELECT min(ts_started) FROM job)) t FROM job WHERE super_id IS NOT NULL GROUP BY runner_id) x")"

fi
if want 3; then
echo "== 3. fan-in of 10,000 vs flat 10,000, no flags, 2 threads, $runs alternating runs (completion after the prolog)"
flat=(); fanin=()
complete() {
  reset; fanout --set n=10000 --set task=noop --set "shape=$1"
  "$paudm" runner --threads 1 --max-jobs 1 >/dev/null 2>&1 # the prolog
  sql -c "VACUUM ANALYZE job" -c "CHECKPOINT"
  seconds "$paudm" runner --threads 2 --until-idle
}
for i in $(seq "$runs"); do
  flat+=("$(complete flat)"); fanin+=("$(complete fanin)")
  echo "run $i: flat ${flat[-1]} s, fan-in ${fanin[-1]} s"
done
mf=$(median "${flat[@]}"); mi=$(median "${fanin[@]}")
echo "median: flat $(rate 10001 "$mf") jobs/s, fan-in $(rate 10001 "$mi") jobs/s (fan-in/flat $(echo "$mf / $mi" | bc -l | xargs printf '%.2f'))"

fi
if want 4; then
echo "== 4. $pilots pilots of 1 thread on one server"
reset
# A job in progress keeps --until-idle pilots waiting: the gate, opened when all are up.
gate=$("$paudm" jobs create noop --set sleep_s=600 --submit)
"$paudm" runner --threads 1 --max-jobs 1 >/dev/null 2>&1 &
until [ "$(sql -c "SELECT status FROM job WHERE id = $gate")" = RUNNING ]; do sleep 0.1; done
mkdir -p "$home/pilots"
t0=$(date +%s.%N)
for i in $(seq "$pilots"); do
  ( "$paudm" runner --threads 1 --until-idle >"$home/pilots/$i.log" 2>&1; echo "$? $(date +%s.%N)" >"$home/pilots/$i.exit" ) &
done
until [ "$(sql -c "SELECT count(*) FROM runner WHERE stopped IS NULL")" -ge $((pilots + 1)) ]; do sleep 0.2; done
t1=$(date +%s.%N)
echo "all $pilots registered after $(echo "$t1 - $t0" | bc -l | xargs printf '%.1f') s;" \
     "connections of runners: $(sql -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'paudm runner'")"
sleep 3 # settled
ticks() { cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 ~ /^\(postgres/ {s += $14 + $15} END {print s + 0}'; }
hz=$(getconf CLK_TCK)
c0=$(ticks); sleep 10; c1=$(ticks)
echo "server CPU while $pilots pilots wait: $(echo "100 * ($c1 - $c0) / $hz / 10" | bc -l | xargs printf '%.2f') % of one core" \
     "(all PostgreSQL processes, 10 s)"
n=$((pilots * 5))
fan=$("$paudm" jobs create fanout --set n=$n --set task=noop --set subjob_config.sleep_s=1 --submit)
"$paudm" jobs abort "$gate" >/dev/null
wait
ok=$(cat "$home"/pilots/*.exit | awk '$1 == 0' | wc -l)
refused=$( (grep -l -e "too many clients" -e "cannot connect" "$home"/pilots/*.log 2>/dev/null || true) | wc -l)
last_exit=$(cat "$home"/pilots/*.exit | awk '{print $2}' | sort -g | tail -1)
sql -c "SELECT 'jobs done: ' || count(*) FILTER (WHERE status = 'DONE') || ' of ' || count(*) ||
               ', pilots that got work: ' || count(DISTINCT runner_id) FROM job WHERE super_id = $fan"
sql -c "WITH p AS (SELECT ts_ended AS ready FROM job_attempt WHERE job_id = $fan AND phase = 'prolog'),
             s AS (SELECT ts_started, ts_ended FROM job WHERE super_id = $fan)
        SELECT 'jobs/s (sub-jobs of 1 s, first start to last end): ' ||
               round(count(*) / extract(epoch FROM max(ts_ended) - min(ts_started)))::text FROM s"
sql -c "WITH p AS (SELECT max(ts_ended) AS ready FROM job_attempt WHERE job_id = $fan AND outcome = 'STANDBY'),
             first AS (SELECT extract(epoch FROM j.ts_started - p.ready) * 1000 AS ms FROM job j, p
                       WHERE j.super_id = $fan ORDER BY j.ts_started LIMIT $pilots)
        SELECT 'wake-up and claim latency of the first $pilots claims after the jobs appeared: p50 ' ||
               round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::text || ' ms, p99 ' ||
               round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::text || ' ms' FROM first"
end_ms=$(sql -c "SELECT extract(epoch FROM max(ts_ended)) FROM job")
echo "pilots exited 0: $ok of $pilots; refused a connection: $refused;" \
     "last pilot gone $(echo "($last_exit - $end_ms) * 1000" | bc -l | xargs printf '%.0f') ms after the last job ended"
fi
