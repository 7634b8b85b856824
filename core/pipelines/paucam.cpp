#include "pipelines/paucam.h"

#include "common/error.h"
#include "common/random.h"

#include <cmath>
#include <cstdio>

namespace paudm::pipelines::paucam {

Geometry parseGeometry(const std::string& name) {
    if (name == "full") return Geometry::Full;
    if (name == "small") return Geometry::Small;
    throw Error("unknown geometry '" + name + "' (full or small)");
}

const char* geometryName(Geometry g) { return g == Geometry::Full ? "full" : "small"; }

Layout Layout::of(Geometry g) {
    Layout l;
    l.geometry = g;
    if (g == Geometry::Full) {
        l.ccdWidth = 2048;
        l.ccdHeight = 4096;
        l.overscan = 64;
    } else {
        l.ccdWidth = 256;
        l.ccdHeight = 512;
        l.overscan = 16;
    }
    l.ampWidth = l.ccdWidth / 2;
    l.ampHeight = l.ccdHeight / 2;
    return l;
}

const std::array<CcdPlacement, kCcds>& placements() {
    static const std::array<CcdPlacement, kCcds> list = [] {
        std::array<CcdPlacement, kCcds> a{};
        const double pitchX = kFullCcdWidth + kCcdGap, pitchY = kFullCcdHeight + kCcdGap;
        for (int row = 0; row < 3; ++row)
            for (int col = 0; col < 6; ++col) {
                const int ccd = row * 6 + col + 1;
                const bool central = row == 1 ? (col >= 1 && col <= 4) : (col == 2 || col == 3);
                a[ccd - 1] = {ccd, (col - 2.5) * pitchX, (row - 1) * pitchY, central};
            }
        return a;
    }();
    return list;
}

int ampColumn(int amp) { return (amp - 1) % 2; }
int ampRow(int amp) { return (amp - 1) / 2; }

std::string extName(int ccd, int amp) {
    char text[16];
    std::snprintf(text, sizeof text, "CCD%02d%c", ccd, 'A' + amp - 1);
    return text;
}

const std::vector<Filter>& filters() {
    static const std::vector<Filter> list = [] {
        std::vector<Filter> v;
        for (int i = 0; i < 40; ++i) {
            const int c = 455 + 10 * i;
            v.push_back({"NB" + std::to_string(c), true, double(c), 10.0});
        }
        // Broad bands as top hats over their nominal ranges.
        v.push_back({"u", false, 362.5, 75});
        v.push_back({"g", false, 475, 150});
        v.push_back({"r", false, 620, 140});
        v.push_back({"i", false, 755, 130});
        v.push_back({"z", false, 870, 100});
        v.push_back({"Y", false, 1010, 120});
        return v;
    }();
    return list;
}

const Filter& filter(const std::string& name) {
    for (const auto& f : filters())
        if (f.name == name) return f;
    throw Error("unknown PAUCam filter '" + name + "' (NB455 ... NB845, u, g, r, i, z, Y)");
}

int narrowBandIndex(const std::string& name) {
    const auto& f = filters();
    for (int i = 0; i < 40; ++i)
        if (f[i].name == name) return i;
    return -1;
}

const std::vector<Tray>& trays() {
    static const std::vector<Tray> list = [] {
        static const char* broad[] = {"u", "g", "r", "i", "z", "Y"};
        std::vector<Tray> v;
        for (int t = 0; t < 5; ++t) {
            Tray tray;
            tray.name = "FT_NB" + std::to_string(455 + 80 * t) + "_NB" + std::to_string(525 + 80 * t);
            int nb = 0, outer = 0;
            for (const auto& p : placements()) {
                if (p.central) tray.filterOfCcd[p.ccd - 1] = "NB" + std::to_string(455 + 80 * t + 10 * nb++);
                else tray.filterOfCcd[p.ccd - 1] = broad[(outer++ + t) % 6];
            }
            v.push_back(tray);
        }
        for (const char* b : broad) {
            Tray tray;
            tray.name = std::string("FT_") + b;
            tray.filterOfCcd.fill(b);
            v.push_back(tray);
        }
        return v;
    }();
    return list;
}

const Tray& tray(const std::string& name) {
    for (const auto& t : trays())
        if (t.name == name || t.name == "FT_" + name || t.name.starts_with("FT_" + name + "_")) return t;
    std::string known;
    for (const auto& t : trays()) known += (known.empty() ? "" : ", ") + t.name;
    throw Error("unknown filter tray '" + name + "' (" + known + ")");
}

namespace {
// CCD quantum efficiency of PAUCam's fully depleted, red-sensitive detectors (nm, QE).
constexpr double kQe[][2] = {{300, 0.10}, {350, 0.45}, {400, 0.65}, {450, 0.75}, {500, 0.85}, {600, 0.92},
                             {700, 0.95}, {800, 0.90}, {850, 0.80}, {900, 0.65}, {1000, 0.30}, {1100, 0.05}};
double interpolate(const double (*table)[2], int n, double x) {
    if (x <= table[0][0]) return table[0][1];
    for (int i = 1; i < n; ++i)
        if (x <= table[i][0])
            return table[i - 1][1] + (table[i][1] - table[i - 1][1]) * (x - table[i - 1][0]) / (table[i][0] - table[i - 1][0]);
    return table[n - 1][1];
}
} // namespace

double throughput(double wavelengthNm) {
    constexpr double mirror = 0.90, corrector = 0.80, filterPeak = 0.90;
    return mirror * corrector * filterPeak * interpolate(kQe, std::size(kQe), wavelengthNm);
}

double illuminationTilt(const Filter& f) {
    constexpr std::uint64_t kCamera = 0x50415543616dULL; // the camera's fixed random streams
    Rng rng = Rng::stream({kCamera, 3, std::hash<std::string>{}(f.name)});
    return rng.uniform(-0.03, 0.03);
}

double illumination(double u, double v, double tilt) {
    constexpr double kVignettingRadius = 10000; // focal-plane pixels
    const double r2 = (u * u + v * v) / (kVignettingRadius * kVignettingRadius);
    return (1 - 0.06 * r2) * (1 + tilt * u / kVignettingRadius);
}

double illumination(double u, double v, const Filter& f) { return illumination(u, v, illuminationTilt(f)); }

double zeroPoint(const Filter& f) {
    // Photons per second and cm^2 from an AB magnitude 0 source through a top-hat band:
    // (f_nu / h) * integral of T(lambda) dlambda / lambda.
    constexpr double fnu = 3631e-23, h = 6.62607015e-27;
    constexpr int steps = 64;
    double integral = 0;
    for (int i = 0; i < steps; ++i) {
        const double l = f.lo() + (i + 0.5) * f.width / steps;
        integral += throughput(l) / l * (f.width / steps);
    }
    return 2.5 * std::log10(fnu / h * integral * kMirrorAreaCm2);
}

double extinction(double wavelengthNm) {
    // Rayleigh scattering plus aerosols, close to the La Palma extinction curve
    // (0.12 mag/airmass at 550 nm, 0.24 at 450 nm).
    const double x = wavelengthNm / 550.0;
    return 0.09 * std::pow(x, -4.05) + 0.03 * std::pow(x, -1.3) + 0.005;
}

} // namespace paudm::pipelines::paucam
