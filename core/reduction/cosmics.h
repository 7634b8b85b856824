#pragma once
// Cosmic rays by L.A.Cosmic (van Dokkum 2001, PASP 113, 1420): the Laplacian of the image
// (on a 2x finer grid, so that sharp edges stand out against the smooth ones of stars)
// against the noise the image should have without them, and against its own fine
// structure, so that the cores of sharp stars are not taken for hits; iterated, each pass
// cleaning what the last one found. No Debian C library offers it; the steps and their
// defaults are those of astroscrappy (python3-astroscrappy, median fine-structure mode),
// which the tests and the benchmark compare with pixel for pixel.
//
// After the first pass, only the neighbourhoods of the pixels a pass cleaned can change,
// so later passes are computed there alone: the same mask, in a fraction of the time.
//
// L.A.Cosmic takes the cores of undersampled stars for cosmic rays (the classic failure:
// at a FWHM of 1.6 pixels it flags most star peaks, astroscrappy too). So, unless asked
// not to, a last step looks at each compact group it flagged and keeps it only if its
// brightest pixel is sharper than the image's stars can be in some direction: brighter
// than its two opposite neighbours allow, given the sharpest neighbour-to-peak ratio
// measured on the image's own bright, isolated stars (the test of SDSS's photo, with the
// PSF measured instead of assumed). A track is sharp across itself; a star is not. And a
// star lights its neighbours: a faint hit, not sharp beyond doubt, is still no star when
// they stay dark. The sharpness is measured on the CCD's own stars, or, on a sparse CCD,
// on all the stars of its mosaic (withMosaicSharpness).
#include "reduction/image.h"

#include <atomic>
#include <optional>
#include <span>
#include <vector>

namespace paudm::reduction {

/// One star's neighbour-to-peak ratios (see measureSharpness) and its peak signal to noise.
struct SharpnessSample {
    float snr = 0, axial = 0, diagonal = 0;
};
/// The sharpness of an image's stars, and how many it was measured on.
struct Sharpness {
    double axial = 0, diagonal = 0;
    int stars = 0;
};

struct LaCosmicOptions {
    double sigclip = 4.5;    ///< Laplacian-to-noise limit for a detection
    double sigfrac = 0.3;    ///< for neighbours of detections: sigfrac * sigclip
    double objlim = 5.0;     ///< minimum contrast of the Laplacian against the fine structure
    double gain = 1.0;       ///< e-/ADU of the input (1 for an image in electrons)
    double readNoise = 6.5;  ///< e-
    double satLevel = 65536; ///< electrons; saturated stars are excluded from detection
    int iterations = 4;
    int threads = 1;
    /// Give back the groups that are as smooth as a star (see above). Off: astroscrappy's mask.
    bool protectStars = true;
    /// Relative variance the image carries beyond its Poisson and read noise (that of the
    /// flat it was divided by): the noise model becomes value + rn^2 + this * value^2. At a
    /// sky of 10^5 e- a master flat of 3 x 25,000 e- adds more noise than the sky's own.
    double relativeVariance = 0;
    /// The stars' sharpness, when the caller knows it (pooled over a mosaic, whose CCDs share
    /// the seeing); else it is measured on this image.
    std::optional<Sharpness> sharpness;
    /// With too few stars on this image to measure the sharpness, stop before the search and
    /// say so (CosmicResult::needsSharpness), so that the caller can pool the measurement
    /// over several images and come back with it.
    bool deferWithoutSharpness = false;
};

struct CosmicResult {
    Mask mask;            ///< 1 where a cosmic ray was found
    FloatImage cleaned;   ///< the input with those pixels replaced (masked 5 x 5 mean), in the input's units
    int passes = 0;       ///< passes that ran
    long long pixels = 0; ///< pixels flagged
    int starsSpared = 0;  ///< groups L.A.Cosmic flagged and the star test gave back
    double sharpestAxial = 0, sharpestDiagonal = 0; ///< the stars' neighbour-to-peak ratios used (0: not measured)
    int sharpnessStars = 0;                         ///< stars they were measured on
    std::vector<SharpnessSample> sharpnessSamples;  ///< this image's stars, for pooling
    bool needsSharpness = false; ///< deferred (see LaCosmicOptions::deferWithoutSharpness): only the samples are set
};

/// How sharp the image's stars are: over bright, isolated, unsaturated local maxima that
/// are not cosmic rays (all their neighbours carry light), a low quantile of the ratio of
/// the mean of a pixel's 4 side (or 4 corner) neighbours to the peak, sky subtracted. The
/// stars of peak 30 sigma and more, or 20, or 12, the first of these that has 10; with
/// fewer than kSharpnessStarsNeeded, the default of a very sharp image. `data` in electrons.
constexpr int kSharpnessStarsNeeded = 5;
std::vector<SharpnessSample> sharpnessSamples(const FloatImage& data, const Mask& exclude, double readNoise,
                                              double satLevel);
Sharpness sharpnessFrom(std::span<const SharpnessSample> samples);
Sharpness measureSharpness(const FloatImage& data, const Mask& exclude, double readNoise, double satLevel);

/// `data` in ADU (or electrons with gain 1) including the sky; `badPixels` (may be
/// empty) marks pixels to ignore. `cancelled` (may be null) stops between passes and
/// tiles (the result is then empty).
CosmicResult detectCosmicRays(const FloatImage& data, const Mask& badPixels, const LaCosmicOptions& options,
                              const std::atomic<bool>* cancelled = nullptr);

/// What one CCD's reduction tells the star test of its mosaic (see withMosaicSharpness).
struct CcdSharpness {
    bool deferred = false; ///< too few stars of its own: not reduced yet
    std::vector<SharpnessSample> samples;
};

/// The star test over a mosaic, whose CCDs share the seeing. `reduce(k, sharpness, defer)`
/// reduces CCD k with LaCosmicOptions::sharpness and deferWithoutSharpness set to these and
/// returns its CcdSharpness; `forEach(count, fn)` calls fn(i) for every i below count, in
/// parallel if it likes. A CCD with stars enough is measured on its own; the others are
/// reduced after all have been seen, with the sharpness of every star of the mosaic. So a
/// CCD on a sparse field gets the mosaic's seeing rather than a guess, and only those CCDs
/// are read twice.
template <class ForEach, class Reduce> void withMosaicSharpness(int ccds, ForEach&& forEach, Reduce&& reduce) {
    std::vector<CcdSharpness> first(static_cast<std::size_t>(ccds));
    const bool defer = ccds > 1;
    forEach(ccds, [&](int k) { first[static_cast<std::size_t>(k)] = reduce(k, std::optional<Sharpness>{}, defer); });
    std::vector<int> again;
    std::vector<SharpnessSample> all;
    for (int k = 0; k < ccds; ++k) {
        const CcdSharpness& c = first[static_cast<std::size_t>(k)];
        if (c.deferred) again.push_back(k);
        all.insert(all.end(), c.samples.begin(), c.samples.end());
    }
    if (again.empty()) return;
    const Sharpness pooled = sharpnessFrom(all);
    forEach(static_cast<int>(again.size()),
            [&](int i) { reduce(again[static_cast<std::size_t>(i)], std::optional<Sharpness>(pooled), false); });
}

} // namespace paudm::reduction
