#pragma once
// Memory for processes that work on pixels. glibc serves every allocation of 32 MiB or
// more (a 2048 x 4096 float image is exactly that) with a fresh mmap and gives it back at
// free(), so the next image of the same size costs the kernel a page fault and a zeroed
// page for every 4 KiB again: reducing one full-size mosaic spent 11 s of its 33 s in the
// kernel that way. After this call such blocks come from the heap and freed ones are
// reused; the process keeps its peak footprint until it ends, which a task process or a
// one-shot command does soon. Not for long-lived processes (runner, console).
namespace paudm {

void reuseFreedPixelMemory();

} // namespace paudm
