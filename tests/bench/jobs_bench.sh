#!/usr/bin/env bash
# The job engine against graphile-worker, side by side on one embedded PostgreSQL, runs
# alternating, medians reported. Not part of the test suite.
#
#   tests/bench/jobs_bench.sh [BUILD_DIR] [RUNS]      (default build/release, 5)
#
# Needs node and npm (graphile-worker is installed from npm into tests/bench/graphile).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
runs=${2:-5}
n=20000
source tests/bench/bench_lib.sh
bench_db_start "$build" jobs
home=$PAUDM_HOME
graphile_start
queue_ours() {
  psql "$url" -q -c "SET client_min_messages = warning" -c "TRUNCATE job, job_ready, job_lease CASCADE" -c "TRUNCATE runner CASCADE" \
    -c "INSERT INTO job (name, status, ts_queued) SELECT 'noop', 'QUEUED', now() FROM generate_series(1, $1)" \
    -c "SELECT job_enqueue(array_agg(id)) FROM job" \
    -c "VACUUM ANALYZE job"
}

# Before every timed run, of ours and of graphile-worker alike: vacuum both databases and
# checkpoint, so that no run pays for the autovacuum or checkpoint of the one before.
settle() { psql "$url" -qc "VACUUM" -c "CHECKPOINT"; psql "$graphile" -qc "VACUUM"; }

echo "== $n no-op jobs: process start to last job done, $runs alternating runs"
ours2=(); ours4=(); gdef=(); gbat=()
for i in $(seq "$runs"); do
  queue_ours $n; settle;                          ours2+=("$(seconds "$paudm" runner --threads 2 --batch "${BATCH:-64}" --until-idle)")
  "${node[@]}" prepare $n "$graphile"; settle;    gbat+=("$(seconds "${node[@]}" batched $n "$graphile")")
  queue_ours $n; settle;                          ours4+=("$(seconds "$paudm" runner --threads 4 --batch "${BATCH:-64}" --until-idle)")
  "${node[@]}" prepare 2000 "$graphile"; settle;  gdef+=("$(seconds "${node[@]}" default 2000 "$graphile")")
  echo "run $i: ours(2 threads) ${ours2[-1]} s, ours(4 threads) ${ours4[-1]} s, graphile batched ${gbat[-1]} s, graphile default (2,000 jobs) ${gdef[-1]} s"
done
m2=$(median "${ours2[@]}"); m4=$(median "${ours4[@]}"); mb=$(median "${gbat[@]}"); md=$(median "${gdef[@]}")
rate() { echo "$1 / $2" | bc -l | xargs printf '%.0f'; }
echo "median jobs/s: ours 2 threads $(rate $n "$m2"), ours 4 threads $(rate $n "$m4"), graphile batched $(rate $n "$mb"), graphile default $(rate 2000 "$md")"
echo "ratio ours(2 threads) / graphile batched: $(echo "$mb / $m2" | bc -l | xargs printf '%.2f')"
echo "ratio ours(4 threads) / graphile batched: $(echo "$mb / $m4" | bc -l | xargs printf '%.2f')"
echo "ratio ours(2 threads) / graphile default: $(echo "($n / $m2) / (2000 / $md)" | bc -l | xargs printf '%.1f')"

echo "== fan-out/fan-in DAG of 10,000 sub-jobs"
psql "$url" -q -c "SET client_min_messages = warning" -c "TRUNCATE job, job_ready, job_lease CASCADE"
id=$("$paudm" jobs create fanout --set n=10000 --set shape=fanin --submit)
t0=$(date +%s.%N)
"$paudm" runner --threads 1 --max-jobs 1 >/dev/null 2>&1 # the prolog: creates the 10,000 sub-jobs (COPY)
t1=$(date +%s.%N)
"$paudm" runner --threads 2 --batch 64 --until-idle >/dev/null 2>&1
t2=$(date +%s.%N)
echo "creation (prolog claim + COPY of 10,000 jobs and 9,999 dependencies): $(echo "$t1 - $t0" | bc -l | xargs printf '%.2f') s"
echo "completion: $(echo "10001 / ($t2 - $t1)" | bc -l | xargs printf '%.0f') jobs/s; status $("$paudm" jobs list --top --json | grep -m1 '"status"' | tr -d ' ,')"

echo "== a runner killed with -9 mid-job: time until the job runs again"
psql "$url" -q -c "SET client_min_messages = warning" -c "TRUNCATE job, job_ready, job_lease CASCADE"
id=$("$paudm" jobs create noop --set sleep_s=30 --submit)
psql "$url" -qc "UPDATE job SET retry_delay_s = 0 WHERE id = $id"
"$paudm" runner --lease 10 >/dev/null 2>&1 &
victim=$!
until [ "$(psql "$url" -Atc "SELECT status FROM job WHERE id = $id")" = RUNNING ]; do sleep 0.1; done
"$paudm" runner --lease 10 >/dev/null 2>&1 &
rescuer=$!
sleep 1
kill -9 $victim
t0=$(date +%s.%N)
until [ "$(psql "$url" -Atc "SELECT attempts FROM job WHERE id = $id AND status = 'RUNNING'")" = 2 ]; do sleep 0.1; done
t1=$(date +%s.%N)
kill $rescuer
echo "ours (lease 10 s): rerun after $(echo "$t1 - $t0" | bc -l | xargs printf '%.1f') s"
"${node[@]}" kill "$graphile" &
gpid=$!
until "${node[@]}" count "$graphile" | grep -q '"locked":"1"'; do sleep 0.2; done
kill -9 $gpid 2>/dev/null || pkill -9 -f "bench.mjs kill" || true
"${node[@]}" batched 1 "$graphile" >/dev/null 2>&1 & # a fresh worker, waiting for the job
g2=$!
sleep 30
echo "graphile-worker: after 30 s the job is still $("${node[@]}" count "$graphile") (its lock expires after 4 hours)"
kill $g2 2>/dev/null || true
