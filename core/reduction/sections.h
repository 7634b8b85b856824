#pragma once
// IRAF image sections as CCD headers write them: "[x1:x2,y1:y2]", 1-based and inclusive,
// a range written high:low meaning the axis runs the other way (DETSEC of an amplifier
// read out from the far corner).
#include "common/error.h"

#include <string>

namespace paudm::reduction {

struct Section {
    int x1 = 0, x2 = 0, y1 = 0, y2 = 0; ///< as written (x1 > x2 when reversed)
    int xmin() const { return x1 < x2 ? x1 : x2; }
    int xmax() const { return x1 < x2 ? x2 : x1; }
    int ymin() const { return y1 < y2 ? y1 : y2; }
    int ymax() const { return y1 < y2 ? y2 : y1; }
    int width() const { return xmax() - xmin() + 1; }
    int height() const { return ymax() - ymin() + 1; }
    bool flippedX() const { return x1 > x2; }
    bool flippedY() const { return y1 > y2; }
    /// Inside an image of nx x ny pixels.
    bool within(int nx, int ny) const { return xmin() >= 1 && ymin() >= 1 && xmax() <= nx && ymax() <= ny; }
    std::string text() const;
};

/// Parses a section; throws an Error that quotes it (the caller adds file, HDU and keyword).
Section parseSection(const std::string& text);

} // namespace paudm::reduction
