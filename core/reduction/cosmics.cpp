// L.A.Cosmic, step by step as astroscrappy does it in its median fine-structure mode
// (float arithmetic in the same order, the same border rules), so that both give the same
// mask. Two things differ in how, not in what:
//   - the 2x subsampling, the Laplacian and the rebinning are one pass at the original
//     resolution: each pixel's four sub-pixels only ever see the pixel itself and its
//     four neighbours;
//   - a pass is computed on regions (bands, later small tiles), each with a margin wider
//     than the reach of the filters (8 pixels), and after the first pass only on the
//     tiles near what the previous pass cleaned: elsewhere the input did not change, so
//     neither would the answer.
#include "reduction/cosmics.h"

#include "common/error.h"
#include "common/workers.h"
#include "reduction/filters.h"
#include "reduction/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace paudm::reduction {

namespace {

constexpr int kMargin = 16; ///< wider than the 8 pixels a pixel's verdict depends on
constexpr int kBand = 256;  ///< rows per region in the first pass
constexpr int kTile = 64;   ///< tile side in later passes

struct Rect {
    int x0, y0, x1, y1; ///< [x0, x1) x [y0, y1)
};

struct Planes {
    int nx, ny;
    std::vector<float> clean, var;
    std::vector<std::uint8_t> mask; ///< bad or saturated: never a cosmic ray, never used to clean
};

/// One pass of detection on `core`; writes the verdicts of the core's pixels into
/// `cosmics` (image-sized) and returns how many.
///
/// Only two things are needed everywhere: the noise model (the median of the variance)
/// and the Laplacian's signal-to-noise s, computed densely on the core grown by the margin.
/// Everything else only where it can matter: a detection needs s > sigclip first (s' is
/// s minus a median of non-negative values), so s', the fine structure and the growth are
/// evaluated at those few pixels and their neighbours, pixel by pixel, with the same
/// border rules as the whole-image filters.
/// L.A.Cosmic's significance at a pixel: the Laplacian of the 2x subsampled image
/// (negatives clipped, rebinned 2x2) over twice the noise, whose variance `noise` holds on
/// entry and its square root on return. L, R, D, U are the neighbours, 0 where the image
/// has none (astroscrappy's convolution leaves those out; x - 0 is x). The operations and
/// their order are astroscrappy's, so that the masks agree to the pixel.
inline float significance(float I, float L, float R, float D, float U, float& noise) {
    const float four = 4.0f * I; // exact, as 4.0 * I in double is
    // Sub-pixel (a, b): right, left, up, down neighbours in that order, as the 3x3 kernel
    // is applied there.
    auto minus = [four](float a, float b, float c, float d) { return four - a - b - c - d; };
    const float s00 = minus(I, L, I, D), s10 = minus(R, I, I, D), s01 = minus(I, L, U, I), s11 = minus(R, I, U, I);
    float sum = std::max(s00, 0.0f);
    sum += std::max(s01, 0.0f);
    sum += std::max(s11, 0.0f);
    sum += std::max(s10, 0.0f);
    const float lap = sum * 0.25f; // sum / 4.0 rounded to float: exact either way
    noise = std::sqrt(std::max(noise, 1e-5f));
    return lap / (2.0f * noise);
}

long long detectRegion(const Planes& p, Rect core, const LaCosmicOptions& o, bool varIsCleanPlusRn2, float rn2,
                       std::vector<std::uint8_t>& cosmics) {
    const Rect ext{std::max(0, core.x0 - kMargin), std::max(0, core.y0 - kMargin), std::min(p.nx, core.x1 + kMargin),
                   std::min(p.ny, core.y1 + kMargin)};
    const int w = ext.x1 - ext.x0, h = ext.y1 - ext.y0;
    const std::size_t n = static_cast<std::size_t>(w) * h;
    std::vector<float> c(n), med(n), s(n);
    for (int y = 0; y < h; ++y)
        std::copy_n(p.clean.data() + static_cast<std::size_t>(ext.y0 + y) * p.nx + ext.x0, w,
                    c.data() + static_cast<std::size_t>(y) * w);
    if (varIsCleanPlusRn2) {
        // The median of clean + rn^2 is the median of clean, plus rn^2, rounded alike (a
        // monotonic map commutes with order statistics): one filter instead of two.
        separableMedian(c.data(), med.data(), w, h, 7);
        for (float& m : med)
            m = m + rn2;
    } else {
        std::vector<float> v(n);
        for (int y = 0; y < h; ++y)
            std::copy_n(p.var.data() + static_cast<std::size_t>(ext.y0 + y) * p.nx + ext.x0, w,
                        v.data() + static_cast<std::size_t>(y) * w);
        separableMedian(v.data(), med.data(), w, h, 7);
    }
    // The Laplacian of the 2x subsampled image, negatives clipped, rebinned 2x2. At the
    // image's own edges a missing neighbour is left out, as astroscrappy's convolution does.
    const bool left = ext.x0 == 0, right = ext.x1 == p.nx, bottom = ext.y0 == 0, top = ext.y1 == p.ny;
    std::vector<float>& noise = med; // the same array, now the noise
    // Inside the region every neighbour is there: no test per pixel, so that the compiler
    // vectorises the loop (a fifth of a CCD's cosmic-ray search was this loop, scalar).
    for (int y = 1; y < h - 1; ++y) {
        const float* cr = c.data() + static_cast<std::size_t>(y) * w;
        const float* cd = cr - w;
        const float* cu = cr + w;
        float* nr = noise.data() + static_cast<std::size_t>(y) * w;
        float* sr = s.data() + static_cast<std::size_t>(y) * w;
        for (int x = 1; x < w - 1; ++x)
            sr[x] = significance(cr[x], cr[x - 1], cr[x + 1], cd[x], cu[x], nr[x]);
    }
    // The region's own edges. Outside the region (not the image) a neighbour is the pixel
    // itself: those values lie in the margin and are never used for a verdict.
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            if (y > 0 && y < h - 1 && x > 0 && x < w - 1) {
                x = w - 2; // the interior is done
                continue;
            }
            const std::size_t i = static_cast<std::size_t>(y) * w + x;
            const float I = c[i];
            const float L = x > 0 ? c[i - 1] : left ? 0.0f : I, R = x < w - 1 ? c[i + 1] : right ? 0.0f : I;
            const float D = y > 0 ? c[i - w] : bottom ? 0.0f : I, U = y < h - 1 ? c[i + w] : top ? 0.0f : I;
            s[i] = significance(I, L, R, D, U, noise[i]);
        }
    const float sigclip = static_cast<float>(o.sigclip), objlim = static_cast<float>(o.objlim);
    const float sigcliplow = static_cast<float>(o.sigfrac * o.sigclip);
    // Pixel-wise values, computed on first use (image coordinates in, region arrays behind).
    std::vector<float> sp(n, std::numeric_limits<float>::quiet_NaN());
    const int imageW = p.nx, imageH = p.ny;
    auto local = [&](int x, int y) { return static_cast<std::size_t>(y - ext.y0) * w + (x - ext.x0); };
    auto spAt = [&](int x, int y) {
        float& v = sp[local(x, y)];
        if (std::isnan(v)) {
            // s minus its 7x7 separable median, the image's border rule applied in image
            // coordinates (s is valid well inside the region).
            const int hh = 3;
            float med7 = s[local(x, y)];
            if (x >= hh && x < imageW - hh && y >= hh && y < imageH - hh) {
                float rows[7], vals[7];
                for (int r = 0; r < 7; ++r) {
                    for (int k = 0; k < 7; ++k)
                        vals[k] = s[local(x - hh + k, y - hh + r)];
                    rows[r] = medianOfSmall(vals, 7);
                }
                med7 = medianOfSmall(rows, 7);
            }
            v = s[local(x, y)] - med7;
        }
        return v;
    };
    auto masked = [&](int x, int y) { return p.mask[static_cast<std::size_t>(y) * imageW + x] != 0; };
    // The fine structure at one pixel: sepmed5 of the image, minus sepmed9 of that. The
    // sepmed5 values are kept: neighbouring candidates share most of them.
    std::vector<float> f5(n, std::numeric_limits<float>::quiet_NaN());
    auto f5At = [&](int x, int y) {
        float& v = f5[local(x, y)];
        if (std::isnan(v)) v = pointSeparableMedian(p.clean.data(), imageW, imageH, x, y, 5);
        return v;
    };
    auto fineAt = [&](int x, int y) {
        const float f = f5At(x, y);
        float m9 = f;
        const int hh = 4;
        if (x >= hh && x < imageW - hh && y >= hh && y < imageH - hh) {
            float rows[9], vals[9];
            for (int r = 0; r < 9; ++r) {
                for (int k = 0; k < 9; ++k)
                    vals[k] = f5At(x - hh + k, y - hh + r);
                rows[r] = medianOfSmall(vals, 9);
            }
            m9 = medianOfSmall(rows, 9);
        }
        float fs = (f - m9) / noise[local(x, y)];
        return fs < 0.01f ? 0.01f : fs;
    };
    // Candidates: in the core grown by 2 (their growth reaches the core), s above the limit.
    const Rect zone{std::max(0, core.x0 - 2), std::max(0, core.y0 - 2), std::min(imageW, core.x1 + 2),
                    std::min(imageH, core.y1 + 2)};
    const int zw = zone.x1 - zone.x0, zh = zone.y1 - zone.y0;
    std::vector<std::uint8_t> c1(static_cast<std::size_t>(zw) * zh, 0);
    auto zi = [&](int x, int y) { return static_cast<std::size_t>(y - zone.y0) * zw + (x - zone.x0); };
    std::vector<std::pair<int, int>> first, second;
    for (int y = zone.y0; y < zone.y1; ++y)
        for (int x = zone.x0; x < zone.x1; ++x) {
            if (!(s[local(x, y)] > sigclip) || masked(x, y)) continue;
            const float v = spAt(x, y);
            if (v > sigclip && v / fineAt(x, y) > objlim) first.emplace_back(x, y);
        }
    // The two growths (dilate3, which copies the image's own border: a border pixel is
    // grown only from itself) scatter from the few flagged pixels to their neighbours
    // within `range`, rather than every pixel of the region looking at its nine: the same
    // pixels, without two passes over the whole image.
    auto scatter = [&](const std::vector<std::pair<int, int>>& from, Rect range, auto&& visit) {
        for (const auto& [x, y] : from)
            for (int dy = -1; dy <= 1; ++dy)
                for (int dx = -1; dx <= 1; ++dx) {
                    const int ax = x + dx, ay = y + dy;
                    if (ax < range.x0 || ax >= range.x1 || ay < range.y0 || ay >= range.y1) continue;
                    if ((dx || dy) && (ax == 0 || ay == 0 || ax == imageW - 1 || ay == imageH - 1)) continue;
                    visit(ax, ay);
                }
    };
    const Rect near{std::max(zone.x0, core.x0 - 1), std::max(zone.y0, core.y0 - 1), std::min(zone.x1, core.x1 + 1),
                    std::min(zone.y1, core.y1 + 1)};
    scatter(first, near, [&](int x, int y) {
        std::uint8_t& v = c1[zi(x, y)];
        if (!v && !masked(x, y) && spAt(x, y) > sigclip) {
            v = 1;
            second.emplace_back(x, y);
        }
    });
    for (int y = core.y0; y < core.y1; ++y)
        std::fill_n(cosmics.begin() + static_cast<std::ptrdiff_t>(y) * p.nx + core.x0, core.x1 - core.x0, 0);
    long long count = 0;
    scatter(second, core, [&](int x, int y) {
        std::uint8_t& v = cosmics[static_cast<std::size_t>(y) * p.nx + x];
        if (!v && !masked(x, y) && spAt(x, y) > sigcliplow) {
            v = 1;
            ++count;
        }
    });
    return count;
}

/// astroscrappy's 'meanmask' cleaning: each flagged pixel (outside a 2-pixel border)
/// becomes the mean of the unflagged, unmasked pixels of its 5 x 5 neighbourhood.
void cleanMeanMask(std::vector<float>& a, const std::vector<std::uint8_t>& cr, const std::vector<std::uint8_t>& mask,
                   const std::vector<std::size_t>& flagged, int nx, int ny, float background) {
    for (std::size_t idx : flagged) {
        const int x = static_cast<int>(idx % nx), y = static_cast<int>(idx / nx);
        if (x < 2 || y < 2 || x >= nx - 2 || y >= ny - 2) continue;
        float sum = 0;
        int count = 0;
        for (int l = -2; l <= 2; ++l)
            for (int k = -2; k <= 2; ++k) {
                const std::size_t j = static_cast<std::size_t>(y + l) * nx + x + k;
                if (!cr[j] && !mask[j]) {
                    sum = sum + a[j];
                    ++count;
                }
            }
        a[idx] = count == 0 ? background : sum / static_cast<float>(count);
    }
}

/// Sky near (x, y): the median of the 24 pixels on the border of its 7 x 7 box.
/// The pixels of the square ring 3 pixels from (x, y) that are inside the image, into v;
/// returns how many.
int ringValues(const float* img, int nx, int ny, int x, int y, float (&v)[24]) {
    int n = 0;
    for (int d = -3; d <= 3; ++d)
        for (int e : {-3, 3}) {
            const int ax = x + d, ay = y + e, bx = x + e, by = y + d;
            if (ax >= 0 && ax < nx && ay >= 0 && ay < ny) v[n++] = img[static_cast<std::size_t>(ay) * nx + ax];
            if (d != -3 && d != 3 && bx >= 0 && bx < nx && by >= 0 && by < ny)
                v[n++] = img[static_cast<std::size_t>(by) * nx + bx];
        }
    return n;
}

/// The local background of (x, y): the median of that ring.
float ringBackground(const float* img, int nx, int ny, int x, int y) {
    float v[24];
    const int n = ringValues(img, nx, ny, x, y, v);
    return n ? static_cast<float>(medianInPlace(std::span<float>(v, static_cast<std::size_t>(n))))
             : img[static_cast<std::size_t>(y) * nx + x];
}

constexpr int kAxial[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
constexpr int kDiagonal[4][2] = {{-1, -1}, {1, 1}, {-1, 1}, {1, -1}};

/// The sharpness the star test assumes when the image has too few stars to measure it: a
/// Moffat (beta 3) of 1.2 pixels FWHM, sharper than any seeing PAUCam meets.
constexpr double kDefaultAxial = 0.19, kDefaultDiagonal = 0.05;
/// Peak signal to noise of the faintest stars the sharpness is measured on.
constexpr float kFaintestSharpnessStar = 12;

} // namespace

std::vector<SharpnessSample> sharpnessSamples(const FloatImage& data, const Mask& exclude, double readNoise,
                                              double satLevel) {
    const int nx = data.width, ny = data.height;
    const float* img = data.pixels.data();
    std::vector<SharpnessSample> stars;
    const float rn2 = static_cast<float>(readNoise * readNoise);
    if (nx < 9 || ny < 9) return stars;
    // A peak is the brightest of its 5 x 5 box. The box maxima, as row maxima of 5 and then
    // maxima of 5 of those, are a few vectorised operations a pixel and rule out most
    // pixels before the exact test below, which the branchy scan ran on every pixel. NaN
    // counts as darker than anything (the exact test never lets it block a peak).
    constexpr float kDark = -std::numeric_limits<float>::infinity();
    std::vector<float> rowMax(static_cast<std::size_t>(5) * nx), boxMax(static_cast<std::size_t>(nx)),
        lit(static_cast<std::size_t>(nx));
    auto rowMaxOf = [&](int yy) {
        const float* r = img + static_cast<std::size_t>(yy) * nx;
        for (int x = 0; x < nx; ++x)
            lit[static_cast<std::size_t>(x)] = r[x] == r[x] ? r[x] : kDark;
        const float* l = lit.data();
        float* o = rowMax.data() + static_cast<std::size_t>(yy % 5) * nx;
        for (int x = 2; x < nx - 2; ++x)
            o[x] = std::max(std::max(std::max(l[x - 2], l[x - 1]), std::max(l[x], l[x + 1])), l[x + 2]);
    };
    for (int yy = 2; yy < 6; ++yy)
        rowMaxOf(yy);
    for (int y = 4; y < ny - 4; ++y) {
        rowMaxOf(y + 2);
        const float *m0 = rowMax.data(), *m1 = m0 + nx, *m2 = m1 + nx, *m3 = m2 + nx, *m4 = m3 + nx;
        for (int x = 4; x < nx - 4; ++x)
            boxMax[static_cast<std::size_t>(x)] =
                std::max(std::max(std::max(m0[x], m1[x]), std::max(m2[x], m3[x])), m4[x]);
        const float* row = img + static_cast<std::size_t>(y) * nx;
        for (int x = 4; x < nx - 4; ++x) {
            if (!(row[x] >= boxMax[static_cast<std::size_t>(x)])) continue;
            const std::size_t i = static_cast<std::size_t>(y) * nx + x;
            const float p = img[i];
            if (p >= satLevel * 0.8) continue;
            bool peak = true;
            for (int dy = -2; dy <= 2 && peak; ++dy) // the brightest within 2 pixels
                for (int dx = -2; dx <= 2 && peak; ++dx)
                    if ((dx || dy) && img[i + static_cast<std::ptrdiff_t>(dy) * nx + dx] >= p) peak = false;
            if (!peak || (!exclude.empty() && exclude.pixels[i])) continue;
            // Most local maxima are noise: the ring's lowest pixel (below its median, so
            // p - b - k sigma(b) can only be smaller) rules them out before any median.
            float ring[24];
            const int nr = ringValues(img, nx, ny, x, y, ring);
            const float low = nr ? *std::min_element(ring, ring + nr) : p;
            if (p - low < kFaintestSharpnessStar * std::sqrt(std::max(low, 0.0f) + rn2)) continue;
            const float b =
                nr ? static_cast<float>(medianInPlace(std::span<float>(ring, static_cast<std::size_t>(nr)))) : p;
            const float e = p - b, sigma = std::sqrt(std::max(b, 0.0f) + rn2);
            if (e < kFaintestSharpnessStar * sigma) continue;
            float a[4], d[4];
            bool light = true;
            for (int k = 0; k < 4; ++k) {
                a[k] = img[i + static_cast<std::ptrdiff_t>(kAxial[k][1]) * nx + kAxial[k][0]] - b;
                d[k] = img[i + static_cast<std::ptrdiff_t>(kDiagonal[k][1]) * nx + kDiagonal[k][0]] - b;
                // A star lights all its neighbours; a hit leaves some of them dark.
                light = light && a[k] > 0.05f * e && d[k] > 0.01f * e;
            }
            if (!light) continue;
            stars.push_back({e / sigma, (a[0] + a[1] + a[2] + a[3]) / 4 / e, (d[0] + d[1] + d[2] + d[3]) / 4 / e});
        }
    }
    return stars;
}

Sharpness sharpnessFrom(std::span<const SharpnessSample> stars) {
    // The brightest stars measure best; fainter ones are used when the bright are too few
    // (a short exposure, a CCD on a sparse field), down to where noise would widen the
    // quantile below much.
    Sharpness s;
    std::vector<float> axial, diagonal;
    for (float least : {30.0f, 20.0f, kFaintestSharpnessStar}) {
        axial.clear();
        diagonal.clear();
        for (const SharpnessSample& st : stars)
            if (st.snr >= least) {
                axial.push_back(st.axial);
                diagonal.push_back(st.diagonal);
            }
        if (axial.size() >= 10) break;
    }
    s.stars = static_cast<int>(axial.size());
    if (s.stars < kSharpnessStarsNeeded) {
        s.axial = kDefaultAxial;
        s.diagonal = kDefaultDiagonal;
        return s;
    }
    // The sharpest stars are those centred on a pixel: a low quantile of the sample.
    s.axial = quantileInPlace(axial, 0.1);
    s.diagonal = quantileInPlace(diagonal, 0.1);
    return s;
}

Sharpness measureSharpness(const FloatImage& data, const Mask& exclude, double readNoise, double satLevel) {
    return sharpnessFrom(sharpnessSamples(data, exclude, readNoise, satLevel));
}

namespace {

/// Gives back the groups of `crmask` whose brightest pixel is no sharper than a star (in
/// none of the four directions is it brighter than its two opposite neighbours allow) and
/// whose neighbours carry the light a star of that peak would give them.
int spareStars(const FloatImage& data, const std::vector<float>& var, std::vector<std::uint8_t>& crmask, double axial,
               double diagonal) {
    const int nx = data.width, ny = data.height;
    const float* img = data.pixels.data();
    constexpr double k = 2; // noise margin, in standard deviations of the comparison
    std::vector<std::uint8_t> seen(crmask.size(), 0);
    std::vector<std::size_t> group, stack;
    int spared = 0;
    for (std::size_t start = 0; start < crmask.size(); ++start) {
        if (!crmask[start] || seen[start]) continue;
        group.clear();
        stack.assign(1, start);
        seen[start] = 1;
        while (!stack.empty()) {
            const std::size_t i = stack.back();
            stack.pop_back();
            group.push_back(i);
            const int x = static_cast<int>(i % nx), y = static_cast<int>(i / nx);
            for (int dy = -1; dy <= 1; ++dy)
                for (int dx = -1; dx <= 1; ++dx) {
                    const int ax = x + dx, ay = y + dy;
                    if (ax < 0 || ay < 0 || ax >= nx || ay >= ny) continue;
                    const std::size_t j = static_cast<std::size_t>(ay) * nx + ax;
                    if (crmask[j] && !seen[j]) {
                        seen[j] = 1;
                        stack.push_back(j);
                    }
                }
        }
        std::size_t best = group.front();
        for (std::size_t i : group)
            if (img[i] > img[best]) best = i;
        const int x = static_cast<int>(best % nx), y = static_cast<int>(best / nx);
        if (x < 1 || y < 1 || x >= nx - 1 || y >= ny - 1) continue;
        const float b = ringBackground(img, nx, ny, x, y);
        const double e = img[best] - b;
        const double sigmaPeak2 = std::max(var[best], 1.0f);
        const double sigmaSky2 = std::max(static_cast<double>(var[static_cast<std::size_t>(y) * nx + x]) - e, 1.0);
        bool sharp = false;
        double light = 0; // the neighbours' excess, weighted by the star profile (a matched filter)
        for (int pair = 0; pair < 4 && !sharp; ++pair) {
            const bool diag = pair >= 2;
            const int(*dir)[2] = diag ? kDiagonal : kAxial;
            const int a = (pair % 2) * 2;
            const double n = 0.5 * (img[static_cast<std::size_t>(y + dir[a][1]) * nx + x + dir[a][0]] +
                                    img[static_cast<std::size_t>(y + dir[a + 1][1]) * nx + x + dir[a + 1][0]]) -
                             b;
            const double rho = diag ? diagonal : axial;
            const double noise = std::sqrt(rho * rho * sigmaPeak2 + sigmaSky2 / 2);
            sharp = e * rho > n + k * noise;
            light += 2 * rho * n;
        }
        if (sharp) continue;
        // Not sharper than a star is not yet a star: at low signal to noise a lone hit passes
        // the test above too. A star also lights its neighbours, significantly.
        const double lightNoise = std::sqrt(sigmaSky2 * 4 * (axial * axial + diagonal * diagonal));
        if (light < k * lightNoise) continue;
        for (std::size_t i : group)
            crmask[i] = 0;
        ++spared;
    }
    return spared;
}

} // namespace

CosmicResult detectCosmicRays(const FloatImage& data, const Mask& badPixels, const LaCosmicOptions& o,
                              const std::atomic<bool>* cancelled) {
    if (!badPixels.empty() && (badPixels.width != data.width || badPixels.height != data.height))
        throw Error("cosmic rays: the mask is " + std::to_string(badPixels.width) + " x " +
                    std::to_string(badPixels.height) + ", the image " + std::to_string(data.width) + " x " +
                    std::to_string(data.height));
    Planes p{data.width, data.height, {}, {}, {}};
    const std::size_t n = data.size();
    const float gain = static_cast<float>(o.gain), rn2 = static_cast<float>(o.readNoise * o.readNoise);
    p.clean.resize(n);
    p.var.resize(n);
    const float rel = static_cast<float>(o.relativeVariance);
    for (std::size_t i = 0; i < n; ++i) {
        p.clean[i] = data.pixels[i] * gain;
        p.var[i] = p.clean[i] + rn2 + rel * p.clean[i] * p.clean[i];
    }
    // Saturated stars are left out of detection: the saturated pixels of bright cores (where
    // the median around them is high too), grown twice; and the given bad pixels, grown once.
    {
        // (The 7 x 7 median only where a pixel is saturated: most images have few or none.)
        const float sat = static_cast<float>(o.satLevel);
        std::vector<std::uint8_t> satPix(n), grownSat(n), bad(n, 0), grownBad(n);
        for (std::size_t i = 0; i < n; ++i)
            satPix[i] =
                p.clean[i] >= sat && pointSeparableMedian(p.clean.data(), p.nx, p.ny, static_cast<int>(i % p.nx),
                                                          static_cast<int>(i / p.nx), 7) > sat / 10.0f;
        dilate5(satPix.data(), grownSat.data(), p.nx, p.ny, 2);
        if (!badPixels.empty())
            for (std::size_t i = 0; i < n; ++i)
                bad[i] = badPixels.pixels[i] != 0;
        dilate3(bad.data(), grownBad.data(), p.nx, p.ny);
        p.mask.resize(n);
        for (std::size_t i = 0; i < n; ++i)
            p.mask[i] = grownSat[i] || grownBad[i];
    }
    // Where nothing good is near a flagged pixel, it takes the level of the whole image (the
    // median of a regular sample of about kLevelSample good pixels: a fill value, rarely
    // used, that a full median would give to a few parts in 10^4 at twenty times the cost).
    float backgroundLevel = 0, backgroundVar = 0;
    {
        std::vector<float> good, goodVar;
        const std::size_t stride = std::max<std::size_t>(1, n / kLevelSample);
        good.reserve(n / stride + 1);
        goodVar.reserve(n / stride + 1);
        for (std::size_t i = 0; i < n; i += stride)
            if (!p.mask[i]) {
                good.push_back(p.clean[i]);
                goodVar.push_back(p.var[i]);
            }
        backgroundLevel = good.empty() ? 0.0f : static_cast<float>(medianInPlace(good));
        backgroundVar = goodVar.empty() ? 0.0f : static_cast<float>(medianInPlace(goodVar));
    }

    CosmicResult out;
    // The star test's inputs, on the image as it came, in electrons (a hit's neighbours are
    // sky there, a star's are not): measured first, so that a caller pooling the sharpness
    // over a mosaic hears that it must before the search is paid for.
    FloatImage electrons;
    std::vector<float> var;
    if (o.protectStars) {
        electrons = FloatImage(p.nx, p.ny);
        var.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            electrons.pixels[i] = data.pixels[i] * gain;
            var[i] = std::max(electrons.pixels[i], 0.0f) + rn2 + rel * electrons.pixels[i] * electrons.pixels[i];
        }
        Mask exclude(p.nx, p.ny);
        for (std::size_t i = 0; i < n; ++i)
            exclude.pixels[i] = p.mask[i];
        out.sharpnessSamples = sharpnessSamples(electrons, exclude, o.readNoise, o.satLevel);
        const Sharpness own = sharpnessFrom(out.sharpnessSamples);
        const Sharpness sh = o.sharpness ? *o.sharpness : own;
        out.sharpestAxial = sh.axial;
        out.sharpestDiagonal = sh.diagonal;
        out.sharpnessStars = sh.stars;
        if (!o.sharpness && o.deferWithoutSharpness && own.stars < kSharpnessStarsNeeded) {
            out.needsSharpness = true;
            return out;
        }
    }
    std::vector<std::uint8_t> crmask(n, 0), cosmics(n, 0);
    std::vector<std::size_t> flagged; // every pixel of crmask
    // The first pass sees everything, in bands; the tiles' counts carry the total over to
    // later passes, which recompute only some of them.
    const int tilesX = (p.nx + kTile - 1) / kTile, tilesY = (p.ny + kTile - 1) / kTile;
    std::vector<long long> tileCount(static_cast<std::size_t>(tilesX) * tilesY, 0);
    std::vector<Rect> regions;
    for (int y = 0; y < p.ny; y += kBand)
        regions.push_back({0, y, p.nx, std::min(p.ny, y + kBand)});
    // Nothing cleaned yet, and no extra variance: the variance is still the image plus rn^2.
    bool firstPass = o.relativeVariance == 0;
    for (int pass = 0; pass < o.iterations && !regions.empty(); ++pass) {
        if (cancelled && *cancelled) return {};
        std::atomic<std::size_t> next{0};
        runWorkers(std::max(1, std::min<int>(o.threads, static_cast<int>(regions.size()))),
                   [&](int, const WorkerGroup& g) {
                       for (std::size_t r; !g.failed() && (r = next++) < regions.size();) {
                           if (cancelled && *cancelled) return;
                           detectRegion(p, regions[r], o, firstPass, rn2, cosmics);
                       }
                   });
        if (cancelled && *cancelled) return {};
        // Per-tile counts of this pass's detections, where they were recomputed.
        std::vector<char> recomputed(tileCount.size(), 0);
        for (const Rect& r : regions)
            for (int ty = r.y0 / kTile; ty * kTile < r.y1; ++ty)
                for (int tx = r.x0 / kTile; tx * kTile < r.x1; ++tx)
                    recomputed[static_cast<std::size_t>(ty) * tilesX + tx] = 1;
        std::vector<std::size_t> fresh; // flagged for the first time in this pass
        for (std::size_t t = 0; t < tileCount.size(); ++t) {
            if (!recomputed[t]) continue;
            const int tx = static_cast<int>(t % tilesX), ty = static_cast<int>(t / tilesX);
            long long count = 0;
            for (int y = ty * kTile; y < std::min(p.ny, (ty + 1) * kTile); ++y)
                for (int x = tx * kTile; x < std::min(p.nx, (tx + 1) * kTile); ++x) {
                    const std::size_t i = static_cast<std::size_t>(y) * p.nx + x;
                    if (!cosmics[i]) continue;
                    ++count;
                    if (!crmask[i]) {
                        crmask[i] = 1;
                        fresh.push_back(i);
                    }
                }
            tileCount[t] = count;
        }
        ++out.passes;
        long long numcr = 0;
        for (long long c : tileCount)
            numcr += c;
        if (numcr == 0) break; // astroscrappy's stop: this pass found nothing anywhere
        flagged.insert(flagged.end(), fresh.begin(), fresh.end());
        cleanMeanMask(p.clean, crmask, p.mask, flagged, p.nx, p.ny, backgroundLevel);
        cleanMeanMask(p.var, crmask, p.mask, flagged, p.nx, p.ny, backgroundVar);
        // Next: the tiles within reach of what changed (2 pixels around each new hit, then
        // the 8 a verdict depends on).
        std::vector<char> dirty(tileCount.size(), 0);
        constexpr int reach = 2 + 8;
        for (std::size_t i : fresh) {
            const int x = static_cast<int>(i % p.nx), y = static_cast<int>(i / p.nx);
            for (int ty = std::max(0, (y - reach) / kTile); ty <= std::min(tilesY - 1, (y + reach) / kTile); ++ty)
                for (int tx = std::max(0, (x - reach) / kTile); tx <= std::min(tilesX - 1, (x + reach) / kTile); ++tx)
                    dirty[static_cast<std::size_t>(ty) * tilesX + tx] = 1;
        }
        regions.clear();
        for (std::size_t t = 0; t < dirty.size(); ++t)
            if (dirty[t]) {
                const int tx = static_cast<int>(t % tilesX), ty = static_cast<int>(t / tilesX);
                regions.push_back(
                    {tx * kTile, ty * kTile, std::min(p.nx, (tx + 1) * kTile), std::min(p.ny, (ty + 1) * kTile)});
            }
        // A tile not recomputed keeps its detections: they are the same as in this pass.
        firstPass = false;
    }
    if (o.protectStars) {
        // A margin below the sharpest stars measured: noise, and stars sharper than the sample.
        out.starsSpared = spareStars(electrons, var, crmask, 0.8 * out.sharpestAxial, 0.8 * out.sharpestDiagonal);
        // Spared pixels go back to their measured values in the cleaned image.
        for (std::size_t i = 0; i < n; ++i)
            if (!crmask[i]) p.clean[i] = electrons.pixels[i];
    }
    out.mask = Mask(p.nx, p.ny);
    out.mask.pixels = std::move(crmask);
    for (std::uint8_t m : out.mask.pixels)
        out.pixels += m;
    out.cleaned = FloatImage(p.nx, p.ny);
    for (std::size_t i = 0; i < n; ++i)
        out.cleaned.pixels[i] = p.clean[i] / gain;
    return out;
}

} // namespace paudm::reduction
