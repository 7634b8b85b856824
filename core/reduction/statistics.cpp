#include "reduction/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace paudm::reduction {

namespace {

template <class T>
double medianOf(std::span<T> v) {
    const std::size_t n = v.size();
    if (n == 0) return std::numeric_limits<double>::quiet_NaN();
    auto mid = v.begin() + static_cast<std::ptrdiff_t>(n / 2);
    std::nth_element(v.begin(), mid, v.end());
    const double upper = *mid;
    if (n % 2) return upper;
    const double lower = *std::max_element(v.begin(), mid);
    return 0.5 * (lower + upper);
}

} // namespace

double medianInPlace(std::span<float> values) { return medianOf(values); }
double medianInPlace(std::span<double> values) { return medianOf(values); }

double median(std::span<const float> values) {
    std::vector<float> copy(values.begin(), values.end());
    return medianInPlace(copy);
}

double median(std::span<const double> values) {
    std::vector<double> copy(values.begin(), values.end());
    return medianInPlace(copy);
}

double quantileInPlace(std::span<float> v, double q) {
    const std::size_t n = v.size();
    if (n == 0) return std::numeric_limits<double>::quiet_NaN();
    const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(n - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const double frac = pos - static_cast<double>(lo);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
    const double a = v[lo];
    if (frac == 0 || lo + 1 >= n) return a;
    const double b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
    return a + frac * (b - a);
}

double madStd(std::span<const float> values) {
    std::vector<float> v(values.begin(), values.end());
    const double m = medianInPlace(v);
    for (float& x : v) x = static_cast<float>(std::fabs(x - m));
    return 1.482602218505602 * medianInPlace(v);
}

ClippedStats sigmaClippedStats(std::span<const float> values, double sigma, int maxIterations) {
    std::vector<float> kept;
    kept.reserve(values.size());
    for (float x : values)
        if (std::isfinite(x)) kept.push_back(x);
    ClippedStats s;
    s.total = values.size();
    std::vector<float> scratch;
    for (int it = 0;; ++it) {
        scratch = kept;
        const double med = medianInPlace(scratch);
        double sum = 0, sum2 = 0;
        for (float x : kept) sum += x;
        const double mean = kept.empty() ? 0 : sum / static_cast<double>(kept.size());
        for (float x : kept) sum2 += (x - mean) * (x - mean);
        const double sd = kept.empty() ? 0 : std::sqrt(sum2 / static_cast<double>(kept.size()));
        s.mean = mean;
        s.median = med;
        s.stddev = sd;
        s.used = kept.size();
        if (it >= maxIterations || sd == 0) break;
        const std::size_t before = kept.size();
        std::erase_if(kept, [&](float x) { return std::fabs(x - med) > sigma * sd; });
        if (kept.size() == before) break;
    }
    return s;
}

} // namespace paudm::reduction
