// Buffer retention: an obs set leaves the buffer only when every condition holds, and
// each condition that does not hold is named.
#include "jobtest.h"

#include "archive/obs_set.h"
#include "pipelines/pixelsim/simulator.h"
#include "transfer/retention.h"
#include "transfer/transfer.h"

#include <QDate>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

using namespace paudm;
namespace fs = std::filesystem;

namespace {

void flipBit(const std::string& path, std::streamoff offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(offset);
    char c;
    f.get(c);
    f.seekp(offset);
    f.put(static_cast<char>(c ^ 0x01));
}

using Condition = transfer::Hold::Condition;

/// True when `set` is held by `condition` (and, if given, its sentence says `detail`).
bool holds(const std::vector<transfer::ObsSetHold>& all, const std::string& set, Condition condition,
           const std::string& detail = {}) {
    for (const auto& h : all)
        if (h.obsSet == set)
            for (const auto& r : h.reasons)
                if (r.condition == condition && r.sentence.find(detail) != std::string::npos) return true;
    return false;
}

const transfer::ObsSetHold& holdOf(const std::vector<transfer::ObsSetHold>& all, const std::string& set) {
    for (const auto& h : all)
        if (h.obsSet == set) return h;
    throw Error("no obs set " + set);
}

std::string reasons(const std::vector<transfer::ObsSetHold>& all) {
    std::string out;
    for (const auto& h : all)
        for (const auto& r : h.reasons)
            out += h.obsSet + ": " + r.sentence + "\n";
    return out;
}

} // namespace

class TestRetention : public QObject {
    Q_OBJECT
private slots:
    void everyConditionHoldsTheObsSetUntilItIsMet() {
        QTemporaryDir dir;
        const std::string conninfo = test::freshJobDatabase("retention");
        db::Connection c = db::Connection::open(conninfo);
        pipelines::pixelsim::NightOptions o;
        o.buffer = dir.filePath("buffer").toStdString();
        o.geometry = pipelines::paucam::Geometry::Small;
        o.bias = 1;
        o.flatsPerTray = 1;
        o.trays = {"FT_NB455_NB525"};
        o.science = 1;
        o.night = "2026-01-20"; // long past the minimum age
        const auto old = pipelines::pixelsim::simulateNight(o);
        // The night before last: closed (at dawn) whatever the hour now, younger than 5 days.
        o.night = QDate::currentDate().addDays(-2).toString(Qt::ISODate).toStdString();
        const auto recent = pipelines::pixelsim::simulateNight(o);

        transfer::RetentionOptions r;
        r.buffer = o.buffer;
        r.archive = archive::ArchiveLayout(dir.filePath("archive").toStdString());
        r.conninfo = conninfo;

        // Nothing done yet: held for not being transferred (and everything after).
        auto status = transfer::retentionStatus(r);
        QCOMPARE(status.size(), std::size_t(2));
        QVERIFY2(holds(status, old.obsSet, Condition::NotTransferred), reasons(status).c_str());
        QVERIFY(holds(status, old.obsSet, Condition::NotRegistered));
        QVERIFY(holds(status, old.obsSet, Condition::NotReduced, "has not run"));
        QVERIFY(!holds(status, old.obsSet, Condition::TooYoung));
        QVERIFY(holds(status, recent.obsSet, Condition::TooYoung, "younger than the minimum age of 5.0 days"));
        QCOMPARE(holdOf(status, old.obsSet).files, 3);
        QVERIFY(transfer::cleanBuffer(r, false).empty());

        // Transferred with a bit flipped on the way: that file is not verified.
        const std::string victim = old.contents.files[1].name;
        flipBit(old.folder + "/" + victim, 50'000);
        transfer::TransferOptions t;
        t.buffer = o.buffer;
        t.archive = r.archive;
        t.ledger = conninfo;
        transfer::transferBuffer(t);
        status = transfer::retentionStatus(r);
        QVERIFY2(holds(status, old.obsSet, Condition::NotVerified,
                       "1 of 3 files not verified in the archive (" + victim + ": QUARANTINED)"),
                 reasons(status).c_str());
        QVERIFY(!holds(status, recent.obsSet, Condition::NotVerified));
        flipBit(old.folder + "/" + victim, 50'000); // the observatory sends it again
        transfer::transferBuffer(t);
        status = transfer::retentionStatus(r);
        QVERIFY2(!holds(status, old.obsSet, Condition::NotVerified), reasons(status).c_str());

        // Registered through the engine (the nightly reduction not yet: held by that alone).
        jobs::JobStore store(c);
        for (const auto& set : {old.obsSet, recent.obsSet}) {
            jobs::NewJob j;
            j.name = "register";
            j.config = {{"obs_set", QString::fromStdString(set)},
                        {"archive", QString::fromStdString(r.archive.root())},
                        {"nightly", false}};
            store.create(j, true);
        }
        test::runUntilIdle(conninfo, 2);
        status = transfer::retentionStatus(r);
        QVERIFY2(!holds(status, old.obsSet, Condition::NotRegistered), reasons(status).c_str());
        QCOMPARE(holdOf(status, old.obsSet).reasons.size(), std::size_t(1));
        QVERIFY(holds(status, old.obsSet, Condition::NotReduced, "has not run"));

        // The nightly reduction, for real. Aborted: not DONE. Then with the science frame cut
        // short in the archive: DONE, but its science mosaic not reduced, and that holds too.
        auto nightly = [&](const std::string& set) {
            jobs::NewJob j;
            j.name = "nightly";
            j.config = {{"obs_set", QString::fromStdString(set)},
                        {"archive", QString::fromStdString(r.archive.root())},
                        {"release", "R1"}};
            return store.create(j, true);
        };
        store.abort(nightly(old.obsSet));
        status = transfer::retentionStatus(r);
        QVERIFY2(holds(status, old.obsSet, Condition::NotReduced, "not DONE"), reasons(status).c_str());
        std::string science;
        for (const auto& f : old.contents.files)
            if (f.kind == "science") science = r.archive.rawDir(old.obsSet) + "/" + f.name;
        fs::copy_file(science, dir.filePath("intact.fits").toStdString());
        fs::resize_file(science, fs::file_size(science) / 2);
        nightly(old.obsSet);
        test::runUntilIdle(conninfo, 2);
        fs::remove(science);
        fs::rename(dir.filePath("intact.fits").toStdString(), science);
        status = transfer::retentionStatus(r);
        QVERIFY2(holds(status, old.obsSet, Condition::NotReduced, "incomplete: 0 of 1 science mosaics reduced"),
                 reasons(status).c_str());
        // Reduced again, whole: nothing holds it any more.
        nightly(old.obsSet);
        nightly(recent.obsSet);
        test::runUntilIdle(conninfo, 2);
        status = transfer::retentionStatus(r);
        QVERIFY2(holdOf(status, old.obsSet).releasable(), reasons(status).c_str());
        QCOMPARE(holdOf(status, recent.obsSet).reasons.size(), std::size_t(1)); // too young, nothing else
        QVERIFY(holds(status, recent.obsSet, Condition::TooYoung));

        // The archive copy is read again before the buffer copy goes: damage there keeps it.
        const std::string archived = r.archive.rawDir(old.obsSet) + "/" + old.contents.files[0].name;
        flipBit(archived, 10'000);
        auto cleaned = transfer::cleanBuffer(r, false);
        QCOMPARE(cleaned.size(), std::size_t(1));
        QVERIFY(!cleaned[0].removed);
        QVERIFY2(cleaned[0].problem.find(archived + ": Adler32") != std::string::npos, cleaned[0].problem.c_str());
        QVERIFY(fs::exists(old.folder));
        flipBit(archived, 10'000);

        // A dry run removes nothing; then the old obs set goes and the recent one stays.
        cleaned = transfer::cleanBuffer(r, true);
        QCOMPARE(cleaned.size(), std::size_t(1));
        QVERIFY(!cleaned[0].removed);
        QVERIFY(fs::exists(old.folder));
        cleaned = transfer::cleanBuffer(r, false);
        QCOMPARE(cleaned.size(), std::size_t(1));
        QVERIFY(cleaned[0].removed);
        QCOMPARE(cleaned[0].obsSet, old.obsSet);
        QVERIFY(!fs::exists(old.folder));
        QVERIFY(fs::exists(recent.folder));
        QVERIFY(c.query("SELECT buffer_cleaned IS NOT NULL FROM transfer_obs_set WHERE obs_set = $1", old.obsSet)
                    .toBool(0, 0));
        // The archive is untouched.
        for (const auto& f : old.contents.files)
            QVERIFY(fs::exists(r.archive.rawDir(old.obsSet) + "/" + f.name));

        // With a minimum age of 0 the recent one may go too.
        r.minAgeDays = 0;
        status = transfer::retentionStatus(r);
        QVERIFY2(holdOf(status, recent.obsSet).releasable(), reasons(status).c_str());
    }

    void agesParse() {
        QCOMPARE(transfer::parseAge("5d"), 5.0);
        QCOMPARE(transfer::parseAge("36h"), 1.5);
        QCOMPARE(transfer::parseAge("90m"), 90.0 / 1440);
        QCOMPARE(transfer::parseAge("0"), 0.0);
        for (const char* bad : {"", "5", "5x", "-1d", "d", "nand"}) {
            bool threw = false;
            try {
                transfer::parseAge(bad);
            } catch (const Error&) {
                threw = true;
            }
            QVERIFY2(threw, bad);
        }
    }
};

QTEST_GUILESS_MAIN(TestRetention)
#include "test_retention.moc"
