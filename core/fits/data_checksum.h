#pragma once
// FITS's checksum arithmetic (the 32-bit ones' complement sum of a unit read as big-endian
// words), for sums taken from memory rather than by cfitsio reading the file back:
// cfitsio's ffcsum only reads from the file, and a data unit just written from memory
// would cost a pass over the file to sum.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace paudm::fits {

/// The sum as cfitsio's ffcsum keeps it: the words' upper and lower halves summed apart,
/// the carries folded in at the end.
struct OnesComplementSum {
    std::uint64_t hi = 0, lo = 0;
    explicit OnesComplementSum(unsigned long start = 0) : hi((start >> 16) & 0xFFFF), lo(start & 0xFFFF) {}
    /// Bytes as stored, from a 4-byte boundary of the unit (a short tail counts as if
    /// padded with zeros, as a unit is).
    void addBytes(const unsigned char* b, std::size_t n);
    /// One value of `bytes` bytes (1, 2, 4 or 8) at byte `offset` of the unit, given as the
    /// unsigned integer whose big-endian bytes are stored.
    void addValue(std::uint64_t v, int bytes, std::size_t offset) {
        switch (bytes) {
        case 1:
            (offset & 2 ? lo : hi) += offset & 1 ? v : v << 8;
            break;
        case 2:
            (offset & 2 ? lo : hi) += v;
            break;
        case 4:
            hi += v >> 16, lo += v & 0xFFFF;
            break;
        default:
            hi += (v >> 48) + ((v >> 16) & 0xFFFF), lo += ((v >> 32) & 0xFFFF) + (v & 0xFFFF);
        }
    }
    unsigned long value() const;
};

/// The value a pixel is stored as, as an unsigned integer whose big-endian bytes are the
/// file's: unsigned types shifted by their BZERO (the top bit flipped), floats by their bits.
template <class T> std::uint64_t storedBits(T v) {
    if constexpr (std::is_same_v<T, std::uint16_t>)
        return v ^ 0x8000u;
    else if constexpr (std::is_same_v<T, std::uint32_t>)
        return v ^ 0x80000000u;
    else if constexpr (std::is_floating_point_v<T>)
        return std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(v);
    else
        return static_cast<std::make_unsigned_t<T>>(v);
}

/// DATASUM of an image's data unit, from its pixels in memory.
template <class T> unsigned long dataChecksum(const std::vector<T>& pixels) {
    OnesComplementSum s;
    if constexpr (sizeof(T) == 1) {
        s.addBytes(reinterpret_cast<const unsigned char*>(pixels.data()), pixels.size());
    } else {
        for (std::size_t i = 0; i < pixels.size(); ++i)
            s.addValue(storedBits(pixels[i]), sizeof(T), i * sizeof(T));
    }
    return s.value();
}

/// CHECKSUM's sum of a header given as its stored bytes (cards, END, blank fill),
/// continuing the data unit's sum.
unsigned long headerChecksum(const std::string& header, unsigned long dataSum);

} // namespace paudm::fits
