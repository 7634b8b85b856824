#pragma once
// Shared helpers of the job-engine tests: a fresh migrated database per test, runners in
// threads of the test process, and small queries on the job tables.
#include "testserver.h"

#include "db/connection.h"
#include "db/migrations.h"
#include "jobs/runner.h"
#include "jobs/store.h"

#include <QtTest>

#include <thread>

namespace paudm::test {

inline std::string freshJobDatabase(const std::string& name) {
    const std::string conninfo = TestServer::instance().freshDatabase(name);
    db::Connection c = db::Connection::open(conninfo);
    db::migrate(c);
    return conninfo;
}

/// A fan-out of `n` no-op sub-jobs with `subjobConfig` (sleep_s, mark, ...).
inline jobs::NewJob noopFanout(int n, const QJsonObject& subjobConfig = {}) {
    jobs::NewJob fan;
    fan.name = "fanout";
    fan.config = {{"n", n}, {"task", "noop"}, {"subjob_config", subjobConfig}};
    return fan;
}

inline jobs::RunnerOptions runnerOptions(const std::string& conninfo, int threads = 2) {
    jobs::RunnerOptions o;
    o.conninfo = conninfo;
    o.threads = threads;
    o.untilIdle = true;
    o.leaseS = 10;
    o.taskExecutable = PAUDM_EXE;
    o.verbose = qEnvironmentVariableIsSet("PAUDM_TEST_VERBOSE");
    return o;
}

/// Runs a runner until idle (or the timeout) in this thread; returns its counters.
inline jobs::RunnerStats runUntilIdle(const std::string& conninfo, int threads = 2, double timeoutS = 120) {
    jobs::Runner runner(runnerOptions(conninfo, threads));
    std::atomic<bool> finished{false};
    std::thread watchdog([&] {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeoutS);
        while (!finished && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        runner.requestStop();
    });
    auto stats = runner.run();
    finished = true;
    watchdog.join();
    if (!stats) throw stats.error();
    return *stats;
}

inline std::string statusOf(db::Connection& c, std::int64_t id) {
    return std::string(c.query("SELECT status FROM job WHERE id = $1", id).text(0, 0));
}

inline std::string tagOf(db::Connection& c, std::int64_t id, const std::string& name) {
    const auto r = c.query("SELECT value FROM tag WHERE job_id = $1 AND name = $2", id, name);
    return r.size() ? std::string(r.text(0, 0)) : std::string();
}

/// The outcome of a job's only (or first) finished attempt.
inline std::string outcomeOf(db::Connection& c, std::int64_t id) {
    const auto r = c.query("SELECT outcome FROM job_attempt WHERE job_id = $1 ORDER BY id LIMIT 1", id);
    return r.size() ? std::string(r.text(0, 0)) : std::string();
}

inline std::int64_t scalar(db::Connection& c, const std::string& sql) { return c.exec(sql).toInt(0, 0); }

} // namespace paudm::test
