#pragma once
// Robust statistics on plain arrays.
#include <cstddef>
#include <span>
#include <vector>

namespace paudm::reduction {

/// Pixels a whole-image level is taken from, at a regular stride, where the level is a
/// fill value or a header summary rather than a measurement.
inline constexpr std::size_t kLevelSample = 1 << 19;

/// The median of `values` (reorders them). NaN for an empty span. For an even count,
/// the mean of the two middle values (as numpy does).
double medianInPlace(std::span<float> values);
double medianInPlace(std::span<double> values);
/// The median of a copy.
double median(std::span<const float> values);
double median(std::span<const double> values);

/// The q-quantile (0..1) by linear interpolation between order statistics (numpy's
/// default); reorders `values`.
double quantileInPlace(std::span<float> values, double q);

/// 1.4826 x the median absolute deviation: the standard deviation of a normal
/// distribution from its MAD (astropy's mad_std).
double madStd(std::span<const float> values);

struct ClippedStats {
    double mean = 0, median = 0, stddev = 0;
    std::size_t used = 0;   ///< values left after clipping
    std::size_t total = 0;
};

/// Iterative sigma clipping around the median (as astropy's sigma_clipped_stats): values
/// farther than `sigma` standard deviations (population std of the kept values) from the
/// median are dropped, until nothing changes or `maxIterations`. NaNs are ignored.
ClippedStats sigmaClippedStats(std::span<const float> values, double sigma = 3, int maxIterations = 5);

} // namespace paudm::reduction
