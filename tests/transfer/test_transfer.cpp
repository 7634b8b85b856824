// The transfer of simulated obs sets from a buffer into an archive, with its ledger.
#include "jobtest.h"

#include "archive/checksum.h"
#include "archive/obs_set.h"
#include "pipelines/pixelsim/simulator.h"
#include "transfer/transfer.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

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
};

QTEST_GUILESS_MAIN(TestTransfer)
#include "test_transfer.moc"
