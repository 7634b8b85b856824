#include "reduction/photometry.h"

#include "reduction/statistics.h"

#include <cmath>
#include <limits>

namespace paudm::reduction {

ZeroPoint zeroPoint(const std::vector<CalibrationStar>& stars, double exptime, int minStars, double clip) {
    ZeroPoint out;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    out.starZp.assign(stars.size(), nan);
    out.starErr.assign(stars.size(), nan);
    out.used.assign(stars.size(), false);
    std::vector<std::size_t> usable;
    for (std::size_t i = 0; i < stars.size(); ++i) {
        const auto& s = stars[i];
        if (!(s.flux > 0) || !(s.fluxErr > 0) || !std::isfinite(s.mag) || !(exptime > 0)) continue;
        out.starZp[i] = s.mag + 2.5 * std::log10(s.flux / exptime);
        out.starErr[i] = 2.5 / std::log(10.0) * s.fluxErr / s.flux;
        usable.push_back(i);
        out.used[i] = true;
    }
    for (int pass = 0; pass < 10; ++pass) {
        std::vector<float> zps;
        double sw = 0, sw2 = 0, swz = 0;
        for (std::size_t i : usable)
            if (out.used[i]) {
                zps.push_back(static_cast<float>(out.starZp[i]));
                const double w = 1 / (out.starErr[i] * out.starErr[i]);
                sw += w;
                sw2 += w * w;
                swz += w * out.starZp[i];
            }
        out.stars = static_cast<int>(zps.size());
        if (out.stars < minStars) {
            out.status = "few_stars";
            return out;
        }
        // The stars scatter by more than their photon noise (neighbours, the flat field, the
        // PSF across the CCD): that extra variance, estimated as DerSimonian and Laird do
        // from the weighted scatter, is added to every star's, so that the brightest star
        // of the field, with a photon error a hundred times smaller, does not set the zero
        // point alone.
        const double first = swz / sw;
        double q = 0;
        for (std::size_t i : usable)
            if (out.used[i]) q += std::pow((out.starZp[i] - first) / out.starErr[i], 2);
        const double extra = out.stars > 1 ? std::max(0.0, (q - (out.stars - 1)) / (sw - sw2 / sw)) : 0.0;
        sw = swz = 0;
        for (std::size_t i : usable)
            if (out.used[i]) {
                const double w = 1 / (out.starErr[i] * out.starErr[i] + extra);
                sw += w;
                swz += w * out.starZp[i];
            }
        out.zp = swz / sw;
        out.scatter = madStd(zps);
        out.err = std::max(std::sqrt(1 / sw), out.scatter / std::sqrt(double(out.stars)));
        // A star goes when it is off by more than clip times its own error and the
        // scatter together.
        bool changed = false;
        for (std::size_t i : usable) {
            const double limit = clip * std::hypot(out.starErr[i], out.scatter);
            const bool keep = std::fabs(out.starZp[i] - out.zp) <= limit;
            changed = changed || keep != out.used[i];
            out.used[i] = keep;
        }
        if (!changed) break;
    }
    out.status = "ok";
    return out;
}

} // namespace paudm::reduction
