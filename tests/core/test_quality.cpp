// The nightly report's cuts against nights whose numbers follow known rules (seed_nights.h):
// the verdicts and reasons the rules imply, versions that change exactly the verdicts
// they should, and definitions that are refused without changing the database.
#include "seed_nights.h"
#include "testserver.h"

#include "common/error.h"
#include "db/connection.h"
#include "db/migrations.h"
#include "quality/report.h"

#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <set>

using paudm::Error;
using paudm::db::Connection;
using paudm::test::seededExposure;
using paudm::test::TestServer;
namespace q = paudm::quality;

namespace {

constexpr int kNights = 3, kPerNight = 40, kCcds = 3;

std::set<std::string> expectedFailures(int n, int k, double seeingMax, double airmassMax) {
    const auto v = paudm::test::expectedFailures(n, k, kPerNight, seeingMax, airmassMax);
    return {v.begin(), v.end()};
}

std::set<std::string> failedCuts(const q::Verdict& v) {
    std::set<std::string> s;
    for (const auto& f : v.failures) s.insert(f.cut);
    return s;
}

/// Fields of one RFC 4180 line (quoted fields may hold commas and doubled quotes).
QStringList csvFields(const QString& line) {
    QStringList out;
    QString cur;
    bool quoted = false;
    for (int i = 0; i < line.size(); ++i) {
        const QChar ch = line[i];
        if (quoted) {
            if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') cur += '"', ++i;
            else if (ch == '"') quoted = false;
            else cur += ch;
        } else if (ch == '"') quoted = true;
        else if (ch == ',') out << cur, cur.clear();
        else cur += ch;
    }
    return out << cur;
}

} // namespace

class TestQuality : public QObject {
    Q_OBJECT
    std::string conninfo_;
    q::Selection all_;

private slots:
    void initTestCase() {
        conninfo_ = TestServer::instance().freshDatabase("t_quality");
        Connection c = Connection::open(conninfo_);
        paudm::db::migrate(c);
        paudm::test::seedNights(c, kNights, kPerNight, kCcds);
        all_.from = seededExposure(0, 0, kPerNight).night;
        all_.to = seededExposure(kNights - 1, 0, kPerNight).night;
    }

    // The default cut set (the pipeline's QC limits) over three nights: every exposure's
    // verdict and failed cuts as the rules say, the reasons with the values, the pass
    // rates per night and band as counted by hand.
    void defaultCutsOverThreeNights() {
        Connection c = Connection::open(conninfo_);
        const q::Report r = q::makeReport(c, all_, "");
        QCOMPARE(r.cuts.label(), std::string("survey@1"));
        QCOMPARE(int(r.exposures.size()), kNights * kPerNight);
        std::map<std::pair<std::string, std::string>, std::pair<int, int>> rates;
        int failing = 0;
        for (int n = 0; n < kNights; ++n)
            for (int k = 0; k < kPerNight; ++k) {
                const std::size_t i = static_cast<std::size_t>(n * kPerNight + k);
                const auto truth = seededExposure(n, k, kPerNight);
                const auto& e = r.exposures[i];
                QCOMPARE(e.expNum, truth.expNum); // time order
                QCOMPARE(e.night, truth.night);
                QVERIFY(std::fabs(e.values.at("seeing") - truth.seeing) < 1e-6);
                const auto want = expectedFailures(n, k, 1.3, 0);
                QCOMPARE(failedCuts(r.verdicts[i]), want);
                QCOMPARE(r.verdicts[i].pass, want.empty());
                failing += !want.empty();
                for (const auto& f : r.verdicts[i].failures)
                    if (f.cut == "seeing") {
                        QVERIFY(std::fabs(f.by - (truth.seeing - 1.3)) < 1e-6);
                        QVERIFY2(f.reason.find("over the maximum 1.3") != std::string::npos, f.reason.c_str());
                    } else if (f.cut == "transparency") {
                        QVERIFY(f.by < 0);
                        QVERIFY2(f.reason.find("under the minimum 0.8") != std::string::npos, f.reason.c_str());
                    } else if (f.cut == "astro") {
                        QCOMPARE(f.reason, std::string("astro status no_match (wants ok)"));
                    }
                auto& rate = rates[{truth.night, truth.band}];
                ++rate.first;
                rate.second += want.empty();
            }
        qInfo("%d of %d exposures fail survey@1", failing, kNights * kPerNight);
        // The rules make both kinds common enough for the test to mean something.
        QVERIFY2(failing > 20 && failing < 100, qPrintable(QString::number(failing)));
        QCOMPARE(int(r.rates.size()), int(rates.size()));
        for (const auto& p : r.rates) {
            const auto& want = rates.at({p.night, p.band});
            QCOMPARE(p.exposures, want.first);
            QCOMPARE(p.passed, want.second);
        }
        // One CSV row per failed cut, each with its ten fields.
        const QStringList lines = QString::fromStdString(q::failingCsv(r)).split("\r\n", Qt::SkipEmptyParts);
        int failures = 0;
        for (const auto& v : r.verdicts) failures += int(v.failures.size());
        QCOMPARE(lines.size(), failures + 1);
        for (const auto& l : lines) QCOMPARE(csvFields(l).size(), 10);
        // The html: a plot per quantity, and a row per failing exposure.
        const QString html = QString::fromStdString(q::reportHtml(r));
        QCOMPARE(html.count("<svg"), int(q::standardQuantities().size()));
        QCOMPARE(html.count("<td class='fail'>"), failing);
    }

    // A second version (seeing under 1.1, airmass under 1.8): saved with who, when and
    // what changed; it fails exactly the exposures the rules say, and only those change
    // verdict; the first version stays as it was and stays the default until told.
    void newVersionChangesExactlyTheVerdictsItShould() {
        Connection c = Connection::open(conninfo_);
        q::CutSet v2 = q::loadCutSet(c, "survey");
        v2.note = "deep fields want better seeing";
        for (auto& cut : v2.cuts)
            if (cut.quantity == "seeing") cut.max = 1.1;
        v2.cuts.push_back({"airmass", std::nullopt, 1.8});
        const q::CutSet saved = q::saveCutSet(c, v2);
        QCOMPARE(saved.label(), std::string("survey@2"));
        QCOMPARE(saved.author, std::string(c.query("SELECT current_user").text(0, 0)));
        QCOMPARE(saved.changes, std::string("seeing max 1.3 -> max 1.1; added airmass max 1.8"));
        QVERIFY(!saved.isDefault);
        // The same definition again: no new version.
        QCOMPARE(q::saveCutSet(c, v2).version, 2);
        QCOMPARE(q::loadCutSet(c, "").label(), std::string("survey@1"));

        const auto exposures = q::loadExposures(c, all_);
        const auto a = q::evaluate(q::loadCutSet(c, "survey@1"), exposures);
        const auto b = q::evaluate(q::loadCutSet(c, "survey"), exposures);
        std::vector<std::size_t> want;
        for (int n = 0; n < kNights; ++n)
            for (int k = 0; k < kPerNight; ++k) {
                const std::size_t i = static_cast<std::size_t>(n * kPerNight + k);
                QCOMPARE(failedCuts(b[i]), expectedFailures(n, k, 1.1, 1.8));
                if (expectedFailures(n, k, 1.3, 0).empty() != expectedFailures(n, k, 1.1, 1.8).empty()) want.push_back(i);
            }
        QCOMPARE(q::changedVerdicts(a, b), want);
        qInfo("survey@2 changes %zu verdicts", want.size());
        QVERIFY2(want.size() >= 10, qPrintable(QString::number(want.size())));

        QCOMPARE(q::setDefaultCutSet(c, "survey@2").label(), std::string("survey@2"));
        QCOMPARE(q::loadCutSet(c, "").label(), std::string("survey@2"));
        QCOMPARE(c.query("SELECT count(*) FROM quality_cut_set WHERE is_default").toInt(0, 0), 1);
        q::setDefaultCutSet(c, "survey@1");
    }

    // The html report in a real browser (headless Chromium): its DOM holds the eight plots
    // with a point per measured exposure and a ring per failing one, and the rendered page
    // shows them (pixels in the first band's colour and in the rings' red).
    void htmlRendersInChromium() {
        Connection c = Connection::open(conninfo_);
        const q::Report r = q::makeReport(c, all_, "survey@1");
        QTemporaryDir dir;
        const QString html = dir.filePath("report.html"), png = dir.filePath("report.png");
        {
            QFile f(html);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray::fromStdString(q::reportHtml(r)));
        }
        const QString chromium = QStandardPaths::findExecutable("chromium");
        QVERIFY2(!chromium.isEmpty(), "chromium is missing: packaging/install-deps.sh installs it");
        auto run = [&](const QStringList& extra) {
            QProcess p;
            p.setProcessEnvironment([&] {
                auto env = QProcessEnvironment::systemEnvironment();
                env.insert("HOME", dir.path()); // its profile, not the user's
                return env;
            }());
            p.start(chromium, QStringList{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                          "--user-data-dir=" + dir.filePath("profile")} +
                                  extra + QStringList{QUrl::fromLocalFile(html).toString()});
            if (!p.waitForFinished(60000)) p.kill();
            return p.readAllStandardOutput();
        };
        const QString dom = QString::fromUtf8(run({"--dump-dom"}));
        QCOMPARE(dom.count("<svg"), 8);
        int points = 0, failing = 0;
        for (std::size_t k = 0; k < r.exposures.size(); ++k) {
            for (const auto& qq : q::standardQuantities()) points += r.exposures[k].values.count(qq.key) ? 1 : 0;
            if (!r.verdicts[k].pass)
                for (const auto& qq : q::standardQuantities()) failing += r.exposures[k].values.count(qq.key) ? 1 : 0;
        }
        QCOMPARE(dom.count("<circle"), points + failing);
        run({"--window-size=1400,3000", "--screenshot=" + png});
        QImage img(png);
        QVERIFY2(!img.isNull(), "chromium wrote no screenshot");
        int blue = 0, red = 0;
        for (int y = 0; y < img.height(); ++y)
            for (int x = 0; x < img.width(); ++x) {
                const QColor px = img.pixelColor(x, y);
                blue += std::abs(px.red() - 0x1f) < 12 && std::abs(px.green() - 0x77) < 12 && std::abs(px.blue() - 0xb4) < 12;
                red += px.red() > 180 && px.green() < 80 && px.blue() < 80;
            }
        qInfo("chromium: %d points, %d rings; %d blue and %d red pixels", points, failing, blue, red);
        // A fifth of the points are the first band's: at least 5 pixels of each, drawn with a
        // radius of 4 (50 pixels) and partly under rings and neighbours.
        QVERIFY2(blue > points, qPrintable(QString::number(blue)));
        QVERIFY2(red > 10 * failing, qPrintable(QString::number(red)));
    }

    // Any numeric column of the mosaic or (as the CCDs' median) image rows may be cut on;
    // a column that is not a number or not there, an unknown status, limits the wrong way
    // round, bad JSON and bad names are refused with the reason, and nothing is saved.
    void columnsAndBadDefinitions() {
        Connection c = Connection::open(conninfo_);
        q::CutSet s;
        s.name = "stars";
        q::definitionFromJson(s, R"({"cuts": [{"quantity": "image.psf_stars", "min": 25}, {"quantity": "mosaic.exp_time", "max": 200}]})");
        q::saveCutSet(c, s);
        const auto r = q::makeReport(c, all_, "stars");
        for (const auto& v : r.verdicts) {
            QCOMPARE(failedCuts(v), std::set<std::string>{"image.psf_stars"}); // 20 stars each, 120 s exposures
            QVERIFY(std::fabs(v.failures[0].by - (20 - 25)) < 1e-9);
        }
        const auto before = c.query("SELECT count(*) FROM quality_cut_set").toInt(0, 0);
        auto refused = [&](const char* json, const char* name, const char* why) {
            q::CutSet bad;
            bad.name = name;
            try {
                q::definitionFromJson(bad, json);
                q::saveCutSet(c, bad);
            } catch (const Error& e) {
                if (std::string(e.what()).find(why) == std::string::npos)
                    QFAIL(qPrintable(QString("'%1': %2").arg(json, e.what())));
                return;
            }
            QFAIL(qPrintable(QString("accepted: %1").arg(json)));
        };
        refused(R"({"cuts": [{"quantity": "mosaic.filename", "max": 1}]})", "text", "is not a number (text)");
        refused(R"({"cuts": [{"quantity": "mosaic.nothing", "max": 1}]})", "absent", "has no column nothing");
        refused(R"({"cuts": [{"quantity": "mosaic.id; DROP TABLE mosaic", "max": 1}]})", "inject", "unknown quantity");
        refused(R"({"cuts": [{"quantity": "seeing", "min": 2, "max": 1}]})", "order", "min 2 over max 1");
        refused(R"({"cuts": [{"quantity": "seeing"}]})", "open", "neither min nor max");
        refused(R"({"statuses": {"weather": ["ok"]}})", "status", "unknown status 'weather'");
        refused(R"({"cuts": [}})", "json", "not a JSON object");
        refused(R"({"cuts": []})", "bad name", "letters, digits");
        QCOMPARE(c.query("SELECT count(*) FROM quality_cut_set").toInt(0, 0), before);
        QCOMPARE(c.query("SELECT count(*) FROM mosaic").toInt(0, 0), kNights * kPerNight);
        try {
            q::loadCutSet(c, "survey@x");
            QFAIL("a version that is not a number was accepted");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("must be a number") != std::string::npos);
        }
    }
};

QTEST_GUILESS_MAIN(TestQuality)
#include "test_quality.moc"
