#include "reduction/psf.h"

#include "reduction/statistics.h"

#include <unsupported/Eigen/LevenbergMarquardt>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace paudm::reduction {

namespace {

double fwhmOf(double alpha, double beta) { return 2 * alpha * std::sqrt(std::pow(2.0, 1 / beta) - 1); }

struct StampPixel {
    double x, y, value, weight; ///< weight = 1 / sigma
};

/// The unmasked pixels within `half` of (x, y), with 1/sigma from the background noise and
/// the Poisson noise of the value.
std::vector<StampPixel> stamp(const FloatImage& image, const FloatImage& rms, const Mask& mask, double x, double y,
                              int half, double gain) {
    std::vector<StampPixel> px;
    const int cx = static_cast<int>(std::lround(x)), cy = static_cast<int>(std::lround(y));
    for (int j = std::max(0, cy - half); j <= std::min(image.height - 1, cy + half); ++j)
        for (int i = std::max(0, cx - half); i <= std::min(image.width - 1, cx + half); ++i) {
            if (!mask.empty() && mask.at(i, j)) continue;
            const double v = image.at(i, j), s = rms.at(i, j);
            const double var = s * s + (gain > 0 ? std::max(v, 0.0) / gain : 0.0);
            if (!(var > 0) || !std::isfinite(v)) continue;
            px.push_back({double(i), double(j), v, 1 / std::sqrt(var)});
        }
    return px;
}

/// Residuals (data - model) / sigma of a Moffat with parameters (x0, y0, A, alpha, beta).
struct MoffatResiduals : Eigen::DenseFunctor<double> {
    const std::vector<StampPixel>& px;
    explicit MoffatResiduals(const std::vector<StampPixel>& p) : DenseFunctor<double>(5, static_cast<int>(p.size())), px(p) {}
    int operator()(const InputType& p, ValueType& f) const {
        const double a2 = p[3] * p[3];
        for (std::size_t i = 0; i < px.size(); ++i) {
            const double dx = px[i].x - p[0], dy = px[i].y - p[1];
            const double q = 1 + (dx * dx + dy * dy) / a2;
            f[static_cast<Eigen::Index>(i)] = (px[i].value - p[2] * std::pow(q, -p[4])) * px[i].weight;
        }
        return 0;
    }
    int df(const InputType& p, JacobianType& J) const {
        const double a = p[3], a2 = a * a, A = p[2], beta = p[4];
        for (std::size_t i = 0; i < px.size(); ++i) {
            const double dx = px[i].x - p[0], dy = px[i].y - p[1], r2 = dx * dx + dy * dy;
            const double q = 1 + r2 / a2, qb = std::pow(q, -beta), qb1 = qb / q, w = px[i].weight;
            const auto r = static_cast<Eigen::Index>(i);
            J(r, 0) = -w * 2 * A * beta * dx * qb1 / a2;
            J(r, 1) = -w * 2 * A * beta * dy * qb1 / a2;
            J(r, 2) = -w * qb;
            J(r, 3) = -w * 2 * A * beta * r2 * qb1 / (a2 * a);
            J(r, 4) = w * A * qb * std::log(q);
        }
        return 0;
    }
};

/// Unit-flux Moffat at (dx, dy) from its centre.
double moffat(double alpha, double beta, double dx, double dy) {
    return (beta - 1) / (std::numbers::pi * alpha * alpha) * std::pow(1 + (dx * dx + dy * dy) / (alpha * alpha), -beta);
}

} // namespace

double moffatEnclosed(double alpha, double beta, double r) { return 1 - std::pow(1 + r * r / (alpha * alpha), 1 - beta); }

MoffatFit fitMoffat(const FloatImage& image, const FloatImage& rms, const Mask& mask, double x, double y, int half,
                    double gain) {
    MoffatFit out;
    const auto px = stamp(image, rms, mask, x, y, half, gain);
    if (px.size() < 12) return out;
    double peak = 0;
    for (const auto& p : px)
        if (std::hypot(p.x - x, p.y - y) < 1.5) peak = std::max(peak, p.value);
    if (!(peak > 0)) return out;
    // A start from the light's second moment within the stamp.
    double s = 0, s2 = 0;
    for (const auto& p : px)
        if (p.value > 0) {
            s += p.value;
            s2 += p.value * ((p.x - x) * (p.x - x) + (p.y - y) * (p.y - y));
        }
    const double sigma = s > 0 ? std::sqrt(std::max(s2 / s / 2, 0.25)) : 1.0;
    Eigen::VectorXd p(5);
    p << x, y, peak, std::clamp(sigma * 1.3, 0.5, 20.0), 3.0;
    MoffatResiduals f(px);
    Eigen::LevenbergMarquardt<MoffatResiduals> lm(f);
    lm.setMaxfev(100);
    lm.minimize(p);
    if (!p.allFinite() || p[2] <= 0 || p[3] <= 0.1 || p[4] <= 1.05 || p[4] > 30 || std::hypot(p[0] - x, p[1] - y) > 2)
        return out;
    Eigen::VectorXd r(static_cast<Eigen::Index>(px.size()));
    f(p, r);
    out.ok = true;
    out.x = p[0];
    out.y = p[1];
    out.amplitude = p[2];
    out.alpha = p[3];
    out.beta = p[4];
    out.fwhm = fwhmOf(p[3], p[4]);
    out.flux = p[2] * std::numbers::pi * p[3] * p[3] / (p[4] - 1);
    out.pixels = static_cast<int>(px.size());
    out.chi2 = r.squaredNorm() / std::max(1, out.pixels - 5);
    return out;
}

PsfModel measurePsf(const FloatImage& image, const FloatImage& rms, const Mask& mask, const std::vector<Source>& sources,
                    const PsfOptions& o, double gain) {
    PsfModel out;
    // Candidates: clean, bright, round, isolated.
    std::vector<std::size_t> order(sources.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return sources[a].x < sources[b].x; });
    std::vector<std::size_t> candidates;
    for (std::size_t k = 0; k < order.size(); ++k) {
        const Source& s = sources[order[k]];
        if ((s.flags & ~kSourceNeighbours) || s.snr() < o.minSnr || s.elongation() > o.maxElongation || s.fluxRadius <= 0) continue;
        bool alone = true;
        for (std::size_t j = k; j-- > 0 && sources[order[j]].x > s.x - o.isolation && alone;)
            alone = std::hypot(sources[order[j]].x - s.x, sources[order[j]].y - s.y) >= o.isolation;
        for (std::size_t j = k + 1; j < order.size() && sources[order[j]].x < s.x + o.isolation && alone; ++j)
            alone = std::hypot(sources[order[j]].x - s.x, sources[order[j]].y - s.y) >= o.isolation;
        if (alone) candidates.push_back(order[k]);
    }
    // Stars are the tight sequence of the smallest half-light radii among bright sources:
    // the densest 0.1-pixel bin of the lower half, and those within 15 % of it.
    if (candidates.empty()) {
        out.status = "few_stars";
        return out;
    }
    std::vector<float> radii;
    for (std::size_t i : candidates) radii.push_back(static_cast<float>(sources[i].fluxRadius));
    std::sort(radii.begin(), radii.end());
    const float rlow = radii.front(), rmid = radii[radii.size() / 2];
    int bestCount = 0;
    double mode = rlow;
    for (float r0 = rlow; r0 <= rmid; r0 += 0.05f) {
        const int c = static_cast<int>(std::count_if(radii.begin(), radii.end(), [&](float r) { return r >= r0 && r < r0 + 0.1f; }));
        if (c > bestCount) {
            bestCount = c;
            mode = r0 + 0.05;
        }
    }
    std::vector<std::size_t> stars;
    for (std::size_t i : candidates)
        if (std::fabs(sources[i].fluxRadius / mode - 1) < 0.15) stars.push_back(i);
    std::sort(stars.begin(), stars.end(), [&](std::size_t a, std::size_t b) { return sources[a].snr() > sources[b].snr(); });
    if (stars.size() > static_cast<std::size_t>(o.maxStars)) stars.resize(static_cast<std::size_t>(o.maxStars));
    // Fit each; clip the FWHMs at 3 robust sigma.
    struct Fitted {
        std::size_t index;
        MoffatFit fit;
    };
    std::vector<Fitted> fits;
    const int half = std::clamp(static_cast<int>(std::ceil(4 * mode)), 5, 15);
    for (std::size_t i : stars) {
        const MoffatFit f = fitMoffat(image, rms, mask, sources[i].x, sources[i].y, half, gain);
        if (f.ok) fits.push_back({i, f});
    }
    // Clip the FWHMs at 3 robust sigma; the model is the median star's. Fewer stars than
    // minStars still give their median (a defocused or sparse CCD is not left without a
    // size), under the status few_stars.
    std::vector<float> fw;
    for (const auto& f : fits) fw.push_back(static_cast<float>(f.fit.fwhm));
    std::vector<Fitted> kept = fits;
    if (fw.size() >= 3) {
        const double med = median(fw), spread = madStd(fw);
        kept.clear();
        for (const auto& f : fits)
            if (std::fabs(f.fit.fwhm - med) <= 3 * std::max(spread, 1e-3 * med)) kept.push_back(f);
    }
    out.stars = static_cast<int>(kept.size());
    out.status = out.stars >= o.minStars ? "ok" : "few_stars";
    if (kept.empty()) return out;
    std::vector<float> keptFwhm, keptChi2, betas;
    for (const auto& f : kept) {
        keptFwhm.push_back(static_cast<float>(f.fit.fwhm));
        keptChi2.push_back(static_cast<float>(f.fit.chi2));
        betas.push_back(static_cast<float>(f.fit.beta));
        out.starIndices.push_back(f.index);
    }
    out.fwhm = median(keptFwhm);
    out.fwhmScatter = keptFwhm.size() > 1 ? madStd(keptFwhm) : 0;
    out.chi2 = median(keptChi2);
    // The model: the median beta, and the alpha that gives the median FWHM with it.
    out.beta = median(betas);
    out.alpha = out.fwhm / (2 * std::sqrt(std::pow(2.0, 1 / out.beta) - 1));
    return out;
}

PsfPhotometry psfPhotometry(const FloatImage& image, const FloatImage& rms, const Mask& mask, const PsfModel& psf,
                            double x, double y, double gain) {
    PsfPhotometry out;
    if (!psf.ok()) return out;
    const int half = std::clamp(static_cast<int>(std::ceil(1.5 * psf.fwhm)), 2, 12);
    // Background noise only in the weights (the optimal weighting for faint sources, and
    // unbiased for bright ones).
    const auto px = stamp(image, rms, mask, x, y, half, 0);
    if (px.size() < 5) return out;
    // The wider model: the PSF convolved with an exponential disc of scale FWHM/16, here a
    // Moffat of the same beta with the variance of the disc (6 h^2 in r^2) added to its
    // own (alpha^2 / (beta - 2) in r^2; for beta <= 2, where that is infinite, in alpha^2).
    const double h = psf.fwhm / 16;
    const double widen = psf.beta > 2 ? 6 * h * h * (psf.beta - 2) : 6 * h * h;
    const double alphaG = std::sqrt(psf.alpha * psf.alpha + widen);
    double pwx = 0, pwp = 0, gwx = 0, gwp = 0;
    std::vector<double> P(px.size()), G(px.size());
    for (std::size_t i = 0; i < px.size(); ++i) {
        const double w = px[i].weight * px[i].weight;
        P[i] = moffat(psf.alpha, psf.beta, px[i].x - x, px[i].y - y);
        G[i] = moffat(alphaG, psf.beta, px[i].x - x, px[i].y - y);
        pwx += P[i] * w * px[i].value;
        pwp += P[i] * w * P[i];
        gwx += G[i] * w * px[i].value;
        gwp += G[i] * w * P[i];
    }
    if (!(pwp > 0)) return out;
    // The flux: the unit-flux model's amplitude (its variance 1 / sum(P^2 w), plus the
    // source's own Poisson noise spread over the model).
    out.flux = pwx / pwp;
    const double poisson = gain > 0 ? std::max(out.flux, 0.0) / gain : 0;
    out.fluxErr = std::sqrt(1 / pwp + poisson);
    out.ok = true;
    if (pwx != 0) {
        out.spread = gwx / pwx - gwp / pwp;
        // Its error from each pixel's noise: d spread / d x_i = w_i (G_i pwx - P_i gwx) / pwx^2.
        double var = 0;
        for (std::size_t i = 0; i < px.size(); ++i) {
            const double w = px[i].weight * px[i].weight;
            const double d = w * (G[i] * pwx - P[i] * gwx) / (pwx * pwx);
            var += d * d / w;
        }
        out.spreadErr = std::sqrt(var);
    }
    return out;
}

} // namespace paudm::reduction
