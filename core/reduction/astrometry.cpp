#include "reduction/astrometry.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>

namespace paudm::reduction {

namespace {

constexpr double kDeg = std::numbers::pi / 180;

struct Point {
    double x = 0, y = 0; ///< tangent plane, arcsec (east, north)
};

/// A linear map of the tangent plane: (x, y) -> (a x + b y + c, d x + e y + f).
struct Linear {
    double a = 1, b = 0, c = 0, d = 0, e = 1, f = 0;
    Point operator()(Point p) const { return {a * p.x + b * p.y + c, d * p.x + e * p.y + f}; }
    Linear after(const Linear& g) const { // this(g(p))
        return {a * g.a + b * g.d, a * g.b + b * g.e, a * g.c + b * g.f + c,
                d * g.a + e * g.d, d * g.b + e * g.e, d * g.c + e * g.f + f};
    }
};

struct Pair {
    Point from, to;
    double weight = 1; ///< 1 / sigma^2
};

/// Weighted least squares: a similarity (4 parameters: x' = s x - r y + tx, y' = r x + s y
/// + ty) or, with `affine`, the full 6. Returns the chi-square too.
Linear fitLinear(const std::vector<Pair>& pairs, bool affine, double* chi2 = nullptr) {
    const int np = affine ? 6 : 4;
    Eigen::MatrixXd A(2 * static_cast<Eigen::Index>(pairs.size()), np);
    Eigen::VectorXd y(2 * static_cast<Eigen::Index>(pairs.size()));
    A.setZero();
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        const auto r = static_cast<Eigen::Index>(2 * i);
        const double w = std::sqrt(pairs[i].weight);
        const Point p = pairs[i].from;
        if (affine) {
            A.row(r) << p.x * w, p.y * w, w, 0, 0, 0;
            A.row(r + 1) << 0, 0, 0, p.x * w, p.y * w, w;
        } else {
            A.row(r) << p.x * w, -p.y * w, w, 0;
            A.row(r + 1) << p.y * w, p.x * w, 0, w;
        }
        y[r] = pairs[i].to.x * w;
        y[r + 1] = pairs[i].to.y * w;
    }
    const Eigen::VectorXd s = A.colPivHouseholderQr().solve(y);
    if (chi2) *chi2 = (A * s - y).squaredNorm();
    if (affine) return {s[0], s[1], s[2], s[3], s[4], s[5]};
    return {s[0], -s[1], s[2], s[1], s[0], s[3]};
}

/// The F statistic's 1 % critical value for (2, dof) degrees of freedom: for 2 numerator
/// degrees of freedom the distribution is closed-form, F = (dof / 2) (p^(-2/dof) - 1).
double fCritical2(int dof) { return dof / 2.0 * (std::pow(0.01, -2.0 / dof) - 1); }

/// ln P(X >= k) for X Poisson of mean mu < k: the sum of the terms from k on, each the one
/// before times mu / j, in logarithms so that peaks of thousands of votes do not underflow.
/// (Written here: the standard library has no incomplete gamma function.)
double logPoissonTail(int k, double mu) {
    const double first = -mu + k * std::log(mu) - std::lgamma(k + 1.0);
    double sum = 1, term = 1;
    for (int j = k + 1; term > 1e-12 * sum && j < k + 100000; ++j) {
        term *= mu / j;
        sum += term;
    }
    return first + std::log(sum);
}

/// The reference stars binned by cells of `cell` arcsec, for neighbour searches.
class RefGrid {
public:
    RefGrid(const std::vector<Point>& refs, double cell) : refs_(refs), cell_(cell) {
        for (std::size_t i = 0; i < refs.size(); ++i) cells_[key(refs[i])].push_back(i);
    }
    template <class Fn>
    void near(Point p, double radius, Fn&& fn) const {
        const long x0 = std::lround(std::floor((p.x - radius) / cell_)), x1 = std::lround(std::floor((p.x + radius) / cell_));
        const long y0 = std::lround(std::floor((p.y - radius) / cell_)), y1 = std::lround(std::floor((p.y + radius) / cell_));
        for (long cy = y0; cy <= y1; ++cy)
            for (long cx = x0; cx <= x1; ++cx) {
                const auto it = cells_.find({cx, cy});
                if (it == cells_.end()) continue;
                for (std::size_t i : it->second) {
                    const double dx = refs_[i].x - p.x, dy = refs_[i].y - p.y;
                    if (dx * dx + dy * dy <= radius * radius) fn(i, dx, dy);
                }
            }
    }

private:
    std::pair<long, long> key(Point p) const {
        return {std::lround(std::floor(p.x / cell_)), std::lround(std::floor(p.y / cell_))};
    }
    const std::vector<Point>& refs_;
    double cell_;
    std::map<std::pair<long, long>, std::vector<std::size_t>> cells_;
};

struct Det {
    int ccd;
    std::size_t source;
    Point tp;       ///< header WCS, tangent plane
    double sigma;   ///< arcsec per axis
    double snr;
};

/// Each detection's nearest reference star within `radius` of model(detection); a star
/// claimed twice goes to the nearer detection.
std::vector<std::pair<std::size_t, std::size_t>> match(const std::vector<Det>& dets, const RefGrid& grid,
                                                       const std::vector<Linear>& modelOfCcd, double radius) {
    std::map<std::size_t, std::pair<std::size_t, double>> byRef; // ref -> (det, distance^2)
    for (std::size_t k = 0; k < dets.size(); ++k) {
        const Point p = modelOfCcd[static_cast<std::size_t>(dets[k].ccd)](dets[k].tp);
        std::size_t best = 0;
        double bestD2 = -1;
        grid.near(p, radius, [&](std::size_t i, double dx, double dy) {
            const double d2 = dx * dx + dy * dy;
            if (bestD2 < 0 || d2 < bestD2) {
                bestD2 = d2;
                best = i;
            }
        });
        if (bestD2 < 0) continue;
        const auto it = byRef.find(best);
        if (it == byRef.end() || bestD2 < it->second.second) byRef[best] = {k, bestD2};
    }
    std::vector<std::pair<std::size_t, std::size_t>> out;
    for (const auto& [ref, det] : byRef) out.push_back({det.first, ref});
    return out;
}

} // namespace

AstroResult solveAstrometry(const std::vector<AstroCcd>& ccds, const std::vector<RefStar>& refs,
                            const AstrometryOptions& o) {
    AstroResult out;
    out.fitted.assign(ccds.size(), std::nullopt);
    out.ccdModel.assign(ccds.size(), "mosaic");
    if (ccds.empty()) {
        out.status = "few_stars";
        out.message = "no CCD to solve";
        return out;
    }
    if (refs.empty()) {
        out.status = "no_reference";
        out.message = "no reference star in the mosaic's footprint";
        return out;
    }
    // The tangent point: the mean direction of the CCD centres (as the headers place them).
    double vx = 0, vy = 0, vz = 0;
    for (const auto& c : ccds) {
        const wcs::Sky s = c.initial.pixelToSky({(c.width + 1) / 2.0, (c.height + 1) / 2.0});
        vx += std::cos(s.dec * kDeg) * std::cos(s.ra * kDeg);
        vy += std::cos(s.dec * kDeg) * std::sin(s.ra * kDeg);
        vz += std::sin(s.dec * kDeg);
    }
    const wcs::Sky centre{std::fmod(std::atan2(vy, vx) / kDeg + 360, 360), std::atan2(vz, std::hypot(vx, vy)) / kDeg};
    // A TAN WCS whose "pixels" are arcseconds east and north of the centre.
    const wcs::Wcs plane = wcs::Wcs::tan({0, 0}, centre, -1 / 3600.0, 0, 0, 1 / 3600.0);
    auto toPlane = [&](const std::vector<wcs::Sky>& sky) {
        std::vector<Point> pts;
        for (const auto& p : plane.skyToPixel(sky)) pts.push_back({-p.x, p.y}); // +x east
        return pts;
    };
    std::vector<wcs::Sky> refSky;
    for (const auto& r : refs) refSky.push_back({r.ra, r.dec});
    const std::vector<Point> refTp = toPlane(refSky);
    std::vector<Det> dets;
    for (std::size_t c = 0; c < ccds.size(); ++c) {
        std::vector<std::size_t> order;
        for (std::size_t i = 0; i < ccds[c].sources.size(); ++i)
            if (ccds[c].sources[i].snr >= o.minSnr) order.push_back(i);
        std::sort(order.begin(), order.end(),
                  [&](std::size_t a, std::size_t b) { return ccds[c].sources[a].snr > ccds[c].sources[b].snr; });
        if (order.size() > static_cast<std::size_t>(o.maxSourcesPerCcd)) order.resize(static_cast<std::size_t>(o.maxSourcesPerCcd));
        std::vector<wcs::Pixel> px;
        for (std::size_t i : order) px.push_back({ccds[c].sources[i].x, ccds[c].sources[i].y});
        const std::vector<Point> tp = toPlane(ccds[c].initial.pixelToSky(px));
        for (std::size_t k = 0; k < order.size(); ++k) {
            const AstroSource& s = ccds[c].sources[order[k]];
            const double sig = std::hypot(s.sigma * o.pixelScale, o.sigmaFloor);
            dets.push_back({static_cast<int>(c), order[k], tp[k], sig, s.snr});
        }
    }
    // 1. The offset (and rotation) that most pairs agree on.
    const RefGrid searchGrid(refTp, o.searchRadius);
    const int bins = static_cast<int>(std::ceil(2 * o.searchRadius / o.binSize)) + 1;
    const int rotations = static_cast<int>(std::floor(2 * o.maxRotationDeg / o.rotationStepDeg + 1e-9)) + 1;
    const double logTrials = std::log(static_cast<double>(bins) * bins * rotations);
    double bestContrast = 0, bestRot = 0;
    Point bestOffset;
    for (double rot = -o.maxRotationDeg; rot <= o.maxRotationDeg + 1e-9; rot += o.rotationStepDeg) {
        const double cr = std::cos(rot * kDeg), sr = std::sin(rot * kDeg);
        std::vector<int> hist(static_cast<std::size_t>(bins) * bins, 0);
        long long votes = 0;
        for (const Det& d : dets) {
            const Point p{cr * d.tp.x - sr * d.tp.y, sr * d.tp.x + cr * d.tp.y};
            searchGrid.near(p, o.searchRadius, [&](std::size_t, double dx, double dy) {
                const int bx = static_cast<int>(std::floor((dx + o.searchRadius) / o.binSize));
                const int by = static_cast<int>(std::floor((dy + o.searchRadius) / o.binSize));
                if (bx >= 0 && by >= 0 && bx < bins && by < bins) {
                    ++hist[static_cast<std::size_t>(by) * bins + bx];
                    ++votes;
                }
            });
        }
        if (votes == 0) continue;
        // The rotation's highest peak (of 3 x 3 bins)...
        int peak = 0;
        Point peakOffset;
        for (int by = 1; by < bins - 1; ++by)
            for (int bx = 1; bx < bins - 1; ++bx) {
                int s = 0;
                double sx = 0, sy = 0;
                for (int j = -1; j <= 1; ++j)
                    for (int i = -1; i <= 1; ++i) {
                        const int h = hist[static_cast<std::size_t>(by + j) * bins + bx + i];
                        s += h;
                        sx += h * ((bx + i + 0.5) * o.binSize - o.searchRadius);
                        sy += h * ((by + j + 0.5) * o.binSize - o.searchRadius);
                    }
                if (s > peak) {
                    peak = s;
                    peakOffset = {sx / s, sy / s};
                }
            }
        // ...against what a field of random pairs would put into 9 bins (at the centre,
        // where the search disc covers the bins fully): how improbable it is, over every
        // bin and rotation tried.
        const double expected = votes * 9 * o.binSize * o.binSize / (std::numbers::pi * o.searchRadius * o.searchRadius);
        if (peak <= expected) continue;
        const double contrast = -(logPoissonTail(peak, expected) + logTrials) / std::numbers::ln10;
        if (contrast > bestContrast) {
            bestContrast = contrast;
            bestRot = rot;
            bestOffset = peakOffset;
        }
    }
    out.contrast = bestContrast;
    if (bestContrast < o.minContrast) {
        out.status = "no_match";
        char msg[256];
        std::snprintf(msg, sizeof msg,
                      "no offset within %.0f\" brings the %zu detections onto the %zu reference stars (best contrast %.1f, "
                      "at least %.1f needed)",
                      o.searchRadius, dets.size(), refs.size(), bestContrast, o.minContrast);
        out.message = msg;
        return out;
    }
    // 2. The mosaic as one body: similarity transform, re-matched and clipped.
    const double cr = std::cos(bestRot * kDeg), sr = std::sin(bestRot * kDeg);
    Linear global{cr, -sr, bestOffset.x, sr, cr, bestOffset.y};
    const RefGrid grid(refTp, 10);
    std::vector<Linear> model(ccds.size(), global);
    std::vector<std::pair<std::size_t, std::size_t>> pairs;
    auto residualOf = [&](std::size_t det, std::size_t ref) {
        const Point p = model[static_cast<std::size_t>(dets[det].ccd)](dets[det].tp);
        return Point{p.x - refTp[ref].x, p.y - refTp[ref].y};
    };
    auto clipped = [&](double radius) {
        pairs = match(dets, grid, model, radius);
        for (int pass = 0; pass < 3 && pairs.size() > 2; ++pass) {
            // Normalised residuals over clip x their rms go.
            double s2 = 0;
            for (const auto& [d, r] : pairs) {
                const Point e = residualOf(d, r);
                s2 += (e.x * e.x + e.y * e.y) / (dets[d].sigma * dets[d].sigma);
            }
            const double rms = std::sqrt(s2 / (2 * pairs.size()));
            std::vector<std::pair<std::size_t, std::size_t>> kept;
            for (const auto& p : pairs) {
                const Point e = residualOf(p.first, p.second);
                if (std::hypot(e.x, e.y) / dets[p.first].sigma <= o.clip * rms * std::sqrt(2.0)) kept.push_back(p);
            }
            if (kept.size() == pairs.size()) break;
            pairs = std::move(kept);
        }
    };
    auto pairsOf = [&](int ccd) {
        std::vector<Pair> v;
        for (const auto& [d, r] : pairs)
            if (ccd < 0 || dets[d].ccd == ccd) v.push_back({dets[d].tp, refTp[r], 1 / (dets[d].sigma * dets[d].sigma)});
        return v;
    };
    for (double radius : {3 * o.binSize, 2 * o.matchRadius, o.matchRadius}) {
        clipped(radius);
        if (pairs.size() < 3) break;
        global = fitLinear(pairsOf(-1), false);
        std::fill(model.begin(), model.end(), global);
    }
    clipped(o.matchRadius);
    if (static_cast<int>(pairs.size()) < o.minStars) {
        out.status = "few_stars";
        out.message = std::to_string(pairs.size()) + " stars matched to the reference catalogue, at least " +
                      std::to_string(o.minStars) + " needed (" + std::to_string(dets.size()) + " detections, " +
                      std::to_string(refs.size()) + " reference stars in the footprint)";
        out.nstars = static_cast<int>(pairs.size());
        return out;
    }
    global = fitLinear(pairsOf(-1), false);
    std::fill(model.begin(), model.end(), global);
    // 3. Per CCD, on top of the mosaic's: a similarity where it has stars enough, an affine
    // one where the F test says the extra freedom is real.
    for (int iteration = 0; iteration < 2; ++iteration) {
        for (std::size_t c = 0; c < ccds.size(); ++c) {
            const auto v = pairsOf(static_cast<int>(c));
            if (static_cast<int>(v.size()) < o.minStarsPerCcd) {
                model[c] = global;
                out.ccdModel[c] = "mosaic";
                continue;
            }
            double chiSim = 0, chiAff = 0;
            Linear sim = fitLinear(v, false, &chiSim);
            model[c] = sim;
            out.ccdModel[c] = "similarity";
            if (static_cast<int>(v.size()) >= o.minStarsAffine) {
                const Linear aff = fitLinear(v, true, &chiAff);
                const int dof = 2 * static_cast<int>(v.size()) - 6;
                if (chiAff > 0 && ((chiSim - chiAff) / 2) / (chiAff / dof) > fCritical2(dof)) {
                    model[c] = aff;
                    out.ccdModel[c] = "affine";
                }
            }
        }
        clipped(o.matchRadius);
    }
    // 4. Statistics and each CCD's WCS.
    double s2 = 0, h2 = 0, chi = 0;
    int nh = 0;
    for (const auto& [d, r] : pairs) {
        const Point e = residualOf(d, r);
        s2 += e.x * e.x + e.y * e.y;
        chi += (e.x * e.x + e.y * e.y) / (dets[d].sigma * dets[d].sigma);
        if (dets[d].snr >= o.highSnr) {
            h2 += e.x * e.x + e.y * e.y;
            ++nh;
        }
        out.matches.push_back({dets[d].ccd, dets[d].source, r, e.x, e.y, dets[d].sigma});
    }
    int params = 4;
    for (const auto& m : out.ccdModel) params += m == "affine" ? 6 : m == "similarity" ? 4 : 0;
    out.nstars = static_cast<int>(pairs.size());
    out.nstarsHighSnr = nh;
    out.refSigma = std::sqrt(s2 / pairs.size());
    out.hrefSigma = nh ? std::sqrt(h2 / nh) : 0;
    out.chi2 = chi / std::max(1, 2 * out.nstars - params);
    out.offsetEast = global.c;
    out.offsetNorth = global.f;
    out.rotationDeg = std::atan2(global.d, global.a) / kDeg;
    out.scale = std::hypot(global.a, global.d);
    for (std::size_t c = 0; c < ccds.size(); ++c) {
        // The CCD's pixels through its header WCS and its model, on a grid, fitted by one
        // linear map from pixels to the plane: exact for a linear header WCS, and far below
        // the residuals otherwise.
        std::vector<wcs::Pixel> grid5;
        const double maxX = std::max(2, ccds[c].width), maxY = std::max(2, ccds[c].height);
        for (int j = 0; j <= 4; ++j)
            for (int i = 0; i <= 4; ++i) grid5.push_back({1 + (maxX - 1) * i / 4.0, 1 + (maxY - 1) * j / 4.0});
        const std::vector<Point> tp = toPlane(ccds[c].initial.pixelToSky(grid5));
        std::vector<Pair> v;
        for (std::size_t k = 0; k < grid5.size(); ++k) v.push_back({{grid5[k].x, grid5[k].y}, model[c](tp[k]), 1});
        const Linear m = fitLinear(v, true);
        // east = a px + b py + c, north = d px + e py + f (arcsec): the CD matrix in degrees
        // (its first axis, the intermediate x of FITS, points east), and CRPIX the pixel
        // where the plane's origin, the tangent point, falls.
        const double det = m.a * m.e - m.b * m.d;
        if (std::fabs(det) < 1e-12) continue;
        const double px = (-m.c * m.e + m.b * m.f) / det, py = (-m.a * m.f + m.d * m.c) / det;
        out.fitted[c] = wcs::Wcs::tan({px, py}, centre, m.a / 3600, m.b / 3600, m.d / 3600, m.e / 3600);
    }
    out.status = "ok";
    char msg[200];
    std::snprintf(msg, sizeof msg, "%d stars (%d at high S/N), rms %.3f\" (%.3f\"), pointing off by %.2f\" E, %.2f\" N",
                  out.nstars, out.nstarsHighSnr, out.refSigma, out.hrefSigma, out.offsetEast, out.offsetNorth);
    out.message = msg;
    return out;
}

} // namespace paudm::reduction
