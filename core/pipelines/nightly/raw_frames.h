#pragma once
// Raw CCD frames as headers describe them, read into electrons. Not only PAUCam: any image
// HDU that says where its data and overscan are (DATASEC or TRIMSEC, BIASSEC) and its gain
// (GAIN), as IRAF and most observatories write them, is one amplifier; DETSEC (if present)
// places it in its CCD, CCDNUM (if present) says which CCD. A PAUCam mosaic is 72 of them,
// four per CCD.
#include "common/error.h"
#include "reduction/overscan.h"
#include "wcs/wcs.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace paudm::fits {
class File;
}

namespace paudm::pipelines::nightly {

struct AmplifierHeader {
    int hdu = 0;
    std::string label;        ///< "file HDU 3 (EXTNAME=CCD01B)", for messages
    std::string extname;
    int ccd = 0, amp = 0;
    reduction::Section data, bias, det;
    long naxis1 = 0, naxis2 = 0;
    double gain = 1;          ///< e-/ADU, exactly as the header says
    std::optional<double> readNoise; ///< header RDNOISE (e-)
    double saturate = 0;      ///< ADU (raw); +inf when the header gives none
};

struct RawLayout {
    std::string path;
    std::vector<AmplifierHeader> amps;
    std::map<int, std::vector<std::size_t>> ccds; ///< CCD number -> its amplifiers (indices into amps)
    int ccdWidth(int ccd) const;
    int ccdHeight(int ccd) const;
};

struct LayoutOptions {
    std::optional<double> gain; ///< instead of GAIN (for frames that lack it)
};

/// Reads every image HDU's sections and gain. Errors name the file, the HDU and the
/// keyword: a missing DATASEC/TRIMSEC, BIASSEC or GAIN, a section that does not parse or
/// lies outside the image, amplifiers of one CCD that overlap or leave it incomplete.
RawLayout readRawLayout(fits::File& file, const LayoutOptions& options = {});

struct RawAmplifier {
    reduction::Section det;          ///< where it lies in the CCD
    double gain = 1;
    std::optional<double> headerReadNoise;
    double overscanLevel = 0;        ///< mean overscan level subtracted (ADU)
    double overscanNoise = 0;        ///< robust dispersion of the overscan about its rows' levels (ADU)
    /// Pixels a row's overscan level is worth: the strip's width (its clipped mean), or
    /// 2/pi of it (its median).
    double overscanPixels = 1;
    std::string label;
};

struct RawCcd {
    int ccd = 0;
    reduction::FloatImage electrons; ///< overscan subtracted, trimmed, assembled, times the gain
    reduction::Mask saturated;       ///< raw values at or above SATURATE
    std::vector<RawAmplifier> amps;
    std::optional<wcs::Wcs> wcs;     ///< of the CCD's pixels, from its first amplifier's header
    std::string firstLabel;          ///< the file and HDU of its first amplifier
};

/// One CCD of a raw frame (its amplifiers read, corrected and put in place).
RawCcd loadCcd(fits::File& file, const RawLayout& layout, int ccd, const reduction::OverscanOptions& options);

} // namespace paudm::pipelines::nightly
