#pragma once
// What every benchmark needs: a stopwatch and the median of alternating runs.
#include <algorithm>
#include <chrono>
#include <vector>

namespace paudm::bench {

/// Wall-clock seconds that fn() took.
template <class Fn>
double seconds(Fn&& fn) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

/// Milliseconds fn() takes: the median of `runs` runs.
template <class Fn>
double medianMs(Fn&& fn, int runs = 5) {
    std::vector<double> t;
    for (int i = 0; i < runs; ++i) t.push_back(1000 * seconds(fn));
    return median(t);
}

/// Run r of an alternating series: a then b on even runs, b then a on odd ones, so that
/// neither side always meets the caches (or the noise) the other left.
template <class A, class B>
void alternate(int r, A&& a, B&& b) {
    if (r % 2) {
        b();
        a();
    } else {
        a();
        b();
    }
}

} // namespace paudm::bench
