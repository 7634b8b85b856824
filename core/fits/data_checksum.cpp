#include "fits/data_checksum.h"

namespace paudm::fits {

void OnesComplementSum::addBytes(const unsigned char* b, std::size_t n) {
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        hi += (std::uint64_t{b[i]} << 8) | b[i + 1];
        lo += (std::uint64_t{b[i + 2]} << 8) | b[i + 3];
    }
    for (std::size_t k = 0; i + k < n; ++k)
        addValue(b[i + k], 1, k);
}

unsigned long OnesComplementSum::value() const {
    std::uint64_t h = hi, l = lo, hc = 0, lc = 0;
    while ((hc = h >> 16) | (lc = l >> 16)) {
        h = (h & 0xFFFF) + lc;
        l = (l & 0xFFFF) + hc;
    }
    return static_cast<unsigned long>((h << 16) | l);
}

unsigned long headerChecksum(const std::string& header, unsigned long dataSum) {
    OnesComplementSum sum(dataSum);
    sum.addBytes(reinterpret_cast<const unsigned char*>(header.data()), header.size());
    return sum.value();
}

} // namespace paudm::fits
