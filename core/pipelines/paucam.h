#pragma once
// PAUCam as the pipelines see it: focal plane, amplifiers, filters and trays.
//
// 18 CCDs on a 6 x 3 grid, numbered 1..18 row by row from the bottom left; each has 4
// amplifiers (A lower left, B lower right, C upper left, D upper right), each read with
// its own overscan strip to the right of its data: 72 image extensions per raw mosaic,
// extension e = 4 (ccd - 1) + amp, HDU e + 1. The 8 central CCDs (3, 4, 8..11, 15, 16)
// carry the narrow bands of a narrow-band tray, the 10 outer ones broad bands.
//
// `Full` geometry is the real one (CCDs of 2048 x 4096 pixels, 0.263"/px). `Small`
// shrinks every CCD to 256 x 512 pixels around the same centre in the focal plane, at the
// same pixel scale: the same 72 extensions, headers, filters and sky, for fast tests.
#include <array>
#include <string>
#include <vector>

namespace paudm::pipelines::paucam {

constexpr int kCcds = 18;
constexpr int kAmps = 4;
constexpr int kExtensions = kCcds * kAmps;
constexpr double kPixelScale = 0.263;     ///< arcsec per pixel
constexpr double kPixelSizeCm = 15e-4;    ///< 15 um pixels
constexpr double kFullCcdWidth = 2048;    ///< full-geometry CCD size, pixels
constexpr double kFullCcdHeight = 4096;
constexpr double kCcdGap = 120;           ///< gap between CCDs, full-geometry pixels
constexpr double kMirrorAreaCm2 = 1.24e5; ///< WHT collecting area (4.2 m, minus the prime focus cage)
constexpr int kSaturateAdu = 65000;       ///< SATURATE written into raw headers

enum class Geometry { Full, Small };
Geometry parseGeometry(const std::string& name); ///< "full" or "small"; throws otherwise
const char* geometryName(Geometry g);

struct Layout {
    Geometry geometry = Geometry::Small;
    int ccdWidth = 0;  ///< data pixels along x (NAXIS1 direction)
    int ccdHeight = 0;
    int ampWidth = 0;  ///< data columns of one amplifier
    int ampHeight = 0;
    int overscan = 0;  ///< overscan columns per amplifier
    int rawWidth() const { return ampWidth + overscan; } ///< NAXIS1 of a raw extension
    static Layout of(Geometry g);
};

/// Where a CCD sits: its centre in focal-plane pixels (optical axis at 0, 0; x towards
/// east-is-left as the sky is seen, y north), always in full-geometry units.
struct CcdPlacement {
    int ccd = 0;
    double centreX = 0;
    double centreY = 0;
    bool central = false; ///< one of the 8 narrow-band CCDs
};
const std::array<CcdPlacement, kCcds>& placements();
/// Amplifier 1..4 -> its column (0, 1) and row (0, 1) within the CCD.
int ampColumn(int amp);
int ampRow(int amp);
/// "CCD07C" (EXTNAME of the raw extension).
std::string extName(int ccd, int amp);

struct Filter {
    std::string name;       ///< "NB455" ... "NB845", "u" "g" "r" "i" "z" "Y"
    bool narrow = false;
    double centre = 0;      ///< nm
    double width = 0;       ///< nm (top-hat equivalent)
    double lo() const { return centre - width / 2; }
    double hi() const { return centre + width / 2; }
};
/// The 40 narrow bands in wavelength order, then u g r i z Y.
const std::vector<Filter>& filters();
const Filter& filter(const std::string& name); ///< throws for an unknown name
int narrowBandIndex(const std::string& name);  ///< 0..39, or -1 for a broad band

struct Tray {
    std::string name; ///< "FT_NB455_NB525" ... "FT_NB775_NB845", "FT_u" ... "FT_Y"
    std::array<std::string, kCcds> filterOfCcd; ///< index ccd - 1
    bool narrow() const { return name.starts_with("FT_NB"); }
};
/// The 5 narrow-band trays and the 6 broad-band trays.
const std::vector<Tray>& trays();
const Tray& tray(const std::string& name); ///< accepts "FT_NB455_NB525" or "NB455"; throws otherwise

/// Total efficiency (atmosphere excluded): mirror, corrector, filter and CCD QE.
double throughput(double wavelengthNm);
/// Zero point of a filter: the AB magnitude that gives 1 e-/s above the atmosphere.
double zeroPoint(const Filter& f);
/// Atmospheric extinction at La Palma (mag per airmass).
double extinction(double wavelengthNm);
/// The focal plane's relative illumination in a filter at focal-plane pixel (u, v) (the
/// optical axis at 0, 0): vignetting and a filter-dependent tilt, as the instrument's
/// model of it. Flats and sky are multiplied by it, and so is the light of the stars: a
/// flat normalised per CCD leaves a CCD's zero point lower by its median illumination,
/// which the photometric calibration adds back when it judges the transparency.
double illumination(double u, double v, const Filter& f);
/// The same with the filter's tilt coefficient given (for loops over pixels).
double illuminationTilt(const Filter& f);
double illumination(double u, double v, double tilt);

} // namespace paudm::pipelines::paucam
