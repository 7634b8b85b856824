// The Nightly report panel on seeded nights: what it shows against the rules the nights
// were made by, and that it follows the database by itself: a new exposure reduced, a new
// default cut set, each shown without a refresh.
#include "seed_nights.h"
#include "testserver.h"

#include "db/connection.h"
#include "db/migrations.h"
#include "quality/report.h"
#include "report/reportpanel.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QScatterSeries>
#include <QLabel>
#include <QLineEdit>
#include <QtTest>

using namespace paudm;

namespace {
constexpr int kNights = 2, kPerNight = 20, kCcds = 3;
}

class TestReportPanel : public QObject {
    Q_OBJECT
private slots:
    void showsTheNightsAndFollowsThemLive() {
        const std::string conninfo = test::TestServer::instance().freshDatabase("t_report_panel");
        db::Connection c = db::Connection::open(conninfo);
        db::migrate(c);
        test::seedNights(c, kNights, kPerNight, kCcds);
        const std::string first = test::seededExposure(0, 0, kPerNight).night,
                          last = test::seededExposure(kNights - 1, 0, kPerNight).night;

        ui::ReportPanel panel;
        // It shares the console's right-hand dock area, 560 pixels wide by default.
        QVERIFY2(panel.minimumSizeHint().width() <= 560 && panel.minimumWidth() <= 560, qPrintable(QString::number(panel.minimumSizeHint().width())));
        panel.resize(1200, 800);
        panel.show();
        panel.setDatabase(conninfo);
        panel.showNights(QString::fromStdString(first), QString::fromStdString(last));
        QTRY_VERIFY_WITH_TIMEOUT(panel.report() && panel.report()->exposures.size() == kNights * kPerNight, 10000);
        const quality::Report& r = *panel.report();
        QCOMPARE(r.cuts.label(), std::string("survey@1"));
        int failing = 0;
        for (int n = 0; n < kNights; ++n)
            for (int k = 0; k < kPerNight; ++k) {
                const auto want = test::expectedFailures(n, k, kPerNight);
                const auto& v = r.verdicts[static_cast<std::size_t>(n * kPerNight + k)];
                std::vector<std::string> got;
                for (const auto& f : v.failures) got.push_back(f.cut);
                std::sort(got.begin(), got.end());
                QCOMPARE(got, want);
                failing += !want.empty();
            }
        auto* table = panel.findChild<ui::FailingTableModel*>();
        QVERIFY(table);
        QCOMPARE(table->rowCount(), failing);

        // Any numeric column typed into a plot's box is read and plotted; one that is not a
        // column says so, and the report stays.
        auto* x = panel.findChild<QComboBox*>("x-quantity");
        QVERIFY(x);
        x->setEditText("image.psf_stars");
        QTest::keyClick(x->lineEdit(), Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(panel.report()->exposures.front().values.count("image.psf_stars"), 10000);
        QCOMPARE(panel.report()->exposures.front().values.at("image.psf_stars"), 20.0); // as seeded
        // ... and against time too: every exposure a point.
        x->setCurrentIndex(x->findData("time"));
        emit x->activated(x->currentIndex());
        QChart* overTime = nullptr;
        for (QChartView* v : panel.findChildren<QChartView*>())
            if (v->chart() && v->chart()->title().endsWith("against Time (UTC)")) overTime = v->chart();
        QVERIFY(overTime);
        qsizetype points = 0;
        for (QAbstractSeries* series : overTime->series())
            if (auto* sc = qobject_cast<QScatterSeries*>(series); sc && sc->name() != "fails a cut") points += sc->count();
        QCOMPARE(points, qsizetype(kNights * kPerNight)); // seeing against time: all measured
        x->setEditText("mosaic.nothing");
        QTest::keyClick(x->lineEdit(), Qt::Key_Return);
        auto problem = [&]() -> QLabel* {
            for (QLabel* l : panel.findChildren<QLabel*>())
                if (l->text().contains("has no column nothing")) return l;
            return nullptr;
        };
        QTRY_VERIFY_WITH_TIMEOUT(problem() != nullptr, 10000);
        QCOMPARE(int(panel.report()->exposures.size()), kNights * kPerNight);

        // single_epoch finishes one more exposure of the last night (what it writes, and
        // its notification): the panel shows it, not asked to.
        const auto m = c.query("INSERT INTO mosaic (obs_set_id, production_id, filename, archivepath, kind, date_obs, time_obs, "
                               "rjd_obs, airmass, exp_num, filtertray, detrend_status, astro_status, astro_ref_sigma) "
                               "SELECT obs_set_id, production_id, 'paucam.59999999.fits', archivepath, kind, date_obs, "
                               "time_obs + interval '1 minute', rjd_obs + 1.0 / 1440, 1.9, 59999999, filtertray, 'ok', 'ok', "
                               "0.03 FROM mosaic ORDER BY rjd_obs DESC LIMIT 1 RETURNING id");
        for (int ccd = 1; ccd <= 3; ++ccd)
            c.query("INSERT INTO image (mosaic_id, image_num, ccd_num, psf_fwhm, transparency) VALUES ($1, $2::int, $2::smallint, 1.45, 0.97)",
                    m.toInt(0, 0), ccd);
        c.query("SELECT pg_notify('paudm_nightly', 'test')");
        QTRY_VERIFY_WITH_TIMEOUT(panel.report()->exposures.size() == kNights * kPerNight + 1, 10000);
        QCOMPARE(panel.report()->exposures.back().file, std::string("paucam.59999999.fits"));
        QCOMPARE(panel.report()->verdicts.back().failures.size(), std::size_t(1)); // seeing 1.45
        QCOMPARE(panel.report()->verdicts.back().failures[0].cut, std::string("seeing"));
        QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), failing + 1, 10000);

        // Someone makes a stricter version the default: the panel judges by it.
        quality::CutSet v2 = quality::loadCutSet(c, "survey");
        v2.cuts.push_back({"airmass", std::nullopt, 1.8});
        quality::saveCutSet(c, v2, true);
        QTRY_COMPARE_WITH_TIMEOUT(panel.report()->cuts.label(), std::string("survey@2"), 10000);
        int strict = 0;
        for (int n = 0; n < kNights; ++n)
            for (int k = 0; k < kPerNight; ++k) strict += !test::expectedFailures(n, k, kPerNight, 1.3, 1.8).empty();
        QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), strict + 1, 10000);
    }
};

QTEST_MAIN(TestReportPanel)
#include "test_report_panel.moc"
