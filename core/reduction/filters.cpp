// Written here rather than taken from a library: the filters must follow astroscrappy's
// border rules exactly (see filters.h), and they are the cost of cosmic-ray detection, so
// they are min/max networks over whole rows that the compiler can vectorise.
#include "reduction/filters.h"

#include "common/error.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

namespace paudm::reduction {

namespace {

inline void exchange(float& a, float& b) {
    const float lo = a < b ? a : b;
    const float hi = a < b ? b : a;
    a = lo;
    b = hi;
}

// Selection networks for the middle value: Batcher's odd-even merge sort on the next power
// of two (the padding inputs taken as +inf), with every comparator that cannot reach the
// middle output removed. Each is checked on all 2^K inputs of 0s and 1s by the tests (the
// 0-1 principle). The compiler drops the half of an exchange whose result is not used.
template <int K> struct Network;
template <> struct Network<3> { static constexpr int pairs[][2] = {{0, 1}, {1, 2}, {0, 1}}; };
template <> struct Network<5> {
    static constexpr int pairs[][2] = {{0, 1}, {2, 3}, {0, 2}, {1, 3}, {1, 2}, {0, 4}, {2, 4}, {1, 2}};
};
template <> struct Network<7> {
    static constexpr int pairs[][2] = {{0, 1}, {2, 3}, {4, 5}, {0, 2}, {1, 3}, {4, 6}, {1, 2},
                                       {5, 6}, {0, 4}, {1, 5}, {2, 6}, {2, 4}, {3, 5}, {3, 4}};
};
template <> struct Network<9> {
    static constexpr int pairs[][2] = {{0, 1}, {2, 3}, {4, 5}, {6, 7}, {0, 2}, {1, 3}, {4, 6}, {5, 7},
                                       {1, 2}, {5, 6}, {0, 4}, {1, 5}, {2, 6}, {3, 7}, {2, 4}, {3, 5},
                                       {1, 2}, {3, 4}, {5, 6}, {0, 8}, {4, 8}, {2, 4}, {3, 5}, {3, 4}};
};

template <int K> inline float networkMedian(float (&v)[K]) {
    for (const auto& p : Network<K>::pairs)
        exchange(v[p[0]], v[p[1]]);
    return v[K / 2];
}

/// out[i] = median(in[i - K/2 .. i + K/2]) for the interior of one row. Compiled for AVX2
/// as well where the processor has it: these two loops are most of cosmic-ray detection.
template <int K> __attribute__((target_clones("avx2", "default"))) void rowPass(const float* in, float* out, int nx) {
    constexpr int h = K / 2;
    for (int i = h; i < nx - h; ++i) {
        float v[K];
        for (int k = 0; k < K; ++k)
            v[k] = in[i - h + k];
        out[i] = networkMedian<K>(v);
    }
}

/// out[i] = median over rows y - K/2 .. y + K/2 of column i, for the interior columns.
template <int K>
__attribute__((target_clones("avx2", "default"))) void columnPass(const float* const* rows, float* out, int x0,
                                                                  int x1) {
    for (int i = x0; i < x1; ++i) {
        float v[K];
        for (int k = 0; k < K; ++k)
            v[k] = rows[k][i];
        out[i] = networkMedian<K>(v);
    }
}

template <int K> void separable(const float* in, float* out, int nx, int ny) {
    constexpr int h = K / 2;
    if (nx <= 2 * h || ny <= 2 * h) { // too small to filter: everything is border
        std::memcpy(out, in, sizeof(float) * static_cast<std::size_t>(nx) * ny);
        return;
    }
    std::vector<float> rowmed(static_cast<std::size_t>(nx) * ny);
    for (int y = 0; y < ny; ++y) {
        const float* src = in + static_cast<std::size_t>(y) * nx;
        float* dst = rowmed.data() + static_cast<std::size_t>(y) * nx;
        rowPass<K>(src, dst, nx);
        for (int i = 0; i < h; ++i) {
            dst[i] = src[i];
            dst[nx - 1 - i] = src[nx - 1 - i];
        }
    }
    for (int y = 0; y < ny; ++y) {
        const float* src = in + static_cast<std::size_t>(y) * nx;
        float* dst = out + static_cast<std::size_t>(y) * nx;
        if (y < h || y >= ny - h) {
            std::memcpy(dst, src, sizeof(float) * static_cast<std::size_t>(nx));
            continue;
        }
        const float* rows[K];
        for (int k = 0; k < K; ++k)
            rows[k] = rowmed.data() + static_cast<std::size_t>(y - h + k) * nx;
        columnPass<K>(rows, dst, h, nx - h);
        for (int i = 0; i < h; ++i) {
            dst[i] = src[i];
            dst[nx - 1 - i] = src[nx - 1 - i];
        }
    }
}

} // namespace

void separableMedian(const float* in, float* out, int nx, int ny, int k) {
    switch (k) {
    case 3:
        return separable<3>(in, out, nx, ny);
    case 5:
        return separable<5>(in, out, nx, ny);
    case 7:
        return separable<7>(in, out, nx, ny);
    case 9:
        return separable<9>(in, out, nx, ny);
    default:
        throw Error("separableMedian: size " + std::to_string(k) + " (3, 5, 7 or 9)");
    }
}

float pointSeparableMedian(const float* in, int nx, int ny, int x, int y, int k) {
    const int h = k / 2;
    if (x < h || x >= nx - h || y < h || y >= ny - h) return in[static_cast<std::size_t>(y) * nx + x];
    float rows[9], v[9];
    for (int r = 0; r < k; ++r) {
        const float* row = in + static_cast<std::size_t>(y - h + r) * nx + x - h;
        for (int c = 0; c < k; ++c)
            v[c] = row[c];
        rows[r] = medianOfSmall(v, k);
    }
    return medianOfSmall(rows, k);
}

float medianOfSmall(const float* v, int k) {
    float a[9];
    std::copy(v, v + k, a);
    switch (k) {
    case 1:
        return a[0];
    case 3:
        return networkMedian<3>(reinterpret_cast<float(&)[3]>(a));
    case 5:
        return networkMedian<5>(reinterpret_cast<float(&)[5]>(a));
    case 7:
        return networkMedian<7>(reinterpret_cast<float(&)[7]>(a));
    case 9:
        return networkMedian<9>(a);
    default:
        throw Error("medianOfSmall: size " + std::to_string(k) + " (odd, at most 9)");
    }
}

void dilate3(const std::uint8_t* in, std::uint8_t* out, int nx, int ny) {
    std::memcpy(out, in, static_cast<std::size_t>(nx) * ny);
    for (int y = 1; y < ny - 1; ++y) {
        const std::uint8_t* a = in + static_cast<std::size_t>(y - 1) * nx;
        const std::uint8_t* b = a + nx;
        const std::uint8_t* c = b + nx;
        std::uint8_t* o = out + static_cast<std::size_t>(y) * nx;
        for (int x = 1; x < nx - 1; ++x)
            o[x] = (a[x - 1] | a[x] | a[x + 1] | b[x - 1] | b[x] | b[x + 1] | c[x - 1] | c[x] | c[x + 1]) ? 1 : 0;
    }
}

void dilate5(const std::uint8_t* in, std::uint8_t* out, int nx, int ny, int iterations) {
    // A frame of 2 empty pixels around the image, so that the kernel is defined everywhere.
    const int px = nx + 4, py = ny + 4;
    std::vector<std::uint8_t> a(static_cast<std::size_t>(px) * py, 0), b(a.size(), 0);
    for (int y = 0; y < ny; ++y)
        std::memcpy(&a[static_cast<std::size_t>(y + 2) * px + 2], in + static_cast<std::size_t>(y) * nx, nx);
    for (int it = 0; it < iterations; ++it) {
        for (int y = 2; y < py - 2; ++y)
            for (int x = 2; x < px - 2; ++x) {
                std::uint8_t v = 0;
                for (int dy = -2; dy <= 2; ++dy)
                    for (int dx = -2; dx <= 2; ++dx) {
                        if ((dy == -2 || dy == 2) && (dx == -2 || dx == 2)) continue; // no corners
                        v |= a[static_cast<std::size_t>(y + dy) * px + x + dx];
                    }
                b[static_cast<std::size_t>(y) * px + x] = v ? 1 : 0;
            }
        std::swap(a, b);
    }
    for (int y = 0; y < ny; ++y)
        std::memcpy(out + static_cast<std::size_t>(y) * nx, &a[static_cast<std::size_t>(y + 2) * px + 2], nx);
}

void convolveAsSep(const float* in, float* out, int nx, int ny, const float* kernel, int kw, int kh) {
    const int half = kw / 2;
    for (int y = 0; y < ny; ++y) {
        // The kernel's rows that fall outside the image are left out, as SEP does.
        int y0 = y - kh / 2, rows = kh;
        const float* k = kernel;
        if (y0 + rows > ny) rows = ny - y0;
        if (y0 < 0) {
            rows += y0;
            k += static_cast<std::ptrdiff_t>(kw) * -y0;
            y0 = 0;
        }
        float* o = out + static_cast<std::size_t>(y) * nx;
        std::fill(o, o + nx, 0.0f);
        for (int i = 0; i < kw * rows; ++i) {
            const float c = k[i];
            const float* line = in + static_cast<std::size_t>(y0 + i / kw) * nx;
            const int dx = i % kw - half;
            const float* __restrict src = dx >= 0 ? line + dx : line;
            float* __restrict dst = dx >= 0 ? o : o - dx;
            const int n = nx - (dx >= 0 ? dx : -dx);
            for (int j = 0; j < n; ++j)
                dst[j] += c * src[j];
        }
    }
}

} // namespace paudm::reduction
