#include "common/atomic_file.h"
#include "common/error.h"
#include "fits/fits.h"
#include "pipelines/nightly/measure.h"

#include <cmath>
#include <cstdio>

namespace paudm::pipelines::nightly {

namespace {

/// Moves to the HDU asked for, or to the first image HDU with pixels.
void moveToImage(fits::File& f, const std::string& ext) {
    if (!ext.empty()) {
        f.moveToNamed(ext);
        if (f.hduType() != fits::HduType::Image || f.imageInfo().axes.size() < 2)
            throw Error(f.path() + " " + f.hduLabel() + " is not a two-dimensional image");
        return;
    }
    for (int h = 1; h <= f.hduCount(); ++h) {
        f.moveTo(h);
        if (f.hduType() == fits::HduType::Image && f.imageInfo().axes.size() >= 2) return;
    }
    throw Error(f.path() + ": no two-dimensional image in any HDU");
}

std::string csvNumber(double v, int digits) {
    if (!std::isfinite(v)) return "";
    char b[40];
    std::snprintf(b, sizeof b, "%.*g", digits, v);
    return b;
}

} // namespace

DetectFileReport detectFile(const DetectFileOptions& o) {
    const auto [path, ext] = fits::splitHduSpec(o.path);
    auto f = fits::File::open(path);
    moveToImage(f, ext);
    DetectFileReport rep;
    rep.hdu = f.hduLabel();
    const auto info = f.imageInfo();
    if (info.axes.size() > 2)
        for (std::size_t a = 2; a < info.axes.size(); ++a)
            if (info.axes[a] != 1)
                throw Error(path + " " + rep.hdu + " is a cube: name one plane's HDU, or cut the plane out first");
    reduction::FloatImage image(static_cast<int>(info.axes[0]), static_cast<int>(info.axes[1]));
    image.pixels = f.readImage<float>();
    image.pixels.resize(image.size());
    rep.width = image.width;
    rep.height = image.height;
    const double gain = o.gain ? *o.gain : f.keyDouble("GAIN").value_or(1.0);
    if (!(gain > 0)) throw Error(path + " " + rep.hdu + ": GAIN must be positive");
    std::optional<wcs::Wcs> w;
    try {
        w = wcs::Wcs::fromFits(f);
    } catch (const Error&) {
        // No celestial WCS: pixel positions only.
    }
    const int imageHdu = f.currentHdu();
    // Our reduced files carry a MASK of the same size: its flags leave pixels out.
    reduction::Mask mask;
    for (int h = 1; h <= f.hduCount(); ++h) {
        if (h == imageHdu) continue;
        f.moveTo(h);
        if (f.keyString("EXTNAME").value_or("") != "MASK" || f.hduType() != fits::HduType::Image) continue;
        const auto mi = f.imageInfo();
        if (mi.axes.size() == 2 && mi.axes[0] == image.width && mi.axes[1] == image.height) {
            mask = reduction::Mask(image.width, image.height);
            mask.pixels = f.readImage<std::uint8_t>();
        }
        break;
    }
    // In electrons, so that the errors carry the sources' Poisson noise.
    if (gain != 1)
        for (float& v : image.pixels) v = static_cast<float>(v * gain);
    CcdMeasurement m = measureCcd(image, mask, o.measure);
    if (!m.ok()) throw Error(path + " " + rep.hdu + " cannot be measured: " + m.status); // and no CSV is written
    placeOnSky(m.detections, w);
    rep.sky = w.has_value();
    rep.detections = static_cast<int>(m.detections.size());
    rep.background = m.skyLevel / gain;
    rep.noise = m.skyRms / gain;
    rep.fwhm = m.psf.fwhm;
    rep.kernelFwhm = m.detectionKernelFwhm;
    rep.psfStatus = m.psf.status;
    std::string csv = "id,x,y,ra,dec,flux_auto,flux_err_auto,flux_psf,flux_err_psf,a,b,theta,elongation,flux_radius,"
                      "spread_model,background,flags\n";
    int id = 0;
    for (const auto& d : m.detections) {
        const auto& s = d.source;
        // Fluxes back in the image's units.
        csv += std::to_string(++id) + "," + csvNumber(s.x + 1, 8) + "," + csvNumber(s.y + 1, 8) + "," +
               csvNumber(d.ra, 11) + "," + csvNumber(d.dec, 11) + "," + csvNumber(s.fluxAuto / gain, 8) + "," +
               csvNumber(s.fluxErrAuto / gain, 6) + "," + csvNumber(d.fluxPsf / gain, 8) + "," +
               csvNumber(d.fluxErrPsf / gain, 6) + "," + csvNumber(s.a, 5) + "," + csvNumber(s.b, 5) + "," +
               csvNumber(s.theta * 180 / M_PI, 5) + "," + csvNumber(s.elongation(), 5) + "," + csvNumber(s.fluxRadius, 5) +
               "," + csvNumber(d.spread, 5) + "," + csvNumber(s.background / gain, 7) + "," + std::to_string(s.flags) + "\n";
    }
    writeFileAtomically(o.out, csv);
    return rep;
}

} // namespace paudm::pipelines::nightly
