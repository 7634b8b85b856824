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
// PSF measured instead of assumed). A track is sharp across itself; a star is not.
#include "reduction/image.h"

#include <atomic>

namespace paudm::reduction {

struct LaCosmicOptions {
    double sigclip = 4.5;   ///< Laplacian-to-noise limit for a detection
    double sigfrac = 0.3;   ///< for neighbours of detections: sigfrac * sigclip
    double objlim = 5.0;    ///< minimum contrast of the Laplacian against the fine structure
    double gain = 1.0;      ///< e-/ADU of the input (1 for an image in electrons)
    double readNoise = 6.5; ///< e-
    double satLevel = 65536;///< electrons; saturated stars are excluded from detection
    int iterations = 4;
    int threads = 1;
    /// Give back the groups that are as smooth as a star (see above). Off: astroscrappy's mask.
    bool protectStars = true;
    /// Relative variance the image carries beyond its Poisson and read noise (that of the
    /// flat it was divided by): the noise model becomes value + rn^2 + this * value^2. At a
    /// sky of 10^5 e- a master flat of 3 x 25,000 e- adds more noise than the sky's own.
    double relativeVariance = 0;
};

struct CosmicResult {
    Mask mask;             ///< 1 where a cosmic ray was found
    FloatImage cleaned;    ///< the input with those pixels replaced (masked 5 x 5 mean), in the input's units
    int passes = 0;        ///< passes that ran
    long long pixels = 0;  ///< pixels flagged
    int starsSpared = 0;   ///< groups L.A.Cosmic flagged and the star test gave back
    double sharpestAxial = 0, sharpestDiagonal = 0; ///< the stars' neighbour-to-peak ratios used (0: not measured)
    int sharpnessStars = 0; ///< stars they were measured on
};

/// How sharp the image's stars are: over bright (peak 30 sigma or more), isolated,
/// unsaturated local maxima that are not cosmic rays (all their neighbours carry light),
/// a low quantile of the ratio of the mean of a pixel's 4 side (or 4 corner) neighbours
/// to the peak, sky subtracted. `data` in electrons.
struct Sharpness {
    double axial = 0, diagonal = 0;
    int stars = 0;
};
Sharpness measureSharpness(const FloatImage& data, const Mask& exclude, double readNoise, double satLevel);

/// `data` in ADU (or electrons with gain 1) including the sky; `badPixels` (may be
/// empty) marks pixels to ignore. `cancelled` (may be null) stops between passes and
/// tiles (the result is then empty).
CosmicResult detectCosmicRays(const FloatImage& data, const Mask& badPixels, const LaCosmicOptions& options,
                              const std::atomic<bool>* cancelled = nullptr);

} // namespace paudm::reduction
