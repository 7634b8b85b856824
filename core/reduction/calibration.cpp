#include "reduction/calibration.h"

#include "common/error.h"
#include "common/workers.h"
#include "reduction/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace paudm::reduction {

double readNoiseFromPair(const FloatImage& a, const FloatImage& b, const Section& r, double gain,
                         double overscanPixels) {
    if (a.width != b.width || a.height != b.height) throw Error("read noise: the two bias frames differ in size");
    if (!r.within(a.width, a.height)) throw Error("read noise: region " + r.text() + " is outside the CCD");
    std::vector<float> diff;
    diff.reserve(static_cast<std::size_t>(r.width()) * r.height());
    for (int y = r.ymin() - 1; y < r.ymax(); ++y)
        for (int x = r.xmin() - 1; x < r.xmax(); ++x) diff.push_back(a.at(x, y) - b.at(x, y));
    const double sigma = madStd(diff); // robust to a cosmic ray or a hot pixel
    // Per frame: (read noise^2 + rounding) (1 + 1/overscan pixels); the rounding of the
    // ADU to integers is 1/12 ADU^2, gain^2 / 12 e-^2.
    const double perFrame = sigma * sigma / 2 / (1 + 1 / std::max(1.0, overscanPixels));
    const double var = perFrame - gain * gain / 12.0;
    return std::sqrt(std::max(var, 0.0));
}

double flatRelativeVariance(int frames, double level) {
    return frames > 0 && level > 0 ? 1.5707963267948966 / (frames * level) : 0.0;
}

FloatImage blockMedianMap(const FloatImage& image, const Mask* exclude, int block) {
    const int nx = image.width, ny = image.height;
    block = std::max(4, std::min({block, nx, ny}));
    const int cx = std::max(1, nx / block), cy = std::max(1, ny / block);
    // Cells cover the image evenly (the last ones absorb the remainder).
    std::vector<float> cell(static_cast<std::size_t>(cx) * cy, 0.0f);
    std::vector<float> values;
    for (int j = 0; j < cy; ++j)
        for (int i = 0; i < cx; ++i) {
            const int x0 = i * nx / cx, x1 = (i + 1) * nx / cx, y0 = j * ny / cy, y1 = (j + 1) * ny / cy;
            values.clear();
            for (int y = y0; y < y1; ++y)
                for (int x = x0; x < x1; ++x) {
                    const std::size_t k = static_cast<std::size_t>(y) * nx + x;
                    const float v = image.pixels[k];
                    if ((!exclude || !exclude->pixels[k]) && std::isfinite(v)) values.push_back(v);
                }
            cell[static_cast<std::size_t>(j) * cx + i] =
                values.empty() ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(medianInPlace(values));
        }
    // Empty cells take the median of the others.
    std::vector<float> good;
    for (float v : cell)
        if (std::isfinite(v)) good.push_back(v);
    const float fill = good.empty() ? 0.0f : static_cast<float>(medianInPlace(good));
    for (float& v : cell)
        if (!std::isfinite(v)) v = fill;
    FloatImage out(nx, ny);
    for (int y = 0; y < ny; ++y) {
        // Cell centres at (i + 0.5) * nx / cx; outside the first and last centre, constant.
        const double fy = std::clamp((y + 0.5) * cy / ny - 0.5, 0.0, cy - 1.0);
        const int j0 = static_cast<int>(std::floor(fy)), j1 = std::min(j0 + 1, cy - 1);
        const double ty = fy - j0;
        float* row = out.row(y);
        for (int x = 0; x < nx; ++x) {
            const double fx = std::clamp((x + 0.5) * cx / nx - 0.5, 0.0, cx - 1.0);
            const int i0 = static_cast<int>(std::floor(fx)), i1 = std::min(i0 + 1, cx - 1);
            const double tx = fx - i0;
            const double a = cell[static_cast<std::size_t>(j0) * cx + i0], b = cell[static_cast<std::size_t>(j0) * cx + i1];
            const double c = cell[static_cast<std::size_t>(j1) * cx + i0], d = cell[static_cast<std::size_t>(j1) * cx + i1];
            row[x] = static_cast<float>((a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty);
        }
    }
    return out;
}

namespace {

double medianOfImage(const FloatImage& img, const Mask* exclude) {
    std::vector<float> v;
    v.reserve(img.size());
    for (std::size_t i = 0; i < img.size(); ++i)
        if ((!exclude || !exclude->pixels[i]) && std::isfinite(img.pixels[i])) v.push_back(img.pixels[i]);
    return v.empty() ? std::numeric_limits<double>::quiet_NaN() : medianInPlace(v);
}

/// Bad pixels of a normalised flat: columns whose running median departs from the smooth
/// shape (hot columns add charge, dead ones give almost none), and single pixels far off.
Mask badPixels(const FloatImage& flat, const FlatOptions& o) {
    const int nx = flat.width, ny = flat.height;
    // The smooth shape first from every pixel, then again without the pixels far off it.
    FloatImage smooth = blockMedianMap(flat, nullptr, o.block);
    Mask rough(nx, ny);
    for (std::size_t i = 0; i < flat.size(); ++i)
        rough.pixels[i] = !(std::fabs(flat.pixels[i] / smooth.pixels[i] - 1) < 0.1);
    smooth = blockMedianMap(flat, &rough, o.block);
    Mask bad(nx, ny);
    const int half = o.window / 2;
    std::vector<float> dev(static_cast<std::size_t>(ny)), window;
    for (int x = 0; x < nx; ++x) {
        for (int y = 0; y < ny; ++y) {
            const float s = smooth.at(x, y);
            dev[y] = s > 0 ? flat.at(x, y) / s - 1 : -1;
        }
        for (int y = 0; y < ny; ++y) {
            window.clear();
            for (int k = std::max(0, y - half); k <= std::min(ny - 1, y + half); ++k) window.push_back(dev[k]);
            const double m = medianInPlace(window);
            if (std::fabs(m) > o.columnThreshold || !(std::fabs(dev[y]) < o.pixelThreshold)) bad.at(x, y) = kBadPixel;
        }
    }
    return bad;
}

} // namespace

MasterFlat buildMasterFlat(const std::vector<const FloatImage*>& frames, const FlatOptions& o,
                           const std::atomic<bool>* cancelled) {
    if (frames.empty()) throw Error("master flat: no flat frames");
    const int nx = frames.front()->width, ny = frames.front()->height;
    std::vector<double> scales, levels;
    std::vector<const float*> ptrs;
    for (const FloatImage* f : frames) {
        if (f->width != nx || f->height != ny) throw Error("master flat: the frames differ in size");
        const double m = medianOfImage(*f, nullptr);
        if (!(m > 0)) throw Error("master flat: a frame has no light (its median is " + std::to_string(m) + " e-)");
        levels.push_back(m);
        scales.push_back(1.0 / m);
        ptrs.push_back(f->pixels.data());
    }
    CombineOptions co = o.combine;
    co.threads = o.threads;
    Combined c = combine(ptrs, nx, ny, co, scales, cancelled);
    if (c.image.empty()) return {};
    MasterFlat out;
    out.level = medianInPlace(levels);
    out.flat = std::move(c.image);
    out.bad = badPixels(out.flat, o);
    // Normalised over the good pixels, so that a hot column does not move the level.
    const double norm = medianOfImage(out.flat, &out.bad);
    for (float& v : out.flat.pixels) v = static_cast<float>(v / norm);
    const FloatImage smooth = blockMedianMap(out.flat, &out.bad, o.block);
    double s2 = 0;
    long long n = 0;
    for (std::size_t i = 0; i < out.flat.size(); ++i) {
        if (out.bad.pixels[i]) {
            ++out.badPixels;
            continue;
        }
        const double d = out.flat.pixels[i] / smooth.pixels[i] - 1;
        s2 += d * d;
        ++n;
    }
    out.structure = n ? std::sqrt(s2 / n) : 0;
    return out;
}

Detrended detrend(const DetrendInputs& in, const DetrendOptions& o, const std::atomic<bool>* cancelled) {
    if (!in.electrons) throw Error("detrend: no image");
    const FloatImage& raw = *in.electrons;
    const int nx = raw.width, ny = raw.height;
    auto sameSize = [&](const auto* img, const char* what) {
        if (img && (img->width != nx || img->height != ny))
            throw Error(std::string("detrend: the ") + what + " is " + std::to_string(img->width) + " x " +
                        std::to_string(img->height) + ", the CCD " + std::to_string(nx) + " x " + std::to_string(ny));
    };
    sameSize(in.bias, "master bias");
    sameSize(in.flat, "master flat");
    sameSize(in.badPixels, "bad-pixel mask");
    sameSize(in.saturated, "saturation mask");

    Detrended out;
    const std::size_t n = raw.size();
    // Bias subtracted, in electrons: what the noise model of cosmic-ray detection needs.
    FloatImage electrons = raw;
    if (in.bias)
        for (std::size_t i = 0; i < n; ++i) electrons.pixels[i] -= in.bias->pixels[i];
    out.mask = Mask(nx, ny);
    if (in.badPixels)
        for (std::size_t i = 0; i < n; ++i) out.mask.pixels[i] |= in.badPixels->pixels[i] ? kBadPixel : 0;
    if (in.saturated) {
        const int g = std::max(0, o.saturationGrow);
        for (int y = 0; y < ny; ++y)
            for (int x = 0; x < nx; ++x) {
                if (!in.saturated->at(x, y)) continue;
                for (int dy = -g; dy <= g; ++dy)
                    for (int dx = -g; dx <= g; ++dx) {
                        const int ax = x + dx, ay = y + dy;
                        if (ax >= 0 && ay >= 0 && ax < nx && ay < ny) out.mask.at(ax, ay) |= kSaturated;
                    }
            }
    }
    for (std::size_t i = 0; i < n; ++i)
        if (!std::isfinite(electrons.pixels[i])) out.mask.pixels[i] |= kNoData;
    // The read noise of each pixel: that of its amplifier.
    FloatImage readNoise(nx, ny, 0.0f);
    double rnMean = 0;
    for (const auto& a : in.amplifiers) {
        rnMean += a.readNoise / in.amplifiers.size();
        for (int y = a.det.ymin() - 1; y < a.det.ymax(); ++y)
            for (int x = a.det.xmin() - 1; x < a.det.xmax(); ++x) readNoise.at(x, y) = static_cast<float>(a.readNoise);
    }
    // Flat-fielded, then searched for cosmic rays: before the flat, the pixel response
    // (1 % of a bright sky is more than its noise) looks like fine structure everywhere.
    // The noise model is then off by the flat's departure from 1 (a few per cent).
    out.image = FloatImage(nx, ny);
    for (std::size_t i = 0; i < n; ++i) {
        const float f = in.flat ? in.flat->pixels[i] : 1.0f;
        if (!(f > 0.05f)) out.mask.pixels[i] |= kBadPixel; // nothing to divide by
        out.image.pixels[i] = f > 0.05f ? electrons.pixels[i] / f : 0.0f;
    }
    if (o.cosmicRays) {
        LaCosmicOptions co = o.cosmics;
        co.gain = 1;
        co.readNoise = rnMean;
        co.relativeVariance = in.flatRelativeVariance;
        Mask exclude(nx, ny);
        for (std::size_t i = 0; i < n; ++i) exclude.pixels[i] = out.mask.pixels[i] ? 1 : 0;
        out.cosmicInfo = detectCosmicRays(out.image, exclude, co, cancelled);
        if (cancelled && *cancelled) return {};
        if (out.cosmicInfo.needsSharpness) return out; // the caller comes back with the mosaic's
        for (std::size_t i = 0; i < n; ++i)
            if (out.cosmicInfo.mask.pixels[i]) out.mask.pixels[i] |= kCosmicRay;
        out.cosmicInfo.cleaned = {}; // not kept: the image keeps its measured values, the mask says which
    }
    // The sky as the weights see it: smooth, from the pixels nothing is wrong with.
    out.sky = blockMedianMap(electrons, &out.mask, o.skyBlock);
    out.weight = FloatImage(nx, ny);
    const double biasTerm = in.bias && in.biasFrames > 0 ? 1.0 + 1.0 / in.biasFrames : 1.0;
    for (std::size_t i = 0; i < n; ++i) {
        const float f = in.flat ? in.flat->pixels[i] : 1.0f;
        const double rn = readNoise.pixels[i];
        const double sky = std::max(0.0f, out.sky.pixels[i]); // before the flat
        const double var = (rn * rn * biasTerm + sky) / (double(f) * f) +
                           (sky / f) * (sky / f) * in.flatRelativeVariance;
        out.weight.pixels[i] = out.mask.pixels[i] || !(var > 0) || !(f > 0.05f) ? 0.0f : static_cast<float>(1 / var);
        const std::uint8_t m = out.mask.pixels[i];
        out.saturated += (m & kSaturated) != 0;
        out.cosmic += (m & kCosmicRay) != 0;
        out.bad += (m & kBadPixel) != 0;
        out.masked += m != 0;
    }
    // The sky level of the reduced image: the sky map through the flat.
    std::vector<float> sky;
    sky.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        if (!out.mask.pixels[i]) sky.push_back(out.sky.pixels[i] / (in.flat ? in.flat->pixels[i] : 1.0f));
    out.skyLevel = sky.empty() ? 0 : medianInPlace(sky);
    return out;
}

} // namespace paudm::reduction
