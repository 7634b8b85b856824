#pragma once
// The photometric zero point of an image from its stars of known magnitude: each star's
// zp = m_ref + 2.5 log10(flux / exposure time), so that m = zp - 2.5 log10(e-/s); the
// image's is their weighted mean, clipped at 3 sigma of the scatter and iterated. Its
// error is the larger of the formal one and the scatter over the root of the count.
#include <string>
#include <vector>

namespace paudm::reduction {

struct CalibrationStar {
    double flux = 0, fluxErr = 0; ///< e- (total: aperture-corrected)
    double mag = 0;               ///< reference AB magnitude in the image's band
};

struct ZeroPoint {
    std::string status = "not_run"; ///< "ok", "few_stars"
    double zp = 0, err = 0;
    double scatter = 0;             ///< robust standard deviation of the stars' zero points
    int stars = 0;                  ///< used after clipping
    std::vector<double> starZp, starErr; ///< per star given (NaN where unusable)
    std::vector<bool> used;
    bool ok() const { return status == "ok"; }
};

ZeroPoint zeroPoint(const std::vector<CalibrationStar>& stars, double exptime, int minStars = 3, double clip = 3);

} // namespace paudm::reduction
