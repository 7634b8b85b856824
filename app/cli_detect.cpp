// paudm detect IMAGE[EXT] --out CSV: background, sources and sky positions of one image.
#include "cli.h"

#include "common/atomic_file.h"
#include "pipelines/nightly/measure.h"
#include "reduction/sources.h"

#include <QCommandLineParser>

#include <cmath>
#include <cstdio>

namespace paudm::cli {

namespace {

/// The detection kernel (reduction::gaussianKernel of `fwhm`; 0: SExtractor's own 3 x 3
/// pyramid) as a SExtractor .conv file; returns `threshold` as SExtractor's DETECT_THRESH,
/// which is over the raw noise (ours is over the smoothed noise after a Gaussian, over the
/// raw noise after the pyramid, as in MeasuredImage::detect).
double writeSextractorFilter(const std::string& path, double fwhm, double threshold) {
    int size = 3;
    std::vector<float> k =
        fwhm > 0 ? reduction::gaussianKernel(fwhm, size) : std::vector<float>{1, 2, 1, 2, 4, 2, 1, 2, 1};
    double sum = 0, sumSq = 0;
    for (float v : k)
        sum += v;
    std::string text = "CONV NORM\n# paudm detect's smoothing kernel";
    text += fwhm > 0 ? ": a Gaussian of FWHM " + std::to_string(fwhm) + " px\n" : ": the 3 x 3 pyramid\n";
    char v[32];
    for (int y = 0; y < size; ++y) {
        for (int x = 0; x < size; ++x) {
            const double n = k[static_cast<std::size_t>(y * size + x)] / sum;
            sumSq += n * n;
            std::snprintf(v, sizeof v, "%s%.7f", x ? " " : "", n);
            text += v;
        }
        text += "\n";
    }
    writeFileAtomically(path, text);
    return fwhm > 0 ? threshold * std::sqrt(sumSq) : threshold;
}

} // namespace

int detectCommand(const QStringList& args, const Globals&) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "paudm detect: the sources of one image, as single_epoch finds them, outside the pipeline.\n\n"
        "IMAGE is a FITS file, or FILE[N] for its HDU N (1 = primary), or FILE[EXTNAME]; without\n"
        "one, the first HDU with a two-dimensional image. The background is SExtractor's mesh\n"
        "(median-filtered cells, the sources masked and the estimate made again); detection runs a\n"
        "filter matched to the PSF over the background noise, with deblending; each source gets a\n"
        "windowed centroid, a Kron (AUTO) flux, a PSF flux and SExtractor's spread model (about 0 for\n"
        "stars). A reduced CCD of the pipeline is read with its MASK (bad pixels and cosmic rays are\n"
        "left out). With a celestial WCS in the header, each source gets RA and Dec.\n\n"
        "CSV columns: id,x,y,ra,dec,flux_auto,flux_err_auto,flux_psf,flux_err_psf,a,b,theta,\n"
        "elongation,flux_radius,spread_model,background,flags. x and y are FITS pixel coordinates (the\n"
        "centre of the first pixel is 1,1), a b and flux_radius pixels, theta degrees counter-clockwise\n"
        "from +x, fluxes in the image's units; ra and dec (degrees) are empty without a WCS. Flags: 1\n"
        "neighbours in the aperture, 2 deblended, 4 saturated, 8 at the border, 16 a masked pixel at\n"
        "the centre.\n\n"
        "Examples:\n"
        "  paudm detect archive/red/R1/20261124_001/paucam.43450010.ccd07.fits --out ccd07.csv\n"
        "  paudm detect image.fits[2] --threshold 5 --out sources.csv\n"
        "  paudm detect ccd07.fits --out ccd07.csv --sextractor-filter ours.conv   (then, for the same\n"
        "      detection in SExtractor: -FILTER_NAME ours.conv -DETECT_THRESH <printed> -DETECT_MINAREA 3)");
    p.addHelpOption();
    p.addPositionalArgument("image", "FITS file, optionally with [HDU] or [EXTNAME].");
    p.addOption({"out", "The CSV file to write.", "file"});
    p.addOption({"threshold", "Detection threshold in sigma of the filtered noise. Default 4.", "sigma", "4"});
    p.addOption({"minarea", "Pixels over the threshold a source needs. Default 3.", "n", "3"});
    p.addOption({"back-size", "Background mesh cell (pixels). Default 64.", "n", "64"});
    p.addOption({"gain", "e- per pixel value, for the flux errors (default: GAIN from the header, else 1).", "e/adu"});
    p.addOption({"max-saturated",
                 "Measure only if at most this fraction of the pixels is flagged saturated in the MASK HDU "
                 "(a saturated sky leaves nothing to measure). Default 0.1.",
                 "fraction", "0.1"});
    p.addOption({"sextractor-filter",
                 "Also write the detection's smoothing kernel as a SExtractor filter (.conv) and print the "
                 "DETECT_THRESH (over the raw noise) that makes SExtractor's threshold ours.",
                 "file"});
    if (auto rc = parseOrEnd(p, "paudm detect", args)) return *rc;
    if (p.positionalArguments().size() != 1) return usage(p, "one image, please");
    if (!p.isSet("out")) return usage(p, "--out FILE is required");
    pipelines::nightly::DetectFileOptions o;
    o.path = p.positionalArguments().first().toStdString();
    o.out = p.value("out").toStdString();
    bool ok = true;
    o.measure.detection.threshold = p.value("threshold").toDouble(&ok);
    if (!ok || !(o.measure.detection.threshold > 0)) return usage(p, "--threshold wants a positive number of sigma");
    o.measure.detection.minArea = p.value("minarea").toInt(&ok);
    if (!ok || o.measure.detection.minArea < 1) return usage(p, "--minarea wants a positive number of pixels");
    o.measure.background.mesh = p.value("back-size").toInt(&ok);
    if (!ok || o.measure.background.mesh < 8) return usage(p, "--back-size wants at least 8 pixels");
    o.measure.maxSaturatedFraction = p.value("max-saturated").toDouble(&ok);
    if (!ok || !(o.measure.maxSaturatedFraction >= 0 && o.measure.maxSaturatedFraction <= 1))
        return usage(p, "--max-saturated wants a fraction from 0 to 1");
    if (p.isSet("gain")) {
        o.gain = p.value("gain").toDouble(&ok);
        if (!ok || !(*o.gain > 0)) return usage(p, "--gain wants a positive number");
    }
    auto r = capture([&] { return pipelines::nightly::detectFile(o); });
    if (!r) return failed(r.error().what());
    if (p.isSet("sextractor-filter")) {
        const std::string conv = p.value("sextractor-filter").toStdString();
        double detectThresh = 0;
        auto w = capture([&] {
            detectThresh = writeSextractorFilter(conv, r->kernelFwhm, o.measure.detection.threshold);
            return true;
        });
        if (!w) return failed(w.error().what());
        std::printf("%s: SExtractor filter of the detection kernel; DETECT_THRESH %.5f\n", conv.c_str(), detectThresh);
    }
    std::printf("%s: %d sources on %s (%d x %d), background %.4g +- %.3g, PSF FWHM %.2f px (%s), detection kernel "
                "FWHM %.3f px%s\n",
                o.out.c_str(), r->detections, r->hdu.c_str(), r->width, r->height, r->background, r->noise, r->fwhm,
                r->psfStatus.c_str(), r->kernelFwhm, r->sky ? "" : "; no WCS: no RA/Dec");
    return 0;
}

} // namespace paudm::cli
