#pragma once
// Master frames and the detrending of one CCD, on arrays in electrons: read noise from
// pairs of bias frames, the master flat with its bad-pixel mask, and the reduced image
// with its mask and weight map.
#include "reduction/combine.h"
#include "reduction/cosmics.h"
#include "reduction/image.h"
#include "reduction/sections.h"

#include <atomic>
#include <vector>

namespace paudm::reduction {

/// Read noise (e-) in `region` (1-based, of the CCD) from two bias frames in electrons,
/// overscan-corrected row by row with levels that averaged `overscanPixels` pixels: the
/// robust (MAD) dispersion of their difference over sqrt(2), without what the rows'
/// overscan levels add (1/overscanPixels of each frame's variance) and without the ADU
/// rounding (1/12 ADU^2 per frame).
double readNoiseFromPair(const FloatImage& a, const FloatImage& b, const Section& region, double gain,
                         double overscanPixels);

/// A smooth version of an image: the median of each block x block cell (pixels flagged in
/// `exclude` left out), interpolated bilinearly between cell centres.
/// `step` > 1 takes the median over every step-th pixel of every step-th row of a cell:
/// for a map whose precision matters less than its cost (the sky the weights assume).
FloatImage blockMedianMap(const FloatImage& image, const Mask* exclude, int block, int step = 1);

struct FlatOptions {
    CombineOptions combine{.method = CombineOptions::Method::Median, .clip = true};
    /// A column segment is bad when the running median (over `window` rows) of the flat's
    /// relative deviation from its smooth shape exceeds this: hot and dead columns.
    double columnThreshold = 0.025;
    int window = 15;
    /// A single pixel is bad when it deviates this much on its own.
    double pixelThreshold = 0.25;
    int block = 32; ///< cell of the smooth shape
    int threads = 1;
};

struct MasterFlat {
    FloatImage flat;        ///< normalised to a median of 1 over the good pixels
    Mask bad;               ///< kBadPixel where the flat is not to be trusted
    double level = 0;       ///< median of the input frames (e-)
    double structure = 0;   ///< rms of the good pixels about the smooth shape (fraction)
    long long badPixels = 0;
};

/// Each frame (bias subtracted, electrons) normalised by its median, combined, normalised
/// again; the bad-pixel mask from the result's outliers.
MasterFlat buildMasterFlat(const std::vector<const FloatImage*>& frames, const FlatOptions& options,
                           const std::atomic<bool>* cancelled = nullptr);

/// The relative variance per pixel of a master flat that is the median of `frames` flats of
/// `level` electrons: (pi/2) / (frames * level) (a median's variance, for many frames).
double flatRelativeVariance(int frames, double level);

struct AmplifierNoise {
    Section det;            ///< its part of the CCD
    double readNoise = 0;   ///< e-
};

struct DetrendInputs {
    const FloatImage* electrons = nullptr; ///< the raw CCD: overscan subtracted, gain applied
    const Mask* saturated = nullptr;       ///< its saturated pixels (raw values)
    const FloatImage* bias = nullptr;      ///< master bias (e-), or null
    const FloatImage* flat = nullptr;      ///< master flat (normalised), or null
    const Mask* badPixels = nullptr;       ///< the master flat's bad pixels, or null
    std::vector<AmplifierNoise> amplifiers;
    int biasFrames = 0;                    ///< frames in the master bias (its noise enters the weights)
    /// The master flat's own relative variance per pixel (about pi/2 / (frames * level) for
    /// a median of frames of `level` e-): it enters the weights and the cosmic-ray noise.
    double flatRelativeVariance = 0;
};

struct DetrendOptions {
    bool cosmicRays = true;
    LaCosmicOptions cosmics;   ///< gain 1 and the read noise are set from the inputs
    int saturationGrow = 1;    ///< pixels of margin around saturated ones
    int skyBlock = 64;         ///< cell of the sky map that the weights use
};

struct Detrended {
    FloatImage image;          ///< electrons, bias subtracted and flat-fielded
    FloatImage weight;         ///< inverse variance of the sky noise (e-^-2); 0 where masked
    Mask mask;                 ///< MaskBit planes
    FloatImage sky;            ///< the smooth sky the weights assume (e-, before the flat)
    long long saturated = 0, cosmic = 0, bad = 0, masked = 0;
    double skyLevel = 0;       ///< median of the sky map (e-, after the flat)
    CosmicResult cosmicInfo;
};

/// Bias subtraction, flat-fielding, the mask (bad pixels, saturation grown by its margin,
/// cosmic rays found on the flat-fielded electrons) and the weight map: per pixel
/// 1 / ((read noise^2 (1 + 1/bias frames) + flat * sky) / flat^2 + sky^2 * flat variance).
Detrended detrend(const DetrendInputs& inputs, const DetrendOptions& options, const std::atomic<bool>* cancelled = nullptr);

} // namespace paudm::reduction
