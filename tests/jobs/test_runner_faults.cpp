// Runners as separate processes, and what happens to them: kill -9, SIGSTOP past the
// lease, their connections terminated by the server, the server restarted.
#include "jobtest.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <map>
#include <random>

#include <signal.h>

using paudm::db::Connection;
using paudm::jobs::JobStore;
using paudm::jobs::NewJob;
using namespace paudm::test;

namespace {

std::unique_ptr<QProcess> startRunner(const std::string& conninfo, const QStringList& extra) {
    auto p = std::make_unique<QProcess>();
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("PAUDM_DB", QString::fromStdString(conninfo));
    p->setProcessEnvironment(env);
    p->setProcessChannelMode(QProcess::ForwardedOutputChannel); // stdout to the test log; stderr kept
    p->start(PAUDM_EXE, QStringList{"runner", "--verbose"} + extra);
    if (!p->waitForStarted(10000)) qFatal("cannot start %s", PAUDM_EXE);
    return p;
}

std::int64_t runnerPidOf(Connection& c, std::int64_t jobId) {
    const auto r = c.query(
        "SELECT r.pid FROM job j JOIN runner r ON r.id = j.runner_id WHERE j.id = $1 AND j.status = 'RUNNING'", jobId);
    return r.size() ? r.toInt(0, 0) : 0;
}

NewJob sleeper(double seconds) {
    NewJob j;
    j.name = "noop";
    j.config = {{"sleep_s", seconds}};
    j.maxAttempts = 3;
    return j;
}

std::int64_t nowMs(Connection& c) {
    return scalar(c, "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint");
}

} // namespace

class TestRunnerFaults : public QObject {
    Q_OBJECT

private slots:
    void killedRunnerIsReplaced() {
        const auto db = freshJobDatabase("t_fault_kill");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto id = store.create(sleeper(4), false);
        c.query("UPDATE job SET retry_delay_s = 0 WHERE id = $1", id);
        store.submit(id);
        auto a = startRunner(db, {"--lease", "3"});
        QTRY_VERIFY_WITH_TIMEOUT(runnerPidOf(c, id) == a->processId(), 15000);
        auto b = startRunner(db, {"--lease", "3", "--until-idle"});
        const qint64 bPid = b->processId();
        QThread::msleep(500); // b is up and waiting
        const auto killedAt = nowMs(c);
        ::kill(static_cast<pid_t>(a->processId()), SIGKILL);
        a->waitForFinished(5000);
        QVERIFY(b->waitForFinished(40000));
        QCOMPARE(statusOf(c, id), std::string("DONE"));
        const auto h =
            c.query("SELECT outcome, (extract(epoch FROM ts_started) * 1000)::bigint, r.pid "
                    "FROM job_attempt t JOIN runner r ON r.id = t.runner_id WHERE t.job_id = $1 ORDER BY t.id",
                    id);
        QCOMPARE(h.size(), 2);
        QCOMPARE(std::string(h.text(0, 0)), std::string("LEASE_EXPIRED"));
        QCOMPARE(std::string(h.text(1, 0)), std::string("DONE"));
        QCOMPARE(h.toInt(1, 2), bPid);
        // Rerun within lease + 10 s of the kill, and only after the first runner was dead.
        const auto rerunAfter = h.toInt(1, 1) - killedAt;
        QVERIFY2(rerunAfter >= 0 && rerunAfter < (3 + 10) * 1000, qPrintable(QString("%1 ms").arg(rerunAfter)));
        QCOMPARE(scalar(c, "SELECT count(*) FROM job_attempt WHERE outcome = 'DONE'"), 1);
    }

    void frozenRunnerCannotCommit() {
        const auto db = freshJobDatabase("t_fault_freeze");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto id = store.create(sleeper(2), false);
        c.query("UPDATE job SET retry_delay_s = 0 WHERE id = $1", id);
        store.submit(id);
        auto a = startRunner(db, {"--lease", "2"});
        QTRY_VERIFY_WITH_TIMEOUT(runnerPidOf(c, id) == a->processId(), 15000);
        ::kill(static_cast<pid_t>(a->processId()), SIGSTOP);
        auto b = startRunner(db, {"--lease", "2", "--until-idle"});
        QVERIFY(b->waitForFinished(40000)); // b reaped a's lease and ran the job
        QCOMPARE(statusOf(c, id), std::string("DONE"));
        const auto outputBefore = std::string(c.query("SELECT output::text FROM job WHERE id = $1", id).text(0, 0));
        ::kill(static_cast<pid_t>(a->processId()), SIGCONT); // a wakes up, finishes its copy, tries to commit
        QThread::msleep(3000);
        a->terminate();
        QVERIFY(a->waitForFinished(15000));
        const QString aLog = a->readAllStandardError();
        QVERIFY2(aLog.contains("0 done, 0 failed, 1 lost"), qPrintable(aLog));
        QCOMPARE(std::string(c.query("SELECT output::text FROM job WHERE id = $1", id).text(0, 0)), outputBefore);
        const auto h =
            c.query("SELECT outcome, (extract(epoch FROM ts_started) * 1000)::bigint, "
                    "(extract(epoch FROM ts_ended) * 1000)::bigint FROM job_attempt WHERE job_id = $1 ORDER BY id",
                    id);
        QCOMPARE(h.size(), 2);
        QCOMPARE(std::string(h.text(0, 0)), std::string("LEASE_EXPIRED"));
        QCOMPARE(std::string(h.text(1, 0)), std::string("DONE"));
        QVERIFY(h.toInt(0, 2) <= h.toInt(1, 1)); // the first claim ended before the second began
    }

    void terminatedConnectionsAreReopened() {
        const auto db = freshJobDatabase("t_fault_terminate");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto id = store.create(noopFanout(300, QJsonObject{{"sleep_s", 0.01}}), true);
        auto r = startRunner(db, {"--threads", "2", "--until-idle"});
        for (int round = 0; round < 3; ++round) {
            QTRY_VERIFY_WITH_TIMEOUT(scalar(c, "SELECT count(*) FROM job WHERE status = 'DONE'") >= 60 * (round + 1),
                                     30000);
            const auto killed = scalar(c, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                          "WHERE application_name LIKE 'paudm runner%'");
            QVERIFY(killed >= 2);
        }
        QVERIFY(r->waitForFinished(60000));
        QCOMPARE(statusOf(c, id), std::string("DONE"));
        QCOMPARE(scalar(c, "SELECT count(*) FROM job WHERE status = 'DONE'"), 301);
        // Nothing lost, nothing run twice: one DONE attempt per sub-job, plus the parent's epilog.
        QCOMPARE(scalar(c, "SELECT count(*) FROM job_attempt WHERE outcome = 'DONE'"), 301);
        QCOMPARE(scalar(c, "SELECT count(*) FROM (SELECT job_id FROM job_attempt GROUP BY job_id, phase "
                           "HAVING count(*) > 1) x"),
                 0);
    }

    void serverRestartIsSurvived() {
        const auto db = freshJobDatabase("t_fault_restart");
        std::int64_t id = 0;
        {
            Connection c = Connection::open(db);
            NewJob fan;
            fan.name = "fanout";
            fan.config = {{"n", 200}, {"subjob_config", QJsonObject{{"sleep_s", 0.02}}}};
            id = JobStore(c).create(fan, true);
        }
        auto r = startRunner(db, {"--threads", "2", "--until-idle"});
        {
            Connection c = Connection::open(db);
            QTRY_VERIFY_WITH_TIMEOUT(scalar(c, "SELECT count(*) FROM job WHERE status = 'DONE'") >= 50, 30000);
        }
        auto& server = TestServer::instance().server();
        QVERIFY(server.stop());
        QThread::msleep(1500);
        QVERIFY(server.start());
        QVERIFY(r->waitForFinished(90000));
        Connection c = Connection::open(db);
        QCOMPARE(statusOf(c, id), std::string("DONE"));
        QCOMPARE(scalar(c, "SELECT count(*) FROM job WHERE status = 'DONE'"), 201);
        QCOMPARE(scalar(c, "SELECT count(*) FROM job_attempt WHERE outcome = 'DONE'"), 201); // and the epilog
    }

    // SIGTERM is how Slurm ends every pilot at its time limit, Ctrl-C how a user does. Fifty
    // times, in mid-batch, with another runner at work beside it: each pilot finishes or
    // gives back the jobs in its hands and exits within its grace period; in the end every
    // job has run to its end exactly once, and none waited for a lease to lapse.
    void stopSignalsInMidBatch() {
        const auto db = freshJobDatabase("t_fault_signals");
        QTemporaryDir dir;
        const QString mark = dir.filePath("ran");
        Connection c = Connection::open(db);
        JobStore store(c);
        constexpr int kJobs = 1000;
        std::vector<NewJob> all;
        for (int i = 0; i < kJobs; ++i) {
            NewJob j = sleeper(i % 20 == 7 ? 2.0 : 0.1); // one in twenty outlives the grace
            j.config["mark"] = mark;
            all.push_back(j);
        }
        for (const auto& j : all)
            store.create(j, true);
        auto other = startRunner(db, {"--threads", "2", "--batch", "2"});
        constexpr double kGrace = 1.0;
        std::mt19937 random(12345);
        int released = 0;
        for (int round = 0; round < 50; ++round) {
            auto r = startRunner(db, {"--threads", "2", "--batch", "3", "--grace", QString::number(kGrace)});
            const qint64 pid = r->processId();
            // In mid-batch: once it holds jobs, after a random while.
            QTRY_VERIFY_WITH_TIMEOUT(scalar(c, "SELECT count(*) FROM job j JOIN runner n ON n.id = j.runner_id "
                                               "WHERE j.status = 'RUNNING' AND n.pid = " +
                                                   std::to_string(pid)) > 0,
                                     15000);
            QThread::msleep(std::uniform_int_distribution<int>(0, 400)(random));
            QElapsedTimer t;
            t.start();
            ::kill(static_cast<pid_t>(pid), round % 2 ? SIGINT : SIGTERM);
            QVERIFY2(r->waitForFinished(10000), "the runner did not stop");
            const qint64 ms = t.elapsed();
            const QString log = r->readAllStandardError();
            QCOMPARE(r->exitStatus(), QProcess::NormalExit);
            QVERIFY2(r->exitCode() == 0, qPrintable(log));
            // The grace, plus the moment it takes to commit and end the process.
            QVERIFY2(ms < (kGrace + 1.5) * 1000,
                     qPrintable(QString("round %1: exited %2 ms after the signal\n%3").arg(round).arg(ms).arg(log)));
            const QRegularExpression given(R"((\d+) given back)");
            released += given.match(log).captured(1).toInt();
        }
        other->terminate();
        QVERIFY(other->waitForFinished(15000));
        QCOMPARE(other->exitCode(), 0);
        // What is left, by one more runner.
        auto last = startRunner(db, {"--threads", "4", "--batch", "4", "--until-idle"});
        QVERIFY(last->waitForFinished(300000));
        QCOMPARE(scalar(c, "SELECT count(*) FROM job WHERE status = 'DONE'"), kJobs);
        QCOMPARE(scalar(c, "SELECT count(*) FROM job_attempt WHERE outcome = 'DONE'"), kJobs);
        QCOMPARE(scalar(c, "SELECT count(*) FROM job_attempt WHERE outcome = 'LEASE_EXPIRED'"), 0);
        QVERIFY2(released > 0, "no round stopped a job in the middle: nothing was given back");
        QCOMPARE(scalar(c, "SELECT count(*) FROM job_attempt WHERE outcome = 'RELEASED'"), released);
        // Given back, a job's attempt did not count.
        QCOMPARE(scalar(c, "SELECT count(*) FROM job WHERE attempts <> 1"), 0);
        // Every job ran to its end exactly once.
        QFile f(mark);
        QVERIFY(f.open(QIODevice::ReadOnly));
        std::map<std::int64_t, int> runs;
        for (const QByteArray& line : f.readAll().split('\n'))
            if (!line.isEmpty()) ++runs[line.toLongLong()];
        QCOMPARE(static_cast<int>(runs.size()), kJobs);
        for (const auto& [id, n] : runs)
            QVERIFY2(n == 1, qPrintable(QString("job %1 ran %2 times").arg(id).arg(n)));
    }
};

QTEST_GUILESS_MAIN(TestRunnerFaults)
#include "test_runner_faults.moc"
