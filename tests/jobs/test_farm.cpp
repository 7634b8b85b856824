// The engine at a farm's scale on one machine: 200 pilot processes against one embedded
// server, with jobs that sleep so that the cores are not the limit; and the balance of
// long jobs over a few single-thread runners.
#include "jobtest.h"

#include <QFile>
#include <QTemporaryDir>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <set>

extern char** environ;

using paudm::db::Connection;
using paudm::jobs::JobStore;
using paudm::jobs::NewJob;
using namespace paudm::test;

namespace {

/// A pilot process, its output in a file, and when it ended (wall clock, ms).
struct Pilot {
    pid_t pid = 0;
    QString log;
    std::int64_t endedMs = 0;
    int status = -1;
};

std::int64_t wallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

pid_t spawnPilot(const std::string& conninfo, const QString& log, const std::vector<std::string>& extra) {
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    const QByteArray path = QFile::encodeName(log);
    posix_spawn_file_actions_addopen(&files, 1, path.constData(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&files, 1, 2);
    qputenv("PAUDM_DB", QByteArray::fromStdString(conninfo));
    std::vector<std::string> args{PAUDM_EXE, "runner", "--verbose"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, PAUDM_EXE, &files, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    if (rc != 0) qFatal("cannot start %s: %s", PAUDM_EXE, std::strerror(rc));
    return pid;
}

/// Waits for every pilot (up to `timeoutS`), noting when each ended.
bool reap(std::vector<Pilot>& pilots, double timeoutS) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeoutS);
    size_t left = pilots.size();
    while (left > 0 && std::chrono::steady_clock::now() < end) {
        for (Pilot& p : pilots) {
            if (p.endedMs) continue;
            int status = 0;
            if (::waitpid(p.pid, &status, WNOHANG) == p.pid) {
                p.endedMs = wallMs();
                p.status = status;
                --left;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return left == 0;
}

QString readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

} // namespace

class TestFarm : public QObject {
    Q_OBJECT

private slots:
    /// 200 pilots started together, all waiting (LISTEN, no polling) until work comes;
    /// then 800 jobs of 1 s. Every job runs once, every pilot gets work, nobody is refused
    /// a connection, the console's queries are answered meanwhile, and every pilot ends
    /// within 2 s of the last job.
    void twoHundredPilotsOnOneServer() {
        constexpr int kPilots = 200, kJobs = 800;
        const auto db = freshJobDatabase("t_farm_200");
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        Connection c = Connection::open(db);
        JobStore store(c);

        // A job in progress keeps --until-idle pilots waiting: the gate, held by a runner of
        // this process, opens when every pilot is up.
        NewJob gateJob;
        gateJob.name = "noop";
        gateJob.config = {{"sleep_s", 600}};
        gateJob.priority = 10;
        const auto gate = store.create(gateJob, true);
        auto gateOptions = runnerOptions(db, 1);
        gateOptions.maxJobs = 1;
        gateOptions.untilIdle = false;
        paudm::jobs::Runner gateRunner(gateOptions);
        std::thread gateThread([&] { (void)gateRunner.run(); });
        QTRY_COMPARE_WITH_TIMEOUT(statusOf(c, gate), std::string("RUNNING"), 20000);

        std::vector<Pilot> pilots(kPilots);
        for (int i = 0; i < kPilots; ++i) {
            pilots[i].log = dir.filePath(QString("pilot-%1.log").arg(i));
            pilots[i].pid = spawnPilot(db, pilots[i].log, {"--threads", "1", "--until-idle"});
        }
        // All registered and waiting (the gate's runner is the one more).
        QTRY_VERIFY_WITH_TIMEOUT(scalar(c, "SELECT count(*) FROM runner WHERE stopped IS NULL") == kPilots + 1, 120000);
        const auto connectionsWaiting =
            scalar(c, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'paudm runner'");

        const QString mark = dir.filePath("mark");
        const auto fanId = store.create(noopFanout(kJobs, QJsonObject{{"sleep_s", 1.0}, {"mark", mark}}), true);
        store.abort(gate, "the gate opens");

        // The console meanwhile: connects and answers while the pilots work.
        QTRY_VERIFY_WITH_TIMEOUT(scalar(c, "SELECT count(*) FROM job WHERE status = 'RUNNING'") >= kPilots / 2, 30000);
        {
            Connection console = Connection::open(db, "paudm console");
            JobStore view(console);
            QCOMPARE(static_cast<int>(view.runners(0).size()) >= kPilots, true);
            QVERIFY(view.queueCounts().running > 0);
        }

        QVERIFY2(reap(pilots, 180), "pilots still running 3 minutes later");
        gateThread.join();

        QCOMPARE(statusOf(c, fanId), std::string("DONE"));
        QCOMPARE(scalar(c, "SELECT count(*) FROM job WHERE super_id = " + std::to_string(fanId) + " AND status = 'DONE'"),
                 kJobs);
        // Every job ran to its end exactly once.
        const QStringList lines = readAll(mark).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), kJobs);
        QCOMPARE(static_cast<int>(std::set<QString>(lines.begin(), lines.end()).size()), kJobs);
        // No pilot failed, none was refused a connection or had to reconnect.
        for (const Pilot& p : pilots) {
            const QString log = readAll(p.log);
            QVERIFY2(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, qPrintable(log.right(600)));
            QVERIFY2(!log.contains("cannot connect") && !log.contains("too many clients") && !log.contains("reconnect"),
                     qPrintable(log.right(600)));
        }
        // Every pilot that was started got work: 800 jobs of 1 s over 200 pilots.
        const auto busy = scalar(c, "SELECT count(DISTINCT a.runner_id) FROM job_attempt a JOIN job j ON j.id = a.job_id "
                                    "WHERE j.super_id = " + std::to_string(fanId));
        QCOMPARE(busy, kPilots);
        // One connection per waiting pilot.
        QVERIFY2(connectionsWaiting == kPilots + 1, qPrintable(QString::number(connectionsWaiting)));
        // The queue was empty when the last job (the fan-out's epilog) ended: every pilot
        // was gone within 2 s of that.
        const auto lastEnd = scalar(c, "SELECT (extract(epoch FROM max(ts_ended)) * 1000)::bigint FROM job");
        std::int64_t lastExit = 0;
        for (const Pilot& p : pilots) lastExit = std::max(lastExit, p.endedMs);
        qInfo("last job ended -> last pilot gone: %lld ms; %lld connections for %d waiting pilots",
              static_cast<long long>(lastExit - lastEnd), static_cast<long long>(connectionsWaiting), kPilots + 1);
        QVERIFY2(lastExit - lastEnd < 2000, qPrintable(QString("%1 ms").arg(lastExit - lastEnd)));
    }

    /// Long jobs are not hoarded: 40 jobs of 0.25 s over 4 single-thread runners, each
    /// claiming with no flags, run 10 each (one at a time, never several in one hand).
    void longJobsAreSharedOut() {
        const auto db = freshJobDatabase("t_farm_balance");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto fanId = store.create(noopFanout(40, QJsonObject{{"sleep_s", 0.25}}), true);
        std::vector<std::thread> runners;
        for (int i = 0; i < 4; ++i) runners.emplace_back([&] { runUntilIdle(db, 1); });
        for (auto& t : runners) t.join();
        QCOMPARE(statusOf(c, fanId), std::string("DONE"));
        const auto r = c.query("SELECT runner_id, count(*) FROM job WHERE super_id = $1 GROUP BY runner_id", fanId);
        QCOMPARE(r.size(), 4);
        for (int i = 0; i < r.size(); ++i)
            QVERIFY2(std::abs(r.toInt(i, 1) - 10) <= 1, qPrintable(QString("runner %1 ran %2").arg(r.toInt(i, 0)).arg(r.toInt(i, 1))));
        // One at a time: every claim (one lease row each) took one job: the prolog, the 40,
        // the epilog.
        QCOMPARE(scalar(c, "SELECT last_value FROM job_lease_id_seq"), 42);
    }

    /// Short jobs come in batches: a runner with no flags claims many no-op jobs at once.
    void shortJobsAreClaimedInBatches() {
        const auto db = freshJobDatabase("t_farm_batches");
        Connection c = Connection::open(db);
        JobStore store(c);
        const auto fanId = store.create(noopFanout(3000), true);
        runUntilIdle(db, 1);
        QCOMPARE(statusOf(c, fanId), std::string("DONE"));
        // Each claim writes one lease row: the sequence counts the claims.
        const auto claims = scalar(c, "SELECT last_value FROM job_lease_id_seq");
        qInfo("3000 no-op jobs in %lld claims", static_cast<long long>(claims));
        // The first claims learn the task's run time (1, then the window's worth, capped at
        // 256): at least 3000 / 256 claims, and far fewer than one per job.
        QVERIFY2(claims >= 3000 / paudm::jobs::kDefaultClaimCap && claims < 100, qPrintable(QString::number(claims)));
    }
};

QTEST_GUILESS_MAIN(TestFarm)
#include "test_farm.moc"
