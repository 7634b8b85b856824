// Faults in the middle of every long-running command: the server's connections terminated
// (pg_terminate_backend) and the server restarted, while `paudm transfer`, `paudm night`,
// `paudm simulate` and runner threads hosted by the console are at work. Each must recover
// by itself or end with a clear message and a non-zero code; none may abort; nothing may be
// lost or half written; and the next run completes.
#include "jobtest.h"

#include "archive/checksum.h"
#include "archive/layout.h"
#include "archive/obs_set.h"
#include "pipelines/pixelsim/simulator.h"
#include "runnerhost.h"

#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

using namespace paudm;
using namespace paudm::test;

namespace {

namespace fs = std::filesystem;

enum class Fault { Terminate, Restart };

/// Ends every session of the test database but ours (what an administrator, a pooler or a
/// failover does to a running program).
std::int64_t terminateSessions(db::Connection& c) {
    return c
        .exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
              "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        .toInt(0, 0);
}

/// Stops the server for a second and starts it again.
void restartServer() {
    auto& server = TestServer::instance().server();
    QVERIFY(server.stop());
    QThread::msleep(1000);
    QVERIFY(server.start());
}

void inject(Fault f, const std::string& conninfo) {
    if (f == Fault::Restart) return restartServer();
    db::Connection c = db::Connection::open(conninfo);
    terminateSessions(c);
}

struct Ran {
    QProcess::ExitStatus status = QProcess::CrashExit;
    int code = -1;
    QString out, err;
};

/// A paudm command on the test database, started now.
std::unique_ptr<QProcess> start(const std::string& conninfo, const QString& home, const QStringList& args) {
    auto p = std::make_unique<QProcess>();
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("PAUDM_DB", QString::fromStdString(conninfo));
    env.insert("PAUDM_HOME", home);
    p->setProcessEnvironment(env);
    p->start(PAUDM_EXE, args);
    if (!p->waitForStarted(10000)) qFatal("cannot start %s", PAUDM_EXE);
    return p;
}

Ran finish(QProcess& p, int ms = 180000) {
    if (!p.waitForFinished(ms)) {
        p.kill();
        p.waitForFinished();
    }
    return {p.exitStatus(), p.exitCode(), QString::fromLocal8Bit(p.readAllStandardOutput()),
            QString::fromLocal8Bit(p.readAllStandardError())};
}

/// The command ended as a program should after a fault: by itself, with 0, or with 1 and
/// a "paudm: ..." message; never by a signal or std::terminate.
void endedCleanly(const Ran& r) {
    const QString all = r.out + r.err;
    QVERIFY2(r.status == QProcess::NormalExit, qPrintable("it crashed:\n" + all));
    QVERIFY2(!all.contains("terminate called"), qPrintable(all));
    QVERIFY2(r.code == 0 || (r.code == 1 && r.err.contains("paudm")),
             qPrintable(QString("exit %1:\n").arg(r.code) + all));
}

std::int64_t count(const std::string& conninfo, const std::string& sql) {
    db::Connection c = db::Connection::open(conninfo);
    return c.exec(sql).toInt(0, 0);
}

/// Every file of the obs set's YAML is in the archive under its final name with the right
/// Adler32, and no temporary copy is left.
void archiveIsWhole(const archive::ArchiveLayout& a, const archive::ObsSetManifest& m) {
    const std::string raw = a.rawDir(m.obsSet);
    for (const auto& f : m.files) {
        QVERIFY2(fs::exists(raw + "/" + f.name), (raw + "/" + f.name).c_str());
        QCOMPARE(archive::adler32File(raw + "/" + f.name), f.adler32);
    }
    for (const auto& e : fs::directory_iterator(raw))
        QVERIFY2(e.path().filename().string().find(".partial-") == std::string::npos, e.path().c_str());
}

/// Waits until `done()` or the process ended; true if the process is still at work.
bool stillRunningWhen(QProcess& p, const std::function<bool()>& done, int ms = 60000) {
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms && p.state() == QProcess::Running) {
        if (done()) return p.state() == QProcess::Running;
        QThread::msleep(10);
    }
    return false;
}

} // namespace

Q_DECLARE_METATYPE(Fault)

class TestFaults : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string buffer_;
    archive::ObsSetManifest manifest_;

private slots:
    void initTestCase() {
        // One simulated night for every case: 26 small-geometry mosaics (about 0.5 GB), so
        // that a transfer takes long enough to be interrupted in the middle; mostly
        // calibration frames, so that the reduction each night case ends with (measuring
        // every science mosaic) stays short.
        pipelines::pixelsim::NightOptions o;
        o.buffer = dir_.filePath("buffer").toStdString();
        o.night = "2026-11-20";
        o.geometry = pipelines::paucam::Geometry::Small;
        o.bias = 10;
        o.flatsPerTray = 10;
        o.trays = {"FT_NB455_NB525"};
        o.science = 6;
        o.threads = 2;
        const auto night = pipelines::pixelsim::simulateNight(o);
        buffer_ = o.buffer;
        manifest_ = night.contents;
    }

    void transfer_data() {
        QTest::addColumn<Fault>("fault");
        QTest::newRow("sessions terminated") << Fault::Terminate;
        QTest::newRow("server restarted") << Fault::Restart;
    }
    void transfer() {
        QFETCH(Fault, fault);
        const std::string db = freshJobDatabase(fault == Fault::Terminate ? "f_transfer_term" : "f_transfer_restart");
        const QString archive = dir_.filePath(QString("archive-transfer-%1").arg(int(fault)));
        const QStringList args{"transfer",  "--from", QString::fromStdString(buffer_), "--archive", archive,
                               "--streams", "4"};
        auto p = start(db, dir_.path(), args);
        QVERIFY2(
            stillRunningWhen(
                *p, [&] { return count(db, "SELECT count(*) FROM transfer_file WHERE status = 'VERIFIED'") >= 2; }),
            "the transfer ended before the fault: give it more to copy");
        inject(fault, db);
        const Ran r = finish(*p);
        endedCleanly(r);
        // A restart or terminated sessions cost a pause, not the transfer.
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        const archive::ArchiveLayout a(archive.toStdString());
        archiveIsWhole(a, manifest_);
        QCOMPARE(count(db, "SELECT count(*) FROM transfer_file WHERE status = 'VERIFIED'"),
                 std::int64_t(manifest_.files.size()));
        // And the next run finds everything in place.
        const Ran again = finish(*start(db, dir_.path(), args));
        QVERIFY2(again.code == 0, qPrintable(again.out + again.err));
        QVERIFY2(again.out.contains(QString("0 copied")), qPrintable(again.out));
    }

    void night_data() {
        QTest::addColumn<Fault>("fault");
        QTest::addColumn<QString>("when");
        QTest::newRow("sessions terminated while transferring") << Fault::Terminate << "transfer";
        QTest::newRow("server restarted while transferring") << Fault::Restart << "transfer";
        QTest::newRow("sessions terminated while registering") << Fault::Terminate << "register";
        QTest::newRow("server restarted while registering") << Fault::Restart << "register";
    }
    void night() {
        QFETCH(Fault, fault);
        QFETCH(QString, when);
        const std::string db = freshJobDatabase("f_night_" + when.toStdString() + std::to_string(int(fault)));
        const QString archive = dir_.filePath("archive-night-" + when + QString::number(int(fault)));
        const QStringList args{"night", "--buffer", QString::fromStdString(buffer_), "--archive", archive};
        auto p = start(db, dir_.path(), args);
        const std::string midway = when == "transfer"
                                       ? "SELECT count(*) FROM transfer_file WHERE status = 'VERIFIED'"
                                       : "SELECT count(*) FROM job WHERE name = 'register_mosaic' AND status = 'DONE'";
        QVERIFY2(stillRunningWhen(*p, [&] { return count(db, midway) >= 2; }), "the night ended before the fault");
        inject(fault, db);
        const Ran r = finish(*p);
        endedCleanly(r);
        archiveIsWhole(archive::ArchiveLayout(archive.toStdString()), manifest_);
        // Whatever this run managed, the next one completes the night.
        const Ran again = r.code == 0 ? r : finish(*start(db, dir_.path(), args));
        QVERIFY2(again.code == 0, qPrintable(again.out + again.err));
        QVERIFY2(again.out.contains("night complete"), qPrintable(again.out));
        // Every raw file registered once, with its 72 amplifiers; every science mosaic reduced once.
        QCOMPARE(count(db, "SELECT count(*) FROM mosaic WHERE production_id IS NULL"), std::int64_t(manifest_.files.size()));
        QCOMPARE(count(db, "SELECT count(*) FROM image i JOIN mosaic m ON m.id = i.mosaic_id WHERE m.production_id IS NULL"),
                 std::int64_t(manifest_.files.size()) * 72);
        std::int64_t science = 0;
        for (const auto& f : manifest_.files) science += f.kind == "science";
        QCOMPARE(count(db, "SELECT count(*) FROM mosaic WHERE kind = 'red_science'"), science);
    }

    void simulate_data() {
        QTest::addColumn<Fault>("fault");
        QTest::newRow("sessions terminated") << Fault::Terminate;
        QTest::newRow("server restarted") << Fault::Restart;
    }
    void simulate() {
        QFETCH(Fault, fault);
        const std::string db = freshJobDatabase(fault == Fault::Terminate ? "f_sim_term" : "f_sim_restart");
        const QString buffer = dir_.filePath(QString("sim-buffer-%1").arg(int(fault)));
        const QStringList args{"simulate",   "--out",   buffer,   "--night",   "2026-11-21",
                               "--geometry", "small",   "--bias", "2",         "--flats-per-tray",
                               "1",          "--trays", "NB455",  "--science", "6"};
        auto p = start(db, dir_.path(), args);
        // Mid-way: the obs set is being written (its hidden folder exists), the catalogue not yet loaded.
        QVERIFY2(stillRunningWhen(
                     *p, [&] { return QDir(buffer).entryList({".*.partial"}, QDir::Dirs | QDir::Hidden).size() > 0; }),
                 "the simulation ended before the fault");
        inject(fault, db);
        const Ran r = finish(*p);
        endedCleanly(r);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        // The obs set is whole (every file as its YAML says) and nothing half-written is left.
        const QStringList sets = QDir(buffer).entryList(QDir::Dirs | QDir::NoDotAndDotDot | QDir::Hidden);
        QCOMPARE(sets.size(), 1);
        const auto m =
            archive::ObsSetManifest::readFile(archive::manifestPathIn((buffer + "/" + sets.first()).toStdString()));
        for (const auto& f : m.files)
            QCOMPARE(archive::adler32File((buffer + "/" + sets.first()).toStdString() + "/" + f.name), f.adler32);
        QVERIFY(count(db, "SELECT count(*) FROM ref_star") > 0);
    }

    void consoleRunner_data() {
        QTest::addColumn<Fault>("fault");
        QTest::newRow("sessions terminated") << Fault::Terminate;
        QTest::newRow("server restarted") << Fault::Restart;
    }
    void consoleRunner() {
        QFETCH(Fault, fault);
        const std::string db = freshJobDatabase(fault == Fault::Terminate ? "f_host_term" : "f_host_restart");
        std::int64_t id = 0;
        {
            db::Connection c = db::Connection::open(db);
            jobs::NewJob fan;
            fan.name = "fanout";
            fan.config = {{"n", 300}, {"subjob_config", QJsonObject{{"sleep_s", 0.01}}}};
            id = jobs::JobStore(c).create(fan, true);
        }
        ui::RunnerHost host;
        QSignalSpy stopped(&host, &ui::RunnerHost::stopped);
        host.start(runnerOptions(db, 2));
        QTRY_VERIFY_WITH_TIMEOUT(count(db, "SELECT count(*) FROM job WHERE status = 'DONE'") >= 60, 30000);
        QVERIFY(host.isRunning());
        inject(fault, db);
        QVERIFY(stopped.wait(120000));
        QCOMPARE(stopped.first().at(1).toString(), QString()); // no error
        db::Connection c = db::Connection::open(db);
        QCOMPARE(statusOf(c, id), std::string("DONE"));
        QCOMPARE(scalar(c, "SELECT count(*) FROM job WHERE status = 'DONE'"), 301);
        // Nothing run twice: one DONE attempt per job (the sub-jobs and the parent's epilog).
        QCOMPARE(scalar(c, "SELECT count(*) FROM job_attempt WHERE outcome = 'DONE'"), 301);
    }
};

QTEST_GUILESS_MAIN(TestFaults)
#include "test_faults.moc"
