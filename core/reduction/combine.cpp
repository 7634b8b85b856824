#include "reduction/combine.h"

#include "common/error.h"
#include "common/workers.h"
#include "reduction/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace paudm::reduction {

namespace {

double meanOf(const double* v, int n) {
    double s = 0;
    for (int i = 0; i < n; ++i) s += v[i];
    return s / n;
}

double medianOf(double* v, int n) { return medianInPlace(std::span<double>(v, static_cast<std::size_t>(n))); }

/// The clipped combination of one pixel's values (reorders `v`); returns the number kept.
int combinePixel(double* v, int n, const CombineOptions& o, double known, double* scratch, float& result) {
    if (o.clip) {
        for (int it = 0; it < o.iterations && n > 1; ++it) {
            double centre, dev;
            if (o.centre == CombineOptions::Centre::Mean) {
                centre = meanOf(v, n);
            } else {
                std::copy(v, v + n, scratch);
                centre = medianOf(scratch, n);
            }
            if (o.deviation == CombineOptions::Deviation::Known) {
                dev = known;
            } else if (o.deviation == CombineOptions::Deviation::Std) {
                // Population standard deviation (ddof 0) about the mean, as numpy's std.
                const double m = meanOf(v, n);
                double s2 = 0;
                for (int i = 0; i < n; ++i) s2 += (v[i] - m) * (v[i] - m);
                dev = std::sqrt(s2 / n);
            } else {
                std::copy(v, v + n, scratch);
                const double med = medianOf(scratch, n);
                for (int i = 0; i < n; ++i) scratch[i] = std::fabs(v[i] - med);
                dev = 1.482602218505602 * medianOf(scratch, n);
            }
            const double lo = centre - o.low * dev, hi = centre + o.high * dev;
            int kept = 0;
            for (int i = 0; i < n; ++i)
                if (!(v[i] < lo || v[i] > hi)) v[kept++] = v[i];
            const bool changed = kept != n;
            n = kept;
            if (!changed) break;
        }
    }
    if (n == 0) {
        result = std::numeric_limits<float>::quiet_NaN();
        return 0;
    }
    result = static_cast<float>(o.method == CombineOptions::Method::Mean ? meanOf(v, n) : medianOf(v, n));
    return n;
}

} // namespace

Combined combine(std::span<const float* const> frames, int width, int height, const CombineOptions& o,
                 std::span<const double> scales, const std::atomic<bool>* cancelled) {
    if (frames.empty()) throw Error("nothing to combine: no frames");
    if (!scales.empty() && scales.size() != frames.size())
        throw Error("combine: " + std::to_string(scales.size()) + " scales for " + std::to_string(frames.size()) + " frames");
    const int nf = static_cast<int>(frames.size());
    if (o.deviation == CombineOptions::Deviation::Known &&
        (!o.sigma || o.sigma->width != width || o.sigma->height != height))
        throw Error("combine: the known dispersion needs a sigma image of the frames' size");
    Combined out;
    out.image = FloatImage(width, height);
    out.used = Image<std::uint16_t>(width, height);
    std::atomic<int> nextRow{0};
    std::atomic<long long> rejected{0};
    runWorkers(std::max(1, std::min(o.threads, height)), [&](int, const WorkerGroup& g) {
        std::vector<double> v(static_cast<std::size_t>(nf)), scratch(static_cast<std::size_t>(nf));
        long long rej = 0;
        for (int y; !g.failed() && (y = nextRow++) < height;) {
            if (cancelled && *cancelled) break;
            const std::size_t base = static_cast<std::size_t>(y) * width;
            for (int x = 0; x < width; ++x) {
                int n = 0;
                for (int f = 0; f < nf; ++f) {
                    const float value = frames[f][base + x];
                    if (std::isnan(value)) continue;
                    v[n++] = scales.empty() ? value : value * scales[f];
                }
                const int valid = n;
                float r;
                const double known = o.sigma ? o.sigma->pixels[base + x] : 0.0;
                n = combinePixel(v.data(), n, o, known, scratch.data(), r);
                out.image.pixels[base + x] = r;
                out.used.pixels[base + x] = static_cast<std::uint16_t>(n);
                rej += valid - n;
            }
        }
        rejected += rej;
    });
    if (cancelled && *cancelled) return {};
    out.rejected = rejected;
    return out;
}

} // namespace paudm::reduction
