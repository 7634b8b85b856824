#pragma once
// What the FITS viewer draws over an image: detections, reference stars, DS9 regions and
// (with memba) forced apertures with their annuli. Shapes live in image coordinates (FITS:
// the centre of the first pixel is 1, 1) so that zoom and pan never touch them; the
// viewer maps them to the screen. Read and written as DS9 region files (version 4.1), in
// image or fk5 coordinates (through the image's WCS).
#include "common/error.h"

#include <string>
#include <utility>
#include <vector>

namespace paudm::wcs {
class Wcs;
}

namespace paudm::viewer {

struct Shape {
    enum class Kind { Circle, Ellipse, Annulus, Box, Point, Line, Text };
    Kind kind = Kind::Circle;
    double x = 0, y = 0;   ///< centre (a line's first end), image pixels
    /// Circle: a = radius. Ellipse: a, b semi-axes. Annulus: a inner, b outer radius.
    /// Box: a, b full width and height. Pixels.
    double a = 0, b = 0;
    double angle = 0;      ///< degrees counter-clockwise from +x (ellipse, box)
    double x2 = 0, y2 = 0; ///< a line's second end
    std::string text;      ///< a label (DS9's text={...})
    std::string colour = "green";
    std::string layer;     ///< "detections", "reference", "regions", "apertures"
};

/// The outline of a circle, ellipse or box as a closed polygon of `points` vertices (image
/// coordinates): what the viewer draws. An ellipse's vertex k is the centre plus
/// R(angle) (a cos t, b sin t), t = 2 pi k / points.
std::vector<std::pair<double, double>> outline(const Shape& s, int points = 72);

enum class RegionSystem { Image, Fk5 };

/// A DS9 region file of `shapes`. Fk5 needs the WCS: centres become RA/Dec (degrees, FK5
/// J2000: an ICRS WCS's positions are turned by the 25 mas between the frames, as DS9 does),
/// sizes arcseconds (from the local pixel scale), angles measured from the sky's axes as
/// DS9 does (for an image with north up and east left, the same as in image coordinates).
std::string writeRegions(const std::vector<Shape>& shapes, RegionSystem system, const wcs::Wcs* wcs = nullptr);
/// Reads a DS9 region file: circle, ellipse, annulus (one inner and one outer radius), box,
/// point, line and text, in image, physical or fk5/icrs/j2000 coordinates (sexagesimal or
/// degrees; sizes with " ' d or none). Sky regions need the WCS. An unsupported shape or a
/// line that does not parse is an error naming its line number; comments, global and
/// property settings are read as DS9 does (colour and text kept).
std::vector<Shape> readRegions(const std::string& text, const wcs::Wcs* wcs = nullptr, const std::string& layer = "regions");

/// The local pixel scale of a WCS at image point (x, y): arcseconds per pixel.
double pixelScaleArcsec(const wcs::Wcs& w, double x, double y);
/// What to add to a sky region's angle to get its image angle at (x, y): the image angle
/// of north less 90 degrees (DS9 and astropy's regions measure sky angles from the
/// longitude axis); 0 for an image with north up.
double skyAngleOffset(const wcs::Wcs& w, double x, double y);

/// RA as "hh:mm:ss.sss" and Dec as "+dd:mm:ss.ss", as the viewer's readout shows them.
std::string sexagesimalRa(double raDeg);
std::string sexagesimalDec(double decDeg);

} // namespace paudm::viewer
