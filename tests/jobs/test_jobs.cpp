// The job engine's semantics, with real runners on a real PostgreSQL: DAG shapes, sub-job
// failure, QC aggregation, retries, aborts, crashes, time and memory limits, fencing.
#include "jobtest.h"

#include <QElapsedTimer>

using paudm::Error;
using paudm::db::Connection;
using paudm::jobs::JobFilter;
using paudm::jobs::JobStore;
using paudm::jobs::NewJob;
using namespace paudm::test;

namespace {

NewJob job(const std::string& name, QJsonObject config = {}, std::optional<int> maxAttempts = std::nullopt) {
    NewJob j;
    j.name = name;
    j.config = std::move(config);
    j.maxAttempts = maxAttempts;
    return j;
}

/// (started, ended) of a job in milliseconds since the epoch.
std::pair<std::int64_t, std::int64_t> span(Connection& c, std::int64_t id) {
    const auto r = c.query("SELECT (extract(epoch FROM ts_started) * 1000000)::bigint, "
                           "(extract(epoch FROM ts_ended) * 1000000)::bigint FROM job WHERE id = $1",
                           id);
    return {r.toInt(0, 0), r.toInt(0, 1)};
}

std::vector<std::int64_t> subjobs(Connection& c, std::int64_t superId) {
    const auto r = c.query("SELECT id FROM job WHERE super_id = $1 ORDER BY id", superId);
    std::vector<std::int64_t> out;
    for (int i = 0; i < r.size(); ++i)
        out.push_back(r.toInt(i, 0));
    return out;
}

} // namespace

class TestJobs : public QObject {
    Q_OBJECT

private slots:
    void flatFanoutRunsEverySubjobOnce() {
        const auto db = freshJobDatabase("t_jobs_flat");
        Connection c = Connection::open(db);
        const auto id = JobStore(c).create(job("fanout", {{"n", 20}}), true);
        const auto stats = runUntilIdle(db, 3);
        QCOMPARE(stats.done, 22); // prolog claim, 20 sub-jobs, epilog claim
        QCOMPARE(stats.failed, 0);
        QCOMPARE(statusOf(c, id), std::string("DONE"));
        QCOMPARE(scalar(c, "SELECT count(*) FROM job WHERE status = 'DONE'"), 21);
        // Each sub-job ran exactly once; the parent twice (prolog, then epilog).
        QCOMPARE(
            scalar(c, "SELECT count(*) FROM job_attempt a JOIN job j ON j.id = a.job_id WHERE j.super_id IS NOT NULL"),
            20);
        QCOMPARE(scalar(c, "SELECT count(*) FROM job_attempt WHERE job_id = " + std::to_string(id)), 2);
        QCOMPARE(scalar(c, "SELECT count(*) FROM job_attempt WHERE outcome IS DISTINCT FROM 'DONE' "
                           "AND outcome IS DISTINCT FROM 'STANDBY'"),
                 0);
    }

    void chainRunsInOrder() {
        const auto db = freshJobDatabase("t_jobs_chain");
        Connection c = Connection::open(db);
        const auto id = JobStore(c).create(job("fanout", {{"n", 8}, {"shape", "chain"}}), true);
        runUntilIdle(db, 4); // four threads, yet one at a time
        QCOMPARE(statusOf(c, id), std::string("DONE"));
        const auto ids = subjobs(c, id);
        QCOMPARE(ids.size(), size_t(8));
        for (size_t i = 0; i + 1 < ids.size(); ++i)
            QVERIFY2(span(c, ids[i + 1]).first >= span(c, ids[i]).second, // starts after its parent ended
                     qPrintable(QString("job %1 started at %2 us, its parent %3 ended at %4 us")
                                    .arg(ids[i + 1])
                                    .arg(span(c, ids[i + 1]).first)
                                    .arg(ids[i])
                                    .arg(span(c, ids[i]).second)));
    }

    void diamondAndFanin_data() {
        QTest::addColumn<QString>("shape");
        QTest::newRow("diamond") << "diamond";
        QTest::newRow("fanin") << "fanin";
    }
    void diamondAndFanin() {
        QFETCH(QString, shape);
        const auto db = freshJobDatabase("t_jobs_" + shape.toStdString());
        Connection c = Connection::open(db);
        const auto id = JobStore(c).create(
            job("fanout", {{"n", 7}, {"shape", shape}, {"subjob_config", QJsonObject{{"sleep_s", 0.05}}}}), true);
        runUntilIdle(db, 3);
        QCOMPARE(statusOf(c, id), std::string("DONE"));
        const auto ids = subjobs(c, id);
        const auto last = span(c, ids.back());
        const size_t firstMiddle = shape == "diamond" ? 1 : 0;
        for (size_t i = firstMiddle; i + 1 < ids.size(); ++i) {
            QVERIFY(last.first >= span(c, ids[i]).second); // the sink waits for every middle job
            if (shape == "diamond") QVERIFY(span(c, ids[i]).first >= span(c, ids[0]).second); // after the source
        }
        const std::int64_t edges = shape == "diamond" ? 2 * (7 - 2) : 7 - 1;
        QCOMPARE(scalar(c, "SELECT count(*) FROM dependency WHERE super_id = " + std::to_string(id)), edges);
        // Independent jobs run side by side: with three threads, some middle jobs overlap in time.
        QVERIFY(scalar(c, "SELECT count(*) FROM job a, job b WHERE a.super_id = " + std::to_string(id) +
                              " AND b.super_id = a.super_id AND a.id < b.id AND a.ts_started < b.ts_ended "
                              "AND b.ts_started < a.ts_ended") > 0);
    }

    void epilogCreatesTheNextStage() {
        const auto db = freshJobDatabase("t_jobs_children");
        Connection c = Connection::open(db);
        const auto id = JobStore(c).create(
            job("fanout", {{"n", 3}, {"then", "fanout"}, {"then_config", QJsonObject{{"n", 2}}}}), true);
        runUntilIdle(db, 2);
        const auto child = c.query("SELECT child_id FROM dependency WHERE parent_id = $1", id);
        QCOMPARE(child.size(), 1);
        const auto childId = child.toInt(0, 0);
        QCOMPARE(std::string(c.query("SELECT name FROM job WHERE id = $1", childId).text(0, 0)), std::string("fanout"));
        QCOMPARE(statusOf(c, childId), std::string("DONE"));
        QVERIFY(span(c, childId).first >= span(c, id).second);
        QCOMPARE(subjobs(c, childId).size(), size_t(2)); // the next stage fanned out in turn
        // The child's configuration has no 'then': the stages stop there.
        QCOMPARE(scalar(c, "SELECT count(*) FROM job WHERE super_id IS NULL"), 2);
    }

    void failedSubjobFailsParentAfterTheOthers() {
        const auto db = freshJobDatabase("t_jobs_subfail");
        Connection c = Connection::open(db);
        const auto id = JobStore(c).create(job("fanout", {{"n", 5},
                                                          {"fail_index", 0},
                                                          {"subjob_max_attempts", 1},
                                                          {"subjob_config", QJsonObject{{"sleep_s", 0.3}}}}),
                                           true);
        runUntilIdle(db, 3);
        QCOMPARE(statusOf(c, id), std::string("FAILED"));
        const auto ids = subjobs(c, id);
        QCOMPARE(statusOf(c, ids[0]), std::string("FAILED"));
        for (size_t i = 1; i < ids.size(); ++i) {
            QCOMPARE(statusOf(c, ids[i]), std::string("DONE")); // not cancelled: on_subjob_failure is 'wait'
            QVERIFY(span(c, id).second >= span(c, ids[i]).second);
        }
        QCOMPARE(tagOf(c, id, "traceback"), std::string("1 of 5 sub-jobs did not finish"));
        QVERIFY(tagOf(c, ids[0], "traceback").find("failed on purpose") != std::string::npos);
        // Its epilog never ran.
        QCOMPARE(scalar(c, "SELECT count(*) FROM job_attempt WHERE phase = 'epilog'"), 0);
    }

    void failedSubjobCancelsSiblingsWhenAsked() {
        const auto db = freshJobDatabase("t_jobs_subcancel");
        Connection c = Connection::open(db);
        const auto id = JobStore(c).create(job("fanout", {{"n", 6},
                                                          {"fail_index", 0},
                                                          {"subjob_max_attempts", 1},
                                                          {"on_subjob_failure", "cancel"},
                                                          {"subjob_config", QJsonObject{{"sleep_s", 20}}}}),
                                           true);
        QElapsedTimer t;
        t.start();
        runUntilIdle(db, 3);
        QVERIFY2(t.elapsed() < 10000, qPrintable(QString::number(t.elapsed()))); // nobody slept its 20 s
        QCOMPARE(statusOf(c, id), std::string("FAILED"));
        QCOMPARE(
            scalar(c, "SELECT count(*) FROM job WHERE super_id = " + std::to_string(id) + " AND status = 'CANCELLED'"),
            5);
        QCOMPARE(tagOf(c, id, "traceback"), std::string("6 of 6 sub-jobs did not finish"));
    }

    void parentQcAggregatesSubjobs() {
        const auto db = freshJobDatabase("t_jobs_qc");
        Connection c = Connection::open(db);
        // Sub-job i records 1.0 + 0.5 i; the range is [1, 4]: i = 7, 8, 9 (4.5, 5, 5.5) fail.
        const auto id = JobStore(c).create(
            job("fanout", {{"n", 10},
                           {"subjob_config",
                            QJsonObject{{"qc_value", 1.0}, {"qc_step", 0.5}, {"qc_min", 1.0}, {"qc_max", 4.0}}}}),
            true);
        runUntilIdle(db, 2);
        QCOMPARE(statusOf(c, id), std::string("DONE"));
        const auto q =
            c.query("SELECT value, min_value, max_value, qc_pass, ref FROM quality_control WHERE job_id = $1", id);
        QCOMPARE(q.size(), 1);
        QCOMPARE(q.toDouble(0, 0), 1.0 + 0.5 * 4.5); // the mean of 1.0 + 0.5 i over i = 0..9
        QCOMPARE(q.toDouble(0, 1), 1.0);
        QCOMPARE(q.toDouble(0, 2), 4.0);
        QVERIFY(!q.toBool(0, 3));
        QCOMPARE(std::string(q.text(0, 4)), std::string("aggregate of 10 sub-job checks, 3 failed"));
        QCOMPARE(
            scalar(c, "SELECT count(*) FROM quality_control WHERE NOT qc_pass AND job_id <> " + std::to_string(id)), 3);

        // The flags the Operations panel shows: the parent's single (aggregate) check
        // failed, so red; each sub-job has one check: i = 7, 8, 9 red, the other seven green.
        JobStore store(c);
        const auto parent = store.show(id);
        QCOMPARE(parent->row.qcFlag, std::string("red"));
        QCOMPARE(parent->row.qcChecks, 1);
        QCOMPARE(parent->row.qcFailed, 1);
        JobFilter red;
        red.superId = id;
        red.qc = "red";
        QCOMPARE(store.count(red), 3);
        JobFilter green = red;
        green.qc = "green";
        QCOMPARE(store.count(green), 7);
        const auto listed = store.list(green);
        QCOMPARE(listed.size(), size_t(7));
        for (const auto& r : listed)
            QCOMPARE(r.qcFlag, std::string("green"));
        // The plot of the sub-jobs' values: one per sub-job, 1.0 + 0.5 i, three failing.
        const auto values = store.subjobQc(id);
        QCOMPARE(values.size(), size_t(10));
        QCOMPARE(values[9].value, 1.0 + 0.5 * 9);
        QCOMPARE(std::count_if(values.begin(), values.end(), [](const auto& v) { return !v.pass; }), 3L);
        // Yellow is a partial failure: one failed check of two.
        c.exec("INSERT INTO quality_control (job_id, check_name, value, qc_pass) VALUES (" + std::to_string(id) +
               ", 'extra', 1, true)");
        QCOMPARE(store.show(id)->row.qcFlag, std::string("yellow"));
        // The flag is kept on the job row by triggers: a check corrected later counts too.
        c.exec("UPDATE quality_control SET qc_pass = true WHERE job_id = " + std::to_string(id));
        QCOMPARE(store.show(id)->row.qcFlag, std::string("green"));
        QCOMPARE(
            scalar(c, "SELECT count(*) FROM job j WHERE j.qc_flag IS DISTINCT FROM (SELECT flag FROM job_qc(j.id))"),
            0);
    }

    void retriesWithBackoff() {
        const auto db = freshJobDatabase("t_jobs_retry");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto id = store.create(job("fail", {{"fail_attempts", 2}}, 3), false);
        c.query("UPDATE job SET retry_delay_s = 0.2 WHERE id = $1", id);
        QVERIFY(store.submit(id));
        runUntilIdle(db, 1);
        QCOMPARE(statusOf(c, id), std::string("DONE"));
        const auto a = c.query("SELECT outcome, (extract(epoch FROM ts_started) * 1000)::bigint FROM job_attempt "
                               "WHERE job_id = $1 ORDER BY attempt",
                               id);
        QCOMPARE(a.size(), 3);
        QCOMPARE(std::string(a.text(0, 0)), std::string("FAILED"));
        QCOMPARE(std::string(a.text(1, 0)), std::string("FAILED"));
        QCOMPARE(std::string(a.text(2, 0)), std::string("DONE"));
        // Back-off doubles: 0.2 s after the first failure, 0.4 s after the second.
        QVERIFY(a.toInt(1, 1) - a.toInt(0, 1) >= 200);
        QVERIFY(a.toInt(2, 1) - a.toInt(1, 1) >= 400);
        // Done at last: no traceback left on the job, but the history keeps both failures.
        QCOMPARE(scalar(c, "SELECT count(*) FROM tag WHERE name = 'traceback'"), 0);
        QCOMPARE(scalar(c, "SELECT count(*) FROM job_attempt WHERE error = 'failed on purpose'"), 2);
    }

    void outOfAttemptsFailsAndRetryByHandRecovers() {
        const auto db = freshJobDatabase("t_jobs_manual");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto id = store.create(
            job("fanout", {{"n", 4}, {"shape", "chain"}, {"fail_index", 1}, {"subjob_max_attempts", 1}}), true);
        runUntilIdle(db, 2);
        const auto ids = subjobs(c, id);
        QCOMPARE(statusOf(c, id), std::string("FAILED"));
        QCOMPARE(statusOf(c, ids[0]), std::string("DONE"));
        QCOMPARE(statusOf(c, ids[1]), std::string("FAILED"));
        QCOMPARE(statusOf(c, ids[2]), std::string("CANCELLED")); // depended on the failed one
        QCOMPARE(statusOf(c, ids[3]), std::string("CANCELLED"));
        // The data manager fixes the configuration and retries the top-level job.
        c.query("UPDATE job SET config = config || '{\"fail_attempts\": 0}' WHERE id = $1", ids[1]);
        QCOMPARE(store.retry(id), 4); // the parent, the failed one and its two cancelled dependents
        QCOMPARE(statusOf(c, id), std::string("STANDBY"));
        runUntilIdle(db, 2);
        QCOMPARE(statusOf(c, id), std::string("DONE"));
        for (auto s : ids)
            QCOMPARE(statusOf(c, s), std::string("DONE"));
        QCOMPARE(scalar(c, "SELECT count(*) FROM tag WHERE name IN ('traceback', 'cancelled')"), 0);
        // Everything ever run stays: the failed attempt is still in the history.
        QCOMPARE(scalar(c, "SELECT count(*) FROM job_attempt WHERE outcome = 'FAILED'"), 1);
    }

    void abortOfAThousandSubjobsIsQuick() {
        const auto db = freshJobDatabase("t_jobs_abort");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto id =
            store.create(job("fanout", {{"n", 1000}, {"subjob_config", QJsonObject{{"sleep_s", 60}}}}), true);
        paudm::jobs::RunnerOptions o = runnerOptions(db, 4);
        o.untilIdle = true;
        paudm::jobs::Runner runner(o);
        std::thread t([&] { (void)runner.run(); });
        // Wait until sub-jobs are running.
        QTRY_VERIFY_WITH_TIMEOUT(
            scalar(c, "SELECT count(*) FROM job WHERE status = 'RUNNING' AND super_id IS NOT NULL") == 4, 20000);
        QElapsedTimer timer;
        timer.start();
        QCOMPARE(store.abort(id), 1001);
        QTRY_VERIFY_WITH_TIMEOUT(scalar(c, "SELECT count(*) FROM job WHERE status <> 'CANCELLED'") == 0, 2000);
        const auto ms = timer.elapsed();
        QVERIFY2(ms < 2000, qPrintable(QString("%1 ms").arg(ms)));
        t.join(); // the runner saw the abort, stopped its sleeping jobs and went idle
        QVERIFY2(timer.elapsed() < 5000, qPrintable(QString("runner idle after %1 ms").arg(timer.elapsed())));
        QCOMPARE(runner.stats().done, 1); // only the prolog
        QCOMPARE(scalar(c, "SELECT count(*) FROM job_attempt WHERE outcome = 'CANCELLED'"), 4);
    }

    // Runner threads once caught only paudm::Error: a task that threw anything else ended
    // the whole pilot (std::terminate), and every job in its hands waited for its lease.
    void anyExceptionFailsOnlyItsJob_data() {
        QTest::addColumn<QString>("thrown");
        QTest::addColumn<QString>("message");
        QTest::newRow("std::exception") << "std"
                                        << "logic";
        QTest::newRow("not an exception class") << "other"
                                                << "unknown exception";
    }
    void anyExceptionFailsOnlyItsJob() {
        QFETCH(QString, thrown);
        QFETCH(QString, message);
        const auto db = freshJobDatabase("t_jobs_throw");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto bad = store.create(job("fail", {{"throw", thrown}, {"message", "logic"}}, 1), true);
        const auto after = store.create(job("noop"), true);
        const auto stats = runUntilIdle(db, 1); // one thread: the same runner must survive to run the noop
        QCOMPARE(statusOf(c, bad), std::string("FAILED"));
        QCOMPARE(statusOf(c, after), std::string("DONE"));
        QCOMPARE(stats.failed, 1);
        QCOMPARE(stats.done, 1);
        const std::string tb = tagOf(c, bad, "traceback");
        QVERIFY2(tb.find(message.toStdString()) != std::string::npos, tb.c_str());
    }

    void crashFailsAloneWithTraceback() {
        const auto db = freshJobDatabase("t_jobs_crash");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto crash = store.create(job("crash", {}, 1), true);
        const auto after = store.create(job("noop"), true);
        const auto stats = runUntilIdle(db, 1); // one thread: the same runner must survive to run the noop
        QCOMPARE(statusOf(c, crash), std::string("FAILED"));
        QCOMPARE(statusOf(c, after), std::string("DONE"));
        QCOMPARE(stats.done, 1);
        QCOMPARE(stats.failed, 1);
        const std::string tb = tagOf(c, crash, "traceback");
        QVERIFY2(tb.find("killed by signal 6") != std::string::npos, tb.c_str());
        QVERIFY2(tb.find("fatal signal") != std::string::npos, tb.c_str()); // the stack the process printed
        QCOMPARE(outcomeOf(c, crash), std::string("CRASHED"));
    }

    void timeLimitKillsTheTask() {
        const auto db = freshJobDatabase("t_jobs_timeout");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto id = store.create(job("crash", {{"mode", "hang"}}, 1), false);
        c.query("UPDATE job SET timeout_s = 1 WHERE id = $1", id);
        store.submit(id);
        QElapsedTimer t;
        t.start();
        runUntilIdle(db, 1);
        QVERIFY(t.elapsed() < 8000);
        QCOMPARE(statusOf(c, id), std::string("FAILED"));
        QCOMPARE(outcomeOf(c, id), std::string("TIMEOUT"));
    }

    void memoryLimitFailsTheTask() {
#if defined(__SANITIZE_ADDRESS__)
        QSKIP("AddressSanitizer reserves more address space than any memory limit allows");
#endif
        const auto db = freshJobDatabase("t_jobs_oom");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto id = store.create(job("crash", {{"mode", "oom"}}, 1), false);
        c.query("UPDATE job SET memory_limit_mb = 300 WHERE id = $1", id);
        store.submit(id);
        runUntilIdle(db, 1);
        QCOMPARE(statusOf(c, id), std::string("FAILED"));
        QCOMPARE(outcomeOf(c, id), std::string("OUT_OF_MEMORY"));
    }

    void staleClaimCannotCommit() {
        const auto db = freshJobDatabase("t_jobs_fence");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto id = store.create(job("noop"), true);
        const auto runnerA = scalar(c, "INSERT INTO runner (host, pid) VALUES ('a', 1) RETURNING id");
        const auto tokenA = c.query("SELECT token FROM job_claim($1, 1, 30, NULL, 'a', 1)", runnerA).toInt(0, 0);
        // A freezes; its lease runs out and someone reaps it.
        c.query("UPDATE job_lease SET lease_expires = now() - interval '1 second' WHERE $1 = ANY (job_ids)", id);
        QCOMPARE(scalar(c, "SELECT job_reap_expired()"), 1);
        QCOMPARE(statusOf(c, id), std::string("QUEUED"));
        c.query("UPDATE job_ready SET not_before = NULL WHERE job_id = $1", id); // skip the back-off
        runUntilIdle(db, 1);
        QCOMPARE(statusOf(c, id), std::string("DONE"));
        // A wakes up and tries to commit: refused, and nothing changes.
        QVERIFY(!c.query("SELECT job_complete($1, $2, 'FAILED', NULL, 'late', 'FAILED', 0, false)", id, tokenA)
                     .toBool(0, 0));
        QVERIFY(!c.query("SELECT job_fence($1, $2)", id, tokenA).toBool(0, 0));
        QCOMPARE(statusOf(c, id), std::string("DONE"));
        const auto a = c.query("SELECT outcome FROM job_attempt WHERE job_id = $1 ORDER BY id", id);
        QCOMPARE(a.size(), 2);
        QCOMPARE(std::string(a.text(0, 0)), std::string("LEASE_EXPIRED"));
        QCOMPARE(std::string(a.text(1, 0)), std::string("DONE"));
    }

    // job.super_id has no foreign key (0026): its statement trigger must refuse what the key
    // refused, and deleting a job must still take its sub-jobs with it, at every depth.
    void superJobIsCheckedAndDeletesCascade() {
        const auto db = freshJobDatabase("t_jobs_super");
        Connection c = Connection::open(db);
        const std::int64_t top = scalar(c, "INSERT INTO job (name) VALUES ('top') RETURNING id");
        c.query("INSERT INTO job (super_id, name) SELECT $1, 'sub' FROM generate_series(1, 3)", top);
        const std::int64_t sub = scalar(c, "SELECT min(id) FROM job WHERE super_id = " + std::to_string(top));
        c.query("INSERT INTO job (super_id, name) VALUES ($1, 'subsub')", sub);
        const std::int64_t missing = top + 1000;
        try {
            c.query("INSERT INTO job (super_id, name) VALUES ($1, 'orphan'), ($2, 'fine')", missing, top);
            QFAIL("a sub-job of a job that does not exist was inserted");
        } catch (const Error& e) {
            QCOMPARE(e.code(), std::string("23503")); // foreign_key_violation, as the key raised
            QVERIFY2(std::string(e.what()).find("super-job " + std::to_string(missing) + " does not exist") !=
                         std::string::npos,
                     e.what());
        }
        QCOMPARE(scalar(c, "SELECT count(*) FROM job"), 5); // the statement left nothing behind
        try {
            c.query("UPDATE job SET super_id = $1 WHERE id = $2", missing, sub);
            QFAIL("a job was moved under a job that does not exist");
        } catch (const Error& e) {
            QCOMPARE(e.code(), std::string("23503"));
        }
        // A second top-level tree stays when the first goes.
        const std::int64_t other = scalar(c, "INSERT INTO job (name) VALUES ('other') RETURNING id");
        c.query("INSERT INTO job (super_id, name) VALUES ($1, 'sub')", other);
        c.query("DELETE FROM job WHERE id = $1", top);
        QCOMPARE(scalar(c, "SELECT count(*) FROM job"), 2);
        QCOMPARE(scalar(c, "SELECT count(*) FROM job WHERE super_id = " + std::to_string(other)), 1);
    }

    void storeListsFiltersAndGraphs() {
        const auto db = freshJobDatabase("t_jobs_store");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto a = store.create(job("fanout", {{"n", 3}, {"shape", "chain"}}), true);
        const auto b = store.create(job("noop"), false);
        QVERIFY_THROWS_EXCEPTION(Error, store.create(job("no_such_task"), true));
        runUntilIdle(db, 1);
        JobFilter top;
        top.topLevel = true;
        QCOMPARE(store.count(top), 2);
        JobFilter stashed;
        stashed.statuses = {"STASHED"};
        QCOMPARE(store.list(stashed).size(), size_t(1));
        QCOMPARE(store.list(stashed)[0].id, b);
        JobFilter subs;
        subs.superId = a;
        QCOMPARE(store.count(subs), 3);
        JobFilter byTask;
        byTask.task = "noop";
        QCOMPARE(store.count(byTask), 4); // three sub-jobs and the stashed one
        const auto counts = store.countByStatus(JobFilter{});
        QCOMPARE(counts.size(), size_t(2));             // DONE, STASHED
        const auto perTask = store.countByTask(byTask); // the task filter is what the pie leaves out
        QCOMPARE(perTask.size(), size_t(2));
        QCOMPARE(perTask[0], std::make_pair(std::string("fanout"), std::int64_t(1)));
        QCOMPARE(perTask[1], std::make_pair(std::string("noop"), std::int64_t(4)));
        // Free text: any case, in the task name or the description, or the job id.
        JobFilter text;
        text.text = "FAN";
        QCOMPARE(store.count(text), 1);
        text.text = std::to_string(b);
        const auto byId = store.list(text);
        QVERIFY(std::any_of(byId.begin(), byId.end(), [&](const auto& r) { return r.id == b; }));
        text.text = "%"; // literal, not a LIKE pattern
        QCOMPARE(store.count(text), 0);
        // Pages, newest first: the next page starts below the last id shown.
        JobFilter page;
        page.limit = 2;
        const auto first = store.list(page);
        QCOMPARE(first.size(), size_t(2));
        page.beforeId = first.back().id;
        const auto second = store.list(page);
        QCOMPARE(second.size(), size_t(2));
        QVERIFY(second.front().id < first.back().id);
        page.beforeId = second.back().id;
        QCOMPARE(store.list(page).size(), size_t(1)); // 5 jobs in all
        const auto g = store.graph(a);
        QCOMPARE(g.nodes.size(), size_t(3));
        QCOMPARE(g.edges.size(), size_t(2));
        QCOMPARE(g.edges[0].second, g.edges[1].first); // a chain
        for (const auto& n : g.nodes)
            QVERIFY(n.queued.isValid() && n.started >= n.queued && n.ended >= n.started);
        const std::string dot = store.graphDot(a);
        QCOMPARE(std::count(dot.begin(), dot.end(), '>'), 2L); // two "->" edges of the chain of three
        QVERIFY(dot.find("DONE") != std::string::npos);
        // Remove: a finished tree goes whole; everything else stays.
        QCOMPARE(store.remove(a), 4);
        QCOMPARE(scalar(c, "SELECT count(*) FROM job"), 1);
        QCOMPARE(store.abortWhere(stashed, true), 1); // dry run: counts only
        QCOMPARE(statusOf(c, b), std::string("STASHED"));
        QCOMPARE(store.abortWhere(stashed, false), 1);
        QCOMPARE(statusOf(c, b), std::string("CANCELLED"));
    }
};

QTEST_GUILESS_MAIN(TestJobs)
#include "test_jobs.moc"
