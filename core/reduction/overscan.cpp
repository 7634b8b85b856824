#include "reduction/overscan.h"

#include "reduction/statistics.h"

#include <algorithm>
#include <cmath>

namespace paudm::reduction {

AmplifierFrame correctOverscan(const FloatImage& raw, const Section& dataSec, const Section& biasSec,
                               const OverscanOptions& o, double saturate) {
    if (!dataSec.within(raw.width, raw.height))
        throw Error("DATASEC " + dataSec.text() + " lies outside the " + std::to_string(raw.width) + " x " +
                    std::to_string(raw.height) + " frame");
    if (!biasSec.within(raw.width, raw.height))
        throw Error("BIASSEC " + biasSec.text() + " lies outside the " + std::to_string(raw.width) + " x " +
                    std::to_string(raw.height) + " frame");
    if (biasSec.ymin() > dataSec.ymin() || biasSec.ymax() < dataSec.ymax())
        throw Error("BIASSEC " + biasSec.text() + " does not cover the rows of DATASEC " + dataSec.text() +
                    ": the overscan is corrected row by row");
    const int bx0 = biasSec.xmin() - 1, bw = biasSec.width();
    // Each row's median first, then the strip's dispersion about them (robust: a few hits
    // do not move it), then each row's clipped mean.
    const int y0 = dataSec.ymin() - 1, h = dataSec.height();
    std::vector<float> medians(static_cast<std::size_t>(h)), residuals, rowPix(static_cast<std::size_t>(bw));
    residuals.reserve(static_cast<std::size_t>(h) * bw);
    for (int r = 0; r < h; ++r) {
        const float* row = raw.row(y0 + r) + bx0;
        std::copy(row, row + bw, rowPix.begin());
        medians[r] = static_cast<float>(medianInPlace(rowPix));
        for (int i = 0; i < bw; ++i) residuals.push_back(row[i] - medians[r]);
    }
    AmplifierFrame out;
    out.overscanNoise = madStd(residuals);
    out.rowLevels.resize(static_cast<std::size_t>(h));
    const double limit = o.clipSigma * std::max(out.overscanNoise, 1e-6);
    for (int r = 0; r < h; ++r) {
        if (o.method == OverscanOptions::Method::Median) {
            out.rowLevels[r] = medians[r];
            continue;
        }
        const float* row = raw.row(y0 + r) + bx0;
        double sum = 0;
        int n = 0;
        for (int i = 0; i < bw; ++i)
            if (std::fabs(row[i] - medians[r]) <= limit) {
                sum += row[i];
                ++n;
            }
        out.rowLevels[r] = n ? static_cast<float>(sum / n) : medians[r];
    }
    const int x0 = dataSec.xmin() - 1, w = dataSec.width();
    out.data = FloatImage(w, h);
    out.saturated = Mask(w, h);
    const float sat = static_cast<float>(saturate);
    for (int r = 0; r < h; ++r) {
        const float* src = raw.row(y0 + r) + x0;
        float* dst = out.data.row(r);
        std::uint8_t* s = out.saturated.row(r);
        const float level = out.rowLevels[r];
        for (int x = 0; x < w; ++x) {
            dst[x] = src[x] - level;
            s[x] = src[x] >= sat ? kSaturated : 0;
        }
    }
    return out;
}

} // namespace paudm::reduction
