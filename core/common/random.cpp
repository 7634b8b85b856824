#include "common/random.h"

#include <array>
#include <cstdlib>

namespace paudm {

namespace {

// Ziggurat of 128 layers for the standard normal density f(x) = exp(-x^2/2):
// R is where the base layer's rectangle ends, V the common area of every layer.
constexpr double kR = 3.442619855899;
constexpr double kV = 9.91256303526217e-3;
constexpr double kScale = 2147483648.0; // 2^31: hz is a signed 32-bit value

struct Tables {
    std::array<std::uint32_t, 128> k{}; ///< |hz| below k[i]: inside layer i's rectangle
    std::array<double, 128> w{};        ///< x = hz * w[i]
    std::array<double, 128> f{};        ///< f(x_i)
    Tables() {
        double dn = kR, tn = kR;
        const double q = kV / std::exp(-0.5 * dn * dn);
        k[0] = static_cast<std::uint32_t>((dn / q) * kScale);
        k[1] = 0;
        w[0] = q / kScale;
        w[127] = dn / kScale;
        f[0] = 1.0;
        f[127] = std::exp(-0.5 * dn * dn);
        for (int i = 126; i >= 1; --i) {
            dn = std::sqrt(-2.0 * std::log(kV / dn + std::exp(-0.5 * dn * dn)));
            k[i + 1] = static_cast<std::uint32_t>((dn / tn) * kScale);
            tn = dn;
            f[i] = std::exp(-0.5 * dn * dn);
            w[i] = dn / kScale;
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

} // namespace

double Rng::normal() {
    const Tables& t = tables();
    const std::uint64_t u = next();
    // Value from the high 32 bits, layer from the low 7: independent bits.
    const auto hz = static_cast<std::int64_t>(static_cast<std::int32_t>(u >> 32));
    const unsigned iz = static_cast<unsigned>(u & 127u);
    if (static_cast<std::uint64_t>(std::llabs(hz)) < t.k[iz]) return static_cast<double>(hz) * t.w[iz];
    return normalTail(hz, iz);
}

double Rng::normalTail(std::int64_t hz, unsigned iz) {
    const Tables& t = tables();
    for (;;) {
        double x = static_cast<double>(hz) * t.w[iz];
        if (iz == 0) { // the tail beyond R (Marsaglia 1964)
            double y;
            do {
                x = -std::log(uniformPositive()) / kR;
                y = -std::log(uniformPositive());
            } while (y + y < x * x);
            return hz > 0 ? kR + x : -kR - x;
        }
        if (t.f[iz] + uniform() * (t.f[iz - 1] - t.f[iz]) < std::exp(-0.5 * x * x)) return x;
        const std::uint64_t u = next();
        hz = static_cast<std::int64_t>(static_cast<std::int32_t>(u >> 32));
        iz = static_cast<unsigned>(u & 127u);
        if (static_cast<std::uint64_t>(std::llabs(hz)) < t.k[iz]) return static_cast<double>(hz) * t.w[iz];
    }
}

double Rng::poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean < 30) {
        const double limit = std::exp(-mean);
        double p = uniform();
        int k = 0;
        while (p > limit) {
            p *= uniform();
            ++k;
        }
        return k;
    }
    const double v = std::floor(mean + std::sqrt(mean) * normal() + 0.5);
    return v < 0 ? 0 : v;
}

} // namespace paudm
