// core/wcs over wcslib: TAN pixel -> sky -> pixel round trips, agreement with the
// gnomonic projection computed independently, and headers in and out.
#include "fits/fits.h"
#include "wcs/wcs.h"

#include <QtTest>

#include <QTemporaryDir>

#include <cmath>

using paudm::Error;
using paudm::wcs::Pixel;
using paudm::wcs::Sky;
using paudm::wcs::Wcs;

namespace {

constexpr double kDeg = M_PI / 180.0;
// PAUCam: about 0.263 arcsec per pixel; a CCD of 4096 x 2048 pixels, slightly rotated.
constexpr double kScale = 0.263 / 3600.0;
constexpr double kRot = 0.7 * kDeg;
const double cd11 = -kScale * std::cos(kRot), cd12 = kScale * std::sin(kRot);
const double cd21 = kScale * std::sin(kRot), cd22 = kScale * std::cos(kRot);

/// Gnomonic (TAN) deprojection from the textbook formulas (Calabretta & Greisen 2002),
/// independent of wcslib.
Sky gnomonic(Pixel p, Pixel crpix, Sky crval) {
    const double dx = p.x - crpix.x, dy = p.y - crpix.y;
    const double xi = (cd11 * dx + cd12 * dy) * kDeg;
    const double eta = (cd21 * dx + cd22 * dy) * kDeg;
    const double a0 = crval.ra * kDeg, d0 = crval.dec * kDeg;
    const double denom = std::cos(d0) - eta * std::sin(d0);
    double ra = a0 + std::atan2(xi, denom);
    const double dec = std::atan2(eta * std::cos(d0) + std::sin(d0), std::hypot(xi, denom));
    ra = std::fmod(ra / kDeg + 360.0, 360.0);
    return {ra, dec / kDeg};
}

} // namespace

class TestWcs : public QObject {
    Q_OBJECT

private slots:
    void roundTripUnderOneNanopixel_data() {
        QTest::addColumn<double>("ra0");
        QTest::addColumn<double>("dec0");
        QTest::addColumn<double>("tolerance");
        QTest::newRow("COSMOS") << 150.1 << 2.2 << 1e-9;
        QTest::newRow("high dec") << 35.0 << 72.0 << 1e-9;
        // Across RA = 0 the sky positions are near 360 deg, where one step of a double is
        // 5.7e-14 deg = 7.8e-10 px at this scale: the round trip cannot beat a few of those.
        QTest::newRow("across RA 0") << 0.01 << -5.0 << 3 * (std::nextafter(360.0, 400.0) - 360.0) / kScale;
    }
    void roundTripUnderOneNanopixel() {
        QFETCH(double, ra0);
        QFETCH(double, dec0);
        QFETCH(double, tolerance);
        const Pixel crpix{2048.5, 1024.5};
        const Wcs w = Wcs::tan(crpix, {ra0, dec0}, cd11, cd12, cd21, cd22);
        QCOMPARE(w.projection(), std::string("TAN"));
        std::vector<Pixel> grid;
        for (double x = 1; x <= 4096; x += 255.3)
            for (double y = 1; y <= 2048; y += 127.7) grid.push_back({x, y});
        const auto sky = w.pixelToSky(grid);
        const auto back = w.skyToPixel(sky);
        double worst = 0, worstSky = 0;
        for (size_t i = 0; i < grid.size(); ++i) {
            worst = std::max(worst, std::hypot(back[i].x - grid[i].x, back[i].y - grid[i].y));
            const Sky ref = gnomonic(grid[i], crpix, {ra0, dec0});
            double dra = std::fabs(sky[i].ra - ref.ra);
            dra = std::min(dra, 360.0 - dra);
            worstSky = std::max(worstSky, std::hypot(dra * std::cos(ref.dec * kDeg), sky[i].dec - ref.dec));
        }
        QVERIFY2(worst < tolerance, qPrintable(QString("worst round trip %1 px").arg(worst)));
        // wcslib agrees with the independent formula to better than 1 micro-arcsecond.
        QVERIFY2(worstSky * 3600.0 < 1e-6, qPrintable(QString("worst sky difference %1 arcsec").arg(worstSky * 3600)));
        // The reference pixel lands on the reference position.
        const Sky c = w.pixelToSky(crpix);
        QVERIFY(std::fabs(c.ra - ra0) < 1e-12 && std::fabs(c.dec - dec0) < 1e-12);
    }

    void headerThroughFitsFile() {
        QTemporaryDir dir;
        const std::string file = dir.filePath("wcs.fits").toStdString();
        const Wcs w = Wcs::tan({100, 50}, {150.1, 2.2}, cd11, cd12, cd21, cd22);
        {
            auto f = paudm::fits::File::create(file);
            f.appendImage<float>({200, 100}, std::vector<float>(20000, 0.0f));
            f.writeCards(w.toHeader()); // the cards wcslib writes, read back through cfitsio
            f.close();
        }
        auto f = paudm::fits::File::open(file);
        const Wcs r = Wcs::fromFits(f);
        for (const Pixel p : {Pixel{1, 1}, Pixel{200, 100}, Pixel{37.25, 80.5}}) {
            const Sky a = w.pixelToSky(p), b = r.pixelToSky(p);
            QVERIFY(std::fabs(a.ra - b.ra) < 1e-11 && std::fabs(a.dec - b.dec) < 1e-11);
        }
    }

    void copiesAreIndependent() {
        Wcs a = Wcs::tan({1, 1}, {10, 10}, cd11, cd12, cd21, cd22);
        const Wcs b = a;
        a = Wcs::tan({1, 1}, {20, 20}, cd11, cd12, cd21, cd22);
        QVERIFY(std::fabs(b.pixelToSky({1, 1}).ra - 10.0) < 1e-12);
        QVERIFY(std::fabs(a.pixelToSky({1, 1}).ra - 20.0) < 1e-12);
    }

    void headerWithoutWcsIsAnError() {
        QTemporaryDir dir;
        const std::string file = dir.filePath("nowcs.fits").toStdString();
        {
            auto f = paudm::fits::File::create(file);
            f.appendImage<float>({10, 10}, std::vector<float>(100, 0.0f));
            f.close();
        }
        auto f = paudm::fits::File::open(file);
        try {
            (void)Wcs::fromFits(f);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("nowcs.fits"), e.what());
            QVERIFY2(QString(e.what()).contains("HDU 1"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestWcs)
#include "test_wcs.moc"
