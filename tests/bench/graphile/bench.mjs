// The peer side of tests/bench/jobs_bench.sh: graphile-worker on the same PostgreSQL.
//   node bench.mjs prepare N CONNSTRING      install its schema, queue N no-op jobs (not timed)
//   node bench.mjs default N CONNSTRING      run them with graphile-worker's defaults, exit when done
//   node bench.mjs batched N CONNSTRING      the same with its batched configuration
//   node bench.mjs kill CONNSTRING           start a worker on a 60 s job (the script kill -9s it)
//   node bench.mjs count CONNSTRING          jobs left in its queue
import { run, makeWorkerUtils } from "graphile-worker";

const [mode, a, b] = process.argv.slice(2);
const logger = new (await import("graphile-worker")).Logger(() => (level, message) => {
  if (level === "error") console.error(message);
});

if (mode === "prepare") {
  const n = Number(a);
  const utils = await makeWorkerUtils({ connectionString: b, logger });
  await utils.migrate();
  await utils.withPgClient((c) => c.query("DELETE FROM graphile_worker._private_jobs"));
  for (let done = 0; done < n; done += 5000) {
    const size = Math.min(5000, n - done);
    await utils.addJobs(Array.from({ length: size }, () => ({ identifier: "noop", payload: {} })));
  }
  await utils.release();
} else if (mode === "default" || mode === "batched") {
  const n = Number(a);
  let left = n;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const options =
    mode === "default"
      ? { concurrency: 1 }
      : {
          // The configuration graphile-worker's documentation gives for throughput.
          concurrency: 24,
          maxPoolSize: 11,
          localQueue: { size: 500 },
          completeJobBatchDelay: 0,
          failJobBatchDelay: 0,
        };
  const runner = await run({
    logger,
    noHandleSignals: true,
    taskList: {
      noop: async () => {
        if (--left === 0) finish();
      },
    },
    preset: { worker: { connectionString: b, ...options } },
  });
  await finished;
  await runner.stop();
} else if (mode === "kill") {
  const utils = await makeWorkerUtils({ connectionString: a, logger });
  await utils.migrate();
  await utils.withPgClient((c) => c.query("DELETE FROM graphile_worker._private_jobs"));
  await utils.addJob("slow", {});
  await utils.release();
  await run({
    connectionString: a,
    logger,
    noHandleSignals: true,
    concurrency: 1,
    taskList: { slow: () => new Promise((r) => setTimeout(r, 60000)) },
  });
  console.log("running");
} else if (mode === "count") {
  const utils = await makeWorkerUtils({ connectionString: a, logger });
  const r = await utils.withPgClient((c) =>
    c.query("SELECT count(*) AS n, count(locked_at) AS locked, max(attempts) AS attempts FROM graphile_worker._private_jobs"),
  );
  console.log(JSON.stringify(r.rows[0]));
  await utils.release();
} else {
  console.error("usage: node bench.mjs prepare|default|batched|kill|count ...");
  process.exit(2);
}
