// The measuring half of single_epoch on a simulated night: `paudm detect` against what the
// pipeline stored for the same CCD, and the products sealed again after the astrometry.
#include "nightly_support.h"

#include "common/random.h"
#include "pipelines/nightly/products.h"
#include "wcs/wcs.h"

#include <QDate>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <numbers>

using namespace paudm;
using namespace paudm::test;
namespace pc = paudm::pipelines::paucam;
namespace ps = paudm::pipelines::pixelsim;

class TestSingleEpoch : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string conninfo_, archive_, truth_;
    ps::NightOptions night_;
    ps::NightResult a_;

    std::string reducedDir(const std::string& obsSet) const { return archive_ + "/red/" + kRelease + "/" + obsSet; }

private slots:
    void initTestCase() {
        if (qEnvironmentVariableIsSet("PAUDM_TEST_KEEP")) { // for a post-mortem
            dir_.setAutoRemove(false);
            qInfo("keeping %s", qPrintable(dir_.path()));
        }
        conninfo_ = freshJobDatabase("t_single_epoch");
        archive_ = dir_.filePath("archive").toStdString();
        truth_ = dir_.filePath("truth").toStdString();
        night_ = crowdedNight(dir_, truth_);
        a_ = ps::simulateNight(night_);
        {
            db::Connection c = db::Connection::open(conninfo_);
            ps::loadSky(c, ps::skyForNight(night_), "pixelsim");
        }
        runNight(conninfo_, night_.buffer, archive_);
        db::Connection c = db::Connection::open(conninfo_);
        QCOMPARE(statusOf(c, count(c, "SELECT id FROM job WHERE name = 'nightly'")), std::string("DONE"));
    }

    // paudm detect on a reduced CCD finds what single_epoch stored for it, at the same
    // places on the sky; on an image without WCS, pixel positions in the FITS convention
    // and empty sky columns; a missing HDU is an error that names it.
    void detectByHand() {
        db::Connection c = db::Connection::open(conninfo_);
        const auto r = c.exec("SELECT m.filename, i.ccd_num, i.id, i.n_extracted FROM image i JOIN mosaic m ON m.id = i.mosaic_id "
                              "WHERE m.kind = 'red_science' AND m.astro_status = 'ok' AND i.n_extracted > 5 "
                              "ORDER BY m.filename, i.ccd_num LIMIT 1");
        QCOMPARE(r.size(), 1);
        const std::string path = reducedDir(a_.obsSet) + "/" +
                                 pipelines::nightly::reducedCcdName(std::string(r.text(0, 0)), static_cast<int>(r.toInt(0, 1)));
        {
            // The solution was written into the file after it was sealed: sealed again, the
            // solution recorded, and the WCS written once.
            auto rf = fits::File::open(path);
            for (int h = 1; h <= rf.hduCount(); ++h) {
                rf.moveTo(h);
                QVERIFY2(rf.verifyChecksum(), qPrintable(QString::fromStdString(path + " " + rf.hduLabel())));
            }
            rf.moveTo(1);
            QCOMPARE(rf.keyString("ASTROSTA").value_or(""), std::string("ok"));
            const std::string header = rf.headerText();
            for (const char* key : {"CRPIX1  =", "CTYPE1  =", "CRVAL1  =", "LONPOLE ="}) {
                int n = 0;
                for (std::size_t at = 0; (at = header.find(key, at)) != std::string::npos; ++at) n += at % 80 == 0;
                QVERIFY2(n == 1, qPrintable(QString("%1 %2 times").arg(key).arg(n)));
            }
        }
        const QString csv = dir_.filePath("detect.csv");
        const Run run = runPaudm({"detect", QString::fromStdString(path), "--out", csv}, conninfo_);
        QVERIFY2(run.code == 0, qPrintable(run.err));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
        QVERIFY(lines.first().startsWith("id,x,y,ra,dec,flux_auto,flux_err_auto,"));
        QCOMPARE(lines.size() - 1, static_cast<int>(r.toInt(0, 3)));
        const auto det = c.query("SELECT x, y, ra, dec FROM detection WHERE image_id = $1", r.toInt(0, 2));
        int same = 0;
        for (int i = 1; i < lines.size(); ++i) {
            const QStringList v = lines[i].split(',');
            for (int k = 0; k < det.size(); ++k)
                if (std::fabs(det.toDouble(k, 0) - v[1].toDouble()) < 1e-4 && std::fabs(det.toDouble(k, 1) - v[2].toDouble()) < 1e-4 &&
                    std::fabs(det.toDouble(k, 2) - v[3].toDouble()) < 1e-7 && std::fabs(det.toDouble(k, 3) - v[4].toDouble()) < 1e-7) {
                    ++same;
                    break;
                }
        }
        QCOMPARE(same, lines.size() - 1);
        // No WCS: one star at 0-based (40, 30) is at FITS (41, 31).
        const std::string plain = dir_.filePath("plain.fits").toStdString();
        {
            std::vector<float> px(128 * 96, 100.0f);
            Rng rng = Rng::stream({77});
            for (int y = 0; y < 96; ++y)
                for (int x = 0; x < 128; ++x) {
                    const double r2 = (x - 40.0) * (x - 40.0) + (y - 30.0) * (y - 30.0);
                    px[static_cast<std::size_t>(y) * 128 + x] += static_cast<float>(5000 * std::exp(-r2 / (2 * 1.5 * 1.5)) + rng.normal(0, 10));
                }
            auto out = fits::File::create(plain, true);
            out.appendImage<float>({128, 96}, px);
            out.close();
        }
        const Run bare = runPaudm({"detect", QString::fromStdString(plain), "--out", csv}, conninfo_);
        QVERIFY2(bare.code == 0, qPrintable(bare.err));
        QVERIFY2(bare.out.contains("no WCS"), qPrintable(bare.out));
        QVERIFY(f.open(QIODevice::ReadOnly) || (f.close(), f.open(QIODevice::ReadOnly)));
        f.seek(0);
        const QStringList rows = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(rows.size(), 2);
        const QStringList v = rows[1].split(',');
        QVERIFY2(std::fabs(v[1].toDouble() - 41) < 0.05 && std::fabs(v[2].toDouble() - 31) < 0.05, qPrintable(rows[1]));
        QVERIFY(v[3].isEmpty() && v[4].isEmpty());
        const Run missing = runPaudm({"detect", QString::fromStdString(plain) + "[9]", "--out", csv}, conninfo_);
        QVERIFY(missing.code != 0);
        QVERIFY2(missing.err.contains("no HDU 9"), qPrintable(missing.err));
    }
};

QTEST_GUILESS_MAIN(TestSingleEpoch)
#include "test_single_epoch.moc"
