#pragma once
// Small neighbourhood filters on float images and byte masks, with the border rules of
// L.A.Cosmic as astroscrappy implements them (so that our cosmic-ray masks can be compared
// with it pixel for pixel):
//   - separableMedian(k): the median of k along each row, then of k along each column of
//     that; the k/2 border columns of the row pass and the k/2 border rows and columns of
//     the result are copied from the input;
//   - dilate3: 3 x 3 binary dilation, the 1-pixel border copied from the input;
//   - dilate5: binary dilation by the 5 x 5 kernel without its corners, the outside
//     counting as empty, repeated `iterations` times.
// Images are row-major, x fastest.
#include <cstdint>

namespace paudm::reduction {

/// k is 3, 5, 7 or 9. `in` and `out` must not overlap.
void separableMedian(const float* in, float* out, int nx, int ny, int k);
void dilate3(const std::uint8_t* in, std::uint8_t* out, int nx, int ny);
void dilate5(const std::uint8_t* in, std::uint8_t* out, int nx, int ny, int iterations);

/// The exact median of k values (k odd, up to 9) by a min/max network.
float medianOfSmall(const float* v, int k);

/// separableMedian(in, k) at one pixel (0-based), with the same border rule, without
/// filtering the whole image: for the few pixels where a value is needed.
float pointSeparableMedian(const float* in, int nx, int ny, int x, int y, int k);

/// `in` convolved with `kernel` (kw x kh, both odd, row-major) as SEP's extraction filters
/// its detection image (SEP_FILTER_CONV): nothing beyond the image's edges, and at each
/// pixel the kernel's products added one after the other in float, in the kernel's order,
/// so that the result is SEP's to the bit. SEP's own loop is scalar and divides once per
/// kernel row: at a 7 x 7 kernel a sixth of a CCD's measurement; this one vectorises.
void convolveAsSep(const float* in, float* out, int nx, int ny, const float* kernel, int kw, int kh);

} // namespace paudm::reduction
