#pragma once
// What the FITS viewer (and `paudm fits`) reads: a list of a file's HDUs, one image plane
// with its header, one CCD of a raw mosaic assembled from its amplifiers, and a whole
// exposure laid out as PAUCam's focal plane. Any FITS file, not only ours: every BITPIX,
// BZERO/BSCALE applied, BLANK and NaN as NaN, tile-compressed images, cubes (one plane at
// a time), tables (described, not drawn). Errors name the file and the HDU.
#include "common/error.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace paudm::viewer {

struct HduSummary {
    int number = 0;          ///< 1 = primary
    std::string type;        ///< "image", "compressed image", "binary table", "ascii table"
    std::string extname;
    int bitpix = 0;          ///< images: as stored
    std::vector<long> axes;  ///< images: NAXISn; tables: {columns, rows}
    bool hasPixels() const;
};
std::vector<HduSummary> listHdus(const std::string& path);

/// One image to show.
struct Plane {
    std::string path;
    int hdu = 0;             ///< 1 = primary; 0 for an assembled CCD or focal plane
    std::string label;       ///< "HDU 3 (EXTNAME=CCD01A)", "CCD 7 (amplifiers assembled)", ...
    std::string units;       ///< BUNIT, or what an assembly made ("e-")
    long nx = 0, ny = 0;
    long plane = 1, planes = 1;
    std::vector<float> pixels; ///< physical values, NaN where blank; empty when there is no image
    std::string header;      ///< the HDU's cards (80 characters each), with its WCS when it has one
    std::string note;        ///< why there are no pixels (a table, a header-only HDU)
    bool empty() const { return pixels.empty(); }
};

/// FILE, FILE[N] (1 = primary) or FILE[EXTNAME]. Without an HDU: the first that has pixels.
/// An HDU without an image (a table, a header-only primary) gives a Plane with its header,
/// no pixels and a note saying why; a missing file or HDU throws.
Plane readPlane(const std::string& spec, long plane = 1);
/// The same without reading the pixels (`pixels` stays empty; nx, ny and planes are set).
Plane readHeader(const std::string& spec);

/// The MASK extension of a reduced CCD file (one byte per pixel, reduction::MaskBit planes),
/// when `path` has one of nx x ny pixels; else empty.
std::vector<std::uint8_t> readMask(const std::string& path, long nx, long ny);

/// Writes [x0, x1] x [y0, y1] (FITS pixels, inclusive, clipped to the image) of `plane` as
/// a new FITS file with the plane's WCS moved to the cutout (its pixel 1, 1 is the plane's
/// x0, y0), BUNIT and a HISTORY card saying where it came from. Written under a temporary
/// name and renamed when complete.
void writeCutout(const std::string& path, const Plane& plane, long x0, long y0, long x1, long y1);

/// True for a raw PAUCam-style mosaic: amplifier HDUs with DATASEC, BIASSEC and CCDNUM.
bool isRawMosaic(const std::string& path);
/// CCD `ccd` of a raw mosaic, its amplifiers' overscan subtracted, trimmed, put in place and
/// times their gain (e-), with the WCS of its first amplifier carried over.
Plane readRawCcd(const std::string& path, int ccd);

/// A whole exposure as PAUCam's focal plane: the 18 CCDs (the amplifiers of a raw mosaic
/// assembled, or the 18 reduced files <stem>.ccdNN.fits of one exposure) placed where they
/// sit, binned by `binning` so that the larger side stays within `maxSide`.
struct FocalPlane {
    std::string path;
    long nx = 0, ny = 0;
    int binning = 1;
    std::vector<float> pixels;
    struct Ccd {
        int ccd = 0;
        std::string source;  ///< what a click on it opens: "raw.fits" (a CCD of it) or "x.ccd07.fits"
        double x0 = 0, y0 = 0, x1 = 0, y1 = 0; ///< its box in the focal plane image (FITS, inclusive)
        double sky = 0; ///< median of its binned pixels (subtracted when skySubtracted)
    };
    std::vector<Ccd> ccds;
    std::string units;
    bool raw = true;            ///< a raw mosaic's amplifiers, else the reduced files of one exposure
    bool skySubtracted = false;
    std::string header; ///< the exposure's primary header (of its first CCD file, when reduced)
    /// The CCD under focal-plane image point (x, y), or 0.
    int ccdAt(double x, double y) const;
};
/// `progress(done, total)` after each CCD; it returns false to stop (throws Error "cancelled").
/// `subtractSky` takes each CCD's median off it, so that one display scale shows the
/// structure of narrow-band and broad-band CCDs alike (their skies differ a hundredfold).
FocalPlane readFocalPlane(const std::string& path, int maxSide = 4096, int threads = 2,
                          const std::function<bool(int, int)>& progress = {}, bool subtractSky = false);
/// The 18 reduced files of the exposure that `path` (one of them) belongs to, by CCD; empty
/// when `path` is not named <stem>.ccdNN.fits.
std::vector<std::pair<int, std::string>> reducedSiblings(const std::string& path);

} // namespace paudm::viewer
