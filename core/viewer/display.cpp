#include "viewer/display.h"

#include "common/error.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <numeric>

namespace paudm::viewer {

namespace {

bool finite(float v) { return std::isfinite(v); }

/// The finite values among every `stride`-th pixel, at most `limit` of them (0: no limit).
std::vector<float> sampleFinite(const float* pixels, std::size_t n, std::size_t maxSamples) {
    std::size_t stride = 1;
    if (maxSamples > 0 && n > maxSamples) stride = n / maxSamples;
    std::vector<float> out;
    out.reserve(n / stride + 1);
    for (std::size_t i = 0; i < n; i += stride)
        if (finite(pixels[i])) out.push_back(pixels[i]);
    return out;
}

/// numpy's linear percentile of sorted values, p in [0, 100].
double sortedPercentile(const std::vector<float>& sorted, double p) {
    const double index = p / 100.0 * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(index));
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    const double frac = index - static_cast<double>(lo);
    return sorted[lo] + (static_cast<double>(sorted[hi]) - sorted[lo]) * frac;
}

/// Median by partial sorting (the vector is reordered).
double median(std::vector<float>& v) {
    const std::size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
    const double upper = v[mid];
    if (v.size() % 2) return upper;
    const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
    return (lower + upper) / 2;
}

} // namespace

Limits zscale(const float* pixels, std::size_t n, const ZscaleOptions& o) {
    // The samples: finite values at an even stride over the finite ones (not over all
    // pixels: a frame half blank still gets `samples` of them).
    // Counted first, then walked with the stride, so that no copy of the image is made.
    std::size_t finiteCount = 0;
    for (std::size_t i = 0; i < n; ++i) finiteCount += finite(pixels[i]);
    if (finiteCount == 0) return {0, 1};
    const std::size_t stride =
        std::max<std::size_t>(1, static_cast<std::size_t>(static_cast<double>(finiteCount) / o.samples));
    std::vector<double> s;
    s.reserve(static_cast<std::size_t>(o.samples));
    for (std::size_t i = 0, k = 0; i < n && s.size() < static_cast<std::size_t>(o.samples); ++i) {
        if (!finite(pixels[i])) continue;
        if (k++ % stride == 0) s.push_back(pixels[i]);
    }
    std::sort(s.begin(), s.end());
    const auto npix = static_cast<long>(s.size());
    const double zmin = s.front(), zmax = s.back();
    const long minpix = std::max<long>(o.minPixels, static_cast<long>(static_cast<double>(npix) * o.maxReject));
    const long ngrow = std::max<long>(1, static_cast<long>(static_cast<double>(npix) * 0.01));
    // A rejected sample k rejects [k - (ngrow - 1) / 2, k + ngrow / 2] (numpy's "same" convolution).
    const long before = (ngrow - 1) / 2, after = ngrow - 1 - before;

    std::vector<char> bad(static_cast<std::size_t>(npix), 0);
    long ngood = npix, lastNgood = npix + 1;
    double slope = 0;
    for (int iter = 0; iter < o.maxIterations; ++iter) {
        if (ngood >= lastNgood || ngood < minpix) break;
        // Least-squares line through the good samples (x = sample index).
        double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
        for (long i = 0; i < npix; ++i) {
            if (bad[static_cast<std::size_t>(i)]) continue;
            const double x = static_cast<double>(i), y = s[static_cast<std::size_t>(i)];
            sx += x, sy += y, sxx += x * x, sxy += x * y, m += 1;
        }
        const double denom = m * sxx - sx * sx;
        slope = denom != 0 ? (m * sxy - sx * sy) / denom : 0;
        const double intercept = (sy - slope * sx) / m;
        // Residuals of the good samples and their standard deviation.
        std::vector<double> flat(static_cast<std::size_t>(npix));
        double sum = 0, sum2 = 0;
        for (long i = 0; i < npix; ++i) {
            flat[static_cast<std::size_t>(i)] = s[static_cast<std::size_t>(i)] - (intercept + slope * static_cast<double>(i));
            if (!bad[static_cast<std::size_t>(i)]) sum += flat[static_cast<std::size_t>(i)];
        }
        const double mean = sum / m;
        for (long i = 0; i < npix; ++i)
            if (!bad[static_cast<std::size_t>(i)]) sum2 += std::pow(flat[static_cast<std::size_t>(i)] - mean, 2);
        const double threshold = o.krej * std::sqrt(sum2 / m);
        for (long i = 0; i < npix; ++i)
            if (std::abs(flat[static_cast<std::size_t>(i)]) > threshold) bad[static_cast<std::size_t>(i)] = 1;
        std::vector<char> grown(static_cast<std::size_t>(npix), 0);
        for (long k = 0; k < npix; ++k) {
            if (!bad[static_cast<std::size_t>(k)]) continue;
            for (long i = std::max<long>(0, k - before); i <= std::min(npix - 1, k + after); ++i)
                grown[static_cast<std::size_t>(i)] = 1;
        }
        bad.swap(grown);
        lastNgood = ngood;
        ngood = npix - std::count(bad.begin(), bad.end(), 1);
    }
    if (ngood < minpix) return {zmin, zmax};
    if (o.contrast > 0) slope /= o.contrast;
    const long centre = (npix - 1) / 2;
    const double med = npix % 2 ? s[static_cast<std::size_t>(npix / 2)]
                                : (s[static_cast<std::size_t>(npix / 2 - 1)] + s[static_cast<std::size_t>(npix / 2)]) / 2;
    return {std::max(zmin, med - static_cast<double>(centre - 1) * slope),
            std::min(zmax, med + static_cast<double>(npix - centre) * slope)};
}

Limits minMax(const float* pixels, std::size_t n) {
    double lo = INFINITY, hi = -INFINITY;
    for (std::size_t i = 0; i < n; ++i)
        if (finite(pixels[i])) lo = std::min<double>(lo, pixels[i]), hi = std::max<double>(hi, pixels[i]);
    if (lo > hi) return {0, 1};
    return {lo, hi};
}

Limits percentile(const float* pixels, std::size_t n, double percent, std::size_t maxSamples) {
    return percentiles(pixels, n, {percent}, maxSamples).front();
}

std::vector<Limits> percentiles(const float* pixels, std::size_t n, const std::vector<double>& percents,
                                std::size_t maxSamples) {
    for (double percent : percents)
        if (!(percent > 0 && percent <= 100))
            throw Error("a percentile range is over 0 to 100 %, not " + std::to_string(percent));
    std::vector<float> v = sampleFinite(pixels, n, maxSamples);
    if (v.empty()) return std::vector<Limits>(percents.size(), Limits{0, 1});
    std::sort(v.begin(), v.end());
    std::vector<Limits> out;
    for (double percent : percents) {
        const double tail = (100 - percent) / 2;
        out.push_back({sortedPercentile(v, tail), sortedPercentile(v, 100 - tail)});
    }
    return out;
}

Statistics statistics(const float* pixels, std::size_t n) {
    Statistics st;
    st.pixels = n;
    std::vector<float> v;
    v.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        if (finite(pixels[i])) v.push_back(pixels[i]);
    st.blank = n - v.size();
    if (v.empty()) {
        st.min = st.max = st.mean = st.median = st.std = NAN;
        st.zscale = {NAN, NAN};
        return st;
    }
    st.zscale = zscale(v.data(), v.size());
    // Two passes in double: the mean, then the spread about it (no cancellation).
    double sum = 0;
    double lo = v.front(), hi = v.front();
    for (float x : v) sum += x, lo = std::min<double>(lo, x), hi = std::max<double>(hi, x);
    st.mean = sum / static_cast<double>(v.size());
    double ss = 0;
    for (float x : v) ss += (x - st.mean) * (x - st.mean);
    st.std = std::sqrt(ss / static_cast<double>(v.size()));
    st.min = lo, st.max = hi;
    st.median = median(v);
    return st;
}

double stretch(Stretch s, double x) {
    x = std::clamp(x, 0.0, 1.0);
    switch (s) {
    case Stretch::Linear: return x;
    case Stretch::Sqrt: return std::sqrt(x);
    case Stretch::Log: return std::log(1000 * x + 1) / std::log(1001.0);
    case Stretch::Asinh: return std::asinh(x / 0.1) / std::asinh(1 / 0.1);
    }
    return x;
}

namespace {
constexpr std::array<const char*, 4> kStretchNames{"linear", "sqrt", "log", "asinh"};
constexpr std::array<const char*, 3> kColormapNames{"grey", "heat", "viridis"};

template <class E, std::size_t N>
E parseName(const std::array<const char*, N>& names, const std::string& name, const char* what) {
    std::string list;
    for (std::size_t i = 0; i < N; ++i) {
        if (name == names[i]) return static_cast<E>(i);
        list += (i ? ", " : "") + std::string(names[i]);
    }
    throw Error("unknown " + std::string(what) + " '" + name + "' (" + list + ")");
}

std::uint32_t rgb(double r, double g, double b) {
    auto c = [](double v) { return static_cast<std::uint32_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255)); };
    return 0xff000000u | c(r) << 16 | c(g) << 8 | c(b);
}

/// Piecewise-linear ramp through (x, y) points with x rising from 0 to 1.
double ramp(std::initializer_list<std::pair<double, double>> pts, double t) {
    auto prev = *pts.begin();
    for (const auto& p : pts) {
        if (t <= p.first) {
            if (p.first == prev.first) return p.second;
            return prev.second + (p.second - prev.second) * (t - prev.first) / (p.first - prev.first);
        }
        prev = p;
    }
    return prev.second;
}

// matplotlib's viridis: every fifth of its 256 colours (t = 0, 5/255, ..., 1). Between them
// the linear interpolation stays within 1/255 of its table, which the tests check.
constexpr int kViridisPoints = 52;
constexpr double kViridis[kViridisPoints][3] = {
    {0.26700, 0.00487, 0.32942}, {0.27381, 0.03150, 0.35885}, {0.27879, 0.06214, 0.38659}, {0.28192, 0.08967, 0.41241},
    {0.28320, 0.11568, 0.43611}, {0.28262, 0.14093, 0.45752}, {0.28025, 0.16569, 0.47650}, {0.27619, 0.19007, 0.49300},
    {0.27059, 0.21407, 0.50705}, {0.26366, 0.23763, 0.51876}, {0.25565, 0.26070, 0.52831}, {0.24681, 0.28324, 0.53594},
    {0.23744, 0.30520, 0.54192}, {0.22780, 0.32659, 0.54653}, {0.21813, 0.34743, 0.55004}, {0.20862, 0.36775, 0.55268},
    {0.19943, 0.38761, 0.55464}, {0.19063, 0.40706, 0.55609}, {0.18226, 0.42618, 0.55712}, {0.17427, 0.44504, 0.55779},
    {0.16662, 0.46371, 0.55812}, {0.15919, 0.48224, 0.55807}, {0.15192, 0.50069, 0.55759}, {0.14476, 0.51909, 0.55657},
    {0.13777, 0.53749, 0.55491}, {0.13117, 0.55590, 0.55246}, {0.12539, 0.57432, 0.54909}, {0.12115, 0.59274, 0.54464},
    {0.11942, 0.61114, 0.53898}, {0.12138, 0.62949, 0.53197}, {0.12809, 0.64775, 0.52349}, {0.14021, 0.66586, 0.51343},
    {0.15785, 0.68376, 0.50169}, {0.18065, 0.70140, 0.48819}, {0.20803, 0.71870, 0.47287}, {0.23937, 0.73559, 0.45569},
    {0.27415, 0.75199, 0.43660}, {0.31193, 0.76782, 0.41559}, {0.35236, 0.78301, 0.39264}, {0.39517, 0.79748, 0.36776},
    {0.44014, 0.81114, 0.34097}, {0.48703, 0.82393, 0.31232}, {0.53562, 0.83579, 0.28191}, {0.58568, 0.84666, 0.24990},
    {0.63690, 0.85654, 0.21662}, {0.68894, 0.86545, 0.18272}, {0.74139, 0.87345, 0.14956}, {0.79376, 0.88068, 0.12001},
    {0.84556, 0.88732, 0.09970}, {0.89632, 0.89362, 0.09634}, {0.94564, 0.89982, 0.11284}, {0.99325, 0.90616, 0.14394}};
} // namespace

std::string stretchName(Stretch s) { return kStretchNames[static_cast<std::size_t>(s)]; }
Stretch parseStretch(const std::string& name) { return parseName<Stretch>(kStretchNames, name, "stretch"); }
std::string colormapName(Colormap c) { return kColormapNames[static_cast<std::size_t>(c)]; }
Colormap parseColormap(const std::string& name) { return parseName<Colormap>(kColormapNames, name, "colour map"); }

std::uint32_t colour(Colormap c, double t) {
    t = std::clamp(t, 0.0, 1.0);
    switch (c) {
    case Colormap::Grey: return rgb(t, t, t);
    case Colormap::Heat:
        return rgb(ramp({{0, 0}, {0.34, 1}, {1, 1}}, t), t, ramp({{0, 0}, {0.65, 0}, {0.98, 1}, {1, 1}}, t));
    case Colormap::Viridis: {
        const double u = t * (kViridisPoints - 1);
        const int i = std::min(kViridisPoints - 2, static_cast<int>(u));
        const double f = u - i;
        auto mix = [&](int k) { return kViridis[i][k] + (kViridis[i + 1][k] - kViridis[i][k]) * f; };
        return rgb(mix(0), mix(1), mix(2));
    }
    }
    return rgb(t, t, t);
}

ColourTable::ColourTable(Limits limits, Stretch s, Colormap c, bool inverted) : table_(kSize) {
    for (int i = 0; i < kSize; ++i) {
        const double t = stretch(s, static_cast<double>(i) / (kSize - 1));
        table_[static_cast<std::size_t>(i)] = colour(c, inverted ? 1 - t : t);
    }
    low_ = limits.low;
    const double span = limits.high - limits.low;
    // Equal limits (a flat image): everything at or above them is the top colour.
    scale_ = span > 0 ? (kSize - 1) / span : 1e30;
}

void View::toImage(double ox, double oy, int w, int h, double& x, double& y) const {
    x = centreX + (ox - w / 2.0) / zoom;
    y = centreY - (oy - h / 2.0) / zoom;
}

void View::toOutput(double x, double y, int w, int h, double& ox, double& oy) const {
    ox = (x - centreX) * zoom + w / 2.0;
    oy = h / 2.0 - (y - centreY) * zoom;
}

View View::fit(long nx, long ny, int w, int h) {
    View v;
    // Pixel i covers [i - 0.5, i + 0.5]: the image spans [0.5, n + 0.5].
    v.centreX = (nx + 1) / 2.0;
    v.centreY = (ny + 1) / 2.0;
    v.zoom = std::min(static_cast<double>(w) / std::max(1L, nx), static_cast<double>(h) / std::max(1L, ny));
    if (!(v.zoom > 0)) v.zoom = 1;
    return v;
}

namespace {

/// Which image column (0-based, -1 for none) each output column shows: the centre of
/// output pixel ox is at ox + 0.5, and image pixel i covers [i - 0.5, i + 0.5] in FITS.
std::vector<long> imageColumns(const View& view, long nx, int w, int h) {
    std::vector<long> col(static_cast<std::size_t>(w));
    for (int ox = 0; ox < w; ++ox) {
        double x, y;
        view.toImage(ox + 0.5, 0, w, h, x, y);
        const long ix = static_cast<long>(std::floor(x + 0.5)) - 1;
        col[static_cast<std::size_t>(ox)] = ix >= 0 && ix < nx ? ix : -1;
    }
    return col;
}

/// The image row (0-based, maybe outside the image) output row oy shows.
long imageRow(const View& view, int oy, int w, int h) {
    double x, y;
    view.toImage(0, oy + 0.5, w, h, x, y);
    return static_cast<long>(std::floor(y + 0.5)) - 1;
}

} // namespace

void render(const float* pixels, long nx, long ny, const ColourTable& colours, const View& view, int w, int h,
            std::uint32_t* out, std::uint32_t outside) {
    const std::vector<long> col = imageColumns(view, nx, w, h);
    for (int oy = 0; oy < h; ++oy) {
        const long iy = imageRow(view, oy, w, h);
        std::uint32_t* line = out + static_cast<std::size_t>(oy) * static_cast<std::size_t>(w);
        if (iy < 0 || iy >= ny) {
            std::fill(line, line + w, outside);
            continue;
        }
        const float* row = pixels + static_cast<std::size_t>(iy) * static_cast<std::size_t>(nx);
        for (int ox = 0; ox < w; ++ox) {
            const long ix = col[static_cast<std::size_t>(ox)];
            line[ox] = ix < 0 ? outside : colours(row[ix]);
        }
    }
}

void renderMask(const std::uint8_t* mask, long nx, long ny, std::uint8_t bits, const std::uint32_t colours[8],
                const View& view, int w, int h, std::uint32_t* out) {
    if (!bits) return;
    const std::vector<long> col = imageColumns(view, nx, w, h);
    auto blend = [](std::uint32_t under, std::uint32_t over) {
        const std::uint32_t a = over >> 24;
        auto ch = [&](int shift) {
            const std::uint32_t u = (under >> shift) & 255, o = (over >> shift) & 255;
            return ((o * a + u * (255 - a)) / 255) << shift;
        };
        return 0xff000000u | ch(16) | ch(8) | ch(0);
    };
    for (int oy = 0; oy < h; ++oy) {
        const long iy = imageRow(view, oy, w, h);
        if (iy < 0 || iy >= ny) continue;
        const std::uint8_t* row = mask + static_cast<std::size_t>(iy) * static_cast<std::size_t>(nx);
        std::uint32_t* line = out + static_cast<std::size_t>(oy) * static_cast<std::size_t>(w);
        for (int ox = 0; ox < w; ++ox) {
            const long ix = col[static_cast<std::size_t>(ox)];
            if (ix < 0) continue;
            const std::uint8_t m = row[ix] & bits;
            if (!m) continue;
            line[ox] = blend(line[ox], colours[std::countr_zero(static_cast<unsigned>(m))]);
        }
    }
}

std::vector<std::size_t> histogram(const float* pixels, std::size_t n, Limits range, int bins,
                                   std::size_t maxSamples) {
    std::vector<std::size_t> counts(static_cast<std::size_t>(std::max(1, bins)), 0);
    const double span = range.high - range.low;
    if (!(span > 0)) return counts;
    std::size_t stride = 1;
    if (maxSamples > 0 && n > maxSamples) stride = n / maxSamples;
    for (std::size_t i = 0; i < n; i += stride) {
        const float v = pixels[i];
        if (!finite(v) || v < range.low || v > range.high) continue;
        auto b = static_cast<std::size_t>((v - range.low) / span * static_cast<double>(counts.size()));
        counts[std::min(b, counts.size() - 1)]++;
    }
    return counts;
}

} // namespace paudm::viewer
