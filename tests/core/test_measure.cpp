// The measurement steps of the nightly pipeline on synthetic data whose truth is exact:
// background, detection and centroids, SEP on several threads, the PSF, PSF fluxes and
// spread model, the astrometric solution of a mosaic, the zero point.
#include "common/random.h"
#include "common/workers.h"
#include "pipelines/nightly/measure.h"
#include "pipelines/paucam.h"
#include "reduction/astrometry.h"
#include "reduction/photometry.h"
#include "reduction/psf.h"
#include "reduction/sources.h"

extern "C" {
#include <sep.h>
}

#include <QtTest>

#include <cmath>
#include <numbers>

using namespace paudm;
using namespace paudm::reduction;
namespace pc = paudm::pipelines::paucam;

namespace {

const Mask kNoMask; ///< MeasuredImage keeps a reference to its mask

struct Star {
    double x, y, flux; ///< 0-based centre, total flux
};

/// A point-sampled Moffat (as the simulator draws stars) of total flux `flux`.
void addMoffat(FloatImage& img, const Star& s, double fwhm, double beta = 3, double reach = 40) {
    const double alpha = fwhm / (2 * std::sqrt(std::pow(2.0, 1 / beta) - 1));
    const double norm = s.flux * (beta - 1) / (std::numbers::pi * alpha * alpha);
    for (int y = std::max(0, int(s.y - reach)); y <= std::min(img.height - 1, int(s.y + reach)); ++y)
        for (int x = std::max(0, int(s.x - reach)); x <= std::min(img.width - 1, int(s.x + reach)); ++x) {
            const double r2 = (x - s.x) * (x - s.x) + (y - s.y) * (y - s.y);
            img.at(x, y) += static_cast<float>(norm * std::pow(1 + r2 / (alpha * alpha), -beta));
        }
}

/// A round Gaussian galaxy of total flux `flux` and sigma `sigma`.
void addGaussian(FloatImage& img, const Star& s, double sigma) {
    const double norm = s.flux / (2 * std::numbers::pi * sigma * sigma);
    const int reach = static_cast<int>(6 * sigma) + 2;
    for (int y = std::max(0, int(s.y) - reach); y <= std::min(img.height - 1, int(s.y) + reach); ++y)
        for (int x = std::max(0, int(s.x) - reach); x <= std::min(img.width - 1, int(s.x) + reach); ++x) {
            const double r2 = (x - s.x) * (x - s.x) + (y - s.y) * (y - s.y);
            img.at(x, y) += static_cast<float>(norm * std::exp(-0.5 * r2 / (sigma * sigma)));
        }
}

/// Poisson-like noise on an image in electrons (normal with the variance of the value).
void addNoise(FloatImage& img, Rng& rng, double readNoise = 5) {
    for (float& v : img.pixels)
        v = static_cast<float>(v + rng.normal(0, std::sqrt(std::max(0.0f, v) + readNoise * readNoise)));
}

/// A field of stars with a sky and its noise; the stars are returned.
std::vector<Star> starField(FloatImage& img, Rng& rng, int count, double fwhm, double sky, double minFlux,
                            double maxFlux) {
    std::vector<Star> stars;
    for (float& v : img.pixels)
        v = static_cast<float>(sky);
    for (int k = 0; k < count; ++k) {
        // Log-uniform fluxes, positions away from the edges and from each other.
        Star s{rng.uniform(15, img.width - 16), rng.uniform(15, img.height - 16),
               minFlux * std::pow(maxFlux / minFlux, rng.uniform())};
        bool crowded = false;
        for (const auto& o : stars)
            crowded = crowded || std::hypot(o.x - s.x, o.y - s.y) < 12;
        if (crowded) continue;
        stars.push_back(s);
        addMoffat(img, s, fwhm);
    }
    addNoise(img, rng);
    return stars;
}

/// The expected signal to noise of a star in the optimal (PSF-weighted) aperture.
double expectedSnr(double flux, double fwhm, double sky) {
    const double sigma = fwhm / 2.35482, area = 4 * std::numbers::pi * sigma * sigma;
    return flux / std::sqrt(flux + area * (sky + 25));
}

} // namespace

class TestMeasure : public QObject {
    Q_OBJECT
private slots:
    // The background under a sky with a gradient, next to a star bright enough that its
    // wings lift a single-pass estimate: within 0.5 % of the true sky everywhere.
    void backgroundNextToABrightStar() {
        Rng rng = Rng::stream({41});
        FloatImage img(512, 512);
        for (int y = 0; y < img.height; ++y)
            for (int x = 0; x < img.width; ++x)
                img.at(x, y) = static_cast<float>(1000 + 0.2 * x + 0.1 * y);
        addMoffat(img, {256, 256, 3e7}, 4, 3, 250);
        for (int k = 0; k < 40; ++k)
            addMoffat(img, {rng.uniform(10, 500), rng.uniform(10, 500), rng.uniform(1e3, 1e5)}, 3);
        addNoise(img, rng);
        const Background bkg = measureBackground(img, {});
        QVERIFY(bkg.maskedForSources > 1000);
        double worst = 0;
        for (int y = 32; y < img.height - 32; y += 8)
            for (int x = 32; x < img.width - 32; x += 8) {
                const double truth = 1000 + 0.2 * x + 0.1 * y;
                worst = std::max(worst, std::fabs(bkg.level.at(x, y) / truth - 1));
            }
        qInfo("worst background error %.3f %%, %lld pixels masked as sources", 100 * worst, bkg.maskedForSources);
        QVERIFY2(worst < 0.005, qPrintable(QString("background off by %1 %").arg(100 * worst)));
        // The noise map: the sky's own noise, sqrt(sky + rn^2), within 3 %.
        const double rms = bkg.rms.at(100, 400), expect = std::sqrt(1000 + 0.2 * 100 + 0.1 * 400 + 25);
        QVERIFY2(std::fabs(rms / expect - 1) < 0.03, qPrintable(QString("rms %1, expected %2").arg(rms).arg(expect)));
    }

    // A CCD whose sky is saturated (a broad-band CCD in a long exposure under the Moon) is
    // not measured, and says so; the same CCD with a little less of it saturated is. An
    // object larger than SEP's usual pixel stack (a million pixels over the threshold) is
    // still found, whole (the background's mask leaves the mesh something to stand on). A CCD whose sources SEP cannot deblend (thousands of peaks on
    // one plateau) says so, where it used to fail the whole mosaic's job.
    void unmeasurableCcdSaysWhy() {
        namespace nightly = pipelines::nightly;
        Rng rng = Rng::stream({43});
        FloatImage img(512, 512);
        starField(img, rng, 60, 3.0, 2000, 2e3, 2e5);
        Mask mask(img.width, img.height);
        const int rows = 154; // 30 % of the rows at the saturation level
        for (int y = img.height - rows; y < img.height; ++y)
            for (int x = 0; x < img.width; ++x) {
                img.at(x, y) = 120000;
                mask.at(x, y) = kSaturated;
            }
        nightly::MeasureOptions o;
        const nightly::CcdMeasurement skipped = nightly::measureCcd(img, mask, o);
        qInfo("%s", skipped.status.c_str());
        QVERIFY(!skipped.ok());
        QVERIFY2(skipped.status.starts_with("saturated: 30.1 % of its pixels"), skipped.status.c_str());
        QVERIFY(skipped.detections.empty());
        o.maxSaturatedFraction = 0.5;
        const nightly::CcdMeasurement measured = nightly::measureCcd(img, mask, o);
        QVERIFY2(measured.ok(), measured.status.c_str());
        QVERIFY(measured.detections.size() >= 30); // the stars of the unsaturated rows

        // A plateau of 1,100 x 1,100 pixels at 30 sigma over the sky, in four background
        // cells of 1,024 that it covers less than a third of.
        nightly::MeasureOptions wide;
        wide.background.mesh = 1024;
        FloatImage big(2048, 2048);
        for (int y = 0; y < big.height; ++y)
            for (int x = 0; x < big.width; ++x)
                big.at(x, y) = std::abs(x - 1024) < 550 && std::abs(y - 1024) < 550 ? 1900.0f : 1000.0f;
        addNoise(big, rng);
        nightly::MeasureOptions whole = wide;
        whole.detection.deblendThresholds = 1; // SEP's deblending of so large an object takes seconds
        const nightly::CcdMeasurement large = nightly::measureCcd(big, Mask(big.width, big.height), whole);
        QVERIFY2(large.ok(), large.status.c_str());
        int biggest = 0;
        for (const auto& d : large.detections) biggest = std::max(biggest, d.source.area);
        qInfo("largest object %d pixels over the threshold, %zu detections", biggest, large.detections.size());
        QVERIFY2(biggest > 1'100'000, qPrintable(QString("largest object %1 pixels").arg(biggest)));

        // Peaks every 8 pixels on a plateau: more sub-objects than SEP's deblending holds.
        FloatImage dense(1024, 1024);
        for (int y = 0; y < dense.height; ++y)
            for (int x = 0; x < dense.width; ++x) {
                const bool plateau = std::abs(x - 512) < 300 && std::abs(y - 512) < 300;
                dense.at(x, y) = 1000.0f + (plateau ? 700.0f : 0.0f) + (plateau && x % 8 == 0 && y % 8 == 0 ? 3e4f : 0.0f);
            }
        addNoise(dense, rng);
        const nightly::CcdMeasurement crowded = nightly::measureCcd(dense, Mask(dense.width, dense.height), wide);
        qInfo("%s", crowded.status.c_str());
        QVERIFY2(crowded.status.starts_with("crowded: ") && crowded.status.find("deblending overflow") != std::string::npos,
                 crowded.status.c_str());
        QVERIFY(crowded.detections.empty());
    }

    // The windowed centroid computed here gives SEP's sep_windowed numbers (the reference:
    // SExtractor's XWIN as SEP implements it, 11 x 11 subpixels): stars and galaxies of
    // every brightness, windows of 0.5 to 6 pixels, sources at the border, masked pixels
    // in the window, and a start away from the centre.
    void windowedCentroidIsSeps() {
        Rng rng = Rng::stream({47});
        FloatImage img(300, 200);
        std::vector<Star> at;
        for (int k = 0; k < 60; ++k) {
            const Star s{rng.uniform(-2, img.width + 1), rng.uniform(-2, img.height + 1),
                         200 * std::pow(1e4, rng.uniform())};
            at.push_back(s);
            if (k % 3 == 0)
                addGaussian(img, s, rng.uniform(1, 4));
            else
                addMoffat(img, s, rng.uniform(2, 5));
        }
        addNoise(img, rng);
        Mask mask(img.width, img.height);
        for (int k = 0; k < 400; ++k)
            mask.at(static_cast<int>(rng.uniform(0, img.width)), static_cast<int>(rng.uniform(0, img.height))) = 1;
        sep_image im{};
        im.data = img.pixels.data();
        im.dtype = SEP_TFLOAT;
        im.mask = mask.pixels.data();
        im.mdtype = SEP_TBYTE;
        im.maskthresh = 0;
        im.noise_type = SEP_NOISE_NONE;
        im.w = img.width;
        im.h = img.height;
        double worst = 0;
        int compared = 0;
        for (const Star& s : at)
            for (const double sig : {0.5, 1.3, 2.7, 6.0}) {
                const double x0 = s.x + rng.uniform(-1, 1), y0 = s.y + rng.uniform(-1, 1);
                for (const bool masked : {false, true}) {
                    im.mask = masked ? mask.pixels.data() : nullptr;
                    double xs = 0, ys = 0;
                    int iter = 0;
                    short flag = 0;
                    QCOMPARE(sep_windowed(&im, x0, y0, sig, 11, 0, &xs, &ys, &iter, &flag), 0);
                    const WindowedPosition ours = windowedPosition(img, masked ? &mask : nullptr, x0, y0, sig);
                    if (!std::isfinite(xs) || !std::isfinite(ys)) {
                        QVERIFY(!std::isfinite(ours.x) || !std::isfinite(ours.y) || !ours.ok);
                        continue;
                    }
                    worst = std::max(worst, std::hypot(ours.x - xs, ours.y - ys));
                    ++compared;
                }
            }
        qInfo("%d windowed centroids, largest difference from SEP's %.2g px", compared, worst);
        QVERIFY(compared > 400);
        QVERIFY2(worst < 1e-6, qPrintable(QString("differs from SEP by %1 px").arg(worst)));
    }

    // Detection: at least 95 % of the stars above 5 sigma found, windowed centroids as
    // precise as their signal to noise allows, fewer than 1 % of the detections where
    // there is nothing. (SExtractor's cleaning, on by default there, would lose one star in
    // six of this field: the pipeline does not clean.)
    void detectionFindsTheInjectedStars() {
        Rng rng = Rng::stream({42});
        FloatImage img(1024, 1024);
        const double fwhm = 2.5, sky = 400;
        const auto stars = starField(img, rng, 900, fwhm, sky, 150, 3e5);
        const Background bkg = measureBackground(img, {});
        const MeasuredImage m(img, bkg, kNoMask);
        DetectionOptions dop;
        dop.kernelFwhm = fwhm;
        const auto found = m.detect(dop);
        int bright = 0, brightFound = 0, spurious = 0;
        double pull2 = 0;
        int pulls = 0;
        std::vector<char> used(found.size(), 0);
        for (const auto& s : stars) {
            const double snr = expectedSnr(s.flux, fwhm, sky);
            int best = -1;
            double bestD = 1.5;
            for (std::size_t k = 0; k < found.size(); ++k) {
                const double d = std::hypot(found[k].x - s.x, found[k].y - s.y);
                if (d < bestD) {
                    bestD = d;
                    best = static_cast<int>(k);
                }
            }
            if (best >= 0) used[static_cast<std::size_t>(best)] = 1;
            if (snr < 5) continue;
            ++bright;
            brightFound += best >= 0;
            if (best >= 0 && snr > 30) {
                // Centroid error per axis ~ sigma_psf / snr (for a Gaussian, optimal weighting).
                const double sigma = fwhm / 2.35482 / snr * std::sqrt(2.0);
                pull2 += std::pow((found[static_cast<std::size_t>(best)].x - s.x) / sigma, 2) +
                         std::pow((found[static_cast<std::size_t>(best)].y - s.y) / sigma, 2);
                pulls += 2;
            }
        }
        for (std::size_t k = 0; k < found.size(); ++k)
            spurious += !used[k];
        const double pullRms = std::sqrt(pull2 / pulls);
        qInfo("%d of %d stars over 5 sigma found; %d of %zu detections match no star; centroid pull rms %.2f",
              brightFound, bright, spurious, found.size(), pullRms);
        QVERIFY(bright > 300);
        QVERIFY2(brightFound >= 0.95 * bright, qPrintable(QString("%1 of %2").arg(brightFound).arg(bright)));
        QVERIFY2(spurious < 0.01 * found.size(),
                 qPrintable(QString("%1 spurious of %2").arg(spurious).arg(found.size())));
        QVERIFY2(pullRms < 2, qPrintable(QString("centroid errors %1 times what the noise allows").arg(pullRms)));
    }

    // The detection smooths the image itself and hands SEP the result: the catalogue is
    // the one SEP makes smoothing the same image with the same kernel (barycentres,
    // moments, peaks, areas, flags), except for deblended sources, whose faint pixels SEP
    // gives out at random with odds from the unsmoothed pixels it no longer sees.
    void smoothedDetectionIsSeps() {
        Rng rng = Rng::stream({46});
        FloatImage img(1024, 1024);
        const double fwhm = 3.2;
        starField(img, rng, 700, fwhm, 300, 300, 3e5);
        const Background bkg = measureBackground(img, kNoMask);
        const MeasuredImage m(img, bkg, kNoMask);
        DetectionOptions dop;
        dop.kernelFwhm = fwhm;
        dop.windowed = false; // x, y: SEP's barycentres
        const auto ours = m.detect(dop);
        int size = 0;
        const std::vector<float> kernel = gaussianKernel(fwhm, size);
        double sumSq = 0;
        for (float v : kernel)
            sumSq += double(v) * v;
        sep_image im{};
        im.data = m.subtracted().pixels.data();
        im.dtype = SEP_TFLOAT;
        im.noise = m.rms().pixels.data();
        im.ndtype = SEP_TFLOAT;
        im.noise_type = SEP_NOISE_STDDEV;
        im.w = im.h = 1024;
        sep_catalog* cat = nullptr;
        QCOMPARE(sep_extract(&im, float(dop.threshold * std::sqrt(sumSq)), SEP_THRESH_REL, dop.minArea, kernel.data(),
                             size, size, SEP_FILTER_CONV, dop.deblendThresholds, dop.deblendContrast, 0, 1.0, &cat),
                 0);
        QCOMPARE(int(ours.size()), cat->nobj);
        int same = 0, blended = 0;
        for (int k = 0; k < cat->nobj; ++k) {
            const Source& s = ours[std::size_t(k)];
            if (cat->flag[k] & SEP_OBJ_MERGED) {
                ++blended;
                QVERIFY2(std::hypot(s.xIso - cat->x[k], s.yIso - cat->y[k]) < 0.5,
                         qPrintable(QString("source %1").arg(k)));
                continue;
            }
            // Exact equality, not QCOMPARE's relative 1e-12.
            const bool exact = s.xIso == cat->x[k] && s.yIso == cat->y[k] && s.a == double(cat->a[k]) &&
                               s.b == double(cat->b[k]) && s.cxx == double(cat->cxx[k]) &&
                               s.cxy == double(cat->cxy[k]) && s.peak == double(cat->peak[k]);
            QVERIFY2(exact, qPrintable(QString("source %1 at %2, %3").arg(k).arg(cat->x[k]).arg(cat->y[k])));
            QCOMPARE(s.area, cat->tnpix[k]);
            QCOMPARE(bool(s.flags & kSourceTruncated), bool(cat->flag[k] & SEP_OBJ_TRUNC));
            ++same;
        }
        sep_catalog_free(cat);
        qInfo("%d sources as SEP's own smoothing gives them to the bit, %d deblended within 0.5 px", same, blended);
        QVERIFY(same > 400);
    }

    // A galaxy's Kron flux does not take in its neighbour's light (SExtractor leaves the
    // neighbours' footprints out of the aperture): 40 faint galaxies, each with one five
    // times brighter 14 px away, give within 3 % the Kron fluxes of 40 alone. Counting the
    // neighbour's pixels, the paired ones took in all its light (six times their own).
    void kronFluxLeavesOutTheNeighbours() {
        Rng rng = Rng::stream({45});
        FloatImage img(1024, 1024, 300.0f);
        const double sigma = 2.0, faint = 2e4;
        std::vector<Star> alone, paired;
        for (int k = 0; k < 80; ++k) {
            const Star s{64.0 + 112 * (k % 9) + rng.uniform(0, 1), 64.0 + 100 * (k / 9) + rng.uniform(0, 1), faint};
            addGaussian(img, s, sigma);
            if (k % 2) {
                addGaussian(img, {s.x + 14, s.y, 5 * faint}, sigma);
                paired.push_back(s);
            } else {
                alone.push_back(s);
            }
        }
        addNoise(img, rng);
        const Background bkg = measureBackground(img, {});
        const MeasuredImage m(img, bkg, kNoMask);
        DetectionOptions dop;
        dop.kernelFwhm = 2.35482 * sigma;
        const auto found = m.detect(dop);
        auto ratios = [&](const std::vector<Star>& truth) {
            std::vector<double> r;
            for (const auto& s : truth)
                for (const auto& f : found)
                    if (std::hypot(f.x - s.x, f.y - s.y) < 0.5) r.push_back(f.fluxAuto / s.flux);
            std::sort(r.begin(), r.end());
            return r;
        };
        const auto a = ratios(alone), p = ratios(paired);
        QCOMPARE(a.size(), alone.size());
        QCOMPARE(p.size(), paired.size());
        const double ma = a[a.size() / 2], mp = p[p.size() / 2];
        qInfo("Kron flux over the truth, median: alone %.4f, with a neighbour %.4f", ma, mp);
        QVERIFY2(std::fabs(mp / ma - 1) < 0.03, qPrintable(QString("alone %1, with a neighbour %2").arg(ma).arg(mp)));
    }

    // SEP keeps its working state per thread: the same images measured on four threads at
    // once give exactly the catalogues they give one after the other.
    void sepOnSeveralThreadsAtOnce() {
        std::vector<FloatImage> images(4, FloatImage(512, 512));
        for (int i = 0; i < 4; ++i) {
            Rng rng = Rng::stream({43, static_cast<std::uint64_t>(i)});
            starField(images[static_cast<std::size_t>(i)], rng, 300, 2 + 0.5 * i, 300, 200, 2e5);
        }
        auto catalogue = [&](int i) {
            const Background bkg = measureBackground(images[static_cast<std::size_t>(i)], {});
            const MeasuredImage m(images[static_cast<std::size_t>(i)], bkg, kNoMask);
            std::vector<double> v;
            for (const auto& s : m.detect()) {
                v.push_back(s.x);
                v.push_back(s.y);
                v.push_back(s.fluxAuto);
            }
            return v;
        };
        std::vector<std::vector<double>> serial(4), parallel(4);
        for (int i = 0; i < 4; ++i)
            serial[static_cast<std::size_t>(i)] = catalogue(i);
        for (int round = 0; round < 3; ++round) {
            runWorkers(4, [&](int i, const WorkerGroup&) { parallel[static_cast<std::size_t>(i)] = catalogue(i); });
            for (int i = 0; i < 4; ++i)
                QCOMPARE(parallel[static_cast<std::size_t>(i)], serial[static_cast<std::size_t>(i)]);
        }
        QVERIFY(serial[0].size() > 3 * 200);
    }

    void psfFromTheStars_data() {
        QTest::addColumn<double>("fwhm");
        for (double f : {1.6, 2.5, 4.0})
            QTest::newRow(qPrintable(QString("%1 px").arg(f))) << f;
    }
    // The PSF among galaxies: the FWHM within 2 % of the stars' (point-sampled Moffats, as
    // the simulator draws them), beta within 10 % of 3.
    void psfFromTheStars() {
        QFETCH(double, fwhm);
        Rng rng = Rng::stream({44, static_cast<std::uint64_t>(fwhm * 10)});
        FloatImage img(1024, 1024);
        const auto stars = starField(img, rng, 250, fwhm, 300, 5e3, 5e5);
        // Galaxies: Gaussians twice the star's width, as bright.
        FloatImage gal(1024, 1024, 0.0f);
        std::vector<Star> galaxies;
        for (int k = 0; k < 150; ++k) {
            galaxies.push_back({rng.uniform(20, 1000), rng.uniform(20, 1000), rng.uniform(5e3, 3e5)});
            addGaussian(gal, galaxies.back(), fwhm / 2.35482 * 2);
        }
        // A star's PSF flux is checked where no neighbour adds 1 % of its light to its fit:
        // no galaxy within 5 FWHM, no star within 5 FWHM brighter than a tenth of it.
        auto isolated = [&](const Star& s) {
            for (const auto& g : galaxies)
                if (std::hypot(g.x - s.x, g.y - s.y) < 5 * fwhm) return false;
            for (const auto& t : stars)
                if (&t != &s && std::hypot(t.x - s.x, t.y - s.y) < 5 * fwhm && t.flux > 0.1 * s.flux) return false;
            return true;
        };
        for (std::size_t i = 0; i < img.size(); ++i)
            img.pixels[i] += static_cast<float>(rng.normal(gal.pixels[i], std::sqrt(gal.pixels[i])));
        const Background bkg = measureBackground(img, {});
        const MeasuredImage m(img, bkg, kNoMask);
        const auto sources = m.detect();
        const PsfModel psf = measurePsf(m.subtracted(), m.rms(), m.ignored(), sources);
        qInfo("FWHM %.3f px (truth %.2f), beta %.2f, %d stars, chi2 %.2f", psf.fwhm, fwhm, psf.beta, psf.stars,
              psf.chi2);
        QCOMPARE(psf.status, std::string("ok"));
        QVERIFY(psf.stars >= 20);
        QVERIFY2(std::fabs(psf.fwhm / fwhm - 1) < 0.02, qPrintable(QString::number(psf.fwhm)));
        QVERIFY2(std::fabs(psf.beta / 3 - 1) < 0.1, qPrintable(QString::number(psf.beta)));
        // The PSF flux of the bright stars within 1 % of the truth, on average and star by
        // star within 3 sigma; spread model about 0 for stars and clearly positive for the
        // galaxies.
        double ratio = 0, spreadStars = 0;
        int n = 0;
        for (const auto& s : stars) {
            if (s.flux < 3e4 || !isolated(s)) continue;
            const auto p = psfPhotometry(m.subtracted(), m.rms(), m.ignored(), psf, s.x, s.y);
            QVERIFY(p.ok);
            QVERIFY2(std::fabs(p.flux - s.flux) < 3 * p.fluxErr + 0.01 * s.flux,
                     qPrintable(QString("flux %1 +- %2, truth %3").arg(p.flux).arg(p.fluxErr).arg(s.flux)));
            ratio += p.flux / s.flux;
            spreadStars += p.spread;
            ++n;
        }
        QVERIFY(n > 20);
        QVERIFY2(std::fabs(ratio / n - 1) < 0.01, qPrintable(QString::number(ratio / n)));
        QVERIFY2(std::fabs(spreadStars / n) < 0.002, qPrintable(QString::number(spreadStars / n)));
        double spreadGal = 0;
        int ng = 0;
        for (const auto& s : sources) {
            bool star = false;
            for (const auto& t : stars)
                star = star || std::hypot(t.x - s.x, t.y - s.y) < 3;
            if (star || s.snr() < 50) continue;
            spreadGal += psfPhotometry(m.subtracted(), m.rms(), m.ignored(), psf, s.x, s.y).spread;
            ++ng;
        }
        QVERIFY(ng > 20);
        qInfo("spread model: stars %.4f, galaxies %.4f", spreadStars / n, spreadGal / ng);
        QVERIFY2(spreadGal / ng > 0.005, qPrintable(QString::number(spreadGal / ng)));
    }

    // The astrometry of a whole mosaic: the header pointing off by (25", -18") and the field
    // rotated by 0.05 deg; 40 detected stars per CCD with 0.02 px centroid noise, and
    // reference stars that include fainter ones the detections lack. The pointing error
    // found within 0.02", every CCD's WCS within 0.01" of the truth.
    void astrometryOfAMosaic() {
        const double scale = pc::kPixelScale / 3600, rot = 0.05 * std::numbers::pi / 180;
        const wcs::Sky nominal{150.1, 2.2};
        const wcs::Sky truePointing{150.1 + 25 / 3600.0 / std::cos(2.2 * std::numbers::pi / 180), 2.2 - 18 / 3600.0};
        const auto focalTrue = wcs::Wcs::tan({0, 0}, truePointing, -scale * std::cos(rot), scale * std::sin(rot),
                                             scale * std::sin(rot), scale * std::cos(rot));
        const auto focalHeader = wcs::Wcs::tan({0, 0}, nominal, -scale, 0, 0, scale);
        const int w = 2048, h = 4096;
        Rng rng = Rng::stream({45});
        std::vector<AstroCcd> ccds;
        std::vector<RefStar> refs;
        std::vector<wcs::Wcs> truths;
        for (const auto& place : pc::placements()) {
            const double ox = place.centreX - (w + 1) / 2.0, oy = place.centreY - (h + 1) / 2.0;
            AstroCcd c{place.ccd, w, h, focalHeader.shifted(-ox, -oy), {}};
            truths.push_back(focalTrue.shifted(-ox, -oy));
            for (int k = 0; k < 60; ++k) {
                const double x = rng.uniform(1, w), y = rng.uniform(1, h);
                const wcs::Sky sky = truths.back().pixelToSky({x, y});
                refs.push_back({sky.ra, sky.dec, 18, static_cast<std::int64_t>(refs.size())});
                if (k < 40) c.sources.push_back({x + rng.normal(0, 0.02), y + rng.normal(0, 0.02), 200, 0.02});
            }
            ccds.push_back(std::move(c));
        }
        const AstroResult r = solveAstrometry(ccds, refs);
        qInfo("%s: %s; contrast %.0f", r.status.c_str(), r.message.c_str(), r.contrast);
        QCOMPARE(r.status, std::string("ok"));
        QCOMPARE(r.nstars, 18 * 40);
        QVERIFY2(std::fabs(r.offsetEast - 25) < 0.02 && std::fabs(r.offsetNorth + 18) < 0.02,
                 qPrintable(QString("%1, %2").arg(r.offsetEast).arg(r.offsetNorth)));
        // The rotation as FITS's CROTA2 of the fitted WCS relative to the header's: the
        // field's 0.05 deg turned the other way (the CD matrix above is CROTA2 = -0.05), plus
        // the convergence of the meridians between the two pointings, dRA sin(dec).
        const double convergence = (truePointing.ra - nominal.ra) * std::sin(2.2 * std::numbers::pi / 180);
        QVERIFY2(
            std::fabs(r.rotationDeg - (-0.05 + convergence)) < 2e-5,
            qPrintable(QString("%1, expected %2").arg(r.rotationDeg, 0, 'f', 6).arg(-0.05 + convergence, 0, 'f', 6)));
        // Noise of 0.02 px = 0.0053" per axis: the radial rms about 0.0074".
        QVERIFY2(r.refSigma < 0.01, qPrintable(QString::number(r.refSigma)));
        double worst = 0;
        for (std::size_t c = 0; c < ccds.size(); ++c) {
            QVERIFY(r.fitted[c]);
            for (const auto& p : {wcs::Pixel{1, 1}, wcs::Pixel{w / 2.0, h / 2.0}, wcs::Pixel{w, h}}) {
                const wcs::Sky a = r.fitted[c]->pixelToSky(p), b = truths[c].pixelToSky(p);
                worst = std::max(
                    worst, std::hypot((a.ra - b.ra) * std::cos(b.dec * std::numbers::pi / 180), a.dec - b.dec) * 3600);
            }
        }
        QVERIFY2(worst < 0.01, qPrintable(QString("a CCD's WCS off by %1\"").arg(worst)));

        // Too few stars: a status and a message, no solution.
        std::vector<AstroCcd> sparse;
        for (std::size_t c = 0; c < 2; ++c) {
            AstroCcd s = ccds[c];
            s.sources.resize(2);
            sparse.push_back(s);
        }
        const AstroResult few = solveAstrometry(sparse, refs);
        QVERIFY2(few.status == "few_stars" || few.status == "no_match", few.status.c_str());
        QVERIFY(!few.fitted[0]);
        QVERIFY(!few.message.empty());
        // The wrong field: reference stars 10' away match nothing.
        std::vector<RefStar> elsewhere = refs;
        for (auto& s : elsewhere)
            s.dec += 10 / 60.0;
        const AstroResult none = solveAstrometry(ccds, elsewhere);
        QCOMPARE(none.status, std::string("no_match"));
        QVERIFY(!none.fitted[0]);

        // The galactic plane: a reference catalogue 100 times deeper than the detections
        // (4,000 stars per CCD, 25 per square arcminute), so that every detection has some
        // 80 chance pairs within the search radius, and the peak stands only five times
        // over the random pairs' level: found all the same, as a significance; and the same
        // catalogue 10' away still matches nothing.
        std::vector<RefStar> deep = refs;
        for (std::size_t c = 0; c < ccds.size(); ++c)
            for (int k = 0; k < 4000; ++k) {
                const wcs::Sky sky = truths[c].pixelToSky({rng.uniform(1, w), rng.uniform(1, h)});
                deep.push_back({sky.ra, sky.dec, 21, static_cast<std::int64_t>(deep.size())});
            }
        const AstroResult crowded = solveAstrometry(ccds, deep);
        qInfo("crowded: %s; contrast %.0f", crowded.message.c_str(), crowded.contrast);
        QCOMPARE(crowded.status, std::string("ok"));
        QVERIFY2(std::fabs(crowded.offsetEast - 25) < 0.02 && std::fabs(crowded.offsetNorth + 18) < 0.02,
                 qPrintable(QString("%1, %2").arg(crowded.offsetEast).arg(crowded.offsetNorth)));
        for (auto& s : deep)
            s.dec += 10 / 60.0;
        const AstroResult deepElsewhere = solveAstrometry(ccds, deep);
        qInfo("crowded, wrong field: %s", deepElsewhere.message.c_str());
        QCOMPARE(deepElsewhere.status, std::string("no_match"));
    }

    // The zero point: 40 stars at 25.00 with 0.01 mag of noise and 4 variables 0.3 mag off.
    void zeroPointClipsTheVariables() {
        Rng rng = Rng::stream({46});
        std::vector<CalibrationStar> stars;
        for (int k = 0; k < 44; ++k) {
            const double mag = rng.uniform(16, 19);
            const double rate = std::pow(10.0, -0.4 * (mag - 25.0)) * std::pow(10.0, 0.4 * rng.normal(0, 0.01));
            const double flux = rate * 100 * (k < 4 ? std::pow(10.0, 0.4 * 0.3) : 1.0);
            stars.push_back({flux, 0.01 * flux, mag});
        }
        const ZeroPoint zp = zeroPoint(stars, 100);
        QCOMPARE(zp.status, std::string("ok"));
        QCOMPARE(zp.stars, 40);
        for (int k = 0; k < 4; ++k)
            QVERIFY(!zp.used[static_cast<std::size_t>(k)]);
        QVERIFY2(std::fabs(zp.zp - 25.0) < 0.005, qPrintable(QString::number(zp.zp, 'f', 4)));
        QVERIFY(zp.err > 0.001 && zp.err < 0.004);
        QCOMPARE(zeroPoint({stars[10], stars[11]}, 100).status, std::string("few_stars"));

        // Stars scattered by 0.03 mag more than their photon noise (0.01), and one bright
        // star 0.05 mag off with a photon error of 0.0005: weighted by photon noise alone it
        // would hold 80 % of the weight and pull the zero point 0.04 off; with the
        // scatter's extra variance given to every star, the zero point stays within 3 of
        // its errors of the truth.
        std::vector<CalibrationStar> scattered;
        for (int k = 0; k < 30; ++k) {
            const double mag = rng.uniform(17, 19);
            const double flux =
                std::pow(10.0, -0.4 * (mag - 25.0)) * 100 * std::pow(10.0, 0.4 * rng.normal(0, std::hypot(0.01, 0.03)));
            scattered.push_back({flux, 0.01 * flux, mag});
        }
        const double brightFlux = std::pow(10.0, -0.4 * (14 - 25.0)) * 100 * std::pow(10.0, 0.4 * 0.05);
        scattered.push_back({brightFlux, 0.0005 * brightFlux, 14});
        const ZeroPoint robust = zeroPoint(scattered, 100);
        qInfo("with a bright star 0.05 off: %.4f +- %.4f from %d stars", robust.zp, robust.err, robust.stars);
        QVERIFY2(std::fabs(robust.zp - 25.0) < 3 * robust.err && robust.err < 0.012,
                 qPrintable(QString("%1 +- %2").arg(robust.zp, 0, 'f', 4).arg(robust.err, 0, 'f', 4)));
    }
};

QTEST_GUILESS_MAIN(TestMeasure)
#include "test_measure.moc"
