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

FloatImage blockMedianMap(const FloatImage& image, const Mask* exclude, int block, int step) {
    step = std::max(1, step);
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
            for (int y = y0; y < y1; y += step)
                for (int x = x0; x < x1; x += step) {
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
    // Cell centres at (i + 0.5) * nx / cx; outside the first and last centre, constant. The
    // columns' cells and weights are the same on every row.
    std::vector<int> i0s(static_cast<std::size_t>(nx)), i1s(i0s.size());
    std::vector<double> txs(i0s.size());
    for (int x = 0; x < nx; ++x) {
        const double fx = std::clamp((x + 0.5) * cx / nx - 0.5, 0.0, cx - 1.0);
        i0s[x] = static_cast<int>(std::floor(fx));
        i1s[x] = std::min(i0s[x] + 1, cx - 1);
        txs[x] = fx - i0s[x];
    }
    std::vector<double> across(static_cast<std::size_t>(cx));
    for (int y = 0; y < ny; ++y) {
        const double fy = std::clamp((y + 0.5) * cy / ny - 0.5, 0.0, cy - 1.0);
        const int j0 = static_cast<int>(std::floor(fy)), j1 = std::min(j0 + 1, cy - 1);
        const double ty = fy - j0;
        for (int i = 0; i < cx; ++i) // the row's values at the cell centres
            across[i] = cell[static_cast<std::size_t>(j0) * cx + i] * (1 - ty) + cell[static_cast<std::size_t>(j1) * cx + i] * ty;
        float* row = out.row(y);
        for (int x = 0; x < nx; ++x)
            row[x] = static_cast<float>(across[i0s[x]] * (1 - txs[x]) + across[i1s[x]] * txs[x]);
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
    // One pass: bias subtracted, in electrons (what the noise model of cosmic-ray detection
    // and the sky map need), the pixels nothing can be measured on flagged, and the image
    // flat-fielded. Cosmic rays are searched for after the flat: before it, the pixel
    // response (1 % of a bright sky is more than its noise) looks like fine structure
    // everywhere; the noise model is then off by the flat's departure from 1 (a few per cent).
    FloatImage electrons(nx, ny);
    out.mask = Mask(nx, ny);
    out.image = FloatImage(nx, ny);
    {
        const float* r = raw.pixels.data();
        const float* b = in.bias ? in.bias->pixels.data() : nullptr;
        const float* f = in.flat ? in.flat->pixels.data() : nullptr;
        const std::uint8_t* bad = in.badPixels ? in.badPixels->pixels.data() : nullptr;
        float* e = electrons.pixels.data();
        float* img = out.image.pixels.data();
        std::uint8_t* m = out.mask.pixels.data();
        for (std::size_t i = 0; i < n; ++i) {
            const float v = b ? r[i] - b[i] : r[i];
            const float fl = f ? f[i] : 1.0f;
            const bool usable = fl > 0.05f; // else nothing to divide by
            e[i] = v;
            img[i] = usable ? v / fl : 0.0f;
            m[i] = static_cast<std::uint8_t>(((bad && bad[i]) || !usable ? kBadPixel : 0) | (std::isfinite(v) ? 0 : kNoData));
        }
    }
    if (in.saturated) {
        const int g = std::max(0, o.saturationGrow);
        for (int y = 0; y < ny; ++y) {
            const std::uint8_t* srow = in.saturated->pixels.data() + static_cast<std::size_t>(y) * nx;
            for (int x = 0; x < nx; ++x) {
                if (!srow[x]) continue;
                for (int ay = std::max(0, y - g); ay <= std::min(ny - 1, y + g); ++ay)
                    for (int ax = std::max(0, x - g); ax <= std::min(nx - 1, x + g); ++ax) out.mask.at(ax, ay) |= kSaturated;
            }
        }
    }
    double rnMean = 0;
    for (const auto& a : in.amplifiers) rnMean += a.readNoise / in.amplifiers.size();
    if (o.cosmicRays) {
        LaCosmicOptions co = o.cosmics;
        co.gain = 1;
        co.readNoise = rnMean;
        co.relativeVariance = in.flatRelativeVariance;
        out.cosmicInfo = detectCosmicRays(out.image, out.mask, co, cancelled);
        if (cancelled && *cancelled) return {};
        if (out.cosmicInfo.needsSharpness) return out; // the caller comes back with the mosaic's
        for (std::size_t i = 0; i < n; ++i)
            if (out.cosmicInfo.mask.pixels[i]) out.mask.pixels[i] |= kCosmicRay;
        out.cosmicInfo.cleaned = {}; // not kept: the image keeps its measured values, the mask says which
    }
    // The sky as the weights see it: smooth, from the pixels nothing is wrong with.
    out.sky = blockMedianMap(electrons, &out.mask, o.skyBlock, 2); // a quarter of each cell's pixels: 1000 of 4096
    electrons = {};
    // The weights, row by row with each pixel's read noise (that of its amplifier).
    out.weight = FloatImage(nx, ny);
    const float biasTerm = in.bias && in.biasFrames > 0 ? 1.0f + 1.0f / in.biasFrames : 1.0f;
    const float rel = static_cast<float>(in.flatRelativeVariance);
    std::vector<float> rn2(static_cast<std::size_t>(nx));
    for (int y = 0; y < ny; ++y) {
        std::fill(rn2.begin(), rn2.end(), 0.0f);
        for (const auto& a : in.amplifiers)
            if (y >= a.det.ymin() - 1 && y < a.det.ymax())
                for (int x = std::max(0, a.det.xmin() - 1); x < std::min(nx, a.det.xmax()); ++x)
                    rn2[x] = static_cast<float>(a.readNoise * a.readNoise) * biasTerm;
        const std::size_t row = static_cast<std::size_t>(y) * nx;
        const float* f = in.flat ? in.flat->pixels.data() + row : nullptr;
        const float* sky = out.sky.pixels.data() + row;
        const std::uint8_t* m = out.mask.pixels.data() + row;
        float* w = out.weight.pixels.data() + row;
        for (int x = 0; x < nx; ++x) {
            const float fl = f ? f[x] : 1.0f;
            const float sk = std::max(0.0f, sky[x]); // before the flat
            const float var = (rn2[x] + sk) / (fl * fl) + (sk / fl) * (sk / fl) * rel;
            w[x] = m[x] || !(var > 0) ? 0.0f : 1 / var;
            out.saturated += (m[x] & kSaturated) != 0;
            out.cosmic += (m[x] & kCosmicRay) != 0;
            out.bad += (m[x] & kBadPixel) != 0;
            out.masked += m[x] != 0;
        }
    }
    // The sky level of the reduced image: the sky map through the flat, at a regular sample
    // of about kLevelSample pixels (the map is smooth: more would cost time, not precision).
    std::vector<float> sky;
    const std::size_t stride = std::max<std::size_t>(1, n / kLevelSample);
    sky.reserve(n / stride + 1);
    for (std::size_t i = 0; i < n; i += stride)
        if (!out.mask.pixels[i]) sky.push_back(out.sky.pixels[i] / (in.flat ? in.flat->pixels[i] : 1.0f));
    out.skyLevel = sky.empty() ? 0 : medianInPlace(sky);
    return out;
}

} // namespace paudm::reduction
