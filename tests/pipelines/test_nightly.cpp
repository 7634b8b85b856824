// The nightly pipeline on simulated nights, every number against the simulator's truth:
// master bias against the camera's bias structure, read noise and gains, master flats
// against the flat-field response and the bad columns, the masks against the injected
// cosmic rays, the stars and the saturated pixels, the detrended sky's flatness; then the
// nights that lack calibrations, re-runs and reprocessing, and bad input.
#include "nightly_support.h"

#include "archive/obs_set.h"
#include "common/random.h"
#include "fits/fits.h"
#include "pipelines/nightly/products.h"
#include "pipelines/paucam.h"
#include "pipelines/pixelsim/simulator.h"
#include "reduction/calibration.h"
#include "reduction/image.h"
#include "reduction/statistics.h"
#include "wcs/wcs.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <set>

using namespace paudm;
using namespace paudm::test;
namespace pc = paudm::pipelines::paucam;
namespace ps = paudm::pipelines::pixelsim;
namespace fs = std::filesystem;


class TestNightly : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string conninfo_, archive_, truth_;
    ps::NightOptions night_;
    ps::NightResult a_;

    std::string reducedDir(const std::string& obsSet, const std::string& release = kRelease) const {
        return archive_ + "/red/" + release + "/" + obsSet;
    }

private slots:
    void initTestCase() {
        if (qEnvironmentVariableIsSet("PAUDM_TEST_KEEP")) { // for a post-mortem
            dir_.setAutoRemove(false);
            qInfo("keeping %s", qPrintable(dir_.path()));
        }
        conninfo_ = freshJobDatabase("t_nightly");
        archive_ = dir_.filePath("archive").toStdString();
        truth_ = dir_.filePath("truth").toStdString();
        // Night A: its own calibrations, good seeing, a crowded field (see crowdedNight).
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

    void everyStageRanAndRecordedItsProducts() {
        db::Connection c = db::Connection::open(conninfo_);
        QCOMPARE(count(c, "SELECT count(*) FROM job WHERE name = 'master_bias' AND status = 'DONE'"), 1);
        QCOMPARE(count(c, "SELECT count(*) FROM job WHERE name = 'master_flats' AND status = 'DONE'"), 2);
        QCOMPARE(count(c, "SELECT count(*) FROM job WHERE name = 'single_epoch' AND status = 'DONE'"), 4);
        const auto p = c.exec("SELECT id, release, software_version, job_id IS NOT NULL FROM production WHERE pipeline = 'nightly'");
        QCOMPARE(p.size(), 1);
        QCOMPARE(std::string(p.text(0, 1)), std::string(kRelease));
        QCOMPARE(std::string(p.text(0, 2)), std::string(PAUDM_VERSION));
        QVERIFY(p.toBool(0, 3));
        QCOMPARE(count(c, "SELECT count(*) FROM mosaic WHERE kind = 'master_bias'"), 1);
        QCOMPARE(count(c, "SELECT count(*) FROM mosaic WHERE kind = 'master_flat'"), 2);
        QCOMPARE(count(c, "SELECT count(*) FROM mosaic WHERE kind = 'red_science' AND raw_mosaic_id IS NOT NULL "
                          "AND detrend_status = 'ok'"),
                 4);
        // One image row per CCD of each product, each reduced CCD's with its file, filter and read noise.
        QCOMPARE(count(c, "SELECT count(*) FROM image i JOIN mosaic m ON m.id = i.mosaic_id WHERE m.kind = 'red_science' "
                          "AND i.filename IS NOT NULL AND i.filter IS NOT NULL AND i.rdnoise > 0 AND i.ra_min IS NOT NULL"),
                 4 * pc::kCcds);
        // Raw rows are untouched: production NULL, and the reduced ones point at them.
        QCOMPARE(count(c, "SELECT count(*) FROM mosaic r JOIN mosaic m ON m.raw_mosaic_id = r.id "
                          "WHERE r.production_id IS NULL AND r.kind = 'science'"),
                 4);
        // Every product passes fitsverify with neither errors nor warnings.
        QStringList files;
        for (const auto& e : fs::directory_iterator(reducedDir(a_.obsSet))) files << QString::fromStdString(e.path().string());
        QCOMPARE(files.size(), 1 + 2 + 4 * pc::kCcds);
        for (const QString& f : files.mid(0, 6)) {
            QProcess v;
            v.start("fitsverify", {"-q", f});
            QVERIFY(v.waitForFinished(60000));
            const QString out = v.readAll();
            QVERIFY2(out.contains("verification OK"), qPrintable(f + ": " + out));
        }
        // QC rows on three levels, the nightly epilog's summary among them.
        QVERIFY(count(c, "SELECT count(*) FROM quality_control WHERE level IS NOT NULL") > 10);
        QCOMPARE(count(c, "SELECT count(*) FROM quality_control q JOIN job j ON j.id = q.job_id "
                          "WHERE j.name = 'nightly' AND q.check_name = 'science_reduced_fraction' AND q.value = 1"),
                 1);
        const auto out = c.exec("SELECT output FROM job WHERE name = 'nightly'");
        const QJsonObject o = QJsonDocument::fromJson(QByteArray(out.text(0, 0).data(), static_cast<int>(out.text(0, 0).size()))).object();
        QVERIFY(o["complete"].toBool());
        QCOMPARE(o["science_reduced"].toInt(), 4);
    }

    // Master bias = the camera's bias structure (the column pattern left by the overscan,
    // in electrons) within the noise a mean of N frames leaves; read noise per amplifier
    // within 3 % of the truth.
    void masterBiasAgainstTheCamera() {
        const auto layout = pc::Layout::of(night_.geometry);
        double worstRn = 0;
        int amps = 0;
        for (int ccd = 1; ccd <= pc::kCcds; ++ccd) {
            const auto mb = pipelines::nightly::readMasterBiasCcd(reducedDir(a_.obsSet) + "/master_bias.fits", ccd,
                                                                  layout.ccdWidth, layout.ccdHeight);
            QCOMPARE(mb.frames, night_.bias);
            for (int amp = 1; amp <= 4; ++amp) {
                const auto truth = ps::biasStructure(night_.geometry, ccd, amp);
                const double g = std::round(truth.gain * 1000) / 1000; // the header's GAIN
                double ov = 0;
                for (int x = layout.ampWidth; x < layout.rawWidth(); ++x) ov += truth.column[x] / layout.overscan;
                const int x0 = pc::ampColumn(amp) * layout.ampWidth, y0 = pc::ampRow(amp) * layout.ampHeight;
                double sum = 0, sum2 = 0;
                int n = 0;
                for (int y = 0; y < layout.ampHeight; ++y)
                    for (int x = 0; x < layout.ampWidth; ++x) {
                        const double expect = g * (truth.column[x] - ov);
                        const double d = mb.image.at(x0 + x, y0 + y) - expect;
                        sum += d;
                        sum2 += d * d;
                        ++n;
                    }
                const double mean = sum / n, rms = std::sqrt(sum2 / n - mean * mean);
                // Each frame: read noise and the ADU rounding (1/12 ADU^2), in data and overscan.
                const double perFrame = std::sqrt(truth.readNoise * truth.readNoise + g * g / 12);
                const double expected = perFrame * std::sqrt((1.0 + 1.0 / layout.overscan) / night_.bias);
                QVERIFY2(std::fabs(rms / expected - 1) < 0.12,
                         qPrintable(QString("CCD %1 amp %2: rms %3 e-, expected %4").arg(ccd).arg(amp).arg(rms).arg(expected)));
                // No offset beyond what the per-row overscan noise allows.
                QVERIFY2(std::fabs(mean) < 4 * perFrame / std::sqrt(layout.overscan * layout.ampHeight * night_.bias) + 0.02,
                         qPrintable(QString("CCD %1 amp %2: mean residual %3 e-").arg(ccd).arg(amp).arg(mean)));
                const auto& a = mb.amplifiers.at(static_cast<std::size_t>(amp - 1));
                const double rel = a.readNoise / truth.readNoise - 1;
                worstRn = std::max(worstRn, std::fabs(rel));
                if (std::fabs(rel) > 0.02) qInfo("CCD %d amp %d: read noise %.3f vs %.3f", ccd, amp, a.readNoise, truth.readNoise);
                ++amps;
            }
        }
        QCOMPARE(amps, 72);
        QVERIFY2(worstRn < 0.03, qPrintable(QString("worst read noise off by %1 %").arg(100 * worstRn)));
    }

    // The gain applied is the header's, exactly: a reduced pixel rebuilt by hand from the
    // raw ADU, the overscan of its row, GAIN, the master bias and the master flat.
    void gainsAppliedExactly() {
        const std::string raw = archive_ + "/raw/" + a_.obsSet + "/" + a_.contents.files.back().name;
        const auto layout = pc::Layout::of(night_.geometry);
        auto f = fits::File::open(raw);
        const int ccd = 9, amp = 4; // a central CCD, its last amplifier (offset in x and y)
        f.moveTo(1 + (ccd - 1) * 4 + amp);
        const double gain = f.requireDouble("GAIN");
        const auto pixels = f.readImage<float>();
        const std::string tray = f.keyString("FILTER").value_or("");
        const auto red = readReduced(reducedDir(a_.obsSet) + "/" + pipelines::nightly::reducedCcdName(a_.contents.files.back().name, ccd));
        const auto mb = pipelines::nightly::readMasterBiasCcd(reducedDir(a_.obsSet) + "/master_bias.fits", ccd, layout.ccdWidth,
                                                              layout.ccdHeight);
        db::Connection c = db::Connection::open(conninfo_);
        const std::string flatFile = std::string(c.query("SELECT filtertray FROM mosaic WHERE filename = $1 AND production_id IS NULL",
                                                         a_.contents.files.back().name)
                                                     .text(0, 0));
        const auto mf = pipelines::nightly::readMasterFlatCcd(reducedDir(a_.obsSet) + "/master_flat_" + flatFile + ".fits", ccd,
                                                              layout.ccdWidth, layout.ccdHeight);
        const int xOff = pc::ampColumn(amp) * layout.ampWidth, yOff = pc::ampRow(amp) * layout.ampHeight;
        // The overscan level of each row as the pipeline defines it: the mean of the row's
        // overscan pixels within 3 robust sigma (MAD of the whole strip about its rows'
        // medians) of the row's median.
        std::vector<double> medians(static_cast<std::size_t>(layout.ampHeight));
        std::vector<float> residuals;
        for (int y = 0; y < layout.ampHeight; ++y) {
            std::vector<float> ov(pixels.begin() + y * layout.rawWidth() + layout.ampWidth,
                                  pixels.begin() + (y + 1) * layout.rawWidth());
            medians[y] = reduction::median(ov);
            for (float v : ov) residuals.push_back(static_cast<float>(v - static_cast<float>(medians[y])));
        }
        const double limit = 3 * reduction::madStd(residuals);
        for (int y : {3, 77, 200}) {
            double s = 0;
            int n = 0;
            for (int x = layout.ampWidth; x < layout.rawWidth(); ++x) {
                const float v = pixels[static_cast<std::size_t>(y) * layout.rawWidth() + x];
                if (std::fabs(v - static_cast<float>(medians[y])) <= limit) {
                    s += v;
                    ++n;
                }
            }
            const float level = static_cast<float>(s / n);
            for (int x : {0, 50, 101}) {
                const float adu = pixels[static_cast<std::size_t>(y) * layout.rawWidth() + x];
                const float electrons = (adu - level) * static_cast<float>(gain);
                const float expect = (electrons - mb.image.at(xOff + x, yOff + y)) / mf.flat.flat.at(xOff + x, yOff + y);
                QCOMPARE(red.image.at(xOff + x, yOff + y), expect);
            }
        }
    }

    // Master flats: the flat-field response within 0.5 % per pixel on average; every bad
    // column of the truth in the bad-pixel mask, fewer than 0.1 % of good pixels masked.
    void masterFlatsAgainstTheResponse() {
        const auto layout = pc::Layout::of(night_.geometry);
        const QJsonObject truth = readJson(truth_ + "/" + a_.obsSet + "/" + a_.contents.files.back().name + ".json");
        for (const auto& trayName : night_.trays) {
            const auto& tray = pc::tray(trayName);
            for (int ccd = 1; ccd <= pc::kCcds; ++ccd) {
                const auto mf = pipelines::nightly::readMasterFlatCcd(reducedDir(a_.obsSet) + "/master_flat_" + trayName + ".fits",
                                                                      ccd, layout.ccdWidth, layout.ccdHeight);
                const auto expectRaw = ps::flatResponse(night_.geometry, ccd, pc::filter(tray.filterOfCcd[ccd - 1]));
                std::set<std::size_t> badTruth;
                for (const auto& v : truth["bad_columns"].toArray()) {
                    const QJsonObject b = v.toObject();
                    if (b["ccd"].toInt() != ccd) continue;
                    for (int y = b["y_from"].toInt(); y <= layout.ccdHeight; ++y)
                        badTruth.insert(static_cast<std::size_t>(y - 1) * layout.ccdWidth + b["x"].toInt() - 1);
                }
                std::vector<float> good;
                for (std::size_t i = 0; i < expectRaw.size(); ++i)
                    if (!badTruth.count(i)) good.push_back(expectRaw[i]);
                const double norm = reduction::median(good);
                double dev = 0;
                long long n = 0, wronglyMasked = 0, missed = 0;
                for (std::size_t i = 0; i < expectRaw.size(); ++i) {
                    const bool bad = mf.flat.bad.pixels[i] != 0;
                    if (badTruth.count(i)) {
                        missed += !bad;
                        continue;
                    }
                    wronglyMasked += bad;
                    if (bad) continue;
                    dev += std::fabs(mf.flat.flat.pixels[i] / (expectRaw[i] / norm) - 1);
                    ++n;
                }
                QVERIFY2(dev / n < 0.005, qPrintable(QString("%1 CCD %2: mean |deviation| %3").arg(QString::fromStdString(trayName)).arg(ccd).arg(dev / n)));
                QVERIFY2(missed == 0, qPrintable(QString("CCD %1: %2 bad-column pixels not masked").arg(ccd).arg(missed)));
                QVERIFY2(wronglyMasked < 0.001 * expectRaw.size(),
                         qPrintable(QString("CCD %1: %2 good pixels masked").arg(ccd).arg(wronglyMasked)));
            }
        }
    }

    // Science: at least 95 % of the injected cosmic rays masked; fewer than 1 % of the
    // stars' peaks flagged as cosmic rays at this seeing; every saturated pixel (and its
    // bleed trail) masked; the detrended sky flat to 0.5 % across each CCD.
    void scienceMasksAndSky() {
        const auto layout = pc::Layout::of(night_.geometry);
        int rays = 0, found = 0, peaks = 0, peaksFlagged = 0;
        long long saturated = 0, saturatedMasked = 0;
        double worstSky = 0;
        // The catalogue of stars the simulator drew.
        std::vector<std::array<double, 2>> starSky;
        std::vector<std::map<std::string, double>> starMags;
        {
            std::ifstream csv(truth_ + "/" + a_.obsSet + "/stars.csv");
            std::string line;
            std::getline(csv, line);
            std::vector<std::string> header;
            for (const QString& h : QString::fromStdString(line).split(',')) header.push_back(h.toStdString());
            while (std::getline(csv, line)) {
                const QStringList v = QString::fromStdString(line).split(',');
                starSky.push_back({v[1].toDouble(), v[2].toDouble()});
                std::map<std::string, double> m;
                for (std::size_t k = 4; k < header.size(); ++k) m[header[k].substr(4)] = v[static_cast<int>(k)].toDouble();
                starMags.push_back(m);
            }
        }
        for (const auto& file : a_.contents.files) {
            if (file.kind != "science") continue;
            const QJsonObject truth = readJson(truth_ + "/" + a_.obsSet + "/" + file.name + ".json");
            const double scale = pc::kPixelScale / 3600, rho = truth["rotation_deg"].toDouble() * std::numbers::pi / 180;
            const auto focal = wcs::Wcs::tan({0, 0}, {truth["true_ra"].toDouble(), truth["true_dec"].toDouble()},
                                             -scale * std::cos(rho), scale * std::sin(rho), scale * std::sin(rho),
                                             scale * std::cos(rho));
            std::vector<wcs::Sky> sky;
            for (const auto& s : starSky) sky.push_back({s[0], s[1]});
            const auto fp = focal.skyToPixel(sky);
            for (const auto& cv : truth["ccds"].toArray()) {
                const QJsonObject ct = cv.toObject();
                const int ccd = ct["ccd"].toInt();
                const auto red = readReduced(reducedDir(a_.obsSet) + "/" + pipelines::nightly::reducedCcdName(file.name, ccd));
                const double skyE = ct["sky_electrons"].toDouble();
                // Cosmic rays: found when most of a track's pixels are masked. Counted when a
                // detector could see them at all: at least 5 sigma per pixel over the sky
                // noise (Poisson, read noise, and the master flat's own noise, which the
                // simulator's twilight broad-band skies of 10^5 e- make larger than the sky's).
                const std::string tray = truth["filter_tray"].toString().toStdString();
                const auto mf = pipelines::nightly::readMasterFlatCcd(reducedDir(a_.obsSet) + "/master_flat_" + tray + ".fits",
                                                                      ccd, layout.ccdWidth, layout.ccdHeight);
                const double rel = reduction::flatRelativeVariance(mf.frames, mf.flat.level);
                const double noise = std::sqrt(skyE + 25 + rel * skyE * skyE);
                for (const auto& rv : truth["cosmic_rays"].toArray()) {
                    const QJsonObject r = rv.toObject();
                    if (r["ccd"].toInt() != ccd) continue;
                    const auto px = trackPixels(r, layout.ccdWidth, layout.ccdHeight);
                    if (px.empty() || r["electrons"].toDouble() / px.size() < 5 * noise) continue;
                    int masked0 = 0;
                    for (const auto& [x, y] : px) masked0 += red.mask.at(x, y) != 0;
                    if (2 * masked0 < static_cast<int>(px.size()))
                        qInfo("missed: %s ccd %d sky %.0f noise %.0f per pixel %.0f len %zu masked %d", file.name.c_str(), ccd,
                              skyE, noise, r["electrons"].toDouble() / px.size(), px.size(), masked0);
                    int masked = 0;
                    for (const auto& [x, y] : px) masked += red.mask.at(x, y) != 0;
                    ++rays;
                    found += 2 * masked >= static_cast<int>(px.size());

                }
                // Saturation and bleed trails.
                for (const auto& sv : truth["saturated"].toArray()) {
                    const QJsonObject s = sv.toObject();
                    if (s["ccd"].toInt() != ccd) continue;
                    for (int y = s["y_from"].toInt(); y <= s["y_to"].toInt(); ++y) {
                        ++saturated;
                        saturatedMasked += (red.mask.at(s["x"].toInt() - 1, y - 1) & reduction::kSaturated) != 0;
                    }
                }
                // Star peaks: bright enough to matter (10 sigma over the sky), not saturated.
                const auto& place = pc::placements()[static_cast<std::size_t>(ccd - 1)];
                const std::string filter = ct["filter"].toString().toStdString();
                const double fwhm = ct["seeing_fwhm"].toDouble() / pc::kPixelScale;
                const double alpha = fwhm / (2 * std::sqrt(std::pow(2.0, 1 / 3.0) - 1));
                for (std::size_t i = 0; i < fp.size(); ++i) {
                    const double x = fp[i].x - place.centreX + (layout.ccdWidth + 1) / 2.0;
                    const double y = fp[i].y - place.centreY + (layout.ccdHeight + 1) / 2.0;
                    if (x < 6 || y < 6 || x > layout.ccdWidth - 6 || y > layout.ccdHeight - 6) continue;
                    const double e = std::pow(10.0, -0.4 * (starMags[i][filter] - ct["zero_point_effective"].toDouble())) *
                                     truth["exptime"].toDouble();
                    const double peak = e * 2 / (std::numbers::pi * alpha * alpha);
                    if (peak < 10 * std::sqrt(skyE + 25) || peak + skyE > 0.8 * truth["full_well"].toDouble()) continue;
                    const int px = static_cast<int>(std::lround(x)) - 1, py = static_cast<int>(std::lround(y)) - 1;
                    if (red.mask.at(px, py) & (reduction::kSaturated | reduction::kBadPixel)) continue;
                    ++peaks;
                    peaksFlagged += (red.mask.at(px, py) & reduction::kCosmicRay) != 0;
                }
                // The sky, in 32 x 64 cells of unmasked pixels, clipped of sources.
                if (skyE > 0.5 * truth["full_well"].toDouble()) continue; // a saturated twilight CCD
                std::vector<double> cells;
                for (int cy = 0; cy < 8; ++cy)
                    for (int cx = 0; cx < 4; ++cx) {
                        std::vector<float> v;
                        for (int y = cy * 64; y < (cy + 1) * 64; ++y)
                            for (int x = cx * 64; x < (cx + 1) * 64; ++x)
                                if (!red.mask.at(x, y)) v.push_back(red.image.at(x, y));
                        if (v.size() < 1000) continue;
                        cells.push_back(reduction::sigmaClippedStats(v, 3, 5).median);
                    }
                std::vector<double> sorted = cells;
                const double mid = reduction::medianInPlace(std::span<double>(sorted));
                for (double v : cells) worstSky = std::max(worstSky, std::fabs(v / mid - 1));
            }
        }
        qInfo("cosmic rays masked %d of %d; star peaks flagged %d of %d; saturated masked %lld of %lld; sky flat to %.2f %%",
              found, rays, peaksFlagged, peaks, saturatedMasked, saturated, 100 * worstSky);
        QVERIFY2(rays > 20, qPrintable(QString::number(rays)));
        QVERIFY2(found >= 0.95 * rays, qPrintable(QString("%1 of %2 cosmic rays masked").arg(found).arg(rays)));
        QVERIFY2(peaks > 200, qPrintable(QString::number(peaks)));
        QVERIFY2(peaksFlagged < 0.01 * peaks, qPrintable(QString("%1 of %2 star peaks flagged").arg(peaksFlagged).arg(peaks)));
        QVERIFY2(saturated > 0, "the night made no saturated pixel: nothing was tested");
        QCOMPARE(saturatedMasked, saturated);
        QVERIFY2(worstSky < 0.005, qPrintable(QString("sky %1 % off its median").arg(100 * worstSky)));
    }

    // Night B has no bias frames and flats for one of its three trays only. Its own master
    // flat (on night A's bias), night A's master flat for the second tray: both reduced and
    // saying so in their QC and output. The third tray has no master anywhere: its mosaic
    // fails with a message naming the tray, leaves no file, no staging folder and no row,
    // and the rest of the night is reduced all the same.
    void nightWithoutItsOwnCalibrations() {
        ps::NightOptions b = night_;
        b.buffer = dir_.filePath("bufferB").toStdString();
        b.night = "2026-11-25";
        b.bias = 0;
        b.flatsPerTray = 3;
        b.trays = {"FT_NB455_NB525", "FT_NB535_NB605", "FT_NB615_NB685"};
        b.flatTrays = std::vector<std::string>{"FT_NB455_NB525"};
        b.science = 3;
        b.sky = {};
        const auto nb = ps::simulateNight(b);
        runNight(conninfo_, b.buffer, archive_);
        db::Connection c = db::Connection::open(conninfo_);
        const std::string set = "'" + nb.obsSet + "'";
        const std::string jobsOfB = "SELECT j.id FROM job j JOIN job n ON n.id = j.super_id WHERE n.name = 'nightly' "
                                    "AND n.config ->> 'obs_set' = " + set;
        QCOMPARE(count(c, "SELECT count(*) FROM job WHERE name = 'master_bias' AND id IN (" + jobsOfB + ")"), 0);
        auto epochOf = [&](const std::string& tray) {
            return count(c, "SELECT id FROM job WHERE name = 'single_epoch' AND input ->> 'tray' = '" + tray +
                                "' AND id IN (" + jobsOfB + ")");
        };
        const std::int64_t own = epochOf("FT_NB455_NB525"), borrowed = epochOf("FT_NB535_NB605"),
                           none = epochOf("FT_NB615_NB685");
        QCOMPARE(statusOf(c, own), std::string("DONE"));
        QCOMPARE(statusOf(c, borrowed), std::string("DONE"));
        QCOMPARE(statusOf(c, none), std::string("FAILED"));
        // Borrowed calibrations are a warning in the QC, and named in the output and headers.
        for (std::int64_t id : {own, borrowed}) {
            QCOMPARE(count(c, "SELECT count(*) FROM quality_control WHERE job_id = " + std::to_string(id) +
                                  " AND check_name = 'calibration_from_earlier_night' AND value = 1 AND level = 'warn'"),
                     1);
            const QJsonObject out = jsonOf(c, "SELECT output FROM job WHERE id = " + std::to_string(id));
            QVERIFY2(out["calibration_from_earlier_night"].toBool(), qPrintable(QJsonDocument(out).toJson()));
        }
        const std::string bFile = std::string(c.exec("SELECT input ->> 'file' FROM job WHERE id = " + std::to_string(borrowed)).text(0, 0));
        {
            auto f = fits::File::open(reducedDir(nb.obsSet) + "/" + pipelines::nightly::reducedCcdName(bFile, 9));
            QCOMPARE(f.keyString("BIASFILE").value_or(""), "red/R1/" + a_.obsSet + "/master_bias.fits");
            QCOMPARE(f.keyString("FLATFILE").value_or(""), "red/R1/" + a_.obsSet + "/master_flat_FT_NB535_NB605.fits");
        }
        // The tray without any master: a clear message, and nothing of it anywhere.
        const std::string why = tagOf(c, none, "traceback");
        QVERIFY2(why.find("no master flat for FT_NB615_NB685") != std::string::npos, why.c_str());
        const std::string noneFile = std::string(c.exec("SELECT input ->> 'file' FROM job WHERE id = " + std::to_string(none)).text(0, 0));
        QVERIFY2(why.find(noneFile) != std::string::npos, why.c_str());
        const auto files = filesUnder(reducedDir(nb.obsSet));
        for (const auto& [name, t] : files) {
            QVERIFY2(name.find(noneFile.substr(0, noneFile.size() - 5)) == std::string::npos, name.c_str());
            QVERIFY2(!name.starts_with("."), name.c_str());
        }
        // The master flat of B and the two reduced mosaics: 1 + 2 x 18 files.
        QCOMPARE(files.size(), std::size_t(1 + 2 * pc::kCcds));
        QCOMPARE(count(c, "SELECT count(*) FROM mosaic r JOIN mosaic m ON m.raw_mosaic_id = r.id "
                          "WHERE r.filename = '" + noneFile + "'"),
                 0);
        // The nightly job says what could not be reduced.
        const QJsonObject n = jsonOf(c, "SELECT output FROM job WHERE name = 'nightly' AND config ->> 'obs_set' = " + set);
        QVERIFY(!n["complete"].toBool());
        QCOMPARE(n["science_reduced"].toInt(), 2);
        QCOMPARE(n["with_earlier_calibration"].toInt(), 2);
        const QJsonArray failed = n["not_reduced"].toArray();
        QCOMPARE(failed.size(), 1);
        QVERIFY2(failed[0].toObject()["error"].toString().contains("no master flat for FT_NB615_NB685"),
                 qPrintable(QJsonDocument(n).toJson()));
        QCOMPARE(count(c, "SELECT count(*) FROM quality_control q JOIN job j ON j.id = q.job_id WHERE j.name = 'nightly' "
                          "AND j.config ->> 'obs_set' = " + set + " AND q.check_name = 'science_reduced_fraction' AND q.level = 'fail'"),
                 1);
    }

    // Reprocessing into a new release: a new production whose input is the old one, its
    // own files; the old release's files and rows untouched. Then the old release again:
    // its rows and files replaced (no duplicates), the new release untouched.
    void reprocessingMakesANewProductionAndLeavesTheOldOne() {
        db::Connection c = db::Connection::open(conninfo_);
        const auto r1Before = filesUnder(archive_ + "/red/R1/" + a_.obsSet);
        const std::int64_t r1 = count(c, "SELECT id FROM production WHERE release = 'R1'");
        const std::string rowsR1 = "SELECT count(*) FROM mosaic WHERE production_id = " + std::to_string(r1);
        const std::int64_t r1Rows = count(c, rowsR1);
        const std::int64_t r1Images = count(c, "SELECT count(*) FROM image i JOIN mosaic m ON m.id = i.mosaic_id WHERE m.production_id = " +
                                                   std::to_string(r1));
        const Run r = runPaudm({"reprocess", "--obs-set", QString::fromStdString(a_.obsSet), "--release", "R2", "--archive",
                             QString::fromStdString(archive_)},
                            conninfo_);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("reprocessing complete"), qPrintable(r.out));
        const auto p = c.exec("SELECT id, input_production_id FROM production WHERE release = 'R2'");
        QCOMPARE(p.size(), 1);
        QCOMPARE(p.toInt(0, 1), r1);
        const std::int64_t r2 = p.toInt(0, 0);
        QCOMPARE(count(c, "SELECT count(*) FROM mosaic WHERE kind = 'red_science' AND production_id = " + std::to_string(r2)), 4);
        const auto r2Files = filesUnder(archive_ + "/red/R2/" + a_.obsSet);
        QCOMPARE(r2Files.size(), r1Before.size());
        QCOMPARE(filesUnder(archive_ + "/red/R1/" + a_.obsSet), r1Before);
        QCOMPARE(count(c, rowsR1), r1Rows);

        // R1 again: the same rows (new ones, as many), the files rewritten, R2 as it was.
        const std::string idsR1 = "SELECT string_agg(id::text, ',' ORDER BY id) FROM mosaic WHERE production_id = " + std::to_string(r1);
        const std::string before = std::string(c.exec(idsR1).text(0, 0));
        const Run again = runPaudm({"reprocess", "--obs-set", QString::fromStdString(a_.obsSet), "--release", "R1", "--archive",
                                 QString::fromStdString(archive_)},
                                conninfo_);
        QVERIFY2(again.code == 0, qPrintable(again.out + again.err));
        QCOMPARE(count(c, rowsR1), r1Rows);
        QCOMPARE(count(c, "SELECT count(*) FROM image i JOIN mosaic m ON m.id = i.mosaic_id WHERE m.production_id = " +
                              std::to_string(r1)),
                 r1Images);
        QVERIFY(std::string(c.exec(idsR1).text(0, 0)) != before);
        const auto r1After = filesUnder(archive_ + "/red/R1/" + a_.obsSet);
        QCOMPARE(r1After.size(), r1Before.size());
        for (const auto& [name, t] : r1After) QVERIFY2(t > r1Before.at(name), name.c_str());
        QCOMPARE(filesUnder(archive_ + "/red/R2/" + a_.obsSet), r2Files);
        QCOMPARE(count(c, "SELECT count(*) FROM production WHERE pipeline = 'nightly'"), 2);
    }

    // Bad input in the pipeline: a raw file truncated after registration fails its own
    // single_epoch with the file and HDU named; the rest of the obs set is reduced, nothing
    // of that mosaic is written or inserted.
    void truncatedRawFailsOnlyItsMosaic() {
        std::string science;
        for (const auto& f : a_.contents.files)
            if (f.kind == "science") science = f.name;
        const std::string raw = archive_ + "/raw/" + a_.obsSet + "/" + science;
        const std::string keep = dir_.filePath("intact.fits").toStdString();
        fs::copy_file(raw, keep);
        fs::resize_file(raw, fs::file_size(raw) * 6 / 10);
        const Run r = runPaudm({"reprocess", "--obs-set", QString::fromStdString(a_.obsSet), "--release", "R3", "--archive",
                                QString::fromStdString(archive_)},
                               conninfo_);
        fs::remove(raw);
        fs::rename(keep, raw);
        QVERIFY2(r.code == 1, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("reprocessing INCOMPLETE"), qPrintable(r.out));
        db::Connection c = db::Connection::open(conninfo_);
        const auto failed = c.query("SELECT j.id, t.value FROM job j JOIN job n ON n.id = j.super_id "
                                    "JOIN tag t ON t.job_id = j.id AND t.name = 'traceback' "
                                    "WHERE n.config ->> 'release' = 'R3' AND j.status = 'FAILED'");
        QCOMPARE(failed.size(), 1);
        const std::string why(failed.text(0, 1));
        QVERIFY2(why.find(science) != std::string::npos && why.find("HDU") != std::string::npos, why.c_str());
        QCOMPARE(count(c, "SELECT count(*) FROM mosaic m JOIN production p ON p.id = m.production_id "
                          "WHERE p.release = 'R3' AND m.kind = 'red_science'"),
                 3);
        QCOMPARE(count(c, "SELECT count(*) FROM mosaic m JOIN production p ON p.id = m.production_id "
                          "JOIN mosaic r ON r.id = m.raw_mosaic_id WHERE p.release = 'R3' AND r.filename = '" + science + "'"),
                 0);
        const auto files = filesUnder(reducedDir(a_.obsSet, "R3"));
        QCOMPARE(files.size(), std::size_t(1 + 2 + 3 * pc::kCcds));
        for (const auto& [name, t] : files) {
            QVERIFY2(name.find(science.substr(0, science.size() - 5)) == std::string::npos, name.c_str());
            QVERIFY2(!name.starts_with("."), name.c_str());
        }
    }

    // Bad input by hand (paudm reduce): a frame without GAIN, one without BIASSEC, a master
    // of the wrong size, a disk that fills up. Each a clear error naming the file, the HDU
    // and the keyword or sizes, and no output file, not even a partial one.
    void badInputByHand() {
        const QString work = dir_.filePath("bad");
        QDir().mkpath(work);
        const std::string raw = archive_ + "/raw/" + a_.obsSet + "/" + a_.contents.files.back().name;
        auto copy = [&](const QString& name) {
            const std::string to = (work + "/" + name).toStdString();
            fs::copy_file(raw, to, fs::copy_options::overwrite_existing);
            return to;
        };
        auto dropKey = [&](const QString& name, int hdu, const char* key) {
            auto f = fits::File::open(copy(name), true);
            f.moveTo(hdu);
            QVERIFY(f.deleteKey(key));
            f.close();
        };
        dropKey("gainless.fits", 3, "GAIN");
        dropKey("nooverscan.fits", 4, "BIASSEC");
        {
            auto f = fits::File::create((work + "/small_bias.fits").toStdString());
            f.appendImage<float>({100, 100}, std::vector<float>(100 * 100, 0.0f));
            f.close();
        }
        copy("good.fits");
        struct Case {
            QStringList args;
            QStringList says;
        };
        const std::vector<Case> cases = {
            {{"reduce", "gainless.fits", "--out", "out1.fits"}, {"gainless.fits", "HDU 3", "GAIN"}},
            {{"reduce", "nooverscan.fits", "--out", "out2.fits"}, {"nooverscan.fits", "HDU 4", "BIASSEC"}},
            {{"reduce", "good.fits", "--bias", "small_bias.fits", "--out", "out3.fits"},
             {"small_bias.fits", "100 x 100", "256 x 512"}},
        };
        for (const auto& k : cases) {
            QProcess p;
            p.setWorkingDirectory(work);
            p.start(PAUDM_EXE, k.args);
            QVERIFY(p.waitForFinished(120000));
            const QString err = QString::fromLocal8Bit(p.readAllStandardError());
            QCOMPARE(p.exitCode(), 1);
            for (const QString& w : k.says) QVERIFY2(err.contains(w), qPrintable(k.args.join(' ') + ": " + err));
        }
        // A full disk: the file-size limit makes writes fail as a full disk does.
        QProcess full;
        full.setWorkingDirectory(work);
        full.start("bash", {"-c", QString("trap '' XFSZ; ulimit -f 3000; exec %1 reduce good.fits --out out4.fits").arg(PAUDM_EXE)});
        QVERIFY(full.waitForFinished(120000));
        const QString err = QString::fromLocal8Bit(full.readAllStandardError());
        QCOMPARE(full.exitCode(), 1);
        QVERIFY2(err.contains("out4.fits") && err.contains("writing"), qPrintable(err));
        // Nothing written: only the inputs are there.
        QStringList left = QDir(work).entryList(QDir::Files | QDir::Hidden);
        left.sort();
        QCOMPARE(left, QStringList({"gainless.fits", "good.fits", "nooverscan.fits", "small_bias.fits"}));
    }
};

QTEST_GUILESS_MAIN(TestNightly)
#include "test_nightly.moc"
