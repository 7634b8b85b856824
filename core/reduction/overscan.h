#pragma once
// From raw amplifier readouts to a CCD in electrons: the overscan level of each row
// subtracted, the data section cut out, the amplifiers put in their places in the CCD,
// the gain applied.
#include "reduction/image.h"
#include "reduction/sections.h"

#include <limits>
#include <vector>

namespace paudm::reduction {

struct OverscanOptions {
    enum class Method {
        ClippedMean, ///< mean of the row's overscan pixels within clipSigma of their median
        Median,      ///< median of the row's overscan pixels
    };
    Method method = Method::ClippedMean;
    /// For ClippedMean: how far from the row's median a pixel may lie, in units of the
    /// robust (MAD) dispersion of the whole strip around its rows' medians. A cosmic-ray
    /// hit in the overscan is thrown out; the read noise averages down.
    double clipSigma = 3;
};

struct AmplifierFrame {
    FloatImage data;                 ///< DATASEC, overscan subtracted, ADU
    Mask saturated;                  ///< DATASEC pixels at or above the saturation level (raw ADU)
    std::vector<float> rowLevels;    ///< the overscan level subtracted from each data row
    double overscanNoise = 0;        ///< robust dispersion of the overscan pixels about their rows' levels (ADU)
};

/// Overscan correction of one amplifier. Row r of the data section is corrected with the
/// same readout row r of the overscan section, which must cover the data rows. Pixels of
/// the raw frame at or above `saturate` (ADU, before correction) are marked saturated.
/// Throws an Error naming the sections when they do not fit the frame.
AmplifierFrame correctOverscan(const FloatImage& raw, const Section& dataSec, const Section& biasSec,
                               const OverscanOptions& options = {},
                               double saturate = std::numeric_limits<double>::infinity());

/// Copies `amp` into `ccd` at `detsec` (1-based, reversed ranges flip the amplifier).
template <class T>
void placeAmplifier(Image<T>& ccd, const Image<T>& amp, const Section& detsec) {
    if (amp.width != detsec.width() || amp.height != detsec.height() || !detsec.within(ccd.width, ccd.height))
        throw Error("DETSEC " + detsec.text() + " does not fit an amplifier of " + std::to_string(amp.width) + " x " +
                    std::to_string(amp.height) + " into a CCD of " + std::to_string(ccd.width) + " x " +
                    std::to_string(ccd.height));
    for (int y = 0; y < amp.height; ++y) {
        const int cy = detsec.flippedY() ? detsec.ymax() - 1 - y : detsec.ymin() - 1 + y;
        const T* src = amp.row(y);
        T* dst = ccd.row(cy);
        if (!detsec.flippedX())
            std::copy(src, src + amp.width, dst + detsec.xmin() - 1);
        else
            for (int x = 0; x < amp.width; ++x) dst[detsec.xmax() - 1 - x] = src[x];
    }
}

} // namespace paudm::reduction
