#include "reduction/sources.h"

#include "common/error.h"
#include "reduction/filters.h"
#include "reduction/statistics.h"

// sep.h declares C functions without an extern "C" guard of its own.
extern "C" {
#include <sep.h>
}

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>

namespace paudm::reduction {

namespace {

/// A SEP status as Error::code(), as kSepPixelBufferFull names them.
std::string sepCode(int status) { return "sep:" + std::to_string(status); }

/// Throws SEP's message for a failed call.
void check(int status, const char* doing) {
    if (status == 0) return;
    char msg[61] = {}, detail[513] = {};
    sep_get_errmsg(status, msg);
    sep_get_errdetail(detail);
    throw Error(std::string(doing) + ": " + msg + (detail[0] ? std::string(" (") + detail + ")" : std::string()),
                sepCode(status));
}

/// SEP's pixel stack: room for this many pixels over the threshold at once, a region of
/// 1,000 x 1,000. SEP allocates and links the whole stack on every extraction (28 bytes a
/// pixel): 4 million, as it was, made a full CCD's detection 6 % slower (0.99 s -> 0.93 s)
/// for the few CCDs with an object that large, which extractWithRoom serves instead.
constexpr std::size_t kPixelStack = 1'000'000;

/// SEP's global limits, once (they are process-wide: changed only by extractWithRoom).
void configureSep() {
    static std::once_flag once;
    std::call_once(once, [] {
        sep_set_extract_pixstack(kPixelStack);
        sep_set_sub_object_limit(4096);
    });
}

/// Guards SEP's pixel stack size, which every extraction reads when it starts: extractions
/// share it, and one that needs a larger stack has it alone.
std::shared_mutex& pixelStackLock() {
    static std::shared_mutex m;
    return m;
}

/// sep_extract through `extract`, with the usual pixel stack and, when that fills (an
/// object of over a million pixels: a bright galaxy's halo at a low threshold), once more
/// with a stack of the whole image, which nothing on it can fill.
int extractWithRoom(const sep_image& im, const std::function<int(sep_catalog**)>& extract, sep_catalog** out) {
    {
        const std::shared_lock shared(pixelStackLock());
        const int status = extract(out);
        if (status == 0 || sepCode(status) != kSepPixelBufferFull) return status;
    }
    const std::unique_lock alone(pixelStackLock());
    sep_set_extract_pixstack(std::max(kPixelStack, static_cast<std::size_t>(im.w) * static_cast<std::size_t>(im.h)));
    const int status = extract(out);
    sep_set_extract_pixstack(kPixelStack);
    return status;
}

sep_image sepImage(const FloatImage& data, const std::vector<std::uint8_t>* mask, const FloatImage* noise) {
    sep_image im{};
    im.data = data.pixels.data();
    im.dtype = SEP_TFLOAT;
    im.w = data.width;
    im.h = data.height;
    if (mask) {
        im.mask = mask->data();
        im.mdtype = SEP_TBYTE;
        im.maskthresh = 0;
    }
    if (noise) {
        im.noise = noise->pixels.data();
        im.ndtype = SEP_TFLOAT;
        im.noise_type = SEP_NOISE_STDDEV;
    } else {
        im.noise_type = SEP_NOISE_NONE;
    }
    return im;
}

struct BkgDeleter {
    void operator()(sep_bkg* b) const { sep_bkg_free(b); }
};
struct CatalogDeleter {
    void operator()(sep_catalog* c) const { sep_catalog_free(c); }
};
using BkgPtr = std::unique_ptr<sep_bkg, BkgDeleter>;
using CatalogPtr = std::unique_ptr<sep_catalog, CatalogDeleter>;

BkgPtr sepBackground(const FloatImage& image, const std::vector<std::uint8_t>& mask, const BackgroundOptions& o) {
    const sep_image im = sepImage(image, &mask, nullptr);
    sep_bkg* b = nullptr;
    check(sep_background(&im, o.mesh, o.mesh, o.filter, o.filter, 0.0, &b), "background");
    return BkgPtr(b);
}

void fill(Background& out, const sep_bkg* b, const FloatImage& image) {
    // The second estimate writes over the first's maps: fresh ones are 64 MB of a full
    // CCD zeroed and faulted in again.
    if (out.level.width != image.width || out.level.height != image.height) out.level = FloatImage(image.width, image.height);
    if (out.rms.width != image.width || out.rms.height != image.height) out.rms = FloatImage(image.width, image.height);
    check(sep_bkg_array(b, out.level.pixels.data(), SEP_TFLOAT), "background map");
    check(sep_bkg_rmsarray(b, out.rms.pixels.data(), SEP_TFLOAT), "background noise map");
    out.globalLevel = sep_bkg_global(b);
    out.globalRms = sep_bkg_globalrms(b);
    out.meshWidth = b->bw;
    out.meshHeight = b->bh;
    out.cellsX = b->nx;
    out.cellsY = b->ny;
    out.meshLevel.assign(b->back, b->back + b->n);
    out.meshRms.assign(b->sigma, b->sigma + b->n);
}

const float kPyramid[9] = {1, 2, 1, 2, 4, 2, 1, 2, 1}; // SExtractor's default.conv

/// A kernel as SEP's extraction normalises it (by the sum of its absolute values, in
/// float), so that smoothing with it gives SEP's numbers.
std::vector<float> sepNormalisedKernel(const float* kernel, int n) {
    float sum = 0;
    for (int i = 0; i < n; ++i)
        sum = static_cast<float>(sum + std::fabs(static_cast<double>(kernel[i])));
    std::vector<float> out(kernel, kernel + n);
    for (float& v : out)
        v /= sum;
    return out;
}

/// The image SEP's extraction thresholds: `image` smoothed by `kernel` (size x size) as
/// SEP's own filter would (convolveAsSep), so that SEP is called without one. SEP takes
/// its moments, barycentres and deblending from the smoothed pixels either way.
FloatImage smoothedForDetection(const FloatImage& image, const float* kernel, int size) {
    FloatImage out(image.width, image.height);
    convolveAsSep(image.pixels.data(), out.pixels.data(), image.width, image.height, kernel, size, size);
    return out;
}

/// What a Source takes from SEP's unsmoothed pixels, found again on them when SEP was
/// handed the smoothed image: the footprint's peak and its pixels over the threshold
/// (SEP's peak and tnpix).
struct RawIsophote {
    float peak = 0;
    int overThreshold = 0;
};
RawIsophote rawIsophote(const sep_catalog& cat, int k, const FloatImage& raw) {
    float peak = -1e30f;
    int over = 0;
    const float thresh = cat.thresh[k];
    for (int p = 0; p < cat.npix[k]; ++p) {
        const float v = raw.pixels[static_cast<std::size_t>(cat.pix[k][p])];
        peak = std::max(peak, v);
        over += v > thresh;
    }
    return {peak, over};
}

/// SEP's object k as a Source: its isophotal quantities and extraction flags, saturated
/// if any of its pixels is in `mask`; `raw`: the unsmoothed image, when SEP was given the
/// smoothed one.
Source isophotal(const sep_catalog& cat, int k, const Mask& mask, const FloatImage* raw) {
    Source s;
    s.xIso = s.x = cat.x[k];
    s.yIso = s.y = cat.y[k];
    s.a = cat.a[k];
    s.b = cat.b[k];
    // SEP's float theta may round to just past pi/2, which its own apertures refuse.
    s.theta = std::clamp(static_cast<double>(cat.theta[k]), -M_PI / 2, M_PI / 2);
    s.cxx = cat.cxx[k];
    s.cyy = cat.cyy[k];
    s.cxy = cat.cxy[k];
    s.peak = cat.peak[k];
    s.area = cat.tnpix[k];
    if (raw) {
        const RawIsophote r = rawIsophote(cat, k, *raw);
        s.peak = r.peak;
        s.area = r.overThreshold;
    }
    if (cat.flag[k] & SEP_OBJ_MERGED) s.flags |= kSourceBlended;
    if (cat.flag[k] & SEP_OBJ_TRUNC) s.flags |= kSourceTruncated;
    if (!mask.empty())
        for (int p = 0; p < cat.npix[k]; ++p)
            if (mask.pixels[static_cast<std::size_t>(cat.pix[k][p])] & kSaturated) {
                s.flags |= kSourceSaturated;
                break;
            }
    return s;
}

} // namespace

/// A Gaussian of `fwhm` pixels out to 0.85 FWHM each side (2 sigma: a loss of signal to
/// noise under 1 % against the untruncated one), its sum 1.
std::vector<float> gaussianKernel(double fwhm, int& size) {
    const int half = std::max(1, static_cast<int>(std::lround(0.85 * fwhm)));
    size = 2 * half + 1;
    const double s2 = std::pow(fwhm / 2.35482, 2);
    std::vector<float> k(static_cast<std::size_t>(size) * size);
    double sum = 0;
    for (int y = -half; y <= half; ++y)
        for (int x = -half; x <= half; ++x) {
            const double v = std::exp(-0.5 * (x * x + y * y) / s2);
            k[static_cast<std::size_t>(y + half) * size + x + half] = static_cast<float>(v);
            sum += v;
        }
    for (float& v : k)
        v = static_cast<float>(v / sum);
    return k;
}

Background measureBackground(const FloatImage& image, const Mask& mask, const BackgroundOptions& o) {
    configureSep();
    const std::size_t n = image.size();
    if (!mask.empty() && mask.size() != n) throw Error("background: the mask and the image differ in size");
    std::vector<std::uint8_t> leaveOut(n, 0);
    std::size_t maskedBefore = 0;
    for (std::size_t i = 0; i < n; ++i) {
        leaveOut[i] = (!mask.empty() && mask.pixels[i]) || !std::isfinite(image.pixels[i]) ? 1 : 0;
        maskedBefore += leaveOut[i];
    }
    Background out;
    {
        const BkgPtr first = sepBackground(image, leaveOut, o);
        fill(out, first.get(), image);
    }
    // The sources over that first estimate, masked and grown: their footprints at the
    // threshold, a few pixels more, and for the large ones twice their isophotal extent.
    FloatImage sub(image.width, image.height);
    for (std::size_t i = 0; i < n; ++i)
        sub.pixels[i] = leaveOut[i] ? 0.0f : image.pixels[i] - out.level.pixels[i];
    const sep_image im = sepImage(sub, &leaveOut, &out.rms);
    sep_catalog* raw = nullptr;
    check(extractWithRoom(im,
                          [&](sep_catalog** c) {
                              return sep_extract(&im, static_cast<float>(o.maskSigma), SEP_THRESH_REL, 5, kPyramid, 3,
                                                 3, SEP_FILTER_CONV, 1, 1.0, 0, 1.0, c);
                          },
                          &raw),
          "finding the sources to leave out of the background");
    const CatalogPtr cat(raw);
    std::vector<std::uint8_t> sources(n, 0), grown(n, 0);
    for (int k = 0; k < cat->nobj; ++k) {
        // Isophotal signal to noise by the background noise alone (an upper bound).
        const int cx = std::clamp(static_cast<int>(std::lround(cat->x[k])), 0, image.width - 1);
        const int cy = std::clamp(static_cast<int>(std::lround(cat->y[k])), 0, image.height - 1);
        if (cat->flux[k] >= o.brightSnr * out.rms.at(cx, cy) * std::sqrt(static_cast<double>(cat->npix[k])))
            out.brightSources.push_back(isophotal(*cat, k, mask, nullptr));
        for (int p = 0; p < cat->npix[k]; ++p)
            sources[static_cast<std::size_t>(cat->pix[k][p])] = 1;
    }
    // The large ones' halos, where they leave the mesh at least half of what the
    // footprints do: an object as large as the CCD (a galaxy's halo, scattered light)
    // would have taken every cell with it, and SEP then puts the background at zero.
    // Footprints avoid the masked pixels and each other, so what they leave is a count;
    // when the halos' areas together are within half of it (any ordinary CCD), they are
    // masked without counting pixels.
    std::int64_t left = static_cast<std::int64_t>(n - maskedBefore), halos = 0;
    for (int k = 0; k < cat->nobj; ++k) {
        left -= cat->npix[k];
        // The halo's ellipse, twice the isophotal extent, covers pi (2 extent)^2 a b = 4 npix.
        if (cat->npix[k] > 200 && cat->a[k] > 0 && cat->b[k] > 0) halos += 4 * std::int64_t(cat->npix[k]);
    }
    auto maskHalos = [&](std::vector<std::uint8_t>& m) {
        for (int k = 0; k < cat->nobj; ++k)
            if (cat->npix[k] > 200 && cat->a[k] > 0 && cat->b[k] > 0) {
                const double extent = std::sqrt(cat->npix[k] / (M_PI * cat->a[k] * cat->b[k]));
                sep_set_ellipse(m.data(), image.width, image.height, cat->x[k], cat->y[k], cat->cxx[k], cat->cyy[k],
                                cat->cxy[k], 2 * extent, 1);
            }
    };
    if (2 * halos <= left) {
        maskHalos(sources);
    } else {
        grown = sources;
        maskHalos(grown);
        std::int64_t stillLeft = 0;
        for (std::size_t i = 0; i < n; ++i) stillLeft += !grown[i] && !leaveOut[i];
        if (2 * stillLeft >= left) std::swap(sources, grown);
    }
    for (int g = 0; g < o.maskGrow; ++g) {
        dilate3(sources.data(), grown.data(), image.width, image.height);
        std::swap(sources, grown);
    }
    for (std::size_t i = 0; i < n; ++i) {
        out.maskedForSources += sources[i] && !leaveOut[i];
        leaveOut[i] |= sources[i];
    }
    const BkgPtr second = sepBackground(image, leaveOut, o);
    fill(out, second.get(), image);
    return out;
}

MeasuredImage::MeasuredImage(const FloatImage& image, const Background& bkg, const Mask& mask)
    : sub_(image.width, image.height), rms_(&bkg.rms), level_(&bkg.level), ignore_(image.width, image.height),
      mask_(&mask) {
    const std::size_t n = image.size();
    if (bkg.level.size() != n || (!mask.empty() && mask.size() != n))
        throw Error("measurement: the image, its background and its mask differ in size");
    constexpr std::uint8_t kNotMeasured = kBadPixel | kCosmicRay | kNoData;
    for (std::size_t i = 0; i < n; ++i) {
        const bool bad = (!mask.empty() && (mask.pixels[i] & kNotMeasured)) || !std::isfinite(image.pixels[i]);
        ignore_.pixels[i] = bad ? 1 : 0;
        sub_.pixels[i] = bad ? 0.0f : image.pixels[i] - bkg.level.pixels[i];
    }
}

std::vector<Source> MeasuredImage::detect(const DetectionOptions& o, double windowSigma) const {
    configureSep();
    const Mask& mask = *mask_;
    sep_catalog* raw = nullptr;
    int ksize = 3;
    const std::vector<float> kernel = o.kernelFwhm > 0 ? gaussianKernel(o.kernelFwhm, ksize) : std::vector<float>();
    const float* conv = !o.filter ? nullptr : kernel.empty() ? kPyramid : kernel.data();
    // The Gaussian of the seeing as a plain convolution, the threshold in units of the
    // filtered noise (the pixel noise times the kernel's root sum of squares): for noise
    // that varies as smoothly as the background's, the same test as SEP's matched filter at
    // a third of its cost. The extraction sees no mask: masked pixels are already zero in
    // the subtracted image, and SEP would zero their noise too, so that any smoothed
    // neighbour's light crossed a threshold of zero and drew sources along bad columns.
    double threshold = o.threshold;
    if (!kernel.empty()) {
        double sumSq = 0;
        for (float v : kernel)
            sumSq += static_cast<double>(v) * v;
        threshold *= std::sqrt(sumSq);
    }
    // SEP is handed the image already smoothed (its kernel normalised as it would) and no
    // kernel: the same catalogue in a sixth of the time, but for the faint pixels of
    // deblended sources, which SEP hands out at random with odds it took from the
    // unsmoothed pixels (test_measure's smoothedDetectionIsSeps).
    FloatImage smooth;
    if (conv) {
        const std::vector<float> k = sepNormalisedKernel(conv, ksize * ksize);
        smooth = smoothedForDetection(sub_, k.data(), ksize);
    }
    const sep_image find = sepImage(conv ? smooth : sub_, nullptr, rms_);
    check(extractWithRoom(find,
                          [&](sep_catalog** c) {
                              return sep_extract(&find, static_cast<float>(threshold), SEP_THRESH_REL, o.minArea,
                                                 nullptr, 0, 0, SEP_FILTER_CONV, o.deblendThresholds,
                                                 o.deblendContrast, o.clean ? 1 : 0, o.cleanParam, c);
                          },
                          &raw),
          "detection");
    const CatalogPtr cat(raw);
    // Each source's footprint by its number, so that its apertures leave out its
    // neighbours' pixels, as SExtractor's do.
    std::vector<std::int32_t> segments(sub_.size(), 0);
    for (int k = 0; k < cat->nobj; ++k)
        for (int p = 0; p < cat->npix[k]; ++p)
            segments[static_cast<std::size_t>(cat->pix[k][p])] = k + 1;
    std::vector<Source> out;
    out.reserve(static_cast<std::size_t>(cat->nobj));
    for (int k = 0; k < cat->nobj; ++k) {
        out.push_back(isophotal(*cat, k, mask, conv ? &sub_ : nullptr));
        measureSource(out.back(), o, windowSigma, segments.data(), k + 1);
    }
    return out;
}

std::vector<Source> MeasuredImage::measure(std::vector<Source> sources, const DetectionOptions& o,
                                           double windowSigma) const {
    configureSep();
    for (Source& s : sources)
        measureSource(s, o, windowSigma);
    return sources;
}

void MeasuredImage::measureSource(Source& s, const DetectionOptions& o, double windowSigma,
                                  const std::int32_t* segments, int id) const {
    const int nx = sub_.width, ny = sub_.height;
    const Mask& mask = *mask_;
    // Apertures see the mask, the noise map and the Poisson noise of the sources (gain).
    sep_image ap = sepImage(sub_, &ignore_.pixels, rms_);
    ap.gain = o.gain;
    if (segments) {
        ap.segmap = segments;
        ap.sdtype = SEP_TINT;
    } else {
        id = 0;
    }
    // Kron: the first moment of the light within 6 times the ellipse, then the flux
    // within 2.5 times that (at least 3.5), as SExtractor's FLUX_AUTO. Both leave out the
    // neighbours' footprints (`segments`) and the set-aside pixels: SExtractor puts the
    // mirror pixel in their place, SEP either nothing or the aperture's mean, and a
    // neighbour sits in the faint outskirts, where nothing is the nearer (the mean put 11 %
    // too much light into test_measure's galaxies with a neighbour, nothing 0.5 % too little).
    double kron = 0, sum = 0, err = 0, area = 0;
    short flag = 0;
    if (s.a > 0 && s.b > 0) {
        // A Kron radius SEP cannot define (no positive light within reach) takes the
        // minimum, as SExtractor does.
        if (sep_kron_radius(&ap, s.xIso, s.yIso, s.cxx, s.cyy, s.cxy, 6.0, id, &kron, &flag) != 0 ||
            !std::isfinite(kron) || kron <= 0)
            kron = 0;
        s.kronRadius = kron;
        const double r = std::max(o.kronFactor * kron, o.kronMinRadius);
        flag = 0;
        check(sep_sum_ellipse(&ap, s.xIso, s.yIso, std::max(s.a, s.b), std::min(s.a, s.b), s.theta, r, id, 1,
                              SEP_MASK_IGNORE, &sum, &err, &area, &flag),
              "Kron photometry");
    }
    if (flag & (SEP_APER_HASMASKED | SEP_APER_ALLMASKED)) s.flags |= kSourceNeighbours;
    if (flag & SEP_APER_TRUNC) s.flags |= kSourceTruncated;
    s.fluxAuto = sum;
    s.fluxErrAuto = err;
    // Half-light radius within the same reach, of the AUTO flux; SEP fills what it cannot
    // see with the mean of each ring, which at a given radius is close.
    if (sum > 0) {
        const double frac = 0.5, rmax = std::max(6.0 * s.a, 3.0);
        double r50 = 0;
        short rflag = 0;
        if (sep_flux_radius(&ap, s.xIso, s.yIso, rmax, id, 5, 0, &sum, &frac, 1, &r50, &rflag) == 0) s.fluxRadius = r50;
    }
    // The windowed centroid (SExtractor's XWIN): a Gaussian-weighted first moment,
    // iterated; far less noisy than the isophotal barycentre.
    s.x = s.xIso;
    s.y = s.yIso;
    const double sig = windowSigma > 0 ? windowSigma : std::max(0.5, 2 * s.fluxRadius / 2.35482);
    if (o.windowed) {
        const WindowedPosition wp = windowedPosition(sub_, &ignore_, s.xIso, s.yIso, sig);
        if (std::isfinite(wp.x) && std::isfinite(wp.y) && std::hypot(wp.x - s.xIso, wp.y - s.yIso) < 2)
            s.x = wp.x, s.y = wp.y;
    }
    const int cx = static_cast<int>(std::lround(s.x)), cy = static_cast<int>(std::lround(s.y));
    if (cx >= 0 && cy >= 0 && cx < nx && cy < ny) s.background = level_->at(cx, cy);
    if (!mask.empty())
        for (int dy = -2; dy <= 2; ++dy)
            for (int dx = -2; dx <= 2; ++dx) {
                const int ax = cx + dx, ay = cy + dy;
                if (ax >= 0 && ay >= 0 && ax < nx && ay < ny && (mask.at(ax, ay) & (kBadPixel | kCosmicRay | kNoData)))
                    s.flags |= kSourceMaskedCore;
            }
}

WindowedPosition windowedPosition(const FloatImage& image, const Mask* mask, double x, double y, double sig) {
    constexpr int kIterations = 16, kSub = 11;
    constexpr double kReach = 4, kStepMin = 1e-4, kFactor = 2;
    const double r = kReach * sig, r2 = r * r;
    // Pixels wholly inside r + or - half a diagonal need no subpixels (SEP's annulus).
    const double rIn = std::max(0.0, r - 0.7072), rIn2 = rIn * rIn, rOut2 = (r + 0.7072) * (r + 0.7072);
    const double inv2s2 = 1 / (2 * sig * sig), scale = 1.0 / kSub, scale2 = scale * scale, offset = 0.5 * (scale - 1);
    const int w = image.width, h = image.height;
    std::vector<double> ex, ey;
    WindowedPosition out;
    int i = 0;
    for (; i < kIterations; ++i) {
        const int xmin = std::max(0, static_cast<int>(x - r + 0.5)),
                  xmax = std::min(w, static_cast<int>(x + r + 1.4999999));
        const int ymin = std::max(0, static_cast<int>(y - r + 0.5)),
                  ymax = std::min(h, static_cast<int>(y + r + 1.4999999));
        ex.resize(static_cast<std::size_t>(std::max(0, xmax - xmin)));
        ey.resize(static_cast<std::size_t>(std::max(0, ymax - ymin)));
        for (int ix = xmin; ix < xmax; ++ix)
            ex[static_cast<std::size_t>(ix - xmin)] = std::exp(-(ix - x) * (ix - x) * inv2s2);
        for (int iy = ymin; iy < ymax; ++iy)
            ey[static_cast<std::size_t>(iy - ymin)] = std::exp(-(iy - y) * (iy - y) * inv2s2);
        double tv = 0, twv = 0, area = 0, maskArea = 0, maskWeight = 0, dxPos = 0, dyPos = 0, maskDx = 0, maskDy = 0;
        for (int iy = ymin; iy < ymax; ++iy) {
            const double dy = iy - y, dy2 = dy * dy, wy = ey[static_cast<std::size_t>(iy - ymin)];
            if (dy2 >= rOut2) continue;
            const float* row = image.pixels.data() + static_cast<std::size_t>(iy) * static_cast<std::size_t>(w);
            const std::uint8_t* mrow =
                mask ? mask->pixels.data() + static_cast<std::size_t>(iy) * static_cast<std::size_t>(w) : nullptr;
            for (int ix = xmin; ix < xmax; ++ix) {
                const double dx = ix - x, rpix2 = dx * dx + dy2;
                if (rpix2 >= rOut2) continue;
                double overlap = 1;
                if (rpix2 > rIn2) {
                    // Subpixel centres dx0 + k scale (k = 0..10) of each subpixel row: those
                    // with (dx0 + k scale)^2 < r2 - dys^2 lie inside.
                    overlap = 0;
                    const double dx0 = dx + offset;
                    for (int sy = 0; sy < kSub; ++sy) {
                        const double dys = dy + offset + sy * scale, room = r2 - dys * dys;
                        if (room <= 0) continue;
                        const double half = std::sqrt(room);
                        const int k0 = std::max(0, static_cast<int>(std::floor((-half - dx0) / scale)) + 1);
                        const int k1 = std::min(kSub - 1, static_cast<int>(std::ceil((half - dx0) / scale)) - 1);
                        if (k1 >= k0) overlap += (k1 - k0 + 1) * scale2;
                    }
                }
                const double weight = ex[static_cast<std::size_t>(ix - xmin)] * wy;
                if (mrow && mrow[ix] > 0) {
                    maskArea += overlap;
                    maskWeight += overlap * weight;
                    maskDx += overlap * weight * dx;
                    maskDy += overlap * weight * dy;
                } else {
                    const double pix = row[ix];
                    tv += pix * overlap;
                    const double wpix = pix * overlap * weight;
                    twv += wpix;
                    dxPos += wpix * dx;
                    dyPos += wpix * dy;
                }
                area += overlap;
            }
        }
        if (mask) {
            // Masked pixels as the mean of the others (SEP without SEP_MASK_IGNORE).
            const double mean = tv / (area - maskArea);
            twv += mean * maskWeight;
            dxPos += mean * maskDx;
            dyPos += mean * maskDy;
        }
        if (!(twv > 0)) break;
        dxPos /= twv;
        dyPos /= twv;
        x += dxPos * kFactor;
        y += dyPos * kFactor;
        out.ok = true;
        if (dxPos * dxPos + dyPos * dyPos < kStepMin * kStepMin) break;
    }
    out.x = x;
    out.y = y;
    out.iterations = std::min(i + 1, kIterations);
    return out;
}

MeasuredImage::Aperture MeasuredImage::circle(double x, double y, double r, double gain) const {
    sep_image im = sepImage(sub_, &ignore_.pixels, rms_);
    im.gain = gain;
    Aperture out;
    short flag = 0;
    check(sep_sum_circle(&im, x, y, r, 0, 5, 0, &out.flux, &out.err, &out.area, &flag), "aperture photometry");
    out.flags = flag;
    return out;
}

MeasuredImage::Aperture MeasuredImage::circleLocal(double x, double y, double r, double rIn, double rOut,
                                                   double gain) const {
    Aperture a = circle(x, y, r, gain);
    std::vector<float> ring;
    const int x0 = std::max(0, static_cast<int>(std::floor(x - rOut))),
              x1 = std::min(sub_.width - 1, static_cast<int>(std::ceil(x + rOut)));
    const int y0 = std::max(0, static_cast<int>(std::floor(y - rOut))),
              y1 = std::min(sub_.height - 1, static_cast<int>(std::ceil(y + rOut)));
    for (int py = y0; py <= y1; ++py)
        for (int px = x0; px <= x1; ++px) {
            const double d2 = (px - x) * (px - x) + (py - y) * (py - y);
            if (d2 >= rIn * rIn && d2 <= rOut * rOut && !ignore_.at(px, py)) ring.push_back(sub_.at(px, py));
        }
    if (ring.size() < 10) return a;
    const ClippedStats st = sigmaClippedStats(ring, 3);
    a.flux -= st.median * a.area;
    // The residual's own uncertainty (of a median: 1.25 sigma / sqrt(n)) over the aperture.
    const double e = 1.2533 * st.stddev / std::sqrt(static_cast<double>(st.used)) * a.area;
    a.err = std::sqrt(a.err * a.err + e * e);
    return a;
}

std::string sepVersion() {
    return sep_version_string;
}

} // namespace paudm::reduction
