#pragma once
// Fast, reproducible random numbers for simulations.
//
// The standard library's engines and distributions are not specified bit for bit across
// implementations, and its normal distribution (Marsaglia's polar method in libstdc++)
// costs ~25 ns a draw: a full PAUCam mosaic needs about 300 million draws. So we keep our
// own, small and fully specified: xoshiro256++ (Blackman & Vigna) seeded through
// SplitMix64, and the ziggurat method of Marsaglia & Tsang (2000) for normal deviates,
// with the layer index taken from bits independent of the value (Doornik 2005's fix).
//
// Streams are derived, not shared: Rng::stream(seed, a, b, c) gives the generator of one
// independent piece of work (an exposure, a CCD, a row), so results do not depend on how
// many threads did the work or in which order.
#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace paudm {

/// SplitMix64: one step of Steele, Lea & Flood's generator; a good 64-bit mixer.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// A 64-bit hash of a list of integers (for stream keys).
constexpr std::uint64_t hashKey(std::initializer_list<std::uint64_t> keys) {
    std::uint64_t h = 0x6a09e667f3bcc909ULL;
    for (std::uint64_t k : keys) {
        std::uint64_t s = h ^ k;
        h = splitmix64(s);
    }
    return h;
}

class Rng {
public:
    explicit Rng(std::uint64_t seed = 1) {
        std::uint64_t s = seed;
        for (auto& w : s_) w = splitmix64(s);
    }
    /// The generator of one piece of work, identified by up to a few integers.
    static Rng stream(std::initializer_list<std::uint64_t> keys) { return Rng(hashKey(keys)); }

    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Uniform in (0, 1]: safe for log().
    double uniformPositive() { return (static_cast<double>(next() >> 11) + 1.0) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    /// Uniform integer in [0, n).
    std::uint64_t below(std::uint64_t n) {
        return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
    }
    /// Standard normal deviate (ziggurat).
    double normal();
    double normal(double mean, double sigma) { return mean + sigma * normal(); }
    /// Poisson deviate: exact (multiplication method) below a mean of 30, normal
    /// approximation with continuity rounding above, where its error is below the
    /// read noise of any CCD.
    double poisson(double mean);
    /// Exponential deviate with the given mean.
    double exponential(double mean) { return -mean * std::log(uniformPositive()); }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    double normalTail(std::int64_t hz, unsigned iz);
    std::uint64_t s_[4];
};

} // namespace paudm
