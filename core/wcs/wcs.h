#pragma once
// wcslib behind RAII: a celestial WCS read from a FITS header, pixel <-> sky.
//
// Pixel coordinates are FITS ones (1-based, the centre of the first pixel is 1.0).
// A Wcs is not safe to use from two threads at once (wcslib caches state in wcsprm);
// give each thread its own copy (the copy constructor makes an independent one).
#include "common/error.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace paudm::fits {
class File;
}

namespace paudm::wcs {

struct Sky {
    double ra = 0;  ///< deg
    double dec = 0; ///< deg
};
struct Pixel {
    double x = 0;
    double y = 0;
};

/// The sky box of an image: RA and Dec bounds over its corners and edge midpoints. When it
/// crosses RA = 0, raMin > raMax (the box runs from raMin up through 360/0 to raMax).
struct SkyBox {
    double raMin = 0, raMax = 0, decMin = 0, decMax = 0;
};

class Wcs {
public:
    /// Parses the first celestial WCS of a header given as 80-character cards.
    /// `context` (file and HDU) goes into error messages.
    static Wcs fromHeader(const std::string& cards, const std::string& context = {});
    /// The WCS of the current HDU of a FITS file.
    static Wcs fromFits(const fits::File& file);
    /// A TAN projection: reference pixel (crpix), sky position there (crval) and the
    /// CD matrix in deg/pixel.
    static Wcs tan(Pixel crpix, Sky crval, double cd11, double cd12, double cd21, double cd22);

    Wcs(const Wcs& other);
    Wcs& operator=(const Wcs& other);
    Wcs(Wcs&&) noexcept;
    Wcs& operator=(Wcs&&) noexcept;
    ~Wcs();

    Sky pixelToSky(Pixel p) const;
    Pixel skyToPixel(Sky s) const;
    std::vector<Sky> pixelToSky(const std::vector<Pixel>& p) const;
    std::vector<Pixel> skyToPixel(const std::vector<Sky>& s) const;
    /// The same WCS for pixel coordinates offset by (dx, dy): pixel p of this WCS is pixel
    /// p + (dx, dy) of the returned one (an amplifier's WCS made its CCD's, a CCD's made a
    /// cutout's with negative offsets).
    Wcs shifted(double dx, double dy) const;
    /// The WCS as FITS header cards (80 characters each), to write into a file.
    std::string toHeader() const;
    /// The sky box of an n1 x n2 image; nothing if a corner falls outside the projection.
    std::optional<SkyBox> footprint(long n1, long n2) const;
    /// The celestial reference frame: RADESYS, or the FITS default (ICRS, FK5 or FK4).
    std::string frame() const;
    /// The projection code, e.g. "TAN".
    std::string projection() const;

private:
    Wcs() = default;
    struct Impl;
    std::unique_ptr<Impl> d_;
};

} // namespace paudm::wcs
