#include "reduction/sections.h"

#include <cstdio>

namespace paudm::reduction {

std::string Section::text() const {
    char t[64];
    std::snprintf(t, sizeof t, "[%d:%d,%d:%d]", x1, x2, y1, y2);
    return t;
}

Section parseSection(const std::string& raw) {
    std::string text;
    for (char ch : raw)
        if (ch != ' ') text += ch;
    Section s;
    char close = 0, extra = 0;
    if (std::sscanf(text.c_str(), "[%d:%d,%d:%d%c%c", &s.x1, &s.x2, &s.y1, &s.y2, &close, &extra) != 5 || close != ']' ||
        s.x1 < 1 || s.x2 < 1 || s.y1 < 1 || s.y2 < 1)
        throw Error("'" + raw + "' is not an image section [x1:x2,y1:y2] with 1-based pixel numbers");
    return s;
}

} // namespace paudm::reduction
