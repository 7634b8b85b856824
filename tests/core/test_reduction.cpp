// The reduction's algorithms on plain arrays: sections, robust statistics, overscan,
// combination and cosmic rays. Each number is checked against an independent answer: a
// brute-force computation written here, or the peer the algorithm must agree with
// (ccdproc.combine, astroscrappy), run on the same pixels.
#include "common/random.h"
#include "fits/fits.h"
#include "reduction/combine.h"
#include "reduction/cosmics.h"
#include "reduction/filters.h"
#include "reduction/overscan.h"
#include "reduction/statistics.h"

#include <QtTest>

#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace paudm;
using namespace paudm::reduction;

namespace {

bool havePython(const char* module) {
    QProcess p;
    p.start("/usr/bin/python3", {"-c", QString("import %1").arg(module)});
    return p.waitForFinished(60000) && p.exitCode() == 0;
}

QString peer(const char* script) {
    return QStringLiteral(PAUDM_SOURCE_DIR "/tests/peers/") + script;
}

/// A sky of `sky` electrons with Moffat stars (beta 3) of FWHM `fwhm` pixels and
/// Poisson plus read noise; cosmic-ray tracks added separately.
FloatImage skyWithStars(int w, int h, double sky, double fwhm, int stars, double readNoise, std::uint64_t seed,
                        std::vector<std::pair<double, double>>* positions = nullptr) {
    Rng rng = Rng::stream({seed, 1});
    std::vector<double> truth(static_cast<std::size_t>(w) * h, sky);
    const double alpha = fwhm / (2 * std::sqrt(std::pow(2.0, 1 / 3.0) - 1));
    for (int s = 0; s < stars; ++s) {
        const double x0 = rng.uniform(10, w - 10), y0 = rng.uniform(10, h - 10);
        const double flux = std::pow(10.0, rng.uniform(3.5, 5.5));
        if (positions) positions->push_back({x0, y0});
        const double norm = flux * 2 / (M_PI * alpha * alpha);
        for (int y = std::max(0, int(y0) - 25); y < std::min(h, int(y0) + 26); ++y)
            for (int x = std::max(0, int(x0) - 25); x < std::min(w, int(x0) + 26); ++x) {
                const double q = 1 + ((x - x0) * (x - x0) + (y - y0) * (y - y0)) / (alpha * alpha);
                truth[static_cast<std::size_t>(y) * w + x] += norm / (q * q * q);
            }
    }
    FloatImage img(w, h);
    for (std::size_t i = 0; i < truth.size(); ++i)
        img.pixels[i] = static_cast<float>(truth[i] + std::sqrt(truth[i] + readNoise * readNoise) * rng.normal());
    return img;
}

/// Straight cosmic-ray tracks of a few pixels, as the simulator draws them; returns the
/// pixels each one hit.
std::vector<std::vector<std::size_t>> addCosmicRays(FloatImage& img, int n, std::uint64_t seed) {
    Rng rng = Rng::stream({seed, 2});
    std::vector<std::vector<std::size_t>> hits;
    for (int i = 0; i < n; ++i) {
        const double x = rng.uniform(3, img.width - 3), y = rng.uniform(3, img.height - 3);
        const double len = rng.exponential(3.0), ang = rng.uniform(0, M_PI);
        const double electrons = 1500 * std::exp(rng.normal(0, 0.5)) * (1 + len / 3);
        const int steps = 1 + static_cast<int>(len * 2);
        std::vector<std::size_t> px;
        for (int s = 0; s < steps; ++s) {
            const double f = steps > 1 ? double(s) / (steps - 1) : 0;
            const int cx = static_cast<int>(std::lround(x + f * len * std::cos(ang)));
            const int cy = static_cast<int>(std::lround(y + f * len * std::sin(ang)));
            if (cx < 0 || cy < 0 || cx >= img.width || cy >= img.height) continue;
            img.at(cx, cy) += static_cast<float>(electrons / steps);
            px.push_back(static_cast<std::size_t>(cy) * img.width + cx);
        }
        hits.push_back(px);
    }
    return hits;
}

void writeFloatFits(const QString& path, const FloatImage& img) {
    auto f = fits::File::create(path.toStdString(), true);
    f.appendImage<float>({img.width, img.height}, img.pixels);
    f.close();
}

} // namespace

class TestReduction : public QObject {
    Q_OBJECT

private slots:
    void sections_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<int>("width");
        QTest::addColumn<int>("height");
        QTest::addColumn<bool>("flippedX");
        QTest::newRow("plain") << "[1:1024,1:2048]" << true << 1024 << 2048 << false;
        QTest::newRow("spaces") << "[ 1025:1088 , 1:2048 ]" << true << 64 << 2048 << false;
        QTest::newRow("reversed") << "[2048:1025,1:2048]" << true << 1024 << 2048 << true;
        QTest::newRow("zero") << "[0:10,1:10]" << false << 0 << 0 << false;
        QTest::newRow("no bracket") << "1:10,1:10" << false << 0 << 0 << false;
        QTest::newRow("trailing") << "[1:10,1:10]x" << false << 0 << 0 << false;
    }
    void sections() {
        QFETCH(QString, text);
        QFETCH(bool, valid);
        auto s = capture([&] { return parseSection(text.toStdString()); });
        QCOMPARE(bool(s), valid);
        if (!valid) {
            QVERIFY2(s.error().message().find(text.toStdString()) != std::string::npos, s.error().what()); // quotes it
            return;
        }
        QTEST(s->width(), "width");
        QTEST(s->height(), "height");
        QTEST(s->flippedX(), "flippedX");
    }

    void statisticsAgreeWithBruteForce() {
        Rng rng = Rng::stream({7});
        std::vector<float> v(1001);
        for (float& x : v)
            x = static_cast<float>(rng.normal(10, 2));
        std::vector<float> sorted = v;
        std::sort(sorted.begin(), sorted.end());
        QCOMPARE(median(v), double(sorted[500]));
        std::vector<float> even(v.begin(), v.begin() + 10), s10 = even;
        std::sort(s10.begin(), s10.end());
        QCOMPARE(median(even), 0.5 * (double(s10[4]) + double(s10[5])));
        // Quantile: numpy's linear interpolation, by hand.
        std::vector<float> q = v;
        const double pos = 0.995 * 1000;
        const double expect = sorted[995] + (pos - 995) * (sorted[996] - sorted[995]);
        QVERIFY(std::fabs(quantileInPlace(q, 0.995) - expect) < 1e-6);
        // Sigma clipping drops planted outliers and keeps the normal values.
        std::vector<float> withOutliers = v;
        for (int i = 0; i < 20; ++i)
            withOutliers.push_back(1000.0f);
        const auto cs = sigmaClippedStats(withOutliers, 3, 10);
        QVERIFY2(std::fabs(cs.mean - 10) < 0.2 && std::fabs(cs.stddev - 2) < 0.2, qPrintable(QString::number(cs.mean)));
        QVERIFY(cs.used <= 1001 && cs.used > 990);
        // mad_std of a normal sample estimates its sigma.
        QVERIFY(std::fabs(madStd(v) - 2) < 0.15);
    }

    void overscanRowByRow() {
        // A raw amplifier of 40 x 30 data pixels and a 10-column overscan; each row has its
        // own level (a ramp), plus read noise; a cosmic-ray hit in one overscan row.
        const int nx = 50, ny = 30;
        FloatImage raw(nx, ny);
        Rng rng = Rng::stream({11});
        std::vector<double> level(ny);
        for (int y = 0; y < ny; ++y) {
            level[y] = 2000 + 8 * std::exp(-y / 10.0);
            for (int x = 0; x < nx; ++x)
                raw.at(x, y) = static_cast<float>(level[y] + (x < 40 ? 100 + x : 0) + rng.normal(0, 2));
        }
        raw.at(45, 7) += 5000; // hit in the overscan of row 8
        for (auto method : {OverscanOptions::Method::ClippedMean, OverscanOptions::Method::Median}) {
            OverscanOptions o;
            o.method = method;
            const auto a = correctOverscan(raw, parseSection("[1:40,1:30]"), parseSection("[41:50,1:30]"), o, 2140);
            QCOMPARE(a.data.width, 40);
            QCOMPARE(a.data.height, 30);
            // Each row's level within the noise of 10 pixels (2/sqrt(10) ~ 0.6 ADU; 4 sigma).
            for (int y = 0; y < ny; ++y)
                QVERIFY2(std::fabs(a.rowLevels[y] - level[y]) < 2.6, qPrintable(QString::number(y)));
            QVERIFY(std::fabs(a.overscanNoise - 2) < 0.4);
            // The data keep their structure: 100 + x above the row's level.
            double worst = 0;
            for (int y = 0; y < ny; ++y)
                for (int x = 0; x < 40; ++x)
                    worst = std::max(worst, std::fabs(double(a.data.at(x, y)) - (100 + x)));
            QVERIFY2(worst < 15, qPrintable(QString::number(worst)));
            // Saturation is judged on the raw values: 2140 ADU and above.
            int saturated = 0;
            for (int y = 0; y < ny; ++y)
                for (int x = 0; x < 40; ++x)
                    saturated += (a.saturated.at(x, y) != 0) == (raw.at(x, y) >= 2140) ? 0 : 1;
            QCOMPARE(saturated, 0);
        }
        // Sections that do not fit are refused with their text.
        auto bad =
            capture([&] { return correctOverscan(raw, parseSection("[1:40,1:31]"), parseSection("[41:50,1:30]")); });
        QVERIFY(!bad);
        QVERIFY2(bad.error().message().find("[1:40,1:31]") != std::string::npos, bad.error().what());
    }

    void placeAmplifiersByDetsec() {
        FloatImage ccd(4, 2);
        FloatImage a(2, 2);
        a.pixels = {1, 2, 3, 4};
        placeAmplifier(ccd, a, parseSection("[1:2,1:2]"));
        placeAmplifier(ccd, a, parseSection("[4:3,1:2]")); // read from the other side
        QCOMPARE(ccd.pixels, (std::vector<float>{1, 2, 2, 1, 3, 4, 4, 3}));
    }

    void combineMatchesABruteForceClipping_data() {
        QTest::addColumn<int>("method");
        QTest::newRow("mean") << int(CombineOptions::Method::Mean);
        QTest::newRow("median") << int(CombineOptions::Method::Median);
    }
    void combineMatchesABruteForceClipping() {
        QFETCH(int, method);
        const int w = 37, h = 23, nf = 15; // with fewer than 11, one pass at 3 sigma can reject nothing
        Rng rng = Rng::stream({13});
        std::vector<std::vector<float>> frames(nf, std::vector<float>(static_cast<std::size_t>(w) * h));
        for (auto& f : frames)
            for (float& x : f)
                x = static_cast<float>(rng.normal(1000, 5) + (rng.uniform() < 0.05 ? 300 : 0));
        std::vector<const float*> ptrs;
        for (auto& f : frames)
            ptrs.push_back(f.data());
        CombineOptions o;
        o.method = CombineOptions::Method(method);
        o.threads = 2;
        const auto c = combine(ptrs, w, h, o);
        // By hand: mean and population std of the 7 values, reject outside 3 std, then the
        // mean (or median) of the rest.
        for (std::size_t i = 0; i < frames[0].size(); ++i) {
            std::vector<double> v;
            for (auto& f : frames)
                v.push_back(f[i]);
            const double m = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
            double s2 = 0;
            for (double x : v)
                s2 += (x - m) * (x - m);
            const double sd = std::sqrt(s2 / v.size());
            std::vector<double> kept;
            for (double x : v)
                if (x >= m - 3 * sd && x <= m + 3 * sd) kept.push_back(x);
            std::sort(kept.begin(), kept.end());
            const double expect = method == int(CombineOptions::Method::Mean)
                                      ? std::accumulate(kept.begin(), kept.end(), 0.0) / kept.size()
                                  : kept.size() % 2 ? kept[kept.size() / 2]
                                                    : 0.5 * (kept[kept.size() / 2 - 1] + kept[kept.size() / 2]);
            QCOMPARE(static_cast<double>(c.image.pixels[i]), static_cast<double>(static_cast<float>(expect)));
            QCOMPARE(int(c.used.pixels[i]), int(kept.size()));
        }
        QVERIFY(c.rejected > 0);
    }

    // ccdproc.combine is what this combination must agree with: same files, same numbers
    // within float rounding (its arithmetic is float64, our result float32).
    void combineAgreesWithCcdproc() {
        if (!havePython("ccdproc")) QFAIL("python3-ccdproc is not installed: run packaging/install-deps.sh");
        QTemporaryDir dir;
        const int w = 64, h = 48, nf = 5;
        Rng rng = Rng::stream({17});
        QStringList files;
        std::vector<FloatImage> frames;
        for (int f = 0; f < nf; ++f) {
            FloatImage img(w, h);
            for (float& x : img.pixels)
                x = static_cast<float>(rng.normal(2000, 10) + (rng.uniform() < 0.03 ? 500 : 0));
            files << dir.filePath(QString("bias%1.fits").arg(f));
            writeFloatFits(files.back(), img);
            frames.push_back(std::move(img));
        }
        QProcess p;
        p.start("/usr/bin/python3",
                QStringList{peer("ccdproc_combine.py"), dir.filePath("ccdproc.fits"), "average"} + files);
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const auto theirs = fits::File::open(dir.filePath("ccdproc.fits").toStdString()).readImage<double>();
        std::vector<const float*> ptrs;
        for (auto& f : frames)
            ptrs.push_back(f.pixels.data());
        const auto ours = combine(ptrs, w, h, CombineOptions{});
        QCOMPARE(theirs.size(), ours.image.pixels.size());
        for (std::size_t i = 0; i < theirs.size(); ++i)
            QVERIFY2(std::fabs(ours.image.pixels[i] - theirs[i]) <= 2e-7 * std::fabs(theirs[i]),
                     qPrintable(QString("pixel %1: %2 vs %3").arg(i).arg(ours.image.pixels[i]).arg(theirs[i])));
    }

    void separableMedianAsAstroscrappyDefinesIt_data() {
        QTest::addColumn<int>("k");
        for (int k : {3, 5, 7, 9})
            QTest::newRow(qPrintable(QString::number(k))) << k;
    }
    void separableMedianAsAstroscrappyDefinesIt() {
        QFETCH(int, k);
        const int nx = 31, ny = 17, r = k / 2;
        Rng rng = Rng::stream({19, static_cast<std::uint64_t>(k)});
        std::vector<float> in(static_cast<std::size_t>(nx) * ny), out(in.size());
        for (float& x : in)
            x = static_cast<float>(rng.uniform(0, 100));
        separableMedian(in.data(), out.data(), nx, ny, k);
        auto med = [](std::vector<float> v) {
            std::sort(v.begin(), v.end());
            return v[v.size() / 2];
        };
        // Rows first (border columns copied from the input), then columns of that, the
        // result's border rows and columns copied from the input.
        std::vector<float> rowmed = in;
        for (int y = 0; y < ny; ++y)
            for (int x = r; x < nx - r; ++x) {
                std::vector<float> v;
                for (int d = -r; d <= r; ++d)
                    v.push_back(in[y * nx + x + d]);
                rowmed[y * nx + x] = med(v);
            }
        for (int y = 0; y < ny; ++y)
            for (int x = 0; x < nx; ++x) {
                float expect = in[y * nx + x];
                if (y >= r && y < ny - r && x >= r && x < nx - r) {
                    std::vector<float> v;
                    for (int d = -r; d <= r; ++d)
                        v.push_back(rowmed[(y + d) * nx + x]);
                    expect = med(v);
                }
                QCOMPARE(out[y * nx + x], expect);
            }
    }

    // L.A.Cosmic against what it must find: the injected hits, and not the stars, even
    // sharp ones: at 1.4 px FWHM (0.37" at PAUCam's scale, the best seeing the simulator
    // makes) astroscrappy's defaults flag every star peak.
    void cosmicRaysFoundStarsSpared_data() {
        QTest::addColumn<double>("fwhm");
        QTest::newRow("1.4 px") << 1.4;
        QTest::newRow("1.6 px") << 1.6;
        QTest::newRow("2.5 px") << 2.5;
        QTest::newRow("4 px") << 4.0;
    }
    void cosmicRaysFoundStarsSpared() {
        QFETCH(double, fwhm);
        std::vector<std::pair<double, double>> stars;
        FloatImage img = skyWithStars(400, 300, 800, fwhm, 60, 4.5, 23, &stars);
        const FloatImage before = img;
        const auto hits = addCosmicRays(img, 150, 29);
        LaCosmicOptions o;
        o.readNoise = 4.5;
        o.satLevel = 1e9;
        o.threads = 2;
        const auto r = detectCosmicRays(img, {}, o);
        qInfo("sharpness %.3f / %.3f from %d stars; %d groups spared", r.sharpestAxial, r.sharpestDiagonal,
              r.sharpnessStars, r.starsSpared);
        int found = 0;
        for (const auto& h : hits) {
            // A hit is found when its brightest pixel is masked.
            std::size_t best = h.front();
            for (std::size_t i : h)
                if (img.pixels[i] > img.pixels[best]) best = i;
            found += r.mask.pixels[best] != 0;
        }
        QVERIFY2(found >= 0.95 * hits.size(), qPrintable(QString("%1 of %2 hits").arg(found).arg(hits.size())));
        int peaksMasked = 0;
        for (const auto& [x, y] : stars)
            peaksMasked += r.mask.at(static_cast<int>(std::lround(x)), static_cast<int>(std::lround(y))) != 0;
        QVERIFY2(peaksMasked <= 0.01 * stars.size() + 0.5,
                 qPrintable(QString("%1 star peaks masked").arg(peaksMasked)));
        // Where a hit fell on the sky alone, the cleaned image has the sky again (the 5 x 5
        // masked mean; next to a star it would take the star's light too).
        auto skyAround = [&](std::size_t i) {
            const int x = static_cast<int>(i % img.width), y = static_cast<int>(i / img.width);
            for (int dy = -2; dy <= 2; ++dy)
                for (int dx = -2; dx <= 2; ++dx) {
                    const int ax = std::clamp(x + dx, 0, img.width - 1), ay = std::clamp(y + dy, 0, img.height - 1);
                    if (std::fabs(before.at(ax, ay) - 800) > 150) return false;
                }
            return true;
        };
        int cleanedOnSky = 0;
        for (const auto& h : hits)
            for (std::size_t i : h)
                if (r.mask.pixels[i] && skyAround(i)) {
                    ++cleanedOnSky;
                    QVERIFY2(std::fabs(r.cleaned.pixels[i] - 800) < 150,
                             qPrintable(QString::number(r.cleaned.pixels[i])));
                }
        QVERIFY(cleanedOnSky > 50);
    }

    // The same pixels through astroscrappy (Debian's python3-astroscrappy, sepmed, meanmask,
    // median fine structure): the masks agree.
    void cosmicRaysAgreeWithAstroscrappy() {
        if (!havePython("astroscrappy")) QFAIL("python3-astroscrappy is not installed: run packaging/install-deps.sh");
        QTemporaryDir dir;
        FloatImage img = skyWithStars(512, 384, 600, 2.5, 80, 5, 31);
        addCosmicRays(img, 200, 37);
        // Something saturated, so that the saturation mask takes part too.
        for (int y = 200; y < 206; ++y)
            for (int x = 300; x < 305; ++x)
                img.at(x, y) = 70000;
        writeFloatFits(dir.filePath("in.fits"), img);
        QProcess p;
        p.start("/usr/bin/python3", {peer("astroscrappy_mask.py"), dir.filePath("in.fits"), dir.filePath("mask.fits"),
                                     "1.0", "5.0", "65000"});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const auto theirs = fits::File::open(dir.filePath("mask.fits").toStdString()).readImage<std::uint8_t>();
        LaCosmicOptions o;
        o.readNoise = 5;
        o.satLevel = 65000;
        o.protectStars = false; // astroscrappy has no star test
        const auto ours = detectCosmicRays(img, {}, o);
        long long both = 0, onlyOurs = 0, onlyTheirs = 0;
        for (std::size_t i = 0; i < theirs.size(); ++i) {
            both += theirs[i] && ours.mask.pixels[i];
            onlyOurs += !theirs[i] && ours.mask.pixels[i];
            onlyTheirs += theirs[i] && !ours.mask.pixels[i];
        }
        const QString detail =
            QString("both %1, only ours %2, only astroscrappy's %3").arg(both).arg(onlyOurs).arg(onlyTheirs);
        QVERIFY2(both > 300, qPrintable(detail));
        // Float arithmetic in another order may tip a pixel on a threshold; nothing more.
        QVERIFY2(onlyOurs + onlyTheirs <= 0.01 * both, qPrintable(detail));
    }
};

QTEST_GUILESS_MAIN(TestReduction)
#include "test_reduction.moc"
