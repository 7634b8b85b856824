#pragma once
// Plain arrays for the reduction: an image is its width, its height and its pixels, row
// after row (x fastest), pixel (1, 1) of FITS at index 0. Nothing here knows files, the
// database or the job engine.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace paudm::reduction {

template <class T>
struct Image {
    int width = 0;
    int height = 0;
    std::vector<T> pixels;

    Image() = default;
    Image(int w, int h, T value = T{}) : width(w), height(h), pixels(static_cast<std::size_t>(w) * h, value) {}
    std::size_t size() const { return pixels.size(); }
    bool empty() const { return pixels.empty(); }
    /// 0-based coordinates.
    T& at(int x, int y) { return pixels[static_cast<std::size_t>(y) * width + x]; }
    const T& at(int x, int y) const { return pixels[static_cast<std::size_t>(y) * width + x]; }
    T* row(int y) { return pixels.data() + static_cast<std::size_t>(y) * width; }
    const T* row(int y) const { return pixels.data() + static_cast<std::size_t>(y) * width; }
};

using FloatImage = Image<float>;
using Mask = Image<std::uint8_t>;

/// The planes of a reduced image's mask (a pixel may carry several).
enum MaskBit : std::uint8_t {
    kBadPixel = 1,   ///< dead or hot in the master flat's bad-pixel mask
    kSaturated = 2,  ///< at or above the amplifier's saturation level, or next to such a pixel (bleed trails too)
    kCosmicRay = 4,  ///< found by L.A.Cosmic
    kNoData = 8,     ///< no valid value (NaN in the input, outside the data section)
};

} // namespace paudm::reduction
