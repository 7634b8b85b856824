#include "common/pixel_memory.h"

#include <malloc.h>

namespace paudm {

void reuseFreedPixelMemory() {
    ::mallopt(M_MMAP_MAX, 0);                 // large blocks from the heap, never mmap
    ::mallopt(M_TRIM_THRESHOLD, 1 << 30);     // and the heap not shrunk under 1 GiB free at its top
}

} // namespace paudm
