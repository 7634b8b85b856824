#include "viewer/image_source.h"

#include "common/workers.h"
#include "fits/fits.h"
#include "pipelines/nightly/raw_frames.h"
#include "pipelines/paucam.h"
#include "wcs/wcs.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <regex>

namespace paudm::viewer {

namespace fs = std::filesystem;
namespace nightly = pipelines::nightly;
namespace paucam = pipelines::paucam;

bool HduSummary::hasPixels() const {
    if (type != "image" && type != "compressed image") return false;
    if (axes.empty()) return false;
    for (long a : axes)
        if (a <= 0) return false;
    return true;
}

namespace {

HduSummary summarise(const fits::File& f, int number) {
    HduSummary s;
    s.number = number;
    s.extname = f.keyString("EXTNAME").value_or("");
    switch (f.hduType()) {
    case fits::HduType::Image: {
        s.type = f.isCompressedImage() ? "compressed image" : "image";
        const fits::ImageInfo info = f.imageInfo();
        s.bitpix = info.bitpix;
        s.axes = info.axes;
        break;
    }
    case fits::HduType::BinaryTable:
    case fits::HduType::AsciiTable:
        s.type = f.hduType() == fits::HduType::BinaryTable ? "binary table" : "ascii table";
        s.axes = {static_cast<long>(f.keyInt("TFIELDS").value_or(0)), f.tableRows()};
        break;
    }
    return s;
}

std::string plural(long n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

std::string imageHduList(const std::vector<HduSummary>& hdus) {
    std::vector<int> images;
    for (const auto& h : hdus)
        if (h.hasPixels()) images.push_back(h.number);
    if (images.empty()) return "no HDU of this file has an image";
    if (images.size() == 1) return "the image is HDU " + std::to_string(images.front());
    return "its images are in HDUs " + std::to_string(images.front()) + "-" + std::to_string(images.back());
}

/// Mean of the finite pixels of each b x b block.
void binInto(const float* in, long w, long h, int b, float* out, long outStride, long ox, long oy) {
    const long bw = (w + b - 1) / b, bh = (h + b - 1) / b;
    for (long by = 0; by < bh; ++by)
        for (long bx = 0; bx < bw; ++bx) {
            double sum = 0;
            int n = 0;
            for (long y = by * b; y < std::min(h, (by + 1) * b); ++y)
                for (long x = bx * b; x < std::min(w, (bx + 1) * b); ++x) {
                    const float v = in[y * w + x];
                    if (std::isfinite(v)) sum += v, ++n;
                }
            out[(oy + by) * outStride + ox + bx] = n ? static_cast<float>(sum / n) : NAN;
        }
}

const paucam::CcdPlacement* placementOf(int ccd) {
    for (const auto& p : paucam::placements())
        if (p.ccd == ccd) return &p;
    return nullptr;
}

} // namespace

std::vector<HduSummary> listHdus(const std::string& path) {
    fits::File f = fits::File::open(path);
    std::vector<HduSummary> out;
    for (int h = 1; h <= f.hduCount(); ++h) {
        f.moveTo(h);
        out.push_back(summarise(f, h));
    }
    return out;
}

namespace {

Plane open(const std::string& spec, long plane, bool readPixels) {
    const auto [path, ext] = fits::splitHduSpec(spec);
    fits::File f = fits::File::open(path);
    Plane p;
    p.path = path;
    if (!ext.empty()) {
        f.moveToNamed(ext);
    } else {
        int first = 1;
        for (int h = 1; h <= f.hduCount(); ++h) {
            f.moveTo(h);
            if (summarise(f, h).hasPixels()) {
                first = h;
                break;
            }
        }
        f.moveTo(first);
    }
    p.hdu = f.currentHdu();
    p.label = f.hduLabel();
    p.header = f.headerText();
    p.units = f.keyString("BUNIT").value_or("");
    const HduSummary s = summarise(f, p.hdu);
    if (!s.hasPixels()) {
        if (s.type == "binary table" || s.type == "ascii table")
            p.note = p.label + " is a " + s.type + " (" + plural(s.axes[0], "column") + ", " + plural(s.axes[1], "row") +
                     "): no image";
        else {
            std::vector<HduSummary> all;
            for (int h = 1; h <= f.hduCount(); ++h) {
                f.moveTo(h);
                all.push_back(summarise(f, h));
            }
            p.note = p.label + " has no pixels (NAXIS = 0): " + imageHduList(all);
        }
        return p;
    }
    p.nx = s.axes[0];
    p.ny = s.axes.size() > 1 ? s.axes[1] : 1;
    p.planes = s.axes.size() > 2 ? s.axes[2] : 1;
    p.plane = plane;
    if (!readPixels) return p;
    f.moveTo(p.hdu);
    p.pixels = f.readPlane<float>(plane);
    return p;
}

} // namespace

Plane readPlane(const std::string& spec, long plane) { return open(spec, plane, true); }
Plane readHeader(const std::string& spec) { return open(spec, 1, false); }

std::vector<std::uint8_t> readMask(const std::string& path, long nx, long ny) {
    fits::File f = fits::File::open(path);
    for (int h = 1; h <= f.hduCount(); ++h) {
        f.moveTo(h);
        if (f.hduType() != fits::HduType::Image || f.keyString("EXTNAME").value_or("") != "MASK") continue;
        const auto info = f.imageInfo();
        if (info.axes.size() != 2 || info.axes[0] != nx || info.axes[1] != ny) return {};
        return f.readImage<std::uint8_t>();
    }
    return {};
}

void writeCutout(const std::string& path, const Plane& plane, long x0, long y0, long x1, long y1) {
    if (plane.empty()) throw Error("no image to cut out of");
    x0 = std::max(1L, x0), y0 = std::max(1L, y0), x1 = std::min(plane.nx, x1), y1 = std::min(plane.ny, y1);
    if (x1 < x0 || y1 < y0) throw Error("the cutout lies outside the image");
    const long w = x1 - x0 + 1, h = y1 - y0 + 1;
    std::vector<float> pixels(static_cast<std::size_t>(w * h));
    for (long y = 0; y < h; ++y)
        std::copy_n(plane.pixels.begin() + (y0 - 1 + y) * plane.nx + (x0 - 1), w, pixels.begin() + y * w);
    fits::File out = fits::File::create(path, true);
    out.appendImage<float>({w, h}, pixels);
    if (!plane.header.empty()) {
        try {
            const wcs::Wcs wcs = wcs::Wcs::fromHeader(plane.header, plane.path);
            out.writeCards(wcs.shifted(-(x0 - 1), -(y0 - 1)).toHeader());
        } catch (const Error&) {
            // No celestial WCS in the header: a cutout without one.
        }
    }
    if (!plane.units.empty()) out.writeKey("BUNIT", plane.units, "pixel units");
    out.writeHistory("Cutout [" + std::to_string(x0) + ":" + std::to_string(x1) + "," + std::to_string(y0) + ":" +
                     std::to_string(y1) + "] of " + plane.path + " " + plane.label);
    out.close();
}

bool isRawMosaic(const std::string& path) {
    fits::File f = fits::File::open(path);
    if (f.hduCount() < 2) return false;
    f.moveTo(2);
    return f.hduType() == fits::HduType::Image && f.hasKey("CCDNUM") && f.hasKey("BIASSEC") &&
           (f.hasKey("DATASEC") || f.hasKey("TRIMSEC"));
}

namespace {

Plane planeOfCcd(const std::string& path, nightly::RawCcd&& ccd) {
    Plane p;
    p.path = path;
    p.label = "CCD " + std::to_string(ccd.ccd) + " (amplifiers assembled, overscan subtracted)";
    p.units = "e-";
    p.nx = ccd.electrons.width;
    p.ny = ccd.electrons.height;
    p.pixels = std::move(ccd.electrons.pixels);
    if (ccd.wcs) p.header = ccd.wcs->toHeader();
    return p;
}

} // namespace

Plane readRawCcd(const std::string& path, int ccd) {
    fits::File f = fits::File::open(path);
    const nightly::RawLayout layout = nightly::readRawLayout(f);
    return planeOfCcd(path, nightly::loadCcd(f, layout, ccd, {}));
}

std::vector<std::pair<int, std::string>> reducedSiblings(const std::string& path) {
    static const std::regex name(R"((.*)\.ccd(\d\d)\.fits(\.fz)?)");
    std::smatch m;
    const std::string file = fs::path(path).filename().string();
    if (!std::regex_match(file, m, name)) return {};
    std::vector<std::pair<int, std::string>> out;
    for (int ccd = 1; ccd <= paucam::kCcds; ++ccd) {
        char n[8];
        std::snprintf(n, sizeof n, "%02d", ccd);
        const fs::path sibling = fs::path(path).parent_path() / (m[1].str() + ".ccd" + n + ".fits" + m[3].str());
        if (fs::exists(sibling)) out.emplace_back(ccd, sibling.string());
    }
    return out;
}

int FocalPlane::ccdAt(double x, double y) const {
    for (const Ccd& c : ccds)
        if (x >= c.x0 - 0.5 && x <= c.x1 + 0.5 && y >= c.y0 - 0.5 && y <= c.y1 + 0.5) return c.ccd;
    return 0;
}

FocalPlane readFocalPlane(const std::string& path, int maxSide, int threads,
                          const std::function<bool(int, int)>& progress, bool subtractSky) {
    // What to read: the CCDs of a raw mosaic, or the reduced files of one exposure.
    std::vector<std::pair<int, std::string>> reduced = reducedSiblings(path);
    const bool raw = reduced.empty();
    nightly::RawLayout layout;
    std::vector<int> ccds;
    if (raw) {
        fits::File f = fits::File::open(path);
        layout = nightly::readRawLayout(f);
        for (const auto& [ccd, amps] : layout.ccds) ccds.push_back(ccd);
    } else {
        for (const auto& [ccd, file] : reduced) ccds.push_back(ccd);
    }
    if (ccds.empty()) throw Error(path + ": no CCD to lay out");
    // Every CCD's size (all the same for PAUCam) and where it sits: PAUCam's placements,
    // in full-geometry pixels, scaled to these CCDs.
    long ccdW = 0, ccdH = 0;
    if (raw) {
        ccdW = layout.ccdWidth(ccds.front());
        ccdH = layout.ccdHeight(ccds.front());
    } else {
        fits::File f = fits::File::open(reduced.front().second);
        const auto info = f.imageInfo();
        if (info.axes.size() < 2) throw Error(reduced.front().second + ": its primary HDU has no image");
        ccdW = info.axes[0];
        ccdH = info.axes[1];
    }
    const double scale = static_cast<double>(ccdW) / paucam::kFullCcdWidth;
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int ccd : ccds) {
        const auto* pl = placementOf(ccd);
        if (!pl)
            throw Error(path + ": CCD " + std::to_string(ccd) + " is not one of PAUCam's 18: no focal plane to lay it on");
        xmin = std::min(xmin, pl->centreX * scale - ccdW / 2.0), xmax = std::max(xmax, pl->centreX * scale + ccdW / 2.0);
        ymin = std::min(ymin, pl->centreY * scale - ccdH / 2.0), ymax = std::max(ymax, pl->centreY * scale + ccdH / 2.0);
    }
    FocalPlane fp;
    fp.path = path;
    fp.units = raw ? "e-" : "";
    fp.skySubtracted = subtractSky;
    fp.raw = raw;
    {
        fits::File f = fits::File::open(raw ? path : reduced.front().second);
        fp.header = f.headerText();
    }
    const double side = std::max(xmax - xmin, ymax - ymin);
    fp.binning = std::max(1, static_cast<int>(std::ceil(side / std::max(1, maxSide))));
    const int b = fp.binning;
    fp.nx = static_cast<long>(std::ceil((xmax - xmin) / b));
    fp.ny = static_cast<long>(std::ceil((ymax - ymin) / b));
    fp.pixels.assign(static_cast<std::size_t>(fp.nx * fp.ny), NAN);
    const long bw = (ccdW + b - 1) / b, bh = (ccdH + b - 1) / b;
    for (int ccd : ccds) {
        const auto* pl = placementOf(ccd);
        const long ox = std::clamp(static_cast<long>(std::lround((pl->centreX * scale - ccdW / 2.0 - xmin) / b)), 0L,
                                   fp.nx - bw);
        const long oy = std::clamp(static_cast<long>(std::lround((pl->centreY * scale - ccdH / 2.0 - ymin) / b)), 0L,
                                   fp.ny - bh);
        std::string source = path;
        for (const auto& [c, file] : reduced)
            if (c == ccd) source = file;
        fp.ccds.push_back({ccd, source, static_cast<double>(ox + 1), static_cast<double>(oy + 1),
                           static_cast<double>(ox + bw), static_cast<double>(oy + bh)});
    }

    // Read and bin the CCDs on `threads` threads, each with its own file handle.
    std::atomic<std::size_t> next{0};
    std::atomic<int> done{0};
    std::mutex progressMutex;
    std::atomic<bool> stop{false};
    runWorkers(std::max(1, threads), [&](int, const WorkerGroup& group) {
        std::optional<fits::File> f;
        if (raw) f.emplace(fits::File::open(path));
        for (std::size_t i = next++; i < fp.ccds.size() && !group.failed() && !stop; i = next++) {
            const FocalPlane::Ccd& box = fp.ccds[i];
            std::vector<float> pixels;
            long w = 0, h = 0;
            if (raw) {
                nightly::RawCcd c = nightly::loadCcd(*f, layout, box.ccd, {});
                w = c.electrons.width, h = c.electrons.height;
                pixels = std::move(c.electrons.pixels);
            } else {
                fits::File r = fits::File::open(box.source);
                const auto info = r.imageInfo();
                if (info.axes.size() < 2 || info.axes[0] != ccdW || info.axes[1] != ccdH)
                    throw Error(box.source + ": its image is not " + std::to_string(ccdW) + " x " + std::to_string(ccdH) +
                                " as the other CCDs of the exposure");
                w = ccdW, h = ccdH;
                pixels = r.readImage<float>();
            }
            if (w != ccdW || h != ccdH)
                throw Error(path + ": CCD " + std::to_string(box.ccd) + " is " + std::to_string(w) + " x " +
                            std::to_string(h) + ", not " + std::to_string(ccdW) + " x " + std::to_string(ccdH));
            const long ox = static_cast<long>(box.x0) - 1, oy = static_cast<long>(box.y0) - 1;
            binInto(pixels.data(), w, h, b, fp.pixels.data(), fp.nx, ox, oy);
            // Each thread writes its own CCDs' boxes (and Ccd entries) only.
            std::vector<float> binned;
            binned.reserve(static_cast<std::size_t>(bw * bh));
            for (long y = 0; y < bh; ++y)
                for (long x = 0; x < bw; ++x) {
                    const float v = fp.pixels[static_cast<std::size_t>((oy + y) * fp.nx + ox + x)];
                    if (std::isfinite(v)) binned.push_back(v);
                }
            double sky = 0;
            if (!binned.empty()) {
                std::nth_element(binned.begin(), binned.begin() + static_cast<std::ptrdiff_t>(binned.size() / 2), binned.end());
                sky = binned[binned.size() / 2];
            }
            fp.ccds[i].sky = sky;
            if (subtractSky)
                for (long y = 0; y < bh; ++y)
                    for (long x = 0; x < bw; ++x) fp.pixels[static_cast<std::size_t>((oy + y) * fp.nx + ox + x)] -= static_cast<float>(sky);
            const int n = ++done;
            if (progress) {
                std::lock_guard lock(progressMutex);
                if (!progress(n, static_cast<int>(fp.ccds.size()))) stop = true;
            }
        }
    });
    if (stop) throw Error(path + ": reading the focal plane was cancelled");
    return fp;
}

} // namespace paudm::viewer
