// The transfer of simulated obs sets from a buffer into an archive, with its ledger.
#include "jobtest.h"

#include "archive/checksum.h"
#include "archive/obs_set.h"
#include "pipelines/pixelsim/simulator.h"
#include "transfer/transfer.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <QProcess>
#include <QThread>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>

using namespace paudm;

namespace {
/// Flips the lowest bit of one byte of a file: a transmission error.
void flipBit(const std::string& path, std::streamoff offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(offset);
    char c;
    f.get(c);
    f.seekp(offset);
    f.put(static_cast<char>(c ^ 0x01));
}
/// The environment of a paudm child process that uses the test's database.
QProcessEnvironment paudmEnvironment(const std::string& conninfo) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("PAUDM_DB", QString::fromStdString(conninfo));
    return env;
}
} // namespace

class TestTransfer : public QObject {
    Q_OBJECT
private slots:
    void flippedByteIsQuarantinedTheRestArchivedAndARerunSkips() {
        QTemporaryDir dir;
        const std::string conninfo = test::freshJobDatabase("transfer_ledger");
        pipelines::pixelsim::NightOptions o;
        o.buffer = dir.filePath("buffer").toStdString();
        o.night = "2026-11-20";
        o.geometry = pipelines::paucam::Geometry::Small;
        o.bias = 2;
        o.flatsPerTray = 1;
        o.trays = {"FT_NB455_NB525"};
        o.science = 2;
        const auto night = pipelines::pixelsim::simulateNight(o);
        const std::string victim = night.contents.files[1].name;
        flipBit(night.folder + "/" + victim, 100'000);
        transfer::TransferOptions t;
        t.buffer = o.buffer;
        t.archive = archive::ArchiveLayout(dir.filePath("archive").toStdString());
        t.streams = 3;
        t.ledger = conninfo;
        auto reports = transfer::transferBuffer(t);
        QCOMPARE(reports.size(), std::size_t(1));
        QCOMPARE(reports[0].files, 5);
        QCOMPARE(reports[0].copied, 4);
        QCOMPARE(reports[0].quarantined, 1);
        QVERIFY(!reports[0].complete());
        QVERIFY2(reports[0].problems.front().find(victim) != std::string::npos, reports[0].problems.front().c_str());
        const std::string raw = t.archive.rawDir(night.obsSet);
        for (const auto& f : night.contents.files) {
            const bool there = QFile::exists(QString::fromStdString(raw + "/" + f.name));
            QCOMPARE(there, f.name != victim);
            if (there) QCOMPARE(archive::adler32File(raw + "/" + f.name), f.adler32);
        }
        QVERIFY(QFile::exists(QString::fromStdString(t.archive.quarantineDir(night.obsSet) + "/" + victim)));
        QVERIFY(QFile::exists(QString::fromStdString(raw + "/" + night.obsSet + ".yaml")));

        db::Connection c = db::Connection::open(conninfo);
        auto row = c.query("SELECT status, files, files_verified, files_quarantined FROM transfer_obs_set WHERE obs_set = $1",
                           night.obsSet);
        QCOMPARE(std::string(row.text(0, 0)), std::string("INCOMPLETE"));
        QCOMPARE(row.toInt(0, 1), std::int64_t(5));
        QCOMPARE(row.toInt(0, 2), std::int64_t(4));
        QCOMPARE(row.toInt(0, 3), std::int64_t(1));
        row = c.query("SELECT status, adler32_expected, adler32 <> adler32_expected, attempt, rate_mb_s > 0 "
                      "FROM transfer_file WHERE obs_set = $1 AND filename = $2", night.obsSet, victim);
        QCOMPARE(std::string(row.text(0, 0)), std::string("QUARANTINED"));
        QCOMPARE(std::string(row.text(0, 1)), archive::formatAdler32(night.contents.files[1].adler32));
        QVERIFY(row.toBool(0, 2));
        QCOMPARE(row.toInt(0, 3), std::int64_t(1));

        // The camera side sends the file again, intact: a re-run copies only that one.
        flipBit(night.folder + "/" + victim, 100'000); // flipping it back
        reports = transfer::transferBuffer(t);
        QCOMPARE(reports[0].copied, 1);
        QCOMPARE(reports[0].alreadyThere, 4);
        QVERIFY(reports[0].complete());
        row = c.query("SELECT status, files_verified FROM transfer_obs_set WHERE obs_set = $1", night.obsSet);
        QCOMPARE(std::string(row.text(0, 0)), std::string("DONE"));
        QCOMPARE(row.toInt(0, 1), std::int64_t(5));
        QCOMPARE(c.query("SELECT attempt FROM transfer_file WHERE obs_set = $1 AND filename = $2", night.obsSet, victim)
                     .toInt(0, 0),
                 std::int64_t(2));
        QCOMPARE(c.query("SELECT max(attempt) FROM transfer_file WHERE obs_set = $1 AND filename <> $2", night.obsSet,
                         victim)
                     .toInt(0, 0),
                 std::int64_t(1));
    }

    void unreadableYamlFailsThatObsSetOnly() {
        QTemporaryDir dir;
        const std::string conninfo = test::freshJobDatabase("transfer_badyaml");
        QDir().mkpath(dir.filePath("buffer/20261120_001"));
        QDir().mkpath(dir.filePath("buffer/20261120_002"));
        std::ofstream(dir.filePath("buffer/20261120_001/20261120_001.yaml").toStdString()) << "obs_set: [broken\n";
        std::ofstream(dir.filePath("buffer/20261120_002/20261120_002.yaml").toStdString())
            << "obs_set: 20261120_002\nnight: 2026-11-20\nfiles: []\n";
        transfer::TransferOptions t;
        t.buffer = dir.filePath("buffer").toStdString();
        t.archive = archive::ArchiveLayout(dir.filePath("archive").toStdString());
        t.ledger = conninfo;
        const auto reports = transfer::transferBuffer(t);
        QCOMPARE(reports.size(), std::size_t(2));
        QVERIFY2(reports[0].error.find("20261120_001.yaml") != std::string::npos &&
                     reports[0].error.find("line") != std::string::npos,
                 reports[0].error.c_str());
        QVERIFY(reports[1].complete());
        db::Connection c = db::Connection::open(conninfo);
        QCOMPARE(std::string(c.query("SELECT status FROM transfer_obs_set WHERE obs_set = '20261120_001'").text(0, 0)),
                 std::string("FAILED"));
        QCOMPARE(std::string(c.query("SELECT status FROM transfer_obs_set WHERE obs_set = '20261120_002'").text(0, 0)),
                 std::string("DONE"));
    }

    void killedTransferLeavesNothingPartialUnderAFinalNameAndARerunCompletes() {
        // A big obs set made of real simulated mosaics, copied under many names, so that
        // the transfer runs long enough to be killed in the middle.
        QTemporaryDir dir;
        const std::string conninfo = test::freshJobDatabase("transfer_killed");
        pipelines::pixelsim::NightOptions o;
        o.buffer = dir.filePath("sim").toStdString();
        o.night = "2026-11-21";
        o.geometry = pipelines::paucam::Geometry::Small;
        o.bias = 1;
        o.flatsPerTray = 0;
        o.science = 2;
        const auto night = pipelines::pixelsim::simulateNight(o);
        archive::ObsSetManifest m = night.contents;
        const std::string folder = dir.filePath("buffer/" + QString::fromStdString(m.obsSet)).toStdString();
        QDir().mkpath(QString::fromStdString(folder));
        std::vector<archive::ObsSetFile> files;
        for (int i = 0; i < 60; ++i) {
            archive::ObsSetFile f = m.files[i % m.files.size()];
            const std::string name = "paucam." + std::to_string(1000 + i) + ".fits";
            std::filesystem::copy_file(night.folder + "/" + f.name, folder + "/" + name);
            f.name = name;
            files.push_back(f);
        }
        m.files = files;
        m.writeFile(folder + "/" + m.obsSet + ".yaml");
        const std::string archiveRoot = dir.filePath("archive").toStdString();
        const std::string raw = archiveRoot + "/raw/" + m.obsSet;
        const QStringList args{"transfer", "--from", dir.filePath("buffer"), "--archive", QString::fromStdString(archiveRoot),
                               "--streams", "2", "--no-register"};
        QProcess p;
        p.setProcessEnvironment(paudmEnvironment(conninfo));
        p.start(PAUDM_EXE, args);
        QVERIFY(p.waitForStarted());
        // Kill it once some files are in place and others are on their way.
        int finals = 0;
        for (int spins = 0; spins < 200'000 && p.state() == QProcess::Running; ++spins) {
            finals = 0;
            bool partial = false;
            std::error_code ec;
            for (std::filesystem::directory_iterator it(raw, ec), end; !ec && it != end; it.increment(ec)) {
                const std::string n = it->path().filename().string();
                partial = partial || n.find(".partial") != std::string::npos;
                finals += n.ends_with(".fits") && n[0] != '.';
            }
            if (finals >= 3 && partial) break;
            QThread::usleep(200);
        }
        QVERIFY2(p.state() == QProcess::Running, "the transfer ended before it could be killed: make the obs set bigger");
        ::kill(static_cast<pid_t>(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished());
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);

        // Whatever has a final name is whole and correct; the YAML (copied last) is not there.
        QVERIFY(!QFile::exists(QString::fromStdString(raw + "/" + m.obsSet + ".yaml")));
        int whole = 0, partials = 0;
        for (const auto& e : std::filesystem::directory_iterator(raw)) {
            const std::string n = e.path().filename().string();
            if (n[0] == '.') {
                ++partials;
                continue;
            }
            const auto f = std::find_if(m.files.begin(), m.files.end(), [&](auto& x) { return x.name == n; });
            QVERIFY2(f != m.files.end(), n.c_str());
            QCOMPARE(static_cast<std::int64_t>(e.file_size()), f->size);
            QCOMPARE(archive::adler32File(e.path().string()), f->adler32);
            ++whole;
        }
        QVERIFY2(whole >= 3 && whole < 60, qPrintable(QString("%1 whole files after the kill").arg(whole)));
        qInfo("killed with %d files in place and %d partial ones", whole, partials);
        db::Connection c = db::Connection::open(conninfo);
        QCOMPARE(std::string(c.query("SELECT status FROM transfer_obs_set WHERE obs_set = $1", m.obsSet).text(0, 0)),
                 std::string("RUNNING"));

        // The re-run skips what is in place, redoes the rest and cleans the partial files.
        QProcess again;
        again.setProcessEnvironment(paudmEnvironment(conninfo));
        again.start(PAUDM_EXE, args);
        QVERIFY(again.waitForFinished(120'000));
        const QString out = again.readAllStandardOutput();
        QVERIFY2(again.exitCode() == 0, qPrintable(out + again.readAllStandardError()));
        QVERIFY2(out.contains(QString("%1 already verified").arg(whole)), qPrintable(out));
        int count = 0;
        for (const auto& e : std::filesystem::directory_iterator(raw)) {
            const std::string n = e.path().filename().string();
            QVERIFY2(n[0] != '.', n.c_str());
            ++count;
        }
        QCOMPARE(count, 61);
        for (const auto& f : m.files) QCOMPARE(archive::adler32File(raw + "/" + f.name), f.adler32);
        QCOMPARE(std::string(c.query("SELECT status FROM transfer_obs_set WHERE obs_set = $1", m.obsSet).text(0, 0)),
                 std::string("DONE"));
        QCOMPARE(c.query("SELECT count(*) FROM transfer_file WHERE obs_set = $1 AND status = 'VERIFIED'", m.obsSet).toInt(0, 0),
                 std::int64_t(60));
    }

    void rsyncTransportIsVerifiedAsOurOwnCopies() {
        // rsync takes a local path as well as host:/path; what it delivers must pass the
        // same checks, whatever the transport.
        QTemporaryDir dir;
        const std::string conninfo = test::freshJobDatabase("transfer_rsync");
        pipelines::pixelsim::NightOptions o;
        o.buffer = dir.filePath("buffer").toStdString();
        o.night = "2026-11-22";
        o.geometry = pipelines::paucam::Geometry::Small;
        o.bias = 2;
        o.flatsPerTray = 0;
        o.science = 2;
        const auto night = pipelines::pixelsim::simulateNight(o);
        const std::string victim = night.contents.files[3].name;
        flipBit(night.folder + "/" + victim, 70'000);
        transfer::TransferOptions t;
        t.buffer = o.buffer;
        t.archive = archive::ArchiveLayout(dir.filePath("archive").toStdString());
        t.transport = "rsync";
        t.ledger = conninfo;
        auto reports = transfer::transferBuffer(t);
        QCOMPARE(reports.size(), std::size_t(1));
        QVERIFY2(reports[0].error.empty(), reports[0].error.c_str());
        QCOMPARE(reports[0].copied, 3);
        QCOMPARE(reports[0].quarantined, 1);
        QVERIFY2(reports[0].problems.front().find(victim + ": Adler32") != std::string::npos, reports[0].problems.front().c_str());
        const std::string raw = t.archive.rawDir(night.obsSet);
        QVERIFY(!QFile::exists(QString::fromStdString(raw + "/" + victim)));
        QVERIFY(QFile::exists(QString::fromStdString(t.archive.quarantineDir(night.obsSet) + "/" + victim)));
        db::Connection c = db::Connection::open(conninfo);
        QCOMPARE(c.query("SELECT count(*) FROM transfer_file WHERE obs_set = $1 AND status = 'VERIFIED' AND rate_mb_s > 0",
                         night.obsSet)
                     .toInt(0, 0),
                 std::int64_t(3));

        flipBit(night.folder + "/" + victim, 70'000); // sent again, intact
        reports = transfer::transferBuffer(t);
        QVERIFY(reports[0].complete());
        QCOMPARE(reports[0].copied, 1);
        QCOMPARE(reports[0].alreadyThere, 3);
        for (const auto& f : night.contents.files) QCOMPARE(archive::adler32File(raw + "/" + f.name), f.adler32);
        QVERIFY2(!QFile::exists(QString::fromStdString(raw + "/.incoming")), "the staging folder was left behind");
        QVERIFY(QFile::exists(QString::fromStdString(raw + "/" + night.obsSet + ".yaml")));
    }

    void remoteBuffersAreRecognisedAndAnUnreachableOneIsNamed() {
        QVERIFY(transfer::isRemoteBuffer("observatory:/data/buffer"));
        QVERIFY(transfer::isRemoteBuffer("pau@wht-buffer.ing.iac.es:buffer"));
        QVERIFY(transfer::isRemoteBuffer("rsync://buffer/paucam"));
        QVERIFY(!transfer::isRemoteBuffer("/data/buffer"));
        QVERIFY(!transfer::isRemoteBuffer("./a:b/buffer"));
        QVERIFY(!transfer::isRemoteBuffer("relative/dir"));
        QTemporaryDir dir;
        transfer::TransferOptions t;
        t.buffer = "nohost.invalid:/data/buffer";
        t.archive = archive::ArchiveLayout(dir.filePath("archive").toStdString());
        t.transport = "local";
        bool threw = false;
        try {
            transfer::transferBuffer(t);
        } catch (const Error& e) {
            threw = true;
            QVERIFY2(std::string(e.what()).find("nohost.invalid:/data/buffer") != std::string::npos, e.what());
        }
        QVERIFY(threw);
        t.transport = "auto";
        threw = false;
        try {
            transfer::transferBuffer(t);
        } catch (const Error& e) {
            threw = true;
            QVERIFY2(std::string(e.what()).find("nohost.invalid:/data/buffer") != std::string::npos, e.what());
        }
        QVERIFY(threw);
    }
};

QTEST_GUILESS_MAIN(TestTransfer)
#include "test_transfer.moc"
