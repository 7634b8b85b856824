#pragma once
// Combining frames pixel by pixel: master bias and master flats. The sigma clipping is
// that of ccdproc's Combiner (one pass by default: each pixel's values farther than
// low/high deviations from their centre are rejected), then the mean or the median of
// what is left, so that the numbers can be compared with ccdproc.combine's.
#include "reduction/image.h"

#include <atomic>
#include <span>
#include <vector>

namespace paudm::reduction {

struct CombineOptions {
    enum class Method { Mean, Median };
    enum class Centre { Mean, Median };
    /// Known: the dispersion every value should have, given per pixel (`sigma`): IRAF's
    /// ccdclip. With a few frames (a master bias of 5), an estimate from the values
    /// themselves is so noisy that good values get rejected and the result is noisier.
    enum class Deviation { Std, MadStd, Known };
    Method method = Method::Mean;
    bool clip = true;
    Centre centre = Centre::Mean;          ///< ccdproc's sigma_clip_func (ma.mean by default)
    Deviation deviation = Deviation::Std;  ///< ccdproc's sigma_clip_dev_func (ma.std by default)
    double low = 3, high = 3;              ///< sigma_clip_low_thresh, sigma_clip_high_thresh
    int iterations = 1;                    ///< ccdproc clips once; more repeats until nothing changes
    int threads = 1;
    const Image<float>* sigma = nullptr;   ///< for Deviation::Known: each pixel's expected dispersion
};

struct Combined {
    FloatImage image;
    Image<std::uint16_t> used; ///< frames kept at each pixel
    long long rejected = 0;    ///< values clipped over the whole image
};

/// Combines equal-sized frames (each `width` x `height`, row-major). NaN values are left
/// out. `scales` (empty, or one per frame) multiplies each frame first (flats normalised
/// to a common level). `cancelled` (may be null) stops between rows (the result is empty).
Combined combine(std::span<const float* const> frames, int width, int height, const CombineOptions& options,
                 std::span<const double> scales = {}, const std::atomic<bool>* cancelled = nullptr);

} // namespace paudm::reduction
