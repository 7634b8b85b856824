#include "viewer/overlay.h"

#include "wcs/wcs.h"

#include <QRegularExpression>
#include <QString>
#include <QStringList>

#include <cmath>
#include <cstdio>
#include <numbers>

namespace paudm::viewer {

namespace {

constexpr double kDeg = std::numbers::pi / 180;

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

/// ICRS to FK5 (J2000) and back: the small rotation between the two frames, (-19.9, -9.1,
/// 22.9) mas about the x, y and z axes (the FK5 orientation with respect to Hipparcos, as
/// SOFA's fk5hip and astropy use it): about 25 mas, a tenth of a PAUCam pixel.
wcs::Sky rotateFrame(wcs::Sky s, double sign) {
    constexpr double mas = kDeg / 3600e3;
    const double ex = -19.9 * mas * sign, ey = -9.1 * mas * sign, ez = 22.9 * mas * sign;
    const double ra = s.ra * kDeg, dec = s.dec * kDeg;
    const double x = std::cos(dec) * std::cos(ra), y = std::cos(dec) * std::sin(ra), z = std::sin(dec);
    const double x2 = x + (ey * z - ez * y), y2 = y + (ez * x - ex * z), z2 = z + (ex * y - ey * x);
    double r = std::atan2(y2, x2) / kDeg;
    if (r < 0) r += 360;
    return {r, std::atan2(z2, std::hypot(x2, y2)) / kDeg};
}

/// The WCS's own frame to the frame a region file names ("fk5" or "icrs"), or back.
wcs::Sky toRegionFrame(const wcs::Wcs& w, wcs::Sky s, const std::string& regionFrame) {
    const std::string f = w.frame();
    if (f == "ICRS" && regionFrame == "fk5") return rotateFrame(s, +1);
    if (f == "FK5" && regionFrame == "icrs") return rotateFrame(s, -1);
    return s;
}
wcs::Sky fromRegionFrame(const wcs::Wcs& w, wcs::Sky s, const std::string& regionFrame) {
    const std::string f = w.frame();
    if (f == "ICRS" && regionFrame == "fk5") return rotateFrame(s, -1);
    if (f == "FK5" && regionFrame == "icrs") return rotateFrame(s, +1);
    return s;
}

} // namespace

std::vector<std::pair<double, double>> outline(const Shape& s, int points) {
    std::vector<std::pair<double, double>> out;
    const double c = std::cos(s.angle * kDeg), sn = std::sin(s.angle * kDeg);
    auto put = [&](double u, double v) { out.emplace_back(s.x + u * c - v * sn, s.y + u * sn + v * c); };
    switch (s.kind) {
    case Shape::Kind::Circle:
    case Shape::Kind::Ellipse:
    case Shape::Kind::Annulus: {
        const double a = s.kind == Shape::Kind::Annulus ? s.b : s.a;
        const double b = s.kind == Shape::Kind::Ellipse ? s.b : a;
        for (int k = 0; k < points; ++k) {
            const double t = 2 * std::numbers::pi * k / points;
            put(a * std::cos(t), b * std::sin(t));
        }
        break;
    }
    case Shape::Kind::Box:
        put(-s.a / 2, -s.b / 2), put(s.a / 2, -s.b / 2), put(s.a / 2, s.b / 2), put(-s.a / 2, s.b / 2);
        break;
    case Shape::Kind::Line: out = {{s.x, s.y}, {s.x2, s.y2}}; break;
    case Shape::Kind::Point:
    case Shape::Kind::Text: out = {{s.x, s.y}}; break;
    }
    return out;
}

double pixelScaleArcsec(const wcs::Wcs& w, double x, double y) {
    // The geometric mean of the two axes' scales: sqrt of the area of one pixel on the sky.
    const wcs::Sky c = w.pixelToSky({x, y}), px = w.pixelToSky({x + 1, y}), py = w.pixelToSky({x, y + 1});
    const double cosd = std::cos(c.dec * kDeg);
    auto dra = [&](double ra) { return std::remainder(ra - c.ra, 360.0) * cosd; };
    const double ax = dra(px.ra), ay = px.dec - c.dec, bx = dra(py.ra), by = py.dec - c.dec;
    return std::sqrt(std::abs(ax * by - ay * bx)) * 3600;
}

double skyAngleOffset(const wcs::Wcs& w, double x, double y) {
    // The image angle of north at (x, y), less 90 degrees: astropy's regions and DS9
    // measure a sky region's angle from the longitude axis, which is 90 degrees from north.
    const wcs::Sky c = w.pixelToSky({x, y});
    const wcs::Pixel n = w.skyToPixel({c.ra, c.dec + 1.0 / 3600});
    return std::atan2(n.y - y, n.x - x) / kDeg - 90;
}

std::string sexagesimalRa(double ra) {
    ra = std::fmod(std::fmod(ra, 360.0) + 360.0, 360.0);
    double s = ra / 15 * 3600;
    s = std::round(s * 1000) / 1000;
    if (s >= 86400) s -= 86400;
    const int h = static_cast<int>(s / 3600), m = static_cast<int>((s - h * 3600) / 60);
    char b[32];
    std::snprintf(b, sizeof b, "%02d:%02d:%06.3f", h, m, s - h * 3600 - m * 60);
    return b;
}

std::string sexagesimalDec(double dec) {
    const char sign = dec < 0 ? '-' : '+';
    double s = std::round(std::abs(dec) * 3600 * 100) / 100;
    const int d = static_cast<int>(s / 3600), m = static_cast<int>((s - d * 3600) / 60);
    char b[32];
    std::snprintf(b, sizeof b, "%c%02d:%02d:%05.2f", sign, d, m, s - d * 3600 - m * 60);
    return b;
}

// ---------------------------------------------------------------- writing

std::string writeRegions(const std::vector<Shape>& shapes, RegionSystem system, const wcs::Wcs* w) {
    if (system == RegionSystem::Fk5 && !w) throw Error("fk5 regions need the image's WCS, and it has none");
    std::string out = "# Region file format: DS9 version 4.1\n"
                      "# Written by PAUdm console\n"
                      "global color=green dashlist=8 3 width=1 font=\"helvetica 10 normal roman\" select=1 highlite=1 "
                      "dash=0 fixed=0 edit=1 move=1 delete=1 include=1 source=1\n";
    out += system == RegionSystem::Fk5 ? "fk5\n" : "image\n";
    const bool sky = system == RegionSystem::Fk5;
    for (const Shape& s : shapes) {
        auto pos = [&](double x, double y) {
            if (!sky) return fmt("%.4f", x) + "," + fmt("%.4f", y);
            const wcs::Sky c = toRegionFrame(*w, w->pixelToSky({x, y}), "fk5");
            return fmt("%.9f", c.ra) + "," + fmt("%.9f", c.dec);
        };
        const double scale = sky ? pixelScaleArcsec(*w, s.x, s.y) : 1;
        auto size = [&](double px) { return sky ? fmt("%.5f", px * scale) + "\"" : fmt("%.4f", px); };
        const double angle = sky ? s.angle - skyAngleOffset(*w, s.x, s.y) : s.angle;
        auto ang = [&] { return fmt("%.4f", std::remainder(angle, 360.0)); };
        std::string line;
        switch (s.kind) {
        case Shape::Kind::Circle: line = "circle(" + pos(s.x, s.y) + "," + size(s.a) + ")"; break;
        case Shape::Kind::Ellipse:
            line = "ellipse(" + pos(s.x, s.y) + "," + size(s.a) + "," + size(s.b) + "," + ang() + ")";
            break;
        case Shape::Kind::Annulus: line = "annulus(" + pos(s.x, s.y) + "," + size(s.a) + "," + size(s.b) + ")"; break;
        case Shape::Kind::Box:
            line = "box(" + pos(s.x, s.y) + "," + size(s.a) + "," + size(s.b) + "," + ang() + ")";
            break;
        case Shape::Kind::Point: line = "point(" + pos(s.x, s.y) + ")"; break;
        case Shape::Kind::Line: line = "line(" + pos(s.x, s.y) + "," + pos(s.x2, s.y2) + ")"; break;
        case Shape::Kind::Text: line = "text(" + pos(s.x, s.y) + ")"; break;
        }
        std::string props;
        if (s.kind == Shape::Kind::Point) props += " point=x";
        if (s.colour != "green") props += " color=" + s.colour;
        if (!s.text.empty()) props += " text={" + s.text + "}";
        if (!s.layer.empty()) props += " tag={" + s.layer + "}";
        out += line + (props.empty() ? "" : " #" + props) + "\n";
    }
    return out;
}

// ---------------------------------------------------------------- reading

namespace {

struct Reader {
    const wcs::Wcs* w = nullptr;
    std::string layer;
    bool sky = false;
    std::string frame; ///< "fk5" or "icrs" when sky
    bool haveSystem = false;
    std::string colour = "green";
    int lineNo = 0;

    [[noreturn]] void fail(const std::string& why) const {
        throw Error("DS9 region file, line " + std::to_string(lineNo) + ": " + why);
    }

    /// A coordinate: degrees or sexagesimal (RA in hours).
    double coordinate(const QString& t, bool ra) const {
        if (t.contains(':')) {
            const QStringList p = t.split(':');
            if (p.size() != 3) fail("'" + t.toStdString() + "' is not hh:mm:ss or dd:mm:ss");
            bool ok1, ok2, ok3;
            const double a = std::abs(p[0].toDouble(&ok1)), b = p[1].toDouble(&ok2), c = p[2].toDouble(&ok3);
            if (!ok1 || !ok2 || !ok3) fail("'" + t.toStdString() + "' is not a sexagesimal number");
            const double v = a + b / 60 + c / 3600;
            const double sign = p[0].trimmed().startsWith('-') ? -1 : 1;
            return sign * v * (ra ? 15 : 1);
        }
        bool ok = false;
        QString n = t;
        if (n.endsWith('d')) n.chop(1);
        const double v = n.toDouble(&ok);
        if (!ok) fail("'" + t.toStdString() + "' is not a number");
        return v;
    }

    /// A position in image pixels.
    std::pair<double, double> position(const QString& a, const QString& b) const {
        if (!sky) return {coordinate(a, false), coordinate(b, false)};
        const wcs::Pixel p = w->skyToPixel(fromRegionFrame(*w, {coordinate(a, true), coordinate(b, false)}, frame));
        return {p.x, p.y};
    }

    /// A size in image pixels at (x, y).
    double size(const QString& t, double x, double y) const {
        QString n = t;
        double unit = 0; // arcsec per unit; 0: pixels
        if (n.endsWith('"')) unit = 1, n.chop(1);
        else if (n.endsWith('\'')) unit = 60, n.chop(1);
        else if (n.endsWith('d')) unit = 3600, n.chop(1);
        else if (n.endsWith('i') || n.endsWith('p')) unit = 0, n.chop(1);
        else if (sky) unit = 3600; // DS9: a bare size in sky coordinates is in degrees
        bool ok = false;
        const double v = n.toDouble(&ok);
        if (!ok || v < 0) fail("'" + t.toStdString() + "' is not a size");
        if (unit == 0) return v;
        if (!w) fail("a size in arcseconds needs the image's WCS");
        return v * unit / pixelScaleArcsec(*w, x, y);
    }

    double angle(const QString& t, double x, double y) const {
        bool ok = false;
        const double a = t.toDouble(&ok);
        if (!ok) fail("'" + t.toStdString() + "' is not an angle");
        return sky ? a + skyAngleOffset(*w, x, y) : a;
    }
};

QString propertyValue(const QString& props, const QString& key) {
    const auto m = QRegularExpression("(?:^|\\s)" + key + "\\s*=\\s*(\\{[^}]*\\}|\"[^\"]*\"|'[^']*'|\\S+)").match(props);
    if (!m.hasMatch()) return {};
    QString v = m.captured(1);
    if (v.size() >= 2 && (v.front() == '{' || v.front() == '"' || v.front() == '\'')) v = v.mid(1, v.size() - 2);
    return v;
}

} // namespace

std::vector<Shape> readRegions(const std::string& text, const wcs::Wcs* w, const std::string& layer) {
    Reader r;
    r.w = w, r.layer = layer;
    std::vector<Shape> out;
    const QStringList lines = QString::fromStdString(text).split('\n');
    static const QRegularExpression shapeRe(R"(^\s*[+-]?\s*([a-z]+)\s*(?:\(([^)]*)\)|\s+([^#]*))\s*(?:#(.*))?$)",
                                            QRegularExpression::CaseInsensitiveOption);
    for (const QString& raw : lines) {
        ++r.lineNo;
        // DS9 allows several regions on one line, separated by ';'.
        for (QString part : raw.split(';')) {
            part = part.trimmed();
            if (part.isEmpty() || part.startsWith('#')) continue;
            const QString lower = part.toLower();
            if (lower.startsWith("global")) {
                if (const QString c = propertyValue(part.mid(6), "color"); !c.isEmpty()) r.colour = c.toStdString();
                continue;
            }
            if (lower == "image" || lower == "physical") {
                r.sky = false, r.haveSystem = true;
                continue;
            }
            if (lower == "fk5" || lower == "icrs" || lower == "j2000") {
                if (!w) r.fail("regions in " + lower.toStdString() + " need the image's WCS, and it has none");
                r.sky = true, r.haveSystem = true;
                r.frame = lower == "icrs" ? "icrs" : "fk5";
                continue;
            }
            if (lower == "fk4" || lower == "b1950" || lower == "galactic" || lower == "ecliptic" || lower == "linear" ||
                lower.startsWith("wcs") || lower == "amplifier" || lower == "detector")
                r.fail("the coordinate system '" + lower.toStdString() + "' is not supported (image, physical, fk5, icrs)");
            const auto m = shapeRe.match(part);
            if (!m.hasMatch()) r.fail("cannot read '" + part.toStdString() + "'");
            const QString kind = m.captured(1).toLower();
            QString argText = m.captured(2).isNull() ? m.captured(3) : m.captured(2);
            const QString props = m.captured(4);
            QStringList a;
            for (const QString& t : argText.split(QRegularExpression(R"([,\s]+)"), Qt::SkipEmptyParts)) a << t;
            // A system written before the shape, e.g. "fk5;circle(...)" is handled above;
            // "circle 100 100 20" (no parentheses) too.
            Shape s;
            s.layer = layer;
            s.colour = r.colour;
            auto need = [&](int n) {
                if (a.size() < n)
                    r.fail(kind.toStdString() + " needs " + std::to_string(n) + " values, not " + std::to_string(a.size()));
            };
            if (kind == "circle") {
                need(3);
                std::tie(s.x, s.y) = r.position(a[0], a[1]);
                s.kind = Shape::Kind::Circle, s.a = r.size(a[2], s.x, s.y);
            } else if (kind == "ellipse") {
                need(4);
                std::tie(s.x, s.y) = r.position(a[0], a[1]);
                s.kind = Shape::Kind::Ellipse, s.a = r.size(a[2], s.x, s.y), s.b = r.size(a[3], s.x, s.y);
                s.angle = a.size() > 4 ? r.angle(a[4], s.x, s.y) : (r.sky ? skyAngleOffset(*w, s.x, s.y) : 0);
            } else if (kind == "annulus") {
                need(4);
                std::tie(s.x, s.y) = r.position(a[0], a[1]);
                s.kind = Shape::Kind::Annulus, s.a = r.size(a[2], s.x, s.y), s.b = r.size(a.back(), s.x, s.y);
            } else if (kind == "box") {
                need(4);
                std::tie(s.x, s.y) = r.position(a[0], a[1]);
                s.kind = Shape::Kind::Box, s.a = r.size(a[2], s.x, s.y), s.b = r.size(a[3], s.x, s.y);
                s.angle = a.size() > 4 ? r.angle(a[4], s.x, s.y) : (r.sky ? skyAngleOffset(*w, s.x, s.y) : 0);
            } else if (kind == "point") {
                need(2);
                std::tie(s.x, s.y) = r.position(a[0], a[1]);
                s.kind = Shape::Kind::Point;
            } else if (kind == "line") {
                need(4);
                std::tie(s.x, s.y) = r.position(a[0], a[1]);
                std::tie(s.x2, s.y2) = r.position(a[2], a[3]);
                s.kind = Shape::Kind::Line;
            } else if (kind == "text") {
                need(2);
                std::tie(s.x, s.y) = r.position(a[0], a[1]);
                s.kind = Shape::Kind::Text;
                // text(x,y,{Hello}) carries its text among the arguments.
                if (const auto t = QRegularExpression(R"(\{([^}]*)\})").match(argText); t.hasMatch())
                    s.text = t.captured(1).toStdString();
            } else {
                r.fail("the shape '" + kind.toStdString() +
                       "' is not supported (circle, ellipse, annulus, box, point, line, text)");
            }
            if (const QString c = propertyValue(props, "color"); !c.isEmpty()) s.colour = c.toStdString();
            if (const QString t = propertyValue(props, "text"); !t.isEmpty()) s.text = t.toStdString();
            if (const QString t = propertyValue(props, "tag"); !t.isEmpty()) s.layer = t.toStdString();
            out.push_back(std::move(s));
        }
    }
    return out;
}

} // namespace paudm::viewer
