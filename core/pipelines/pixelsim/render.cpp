// The pixels of pixelsim: one raw PAUCam mosaic per exposure (the night around them is
// in night.cpp).
#include "archive/checksum.h"
#include "common/atomic_file.h"
#include "common/random.h"
#include "fits/fits.h"
#include "pipelines/pixelsim/simulator.h"
#include "wcs/wcs.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numbers>

namespace paudm::pipelines::pixelsim {

namespace {

namespace fs = std::filesystem;
using paucam::Layout;

constexpr double kDeg = std::numbers::pi / 180.0;
/// The camera itself (gains, bias structure, pixel response, defects) does not change
/// from night to night: its streams use this fixed key, not the night's seed.
constexpr std::uint64_t kCamera = 0x50415543616dULL; // "PAUCam"
constexpr double kFullWell = 120000;     ///< electrons
constexpr double kCosmicRate = 0.025;    ///< events per cm^2 per second at 2400 m
constexpr double kReadoutS = 30;         ///< cosmic rays also arrive during readout
constexpr double kMoffatBeta = 3;

struct AmpConstants {
    double gain;      ///< e-/ADU
    double readNoise; ///< e-
    double biasLevel; ///< ADU
    double rampAdu;   ///< extra bias in the first rows read
};

AmpConstants ampConstants(int ccd, int amp) {
    Rng rng = Rng::stream({kCamera, 1, static_cast<std::uint64_t>(ccd), static_cast<std::uint64_t>(amp)});
    AmpConstants a;
    a.gain = std::clamp(rng.normal(2.0, 0.12), 1.6, 2.4);
    a.readNoise = std::clamp(rng.normal(4.5, 0.6), 3.0, 7.0);
    a.biasLevel = rng.uniform(1500, 3000);
    a.rampAdu = rng.uniform(3, 8);
    return a;
}

struct BadColumn {
    int ccd, x, y0; ///< CCD pixel coordinates (1-based); the defect runs from y0 to the top
    bool hot;
};

/// The camera's bad columns: six of them, half hot (charge injected), half dead.
std::vector<BadColumn> badColumns(const Layout& l) {
    Rng rng = Rng::stream({kCamera, 2, static_cast<std::uint64_t>(l.geometry == paucam::Geometry::Full)});
    std::vector<BadColumn> v;
    for (int i = 0; i < 6; ++i) {
        BadColumn b;
        b.ccd = 1 + static_cast<int>(rng.below(paucam::kCcds));
        b.x = 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(l.ccdWidth)));
        b.y0 = i % 2 ? 1 : 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(l.ccdHeight / 2)));
        b.hot = i % 2 == 0;
        v.push_back(b);
    }
    return v;
}

/// The pixel response of one row of a CCD (y 1-based): 1% non-uniformity, dead columns at
/// 2% from where they start.
void responseRow(int ccd, int y, const std::vector<BadColumn>& bad, std::vector<float>& response) {
    Rng prnu = Rng::stream({kCamera, 4, static_cast<std::uint64_t>(ccd), static_cast<std::uint64_t>(y)});
    for (float& r : response) r = static_cast<float>(1 + 0.01 * prnu.normal());
    for (const auto& b : bad)
        if (b.ccd == ccd && !b.hot && y >= b.y0) response[b.x - 1] *= 0.02f;
}

/// The fixed pattern of an amplifier's columns (ADU, raw width).
std::vector<double> columnPattern(int ccd, int amp, const Layout& l) {
    Rng colRng = Rng::stream({kCamera, 5, static_cast<std::uint64_t>(ccd), static_cast<std::uint64_t>(amp)});
    std::vector<double> colPattern(static_cast<std::size_t>(l.rawWidth()));
    for (double& c : colPattern) c = colRng.normal(0, 0.8);
    return colPattern;
}

/// The exponential profile exp(-r/h) as a mixture of Gaussians. It is exactly a Gaussian
/// scale mixture: exp(-sqrt(s)) = integral of exp(-s t) t^(-3/2) exp(-1/(4t)) / (2 sqrt(pi)) dt,
/// with s = r^2/h^2, so each quadrature node t_k of that integral (in ln t) is one
/// Gaussian of variance h^2 / (2 t_k); its flux share is the integrand's weight.
struct Mixture {
    static constexpr int K = 10;
    double variance[K]; ///< in units of h^2
    double fraction[K]; ///< of the total flux
    Mixture() {
        const double du = 0.8, u0 = -4.0;
        double sum = 0;
        for (int k = 0; k < K; ++k) {
            const double t = std::exp(u0 + k * du);
            variance[k] = 1.0 / (2 * t);
            fraction[k] = std::pow(t, -1.5) * std::exp(-1 / (4 * t)); // flux per unit ln t
            sum += fraction[k];
        }
        for (double& f : fraction) f /= sum;
    }
};
const Mixture& exponentialMixture() {
    static const Mixture m;
    return m;
}

struct Gauss2 {
    double flux, cxx, cxy, cyy; ///< inverse covariance
    double norm;                ///< flux / (2 pi sqrt(det))
    double maxSigma;
};

struct SourceStamp {
    double x, y;    ///< CCD pixel coordinates (1-based)
    double flux;    ///< electrons (before the flat field)
    bool star;
    std::vector<Gauss2> gauss; ///< galaxies
    double radius;
};

/// What an exposure knows about one CCD while it draws it.
struct CcdContext {
    const NightOptions* options;
    const NightPlan* plan;
    const ExposurePlan* exposure;
    Layout layout;
    const paucam::CcdPlacement* place;
    const paucam::Filter* filter;
    double seeingPx;   ///< FWHM in pixels
    double moffatAlpha;
    double sky;        ///< electrons per pixel at unit illumination
    double zp;         ///< effective zero point: mag giving 1 e-/s through this atmosphere
    std::vector<SourceStamp> sources;
};

void drawStar(std::vector<float>& img, const Layout& l, const SourceStamp& s, double alpha) {
    const double norm = s.flux * (kMoffatBeta - 1) / (std::numbers::pi * alpha * alpha);
    const double inv = 1.0 / (alpha * alpha);
    const int x0 = std::max(1, static_cast<int>(std::floor(s.x - s.radius)));
    const int x1 = std::min(l.ccdWidth, static_cast<int>(std::ceil(s.x + s.radius)));
    const int y0 = std::max(1, static_cast<int>(std::floor(s.y - s.radius)));
    const int y1 = std::min(l.ccdHeight, static_cast<int>(std::ceil(s.y + s.radius)));
    for (int y = y0; y <= y1; ++y) {
        const double dy2 = (y - s.y) * (y - s.y);
        float* row = img.data() + static_cast<std::size_t>(y - 1) * l.ccdWidth;
        for (int x = x0; x <= x1; ++x) {
            const double q = 1 + ((x - s.x) * (x - s.x) + dy2) * inv;
            row[x - 1] += static_cast<float>(norm / (q * q * q));
        }
    }
}

void drawGalaxy(std::vector<float>& img, const Layout& l, const SourceStamp& s) {
    const int x0 = std::max(1, static_cast<int>(std::floor(s.x - s.radius)));
    const int x1 = std::min(l.ccdWidth, static_cast<int>(std::ceil(s.x + s.radius)));
    const int y0 = std::max(1, static_cast<int>(std::floor(s.y - s.radius)));
    const int y1 = std::min(l.ccdHeight, static_cast<int>(std::ceil(s.y + s.radius)));
    for (int y = y0; y <= y1; ++y) {
        const double dy = y - s.y;
        float* row = img.data() + static_cast<std::size_t>(y - 1) * l.ccdWidth;
        for (int x = x0; x <= x1; ++x) {
            const double dx = x - s.x;
            double v = 0;
            for (const auto& g : s.gauss) v += g.norm * std::exp(-0.5 * (g.cxx * dx * dx + 2 * g.cxy * dx * dy + g.cyy * dy * dy));
            row[x - 1] += static_cast<float>(v);
        }
    }
}

/// The Gaussians of a galaxy on the sky convolved with a Gaussian seeing of sigma `psf`
/// (pixels); components that the seeing makes alike are merged.
std::vector<Gauss2> galaxyGaussians(const Galaxy& g, double flux, double psf, double rotationDeg) {
    const Mixture& m = exponentialMixture();
    const double ha = g.a / 1.678 / paucam::kPixelScale, hb = g.b / 1.678 / paucam::kPixelScale; // scale lengths, px
    // Major axis theta east of north; on the pixel grid north is +y and east is -x.
    const double th = (g.theta + rotationDeg) * kDeg;
    const double ux = -std::sin(th), uy = std::cos(th);
    struct Cov {
        double f, xx, xy, yy;
    };
    std::vector<Cov> covs;
    for (int k = 0; k < Mixture::K; ++k) {
        const double va = ha * ha * m.variance[k], vb = hb * hb * m.variance[k];
        Cov c{m.fraction[k], va * ux * ux + vb * uy * uy + psf * psf, (va - vb) * ux * uy,
              va * uy * uy + vb * ux * ux + psf * psf};
        if (!covs.empty()) {
            Cov& p = covs.back();
            const double tp = p.xx + p.yy, tc = c.xx + c.yy;
            if (std::max(tp, tc) / std::min(tp, tc) < 1.15) {
                const double f = p.f + c.f;
                p = {f, (p.f * p.xx + c.f * c.xx) / f, (p.f * p.xy + c.f * c.xy) / f, (p.f * p.yy + c.f * c.yy) / f};
                continue;
            }
        }
        covs.push_back(c);
    }
    std::vector<Gauss2> out;
    for (const Cov& c : covs) {
        const double det = c.xx * c.yy - c.xy * c.xy;
        const double tr = c.xx + c.yy;
        const double lmax = tr / 2 + std::sqrt(std::max(0.0, tr * tr / 4 - det));
        out.push_back({flux * c.f, c.yy / det, -c.xy / det, c.xx / det, flux * c.f / (2 * std::numbers::pi * std::sqrt(det)),
                       std::sqrt(lmax)});
    }
    return out;
}

/// Moves the charge above full well along the column, half up and half down, as a CCD does.
void bleed(float* column0, int height, std::size_t stride) {
    std::vector<double> excess(static_cast<std::size_t>(height), 0.0);
    bool any = false;
    for (int y = 0; y < height; ++y) {
        float& p = column0[y * stride];
        if (p > kFullWell) {
            excess[y] = p - kFullWell;
            p = static_cast<float>(kFullWell);
            any = true;
        }
    }
    if (!any) return;
    double carry = 0;
    for (int y = 0; y < height; ++y) { // upwards
        float& p = column0[y * stride];
        const double v = p + carry + (y > 0 ? excess[y - 1] / 2 : 0);
        carry = std::max(0.0, v - kFullWell);
        p = static_cast<float>(std::min(v, kFullWell));
    }
    carry = 0;
    for (int y = height - 1; y >= 0; --y) { // downwards
        float& p = column0[y * stride];
        const double v = p + carry + (y + 1 < height ? excess[y + 1] / 2 : 0);
        carry = std::max(0.0, v - kFullWell);
        p = static_cast<float>(std::min(v, kFullWell));
    }
}

QJsonObject number(QJsonObject o, const char* key, double v, int digits = 6) {
    o[key] = std::round(v * std::pow(10, digits)) / std::pow(10, digits);
    return o;
}

} // namespace

std::string isoTime(double mjd) {
    const auto ms = static_cast<qint64>(std::llround((mjd - 40587.0) * 86400000.0));
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString("yyyy-MM-ddTHH:mm:ss.zzz").toStdString();
}

namespace {

/// Draws one CCD: its four amplifiers' raw pixels, and its truth.
void renderCcd(CcdContext& cc, std::array<std::vector<std::uint16_t>, 4>& raw, QJsonArray& cosmicsOut,
               QJsonArray& saturatedOut, std::vector<double>& biasOut) {
    const Layout& l = cc.layout;
    const ExposurePlan& e = *cc.exposure;
    const int W = l.ccdWidth, H = l.ccdHeight, ccd = cc.place->ccd;
    const std::size_t npix = static_cast<std::size_t>(W) * H;
    std::vector<float> img(npix, 0.0f);

    const bool light = e.kind != "bias";
    if (light) {
        for (const auto& s : cc.sources) {
            if (s.star) drawStar(img, l, s, cc.moffatAlpha);
            else drawGalaxy(img, l, s);
        }
        // Flat field: illumination across the focal plane times the pixel response.
        const double base = e.kind == "flat" ? e.lampElectrons : cc.sky;
        const double tilt = paucam::illuminationTilt(*cc.filter);
        const auto bad = badColumns(l);
        std::vector<float> response(static_cast<std::size_t>(W));
        std::vector<char> saturated(static_cast<std::size_t>(W), 0);
        for (int y = 1; y <= H; ++y) {
            responseRow(ccd, y, bad, response);
            const double v = cc.place->centreY + (y - (H + 1) / 2.0);
            float* row = img.data() + static_cast<std::size_t>(y - 1) * W;
            for (int x = 1; x <= W; ++x) {
                const double u = cc.place->centreX + (x - (W + 1) / 2.0);
                const double illum = paucam::illumination(u, v, tilt);
                const float val = static_cast<float>((base + row[x - 1]) * illum) * response[x - 1];
                row[x - 1] = val;
                if (val > kFullWell) saturated[x - 1] = 1;
            }
        }
        for (int x = 0; x < W; ++x)
            if (saturated[x]) {
                bleed(img.data() + x, H, static_cast<std::size_t>(W));
                // The truth: the runs of the column at full well, core and bleed trail.
                int from = 0;
                for (int y = 1; y <= H + 1; ++y) {
                    const bool full = y <= H && img[static_cast<std::size_t>(y - 1) * W + x] >= kFullWell;
                    if (full && !from) from = y;
                    if (!full && from) {
                        saturatedOut.append(QJsonObject{{"ccd", ccd}, {"x", x + 1}, {"y_from", from}, {"y_to", y - 1}});
                        from = 0;
                    }
                }
            }
        for (const auto& b : bad)
            if (b.ccd == ccd && b.hot)
                for (int y = b.y0; y <= H; ++y) img[static_cast<std::size_t>(y - 1) * W + b.x - 1] += 1500.0f;
    }

    // Cosmic rays: straight tracks, charge shared along them; not flat-fielded.
    Rng crs = Rng::stream({cc.plan->seed, static_cast<std::uint64_t>(e.expnum), static_cast<std::uint64_t>(ccd), 0x6372});
    const double areaCm2 = npix * paucam::kPixelSizeCm * paucam::kPixelSizeCm;
    const int ncr = static_cast<int>(crs.poisson(kCosmicRate * areaCm2 * (e.exptime + kReadoutS)));
    for (int i = 0; i < ncr; ++i) {
        const double x = crs.uniform(0.5, W + 0.5), y = crs.uniform(0.5, H + 0.5);
        const double len = crs.exponential(3.0), ang = crs.uniform(0, std::numbers::pi);
        const double electrons = 1500 * std::exp(crs.normal(0, 0.5)) * (1 + len / 3);
        const int steps = 1 + static_cast<int>(len * 2);
        int pixels = 0;
        for (int s = 0; s < steps; ++s) {
            const double f = steps > 1 ? static_cast<double>(s) / (steps - 1) : 0;
            const int px = static_cast<int>(std::lround(x + f * len * std::cos(ang)));
            const int py = static_cast<int>(std::lround(y + f * len * std::sin(ang)));
            if (px < 1 || px > W || py < 1 || py > H) continue;
            img[static_cast<std::size_t>(py - 1) * W + px - 1] += static_cast<float>(electrons / steps);
            ++pixels;
        }
        if (pixels == 0) continue;
        QJsonObject o{{"ccd", ccd}};
        o = number(o, "x", x, 2);
        o = number(o, "y", y, 2);
        o = number(o, "x_end", x + len * std::cos(ang), 2);
        o = number(o, "y_end", y + len * std::sin(ang), 2);
        o = number(o, "electrons", electrons, 1);
        cosmicsOut.append(o);
    }

    // Readout: electrons to ADU with read noise and Poisson noise, bias and overscan.
    for (int amp = 1; amp <= 4; ++amp) {
        const AmpConstants ac = ampConstants(ccd, amp);
        const std::vector<double> colPattern = columnPattern(ccd, amp, l);
        Rng noise = Rng::stream({cc.plan->seed, static_cast<std::uint64_t>(e.expnum), static_cast<std::uint64_t>(ccd),
                                 static_cast<std::uint64_t>(amp)});
        const double level = ac.biasLevel + noise.normal(0, 1.5);
        biasOut.push_back(level);
        const double invGain = 1 / ac.gain, rn2 = ac.readNoise * ac.readNoise;
        auto& out = raw[amp - 1];
        out.assign(static_cast<std::size_t>(l.rawWidth()) * l.ampHeight, 0);
        const int xOff = paucam::ampColumn(amp) * l.ampWidth, yOff = paucam::ampRow(amp) * l.ampHeight;
        for (int ya = 0; ya < l.ampHeight; ++ya) {
            const double rowBias = level + ac.rampAdu * std::exp(-ya / 10.0);
            const float* src = img.data() + static_cast<std::size_t>(yOff + ya) * W + xOff;
            std::uint16_t* dst = out.data() + static_cast<std::size_t>(ya) * l.rawWidth();
            for (int xa = 0; xa < l.rawWidth(); ++xa) {
                const double electrons = xa < l.ampWidth ? src[xa] : 0.0;
                double signal;
                if (electrons < 30) signal = noise.poisson(electrons) + ac.readNoise * noise.normal();
                else signal = electrons + std::sqrt(electrons + rn2) * noise.normal();
                const double adu = std::floor(rowBias + colPattern[xa] + signal * invGain + 0.5);
                dst[xa] = static_cast<std::uint16_t>(std::clamp(adu, 0.0, 65535.0));
            }
        }
    }
}

} // namespace

BiasStructure biasStructure(paucam::Geometry g, int ccd, int amp) {
    const AmpConstants ac = ampConstants(ccd, amp);
    return {columnPattern(ccd, amp, Layout::of(g)), ac.rampAdu, ac.biasLevel, ac.gain, ac.readNoise};
}

std::vector<float> flatResponse(paucam::Geometry g, int ccd, const paucam::Filter& f) {
    const Layout l = Layout::of(g);
    const auto& place = paucam::placements().at(static_cast<std::size_t>(ccd - 1));
    const int W = l.ccdWidth, H = l.ccdHeight;
    const auto bad = badColumns(l);
    const double tilt = paucam::illuminationTilt(f);
    std::vector<float> out(static_cast<std::size_t>(W) * H), response(static_cast<std::size_t>(W));
    for (int y = 1; y <= H; ++y) {
        responseRow(ccd, y, bad, response);
        const double v = place.centreY + (y - (H + 1) / 2.0);
        for (int x = 1; x <= W; ++x) {
            const double u = place.centreX + (x - (W + 1) / 2.0);
            out[static_cast<std::size_t>(y - 1) * W + x - 1] = static_cast<float>(paucam::illumination(u, v, tilt)) * response[x - 1];
        }
    }
    return out;
}

SkyCatalog skyForNight(const NightOptions& o) {
    // The mosaic's half-diagonal (0.66 deg), the dithers and the pointing error.
    return generateSky(o.ra, o.dec, 0.8, o.sky);
}

std::string writeExposure(const NightOptions& o, const NightPlan& plan, const ExposurePlan& e, const SkyCatalog& sky,
                          const std::string& path) {
    const Layout l = Layout::of(o.geometry);
    const paucam::Tray& tray = paucam::tray(e.tray);
    const double scale = paucam::kPixelScale / 3600;
    const bool onSky = e.kind == "science" || e.kind == "focus";

    // Where every object falls on the focal plane (true pointing; optical axis at 0, 0).
    std::vector<wcs::Pixel> starPos, galaxyPos;
    // The stars drawn (all but on an exposure made sparse on purpose), decided once.
    std::vector<char> drawn(sky.stars.size(), 1);
    if (e.starFraction < 1)
        for (std::size_t i = 0; i < sky.stars.size(); ++i)
            drawn[i] = Rng::stream({kCamera, 9, static_cast<std::uint64_t>(sky.stars[i].sourceId)}).uniform(0, 1) < e.starFraction;
    if (onSky) {
        const double rho = e.rotationDeg * kDeg;
        const auto truth = wcs::Wcs::tan({0, 0}, {e.trueRa, e.trueDec}, -scale * std::cos(rho), scale * std::sin(rho),
                                         scale * std::sin(rho), scale * std::cos(rho));
        std::vector<wcs::Sky> s;
        for (const auto& st : sky.stars) { // where they are on the night
            const auto [ra, dec] = st.at(e.mjd);
            s.push_back({ra, dec});
        }
        starPos = truth.skyToPixel(s);
        s.clear();
        for (const auto& g : sky.galaxies) s.push_back({g.ra, g.dec});
        galaxyPos = truth.skyToPixel(s);
    }

    auto file = fits::File::create(path, true);
    file.appendEmptyImage();
    const std::string dateObs = isoTime(e.mjd);
    file.writeKey("ORIGIN", std::string("PAUdm pixelsim"), "simulated PAUCam exposure");
    file.writeKey("TELESCOP", std::string("WHT"), "William Herschel Telescope");
    file.writeKey("INSTRUME", std::string("PAUCam"), "instrument");
    file.writeKey("OBSERVAT", std::string("ORM"), "Roque de los Muchachos, La Palma");
    file.writeKey("OBSSET", plan.obsSet, "observation set");
    file.writeKey("EXPNUM", static_cast<long long>(e.expnum), "exposure number");
    file.writeKey("OBSTYPE", e.kind, "bias, flat, science, focus or test");
    file.writeKey("OBJECT", std::string(e.kind == "science" ? "COSMOS" : e.kind == "focus" ? "focus" : e.kind),
                  "target or calibration");
    file.writeKey("DATE-OBS", dateObs, "start of exposure (UTC)");
    file.writeKey("TIME-OBS", dateObs.substr(11), "start of exposure (UTC)");
    file.writeKey("MJD-OBS", e.mjd, "modified Julian date of DATE-OBS");
    file.writeKey("EXPTIME", e.exptime, "exposure time (s)");
    file.writeKey("RA", e.nominalRa, "telescope right ascension (deg)");
    file.writeKey("DEC", e.nominalDec, "telescope declination (deg)");
    file.writeKey("EQUINOX", 2000.0, "equinox of RA and DEC");
    file.writeKey("RADESYS", std::string("ICRS"), "frame of RA and DEC");
    file.writeKey("AIRMASS", std::round(e.airmass * 1e4) / 1e4, "airmass at start");
    file.writeKey("FILTTRAY", e.tray, "filter tray in the beam");
    file.writeKey("TELFOCUS", std::round(e.telfocus * 1e4) / 1e4, "telescope focus (mm)");
    file.writeKey("AMBTEMP", std::round(e.ambientTemp * 100) / 100, "ambient temperature (deg C)");
    file.writeKey("HUMIDITY", std::round(e.humidity * 10) / 10, "relative humidity (%)");
    file.writeKey("PRESSURE", std::round(e.pressure * 10) / 10, "atmospheric pressure (hPa)");
    file.writeKey("WINDSPD", std::round(e.windSpeed * 100) / 100, "wind speed (m/s)");
    file.writeKey("WINDDIR", std::round(e.windDir * 10) / 10, "wind direction (deg, from north through east)");
    file.writeKey("GUIDING", onSky, "autoguider on");
    file.writeKey("GUIFWHM", std::round(e.guideFwhm * 1000) / 1000, "guide star FWHM (arcsec)");
    file.writeKey("GUIVAR", std::round(e.guideVar * 1000) / 1000, "guiding rms (arcsec)");
    file.writeKey("NEXTEND", static_cast<long long>(paucam::kExtensions), "image extensions");
    file.writeKey("OPERATOR", o.operatorName, "telescope operator");
    file.writeKey("PROJECT", o.project, "project");

    QJsonArray ccdTruth, ampTruth, cosmics, saturated;
    std::array<std::vector<std::uint16_t>, 4> raw;
    for (const auto& place : paucam::placements()) {
        const paucam::Filter& f = paucam::filter(tray.filterOfCcd[place.ccd - 1]);
        CcdContext cc{&o, &plan, &e, l, &place, &f, 0, 0, 0, 0, {}};
        const double fwhm = seeingFwhm(e, f);
        cc.seeingPx = fwhm / paucam::kPixelScale;
        cc.moffatAlpha = cc.seeingPx / (2 * std::sqrt(std::pow(2.0, 1 / kMoffatBeta) - 1));
        const double zp0 = paucam::zeroPoint(f);
        cc.zp = zp0 + 2.5 * std::log10(e.transparency) - paucam::extinction(f.centre) * e.airmass;
        cc.sky = skyRate(e, f) * e.exptime;
        if (onSky) {
            const double sigmaPsf = cc.seeingPx / 2.35482;
            auto toCcd = [&](const wcs::Pixel& p, double& x, double& y) {
                x = p.x - place.centreX + (l.ccdWidth + 1) / 2.0;
                y = p.y - place.centreY + (l.ccdHeight + 1) / 2.0;
            };
            for (std::size_t i = 0; i < sky.stars.size(); ++i) {
                if (!drawn[i]) continue;
                double x, y;
                toCcd(starPos[i], x, y);
                if (x < -250 || y < -250 || x > l.ccdWidth + 250 || y > l.ccdHeight + 250) continue;
                const double electrons = std::pow(10.0, -0.4 * (sky.stars[i].mag(f) - cc.zp)) * e.exptime;
                const double radius = std::clamp(cc.moffatAlpha * std::pow(2 * electrons, 0.25), 3 * cc.moffatAlpha, 250.0);
                if (x < -radius || y < -radius || x > l.ccdWidth + radius || y > l.ccdHeight + radius) continue;
                cc.sources.push_back({x, y, electrons, true, {}, radius});
            }
            for (std::size_t i = 0; i < sky.galaxies.size(); ++i) {
                double x, y;
                toCcd(galaxyPos[i], x, y);
                if (x < -100 || y < -100 || x > l.ccdWidth + 100 || y > l.ccdHeight + 100) continue;
                const auto& g = sky.galaxies[i];
                const double electrons = std::pow(10.0, -0.4 * (g.mag(f) - cc.zp)) * e.exptime;
                auto gauss = galaxyGaussians(g, electrons, sigmaPsf, e.rotationDeg);
                double radius = 3 * sigmaPsf;
                for (const auto& c : gauss)
                    if (c.flux > 0.05 * electrons || c.norm > 0.5) radius = std::max(radius, 3.5 * c.maxSigma);
                radius = std::min(radius, 100.0);
                if (x < -radius || y < -radius || x > l.ccdWidth + radius || y > l.ccdHeight + radius) continue;
                cc.sources.push_back({x, y, electrons, false, std::move(gauss), radius});
            }
        }
        std::vector<double> bias;
        renderCcd(cc, raw, cosmics, saturated, bias);

        QJsonObject ct{{"ccd", place.ccd}, {"filter", QString::fromStdString(f.name)}};
        ct = number(ct, "seeing_fwhm", fwhm, 4);
        ct = number(ct, "sky_electrons", cc.sky, 3);
        ct = number(ct, "sky_rate", cc.sky / std::max(e.exptime, 1e-9), 5);
        ct = number(ct, "zero_point", zp0, 4);
        ct = number(ct, "zero_point_effective", cc.zp, 4);
        ct = number(ct, "extinction", paucam::extinction(f.centre) * e.airmass, 5);
        ct = number(ct, "illumination_centre", illumination(place.centreX, place.centreY, f), 6);
        ct["stars"] = static_cast<int>(std::count_if(cc.sources.begin(), cc.sources.end(), [](auto& s) { return s.star; }));
        ct["galaxies"] = static_cast<int>(std::count_if(cc.sources.begin(), cc.sources.end(), [](auto& s) { return !s.star; }));
        ccdTruth.append(ct);

        for (int amp = 1; amp <= 4; ++amp) {
            const AmpConstants ac = ampConstants(place.ccd, amp);
            file.appendImage<std::uint16_t>({l.rawWidth(), l.ampHeight}, raw[amp - 1]);
            const int ext = (place.ccd - 1) * 4 + amp;
            const int xOff = paucam::ampColumn(amp) * l.ampWidth, yOff = paucam::ampRow(amp) * l.ampHeight;
            const double saturate = std::min<double>(paucam::kSaturateAdu, ac.biasLevel + 0.97 * kFullWell / ac.gain);
            file.writeKey("EXTNAME", paucam::extName(place.ccd, amp), "CCD and amplifier");
            file.writeKey("CCDNUM", static_cast<long long>(place.ccd), "CCD number (1-18)");
            file.writeKey("AMPNUM", static_cast<long long>(amp), "amplifier (1-4: A B C D)");
            file.writeKey("IMAGEID", static_cast<long long>(ext), "extension number");
            file.writeKey("FILTER", f.name, "filter in front of this CCD");
            file.writeKey("WAVELENG", f.centre, "filter central wavelength (nm)");
            file.writeKey("BANDWID", f.width, "filter width (nm)");
            file.writeKey("GAIN", std::round(ac.gain * 1000) / 1000, "gain (e-/ADU)");
            file.writeKey("RDNOISE", std::round(ac.readNoise * 100) / 100, "read noise (e-)");
            file.writeKey("SATURATE", std::floor(saturate), "saturation level (ADU)");
            char sec[64];
            std::snprintf(sec, sizeof sec, "[1:%d,1:%d]", l.ampWidth, l.ampHeight);
            file.writeKey("DATASEC", std::string(sec), "data section");
            std::snprintf(sec, sizeof sec, "[%d:%d,1:%d]", l.ampWidth + 1, l.rawWidth(), l.ampHeight);
            file.writeKey("BIASSEC", std::string(sec), "overscan section");
            std::snprintf(sec, sizeof sec, "[%d:%d,%d:%d]", xOff + 1, xOff + l.ampWidth, yOff + 1, yOff + l.ampHeight);
            file.writeKey("DETSEC", std::string(sec), "where the data section lies in the CCD");
            // The WCS the telescope believes in: nominal pointing, no rotation.
            const double crpix1 = (l.ccdWidth + 1) / 2.0 - place.centreX - xOff;
            const double crpix2 = (l.ccdHeight + 1) / 2.0 - place.centreY - yOff;
            file.writeCards(wcs::Wcs::tan({crpix1, crpix2}, {e.nominalRa, e.nominalDec}, -scale, 0, 0, scale).toHeader());

            QJsonObject at{{"ext", ext}, {"ccd", place.ccd}, {"amp", amp}};
            at = number(at, "bias_level", bias[amp - 1], 3);
            at = number(at, "gain", ac.gain, 5);
            at = number(at, "read_noise", ac.readNoise, 4);
            ampTruth.append(at);
        }
    }
    file.close();

    QJsonObject t{{"file", QString::fromStdString(e.file)},
                  {"kind", QString::fromStdString(e.kind)},
                  {"filter_tray", QString::fromStdString(e.tray)},
                  {"expnum", static_cast<qint64>(e.expnum)},
                  {"date_obs", QString::fromStdString(dateObs)},
                  {"geometry", paucam::geometryName(o.geometry)}};
    t = number(t, "mjd", e.mjd, 7);
    t = number(t, "exptime", e.exptime, 3);
    t = number(t, "nominal_ra", e.nominalRa, 8);
    t = number(t, "nominal_dec", e.nominalDec, 8);
    t = number(t, "true_ra", e.trueRa, 8);
    t = number(t, "true_dec", e.trueDec, 8);
    t = number(t, "pointing_offset_ra_arcsec", (e.trueRa - e.nominalRa) * 3600 * std::cos(e.trueDec * kDeg), 4);
    t = number(t, "pointing_offset_dec_arcsec", (e.trueDec - e.nominalDec) * 3600, 4);
    t = number(t, "rotation_deg", e.rotationDeg, 6);
    t = number(t, "airmass", e.airmass, 5);
    t = number(t, "seeing_500nm_zenith", e.seeing, 4);
    t = number(t, "transparency", e.transparency, 5);
    t = number(t, "sun_altitude", e.sunAlt, 3);
    t = number(t, "moon_altitude", e.moonAlt, 3);
    t = number(t, "moon_illumination", e.moonIllumination, 4);
    t = number(t, "lamp_electrons", e.lampElectrons, 2);
    t = number(t, "defocus_fwhm", e.defocusFwhm, 3);
    t = number(t, "star_fraction", e.starFraction, 4);
    t["full_well"] = kFullWell;
    t["moffat_beta"] = kMoffatBeta;
    t["ccds"] = ccdTruth;
    t["amplifiers"] = ampTruth;
    t["cosmic_rays"] = cosmics;
    t["saturated"] = saturated;
    QJsonArray bad;
    if (e.kind != "bias")
        for (const auto& b : badColumns(l))
            bad.append(QJsonObject{{"ccd", b.ccd}, {"x", b.x}, {"y_from", b.y0}, {"kind", b.hot ? "hot" : "dead"}});
    t["bad_columns"] = bad;
    return QJsonDocument(t).toJson(QJsonDocument::Indented).toStdString();
}

} // namespace paudm::pipelines::pixelsim
