// paudm reduce RAW [--bias B] [--flat F] [--ext N] --out OUT: one frame detrended by hand.
#include "cli.h"

#include "pipelines/nightly/products.h"

#include <QCommandLineParser>

#include <cstdio>

namespace paudm::cli {

int reduceCommand(const QStringList& args, const Globals&) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "paudm reduce: detrend one raw frame outside the pipeline, to check it by hand.\n\n"
        "Any CCD frame whose image HDUs say where their data and overscan are (DATASEC or TRIMSEC,\n"
        "BIASSEC) and their gain (GAIN), as IRAF and most observatories write them; DETSEC places\n"
        "amplifiers in their CCD and CCDNUM names it, so a PAUCam mosaic becomes its 18 CCDs. Each\n"
        "row's overscan level is subtracted, the data trimmed, the gain applied (the result is in\n"
        "electrons); with --bias and --flat, the master bias is subtracted and the flat divided. The\n"
        "mask flags saturated pixels (SATURATE), cosmic rays (L.A.Cosmic, sparing the cores of sharp\n"
        "stars) and the flat's bad pixels; the weight map is the inverse variance of the sky noise.\n\n"
        "OUT holds, for one CCD, the image (primary HDU), WEIGHT and MASK; for several, CCDnn, WHTnn\n"
        "and MSKnn per CCD. The masters may be the pipeline's (red/<release>/<obs_set>/master_*.fits)\n"
        "or plain images of the frame's size (a flat is normalised to its median).\n\n"
        "Examples:\n"
        "  paudm reduce raw/20261124_001/paucam.43450010.fits --out reduced.fits\n"
        "  paudm reduce frame.fits --bias bias.fits --flat flat.fits --out frame.red.fits\n"
        "  paudm reduce mosaic.fits --ext 12 --out amp.fits --no-cosmics");
    p.addHelpOption();
    p.addPositionalArgument("raw", "The raw FITS file.");
    p.addOption({"out", "The reduced file to write.", "file"});
    p.addOption({"bias", "Master bias (electrons).", "file"});
    p.addOption({"flat", "Master flat.", "file"});
    p.addOption({"ext", "Only this HDU of the raw file (1 = primary).", "n"});
    p.addOption({"gain", "Gain in e-/ADU, for frames without GAIN (or to override it).", "e/adu"});
    p.addOption({"overscan", "clipped_mean (default) or median: each overscan row's level.", "method", "clipped_mean"});
    p.addOption({"no-cosmics", "Do not look for cosmic rays."});
    p.addOption({"no-star-test", "Keep every cosmic ray L.A.Cosmic finds, star cores too (as astroscrappy does)."});
    p.addOption({"threads", "CCDs reduced at once. Default 1.", "n", "1"});
    if (auto rc = parseOrEnd(p, "paudm reduce", args)) return *rc;
    if (p.positionalArguments().size() != 1) return usage(p, "one raw file, please");
    if (!p.isSet("out")) return usage(p, "--out FILE is required");
    pipelines::nightly::ReduceFileOptions o;
    o.raw = p.positionalArguments().first().toStdString();
    o.out = p.value("out").toStdString();
    o.bias = p.value("bias").toStdString();
    o.flat = p.value("flat").toStdString();
    bool ok = true;
    if (p.isSet("ext")) {
        o.hdu = p.value("ext").toInt(&ok);
        if (!ok || *o.hdu < 1) return usage(p, "--ext wants an HDU number (1 is the primary)");
    }
    if (p.isSet("gain")) {
        o.gain = p.value("gain").toDouble(&ok);
        if (!ok || !(*o.gain > 0)) return usage(p, "--gain wants a positive number of e-/ADU");
    }
    const QString overscan = p.value("overscan");
    if (overscan == "median") o.overscan.method = reduction::OverscanOptions::Method::Median;
    else if (overscan != "clipped_mean") return usage(p, "--overscan is clipped_mean or median");
    o.detrend.cosmicRays = !p.isSet("no-cosmics");
    o.detrend.cosmics.protectStars = !p.isSet("no-star-test");
    o.threads = p.value("threads").toInt(&ok);
    if (!ok || o.threads < 1 || o.threads > 64) return usage(p, "--threads wants a number from 1 to 64");
    auto r = capture([&] { return pipelines::nightly::reduceFile(o); });
    if (!r) return failed(r.error().what());
    std::printf("%s: %d CCD%s, %lld pixels: %lld saturated, %lld cosmic-ray, %lld bad, in %.2f s\n", o.out.c_str(), r->ccds,
                r->ccds == 1 ? "" : "s", r->pixels, r->saturated, r->cosmic, r->bad, r->seconds);
    return 0;
}

} // namespace paudm::cli
