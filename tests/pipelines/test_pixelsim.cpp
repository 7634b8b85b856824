// pixelsim: the files are valid and complete, and their pixels agree with the truth.
//
// One small-geometry night (2 bias, 2 flats for each of 2 trays, 6 science) is simulated
// once; each test measures something in its pixels the way a pipeline would, from the
// raw ADU and the overscan, and compares it with the truth written beside it.
#include "jobtest.h"

#include "archive/obs_set.h"
#include "fits/fits.h"
#include "pipelines/pixelsim/simulator.h"
#include "wcs/wcs.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <set>

using namespace paudm;
using namespace paudm::pipelines;
using namespace paudm::pipelines::pixelsim;

namespace {

std::uint32_t bruteAdler32(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::uint32_t a = 1, b = 0;
    for (unsigned char c : bytes) {
        a = (a + c) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}

QJsonObject readJson(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) throw Error(path + ": cannot read");
    return QJsonDocument::fromJson(f.readAll()).object();
}

/// One raw amplifier: its pixels and the overscan level of each row.
struct Amp {
    int width = 0, height = 0, dataWidth = 0;
    std::vector<double> adu;
    std::vector<double> overscanRow;
    double at(int x, int y) const { return adu[static_cast<std::size_t>(y) * width + x]; } // 0-based
    /// Bias-subtracted value of a data pixel, in ADU.
    double signal(int x, int y) const { return at(x, y) - overscanRow[y]; }
};

Amp readAmp(fits::File& f, int ext) {
    f.moveTo(ext + 1);
    Amp a;
    const auto info = f.imageInfo();
    a.width = static_cast<int>(info.axes[0]);
    a.height = static_cast<int>(info.axes[1]);
    const std::string datasec = f.requireString("DATASEC"); // [1:W,1:H]
    a.dataWidth = std::stoi(datasec.substr(datasec.find(':') + 1));
    a.adu = f.readImage<double>();
    for (int y = 0; y < a.height; ++y) {
        double s = 0;
        for (int x = a.dataWidth; x < a.width; ++x) s += a.at(x, y);
        a.overscanRow.push_back(s / (a.width - a.dataWidth));
    }
    return a;
}

double median(std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
}

/// Standard deviation after clipping at 5 sigma (cosmic rays), twice.
double clippedStd(const std::vector<double>& v) {
    double mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size(), sd = 1e30;
    for (int pass = 0; pass < 3; ++pass) {
        double s = 0, s2 = 0;
        int n = 0;
        for (double x : v)
            if (std::abs(x - mean) < 5 * sd) {
                s += x;
                s2 += x * x;
                ++n;
            }
        mean = s / n;
        sd = std::sqrt(s2 / n - mean * mean);
    }
    return sd;
}

} // namespace

class TestPixelsim : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    NightOptions options_;
    NightResult night_;
    std::string buffer_, truth_;

    std::string truthOf(const std::string& file) const { return night_.truthFolder + "/" + file + ".json"; }
    std::vector<const archive::ObsSetFile*> filesOfKind(const std::string& kind) const {
        std::vector<const archive::ObsSetFile*> v;
        for (const auto& f : night_.contents.files)
            if (f.kind == kind) v.push_back(&f);
        return v;
    }
    std::string pathOf(const archive::ObsSetFile& f) const { return night_.folder + "/" + f.name; }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        buffer_ = dir_.filePath("buffer").toStdString();
        truth_ = dir_.filePath("truth").toStdString();
        options_.buffer = buffer_;
        options_.truth = truth_;
        options_.night = "2026-03-10";
        options_.geometry = paucam::Geometry::Small;
        options_.bias = 2;
        options_.flatsPerTray = 2;
        options_.trays = {"FT_NB455_NB525", "FT_NB535_NB605"};
        options_.science = 6;
        options_.seed = 20260310;
        options_.threads = 2;
        night_ = simulateNight(options_);
    }

    void obsSetIsCompleteAndItsChecksumsMatch() {
        QCOMPARE(night_.obsSet, std::string("20260310_001"));
        QVERIFY(QDir(QString::fromStdString(night_.folder)).exists());
        // Nothing half-written is left in the buffer: only the finished obs set.
        QCOMPARE(QDir(QString::fromStdString(buffer_)).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
                 QStringList{"20260310_001"});
        const auto m = archive::ObsSetManifest::readFile(archive::manifestPathIn(night_.folder));
        QCOMPARE(m.files.size(), std::size_t(12));
        QCOMPARE(filesOfKind("bias").size(), std::size_t(2));
        QCOMPARE(filesOfKind("flat").size(), std::size_t(4));
        QCOMPARE(filesOfKind("science").size(), std::size_t(6));
        QCOMPARE(m.night, std::string("2026-03-10"));
        for (const auto& f : m.files) {
            const std::string path = night_.folder + "/" + f.name;
            QCOMPARE(static_cast<std::int64_t>(QFileInfo(QString::fromStdString(path)).size()), f.size);
            QCOMPARE(bruteAdler32(path), f.adler32); // computed here from the definition
        }
    }

    void everyFilePassesFitsverifyWithValidChecksums() {
        for (const auto& f : night_.contents.files) {
            QProcess p;
            p.start("fitsverify", {"-q", QString::fromStdString(pathOf(f))});
            QVERIFY2(p.waitForFinished(60000), "fitsverify did not finish (is Debian's fitsverify installed?)");
            const QString out = p.readAllStandardOutput() + p.readAllStandardError();
            QVERIFY2(p.exitCode() == 0 && out.startsWith("verification OK"), qPrintable(out));
            auto file = fits::File::open(pathOf(f));
            QCOMPARE(file.hduCount(), 73);
            for (int h = 1; h <= 73; ++h) {
                file.moveTo(h);
                QVERIFY2(file.verifyChecksum(), qPrintable(QString::fromStdString(f.name + " " + file.hduLabel())));
            }
        }
    }

    void headersCarryWhatTheRegisterNeeds() {
        const auto* sci = filesOfKind("science").front();
        auto f = fits::File::open(pathOf(*sci));
        for (const char* k : {"DATE-OBS", "TIME-OBS", "EXPTIME", "RA", "DEC", "EQUINOX", "AIRMASS", "OBSTYPE", "OBJECT",
                              "FILTTRAY", "EXPNUM", "INSTRUME", "TELFOCUS", "AMBTEMP", "HUMIDITY", "PRESSURE", "WINDSPD",
                              "WINDDIR", "GUIDING", "GUIFWHM", "GUIVAR", "NEXTEND", "MJD-OBS"})
            QVERIFY2(f.hasKey(k), k);
        QCOMPARE(f.requireString("OBSTYPE"), std::string("science"));
        QCOMPARE(f.requireInt("NEXTEND"), 72LL);
        const paucam::Tray& tray = paucam::tray(f.requireString("FILTTRAY"));
        std::set<std::string> names;
        for (int ext = 1; ext <= 72; ++ext) {
            f.moveTo(ext + 1);
            for (const char* k : {"CCDNUM", "AMPNUM", "FILTER", "WAVELENG", "GAIN", "RDNOISE", "SATURATE", "DATASEC",
                                  "BIASSEC", "EXTNAME", "CTYPE1", "CTYPE2", "CRVAL1", "CRVAL2", "CRPIX1", "CRPIX2"})
                QVERIFY2(f.hasKey(k), qPrintable(QString::fromStdString(f.hduLabel() + " lacks ") + k));
            QVERIFY(f.hasKey("CD1_1") || f.hasKey("PC1_1"));
            QCOMPARE(f.requireString("CTYPE1"), std::string("RA---TAN"));
            const int ccd = static_cast<int>(f.requireInt("CCDNUM")), amp = static_cast<int>(f.requireInt("AMPNUM"));
            QCOMPARE((ccd - 1) * 4 + amp, ext);
            QCOMPARE(f.requireString("FILTER"), tray.filterOfCcd[ccd - 1]);
            QCOMPARE(f.imageInfo().equivalentBitpix, 20); // unsigned 16-bit (BZERO 32768)
            names.insert(f.requireString("EXTNAME"));
            // The narrow bands are on the 8 central CCDs.
            QCOMPARE(f.requireString("FILTER").starts_with("NB"), paucam::placements()[ccd - 1].central);
        }
        QCOMPARE(names.size(), std::size_t(72));
    }

    void sameSeedGivesTheSameBytesWhateverTheThreads() {
        NightOptions again = options_;
        again.buffer = dir_.filePath("again").toStdString();
        again.truth.clear();
        again.threads = 1;
        const auto r = simulateNight(again);
        QCOMPARE(r.contents.files.size(), night_.contents.files.size());
        for (std::size_t i = 0; i < r.contents.files.size(); ++i)
            QCOMPARE(r.contents.files[i].adler32, night_.contents.files[i].adler32);
        // A second obs set of the same night in the same buffer gets the next counter.
        NightOptions second = again;
        second.bias = 1;
        second.flatsPerTray = 0;
        second.science = 0;
        QCOMPARE(simulateNight(second).obsSet, std::string("20260310_002"));
    }

    void truthMustNotTravelWithTheRawData() {
        NightOptions bad = options_;
        bad.truth = buffer_ + "/truth";
        try {
            simulateNight(bad);
            QFAIL("a truth folder inside the buffer was accepted");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("inside the buffer") != std::string::npos, e.what());
        }
        QVERIFY(!QDir(QString::fromStdString(buffer_ + "/truth")).exists());
    }

    void biasLevelAndReadNoisePerAmplifier() {
        const auto biases = filesOfKind("bias");
        auto f1 = fits::File::open(pathOf(*biases[0])), f2 = fits::File::open(pathOf(*biases[1]));
        const auto t1 = readJson(truthOf(biases[0]->name))["amplifiers"].toArray();
        double worstLevel = 0, worstNoise = 0;
        for (int ext = 1; ext <= 72; ++ext) {
            const Amp a = readAmp(f1, ext), b = readAmp(f2, ext);
            const QJsonObject t = t1[ext - 1].toObject();
            // Level: the mean of the data rows past the readout ramp. The fixed column
            // pattern (0.8 ADU rms) averages to 0.8/sqrt(columns); allow 5 of those.
            double sum = 0;
            std::vector<double> diff;
            int n = 0;
            for (int y = 60; y < a.height; ++y)
                for (int x = 0; x < a.dataWidth; ++x) {
                    sum += a.at(x, y);
                    ++n;
                    diff.push_back(a.at(x, y) - b.at(x, y));
                }
            const double level = sum / n;
            const double tolerance = 5 * 0.8 / std::sqrt(a.dataWidth) + 0.05;
            worstLevel = std::max(worstLevel, std::abs(level - t["bias_level"].toDouble()) / tolerance);
            // Noise: two frames' difference cancels every fixed pattern; what is left is
            // sqrt(2) x the read noise in ADU, plus the rounding to integers (1/12 ADU^2).
            const double rn = t["read_noise"].toDouble() / t["gain"].toDouble();
            const double expected = std::sqrt(rn * rn + 1.0 / 12);
            const double measured = clippedStd(diff) / std::sqrt(2.0);
            // Standard error of a standard deviation from N values: sigma / sqrt(2N).
            const double noiseTolerance = 5 * expected / std::sqrt(2.0 * diff.size()) + 0.01 * expected;
            worstNoise = std::max(worstNoise, std::abs(measured - expected) / noiseTolerance);
        }
        QVERIFY2(worstLevel < 1, qPrintable(QString("bias level off by %1 tolerances").arg(worstLevel)));
        QVERIFY2(worstNoise < 1, qPrintable(QString("read noise off by %1 tolerances").arg(worstNoise)));
    }

    void flatsAreTheLampTimesTheIllumination() {
        const auto layout = paucam::Layout::of(options_.geometry);
        for (const auto* flat : filesOfKind("flat")) {
            auto f = fits::File::open(pathOf(*flat));
            const QJsonObject truth = readJson(truthOf(flat->name));
            const double lamp = truth["lamp_electrons"].toDouble();
            QVERIFY(lamp > 20000);
            const auto amps = truth["amplifiers"].toArray();
            const paucam::Tray& tray = paucam::tray(truth["filter_tray"].toString().toStdString());
            for (int ext = 1; ext <= 72; ++ext) {
                const Amp a = readAmp(f, ext);
                const int ccd = (ext - 1) / 4 + 1, amp = (ext - 1) % 4 + 1;
                const auto& place = paucam::placements()[ccd - 1];
                const auto& filter = paucam::filter(tray.filterOfCcd[ccd - 1]);
                const double gain = amps[ext - 1].toObject()["gain"].toDouble();
                std::vector<double> ratio;
                for (int y = 0; y < a.height; ++y)
                    for (int x = 0; x < a.dataWidth; ++x) {
                        const double cx = x + 1 + paucam::ampColumn(amp) * layout.ampWidth;
                        const double cy = y + 1 + paucam::ampRow(amp) * layout.ampHeight;
                        const double u = place.centreX + cx - (layout.ccdWidth + 1) / 2.0;
                        const double v = place.centreY + cy - (layout.ccdHeight + 1) / 2.0;
                        ratio.push_back(a.signal(x, y) * gain / (lamp * illumination(u, v, filter)));
                    }
                // The pixel response scatters 1% around 1 and Poisson noise 0.6%: the
                // median of 32768 pixels is 1 to better than 1e-4. Bad columns and cosmic
                // rays touch a few hundred pixels at most.
                const double m = median(ratio);
                QVERIFY2(std::abs(m - 1) < 2e-3,
                         qPrintable(QString("%1 ext %2: flat/(lamp x illumination) = %3")
                                        .arg(QString::fromStdString(flat->name)).arg(ext).arg(m, 0, 'f', 5)));
            }
        }
    }

    void skyLevelAgreesWithTheTruth() {
        const auto layout = paucam::Layout::of(options_.geometry);
        double worst = 0;
        for (const auto* sci : filesOfKind("science")) {
            auto f = fits::File::open(pathOf(*sci));
            const QJsonObject truth = readJson(truthOf(sci->name));
            const auto amps = truth["amplifiers"].toArray();
            const auto ccds = truth["ccds"].toArray();
            for (int ext = 1; ext <= 72; ++ext) {
                const Amp a = readAmp(f, ext);
                const int ccd = (ext - 1) / 4 + 1, amp = (ext - 1) % 4 + 1;
                const auto& place = paucam::placements()[ccd - 1];
                const QJsonObject ct = ccds[ccd - 1].toObject();
                const auto& filter = paucam::filter(ct["filter"].toString().toStdString());
                const double gain = amps[ext - 1].toObject()["gain"].toDouble();
                const double sky = ct["sky_electrons"].toDouble();
                QVERIFY(sky > 10); // a dark narrow band gets ~1 e-/s/pixel
                std::vector<double> ratio;
                for (int y = 0; y < a.height; ++y)
                    for (int x = 0; x < a.dataWidth; ++x) {
                        const double u = place.centreX + x + 1 + paucam::ampColumn(amp) * layout.ampWidth -
                                         (layout.ccdWidth + 1) / 2.0;
                        const double v = place.centreY + y + 1 + paucam::ampRow(amp) * layout.ampHeight -
                                         (layout.ccdHeight + 1) / 2.0;
                        ratio.push_back(a.signal(x, y) * gain / (sky * illumination(u, v, filter)));
                    }
                // Objects raise the median a little (they cover a few per cent of the pixels,
                // mostly below the noise); the median's own error is below 0.1%.
                worst = std::max(worst, std::abs(median(ratio) - 1));
            }
        }
        QVERIFY2(worst < 0.01, qPrintable(QString("sky level off by %1").arg(worst)));
    }

    void isolatedBrightStarsHaveTheirTrueFluxAndPosition() {
        const auto layout = paucam::Layout::of(options_.geometry);
        const SkyCatalog sky = skyForNight(options_);
        const double scale = paucam::kPixelScale / 3600, beta = 3;
        int measuredStars = 0;
        double sumPull = 0, worstPull = 0, worstCentroid = 0;
        for (const auto* sci : filesOfKind("science")) {
            auto f = fits::File::open(pathOf(*sci));
            const QJsonObject truth = readJson(truthOf(sci->name));
            const auto amps = truth["amplifiers"].toArray();
            const auto ccds = truth["ccds"].toArray();
            const double exptime = truth["exptime"].toDouble();
            const double rho = truth["rotation_deg"].toDouble() * M_PI / 180;
            // Where the sky falls on the focal plane: the TRUE pointing from the truth.
            const auto w = wcs::Wcs::tan({0, 0}, {truth["true_ra"].toDouble(), truth["true_dec"].toDouble()},
                                         -scale * std::cos(rho), scale * std::sin(rho), scale * std::sin(rho),
                                         scale * std::cos(rho));
            std::vector<wcs::Sky> starSky, galSky;
            for (const auto& s : sky.stars) { // moved by their proper motions to the night
                const auto [ra, dec] = s.at(truth["mjd"].toDouble());
                starSky.push_back({ra, dec});
            }
            for (const auto& g : sky.galaxies) galSky.push_back({g.ra, g.dec});
            const auto starFp = w.skyToPixel(starSky), galFp = w.skyToPixel(galSky);
            std::vector<std::pair<double, double>> cosmics;
            for (const auto& c : truth["cosmic_rays"].toArray()) {
                const auto o = c.toObject();
                cosmics.push_back({o["ccd"].toDouble() * 1e6 + o["x"].toDouble(), o["y"].toDouble()});
            }
            for (std::size_t i = 0; i < sky.stars.size(); ++i) {
                for (const auto& place : paucam::placements()) {
                    const double x = starFp[i].x - place.centreX + (layout.ccdWidth + 1) / 2.0;
                    const double y = starFp[i].y - place.centreY + (layout.ccdHeight + 1) / 2.0;
                    if (x < 1 || y < 1 || x > layout.ccdWidth || y > layout.ccdHeight) continue;
                    const QJsonObject ct = ccds[place.ccd - 1].toObject();
                    const auto& filter = paucam::filter(ct["filter"].toString().toStdString());
                    const double fwhm = ct["seeing_fwhm"].toDouble() / paucam::kPixelScale;
                    const double alpha = fwhm / (2 * std::sqrt(std::pow(2.0, 1 / beta) - 1));
                    const double R = 2.5 * fwhm;
                    const double flux = std::pow(10.0, -0.4 * (sky.stars[i].mag(filter) -
                                                               ct["zero_point_effective"].toDouble())) * exptime;
                    const double u0 = starFp[i].x, v0 = starFp[i].y;
                    const double illum = illumination(u0, v0, filter);
                    const double peak = flux * (beta - 1) / (M_PI * alpha * alpha) * illum;
                    if (flux * illum < 10000 || peak > 80000) continue; // S/N > 50, far from full well
                    const int amp = 1 + (x > layout.ampWidth + 0.5 ? 1 : 0) + (y > layout.ampHeight + 0.5 ? 2 : 0);
                    const double ax = x - paucam::ampColumn(amp) * layout.ampWidth;
                    const double ay = y - paucam::ampRow(amp) * layout.ampHeight;
                    if (ax - R < 2 || ay - R < 2 || ax + R > layout.ampWidth - 1 || ay + R > layout.ampHeight - 1) continue;
                    // Isolated: no other star or galaxy brighter than 0.3% of it nearby,
                    // no cosmic ray, no bad column in the aperture.
                    bool crowded = false;
                    for (std::size_t j = 0; j < sky.stars.size() && !crowded; ++j)
                        if (j != i && std::hypot(starFp[j].x - u0, starFp[j].y - v0) < 2 * R + 15 &&
                            std::pow(10.0, -0.4 * (sky.stars[j].magR - sky.stars[i].magR)) > 0.003)
                            crowded = true;
                    for (std::size_t j = 0; j < sky.galaxies.size() && !crowded; ++j)
                        if (std::hypot(galFp[j].x - u0, galFp[j].y - v0) < 2 * R + 15 &&
                            std::pow(10.0, -0.4 * (sky.galaxies[j].mag(filter) - sky.stars[i].mag(filter))) > 0.003)
                            crowded = true;
                    for (const auto& c : cosmics)
                        if (std::abs(c.first - (place.ccd * 1e6 + x)) < R + 8 && std::abs(c.second - y) < R + 8)
                            crowded = true;
                    for (const auto& b : truth["bad_columns"].toArray())
                        if (b.toObject()["ccd"].toInt() == place.ccd && std::abs(b.toObject()["x"].toDouble() - x) < R + 2)
                            crowded = true;
                    if (crowded) continue;

                    f.moveTo(1);
                    const Amp a = readAmp(f, (place.ccd - 1) * 4 + amp);
                    const double gain = amps[(place.ccd - 1) * 4 + amp - 1].toObject()["gain"].toDouble();
                    const double rn = amps[(place.ccd - 1) * 4 + amp - 1].toObject()["read_noise"].toDouble();
                    const double skyE = ct["sky_electrons"].toDouble();
                    double sum = 0, sx = 0, sy = 0, skySum = 0, varX = 0, varY = 0;
                    int npix = 0;
                    for (int py = static_cast<int>(ay - R) - 1; py <= static_cast<int>(ay + R) + 1; ++py)
                        for (int px = static_cast<int>(ax - R) - 1; px <= static_cast<int>(ax + R) + 1; ++px) {
                            if (std::hypot(px - ax, py - ay) > R) continue;
                            const double u = u0 + (px - ax), v = v0 + (py - ay);
                            const double skyHere = skyE * illumination(u, v, filter);
                            const double e = a.signal(px - 1, py - 1) * gain - skyHere;
                            sum += e;
                            sx += e * px;
                            sy += e * py;
                            skySum += skyHere;
                            const double var = std::max(0.0, e) + skyHere + rn * rn;
                            varX += var * (px - ax) * (px - ax);
                            varY += var * (py - ay) * (py - ay);
                            ++npix;
                        }
                    // The Moffat profile (beta 3) puts 1 - (1 + R^2/alpha^2)^-2 of the light
                    // inside R; the flat field multiplies it by the illumination there.
                    const double expected = flux * (1 - std::pow(1 + R * R / (alpha * alpha), 1 - beta)) * illum;
                    const double sigma = std::sqrt(expected + skySum + npix * (rn * rn + gain * gain / 12.0));
                    // Beyond the noise: the pixel response (1% rms per pixel, ~0.2% over the
                    // star) and the overscan rows subtracted (rn/4 per row).
                    const double pull = (sum - expected) / std::sqrt(sigma * sigma + std::pow(0.003 * expected, 2));
                    sumPull += pull;
                    worstPull = std::max(worstPull, std::abs(pull));
                    ++measuredStars;
                    // Centroid: where the true pointing puts the star, within its noise (the
                    // first moment's error from every pixel's variance in the aperture).
                    const double cx = sx / sum - ax, cy = sy / sum - ay;
                    const double ex = std::sqrt(varX) / sum, ey = std::sqrt(varY) / sum;
                    worstCentroid = std::max(worstCentroid, std::hypot(cx / (ex + 0.01), cy / (ey + 0.01)));
                }
            }
        }
        qInfo("%d isolated bright stars: mean pull %.2f, worst pull %.2f, worst centroid offset %.2f sigma", measuredStars,
              sumPull / std::max(1, measuredStars), worstPull, worstCentroid);
        // The small mosaic covers 0.045 deg^2: about 90 stars an exposure, of which a fifth
        // are bright enough; the isolation cuts keep a few per exposure.
        QVERIFY2(measuredStars >= 12, qPrintable(QString::number(measuredStars)));
        QVERIFY(worstPull < 5);
        QVERIFY(std::abs(sumPull / measuredStars) < 3 / std::sqrt(double(measuredStars)) + 0.3);
        QVERIFY(worstCentroid < 5);
    }

    void headerWcsIsOffByThePointingError() {
        // The header's WCS is where the telescope believed it pointed; astrometry must
        // find the truth. Check with wcslib that the two differ by the recorded offset.
        const auto* sci = filesOfKind("science").back();
        const QJsonObject truth = readJson(truthOf(sci->name));
        auto f = fits::File::open(pathOf(*sci));
        f.moveTo(1 + 4 * 8 + 1); // CCD 9, amplifier A
        const auto header = wcs::Wcs::fromFits(f);
        const double ra = truth["nominal_ra"].toDouble(), dec = truth["nominal_dec"].toDouble();
        const auto p = header.skyToPixel({ra, dec});
        const auto back = header.pixelToSky(p);
        QVERIFY(std::abs(back.ra - ra) < 1e-9 && std::abs(back.dec - dec) < 1e-9);
        const double offset = std::hypot(truth["pointing_offset_ra_arcsec"].toDouble(),
                                         truth["pointing_offset_dec_arcsec"].toDouble());
        const double separation = angularDistance(ra, dec, truth["true_ra"].toDouble(), truth["true_dec"].toDouble()) * 3600;
        QVERIFY2(std::abs(offset - separation) < 0.01, qPrintable(QString("%1 vs %2").arg(offset).arg(separation)));
        QVERIFY(offset > 0.1); // there is an error to find
    }

    // A field on the meridian at midnight is up all night: with maxAirmass 2 every science
    // exposure of a short June night and of a long December one is under airmass 2 (the
    // field's transit there is at airmass 1.12: dec 2.2 from latitude 28.76). COSMOS in
    // June is never that high in the dark: an error that names the field and the night.
    void scienceOnlyWhileTheFieldIsUp() {
        for (const char* night : {"2026-06-21", "2026-12-21"}) {
            NightOptions o;
            o.night = night;
            o.ra = meridianAtMidnight(night);
            o.dec = 2.2;
            o.science = 12;
            o.maxAirmass = 2;
            double lowest = 99;
            for (const auto& e : planNight(o, 1).exposures)
                if (e.kind == "science") {
                    QVERIFY2(e.airmass <= 2.0 && e.sunAlt < -12,
                             qPrintable(QString("%1 %2: airmass %3, Sun at %4").arg(night).arg(e.file.c_str()).arg(e.airmass).arg(e.sunAlt)));
                    lowest = std::min(lowest, e.airmass);
                }
            QVERIFY2(lowest < 1.2, qPrintable(QString("%1: the lowest airmass %2").arg(night).arg(lowest)));
        }
        NightOptions cosmos;
        cosmos.night = "2026-06-21";
        cosmos.maxAirmass = 1.3;
        try {
            planNight(cosmos, 1);
            QFAIL("COSMOS planned in June under airmass 1.3");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("2026-06-21") != std::string::npos, e.what());
        }
    }

    void taskTypeRunsInTheEngineAndLoadsTheCatalogues() {
        const std::string conninfo = test::freshJobDatabase("pixelsim_task");
        db::Connection c = db::Connection::open(conninfo);
        jobs::JobStore store(c);
        jobs::NewJob job;
        job.name = "pixelsim";
        job.config = QJsonObject{{"buffer", dir_.filePath("task-buffer")}, {"truth", dir_.filePath("task-truth")},
                                 {"night", "2026-03-11"}, {"geometry", "small"}, {"bias", 1}, {"flats_per_tray", 1},
                                 {"science", 1}, {"trays", "NB455"}};
        const auto id = store.create(job, true);
        test::runUntilIdle(conninfo, 1, 120);
        const auto detail = store.show(id);
        QVERIFY(detail);
        const auto& shown = *detail;
        QCOMPARE(shown.row.status, std::string("DONE"));
        QCOMPARE(shown.output["obs_set"].toString(), QString("20260311_001"));
        QCOMPARE(shown.output["files"].toInt(), 3);
        const auto stars = c.query("SELECT count(*) FROM ref_star WHERE catalogue = 'pixelsim'").toInt(0, 0);
        const auto galaxies = c.query("SELECT count(*) FROM ref_galaxy WHERE catalogue = 'pixelsim'").toInt(0, 0);
        // The same sky generated here: every object within 0.8 deg of the field.
        const SkyCatalog sky = skyForNight(nightOptionsFromConfig(job.config));
        QCOMPARE(stars, static_cast<std::int64_t>(sky.stars.size()));
        QCOMPARE(galaxies, static_cast<std::int64_t>(sky.galaxies.size()));
        QCOMPARE(shown.output["catalog_stars_added"].toInteger(), stars);
        // Loading again adds nothing.
        const auto again = loadSky(c, sky, "pixelsim");
        QCOMPARE(again.first, std::int64_t(0));
        QCOMPARE(again.second, std::int64_t(0));
        // And the 40 narrow-band fluxes are there for forced photometry to recover.
        const auto g = sky.galaxies.front();
        const auto row = c.query("SELECT flux_nb[1], flux_nb[40], array_length(flux_nb, 1) FROM ref_galaxy "
                                 "WHERE catalogue = 'pixelsim' AND source_id = $1", g.sourceId);
        QCOMPARE(row.toInt(0, 2), std::int64_t(40));
        QVERIFY(std::abs(row.toDouble(0, 0) / g.flux(paucam::filters()[0]) - 1) < 1e-6);
        QVERIFY(std::abs(row.toDouble(0, 1) / g.flux(paucam::filters()[39]) - 1) < 1e-6);
    }
};

QTEST_GUILESS_MAIN(TestPixelsim)
#include "test_pixelsim.moc"
