#include "pipelines/nightly/measure.h"

#include "db/connection.h"
#include "jobs/config_values.h"
#include "pipelines/paucam.h"
#include "reduction/statistics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <span>

namespace paudm::pipelines::nightly {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kDeg = std::numbers::pi / 180;

} // namespace

QJsonObject measureDefaults() {
    const MeasureOptions o;
    return {
        {"back_size", o.background.mesh},
        {"back_filtersize", o.background.filter},
        {"detect_threshold", o.detection.threshold},
        {"detect_minarea", o.detection.minArea},
        {"deblend_contrast", o.detection.deblendContrast},
        {"psf_min_snr", o.psf.minSnr},
        {"astro_search_radius", o.astrometry.searchRadius},
        {"astro_max_rotation", o.astrometry.maxRotationDeg},
        {"astro_min_stars", o.astrometry.minStars},
        {"zp_min_stars", o.zpMinStars},
        {"zp_clip", o.zpClip},
        {"measure_max_saturated", o.maxSaturatedFraction},
    };
}

MeasureOptions measureOptionsOf(const QJsonObject& c) {
    MeasureOptions o;
    o.background.mesh = jobs::configCount(c, "back_size", o.background.mesh, 8, 1024);
    o.background.filter = jobs::configCount(c, "back_filtersize", o.background.filter, 1, 15);
    o.detection.threshold = jobs::configReal(c, "detect_threshold", o.detection.threshold);
    o.detection.minArea = jobs::configCount(c, "detect_minarea", o.detection.minArea, 1, 1000);
    o.detection.deblendContrast = jobs::configReal(c, "deblend_contrast", o.detection.deblendContrast);
    o.psf.minSnr = jobs::configReal(c, "psf_min_snr", o.psf.minSnr);
    o.astrometry.searchRadius = jobs::configReal(c, "astro_search_radius", o.astrometry.searchRadius);
    o.astrometry.maxRotationDeg = jobs::configReal(c, "astro_max_rotation", o.astrometry.maxRotationDeg);
    o.astrometry.minStars = jobs::configCount(c, "astro_min_stars", o.astrometry.minStars, 3, 100000);
    o.astrometry.pixelScale = paucam::kPixelScale;
    o.zpMinStars = jobs::configCount(c, "zp_min_stars", o.zpMinStars, 1, 100000);
    o.zpClip = jobs::configReal(c, "zp_clip", o.zpClip);
    o.maxSaturatedFraction = jobs::configReal(c, "measure_max_saturated", o.maxSaturatedFraction);
    if (!(o.maxSaturatedFraction >= 0 && o.maxSaturatedFraction <= 1))
        throw Error("configuration 'measure_max_saturated' must be a fraction from 0 to 1, not " +
                    jobs::configText(c, "measure_max_saturated"));
    return o;
}

namespace {

CcdMeasurement measureUnsaturatedCcd(const reduction::FloatImage& image, const reduction::Mask& mask,
                                     const MeasureOptions& o) {
    CcdMeasurement out;
    reduction::Background bkg = reduction::measureBackground(image, mask, o.background);
    out.skyLevel = bkg.meshLevel.empty() ? 0 : reduction::median(bkg.meshLevel);
    out.skyRms = bkg.meshRms.empty() ? 0 : reduction::median(bkg.meshRms);
    const reduction::MeasuredImage m(image, bkg, mask);
    // The PSF first, from the bright sources the background found (a detection of their
    // own was a fifth of a CCD's measurement); where those give too few stars (they are
    // not deblended), from a quick detection of the bright sources. Then the detection
    // proper through a filter matched to it.
    reduction::DetectionOptions seed = o.detection;
    seed.windowed = false; // the Moffat fits find the stars' centres themselves
    reduction::PsfModel first =
        reduction::measurePsf(m.subtracted(), m.rms(), m.ignored(), m.measure(bkg.brightSources, seed), o.psf);
    if (first.stars < o.psf.minStars) {
        seed.threshold = std::max(o.psfSeedThreshold, o.detection.threshold);
        first = reduction::measurePsf(m.subtracted(), m.rms(), m.ignored(), m.detect(seed), o.psf);
    }
    reduction::DetectionOptions full = o.detection;
    if (first.stars > 0) full.kernelFwhm = first.fwhm;
    out.detectionKernelFwhm = full.filter ? full.kernelFwhm : 0;
    std::vector<reduction::Source> sources = m.detect(full);
    out.psf = reduction::measurePsf(m.subtracted(), m.rms(), m.ignored(), sources, o.psf);
    if (first.stars > out.psf.stars) {
        // Fewer isolated stars among all the sources than among the bright ones alone
        // (faint neighbours): the bright ones say it.
        out.psf = first;
        out.psf.starIndices.clear();
    }
    reduction::PsfModel apertures = out.psf;
    if (!(apertures.stars > 0 && apertures.fwhm > 0)) {
        // No star to fit (a sparse or defocused CCD): the apertures take their size from
        // the most compact bright sources instead, the lower quartile of their half-light
        // radii as a Moffat (beta 3) one's, FWHM = 1.584 r50. The CCD keeps its status
        // (few_stars) and no psf_fwhm.
        std::vector<float> r50;
        for (const auto& s : sources)
            if (s.snr() >= o.calibrationMinSnr && !(s.flags & ~reduction::kSourceNeighbours) && s.fluxRadius > 0)
                r50.push_back(static_cast<float>(s.fluxRadius));
        if (r50.size() >= 3) {
            apertures.beta = 3;
            apertures.fwhm = 1.584 * reduction::quantileInPlace(r50, 0.25);
            apertures.alpha = apertures.fwhm / (2 * std::sqrt(std::pow(2.0, 1 / apertures.beta) - 1));
        }
    }
    const bool havePsf = apertures.fwhm > 0 && apertures.alpha > 0;
    const double radius = havePsf ? o.apertureFwhm * apertures.fwhm : 0;
    // The local background comes from an annulus far enough out (6 to 8 FWHM) that the
    // star's own light there (0.1 % for a Moffat of beta 3) does not matter.
    const double annulusIn = std::max(6 * apertures.fwhm, radius + 4), annulusOut = std::max(8 * apertures.fwhm, radius + 10);
    // The aperture correction to total light, from the PSF stars' own curve of growth
    // (light within 5 FWHM over light within the aperture) where there are three bright,
    // isolated ones, the model's enclosed light beyond 5 FWHM on top: a Moffat fitted to few stars
    // may get its wings (beta) wrong, and with them the 4 % of the light that falls
    // outside 2 FWHM. Else the model's.
    double correction = havePsf ? 1 / reduction::moffatEnclosed(apertures.alpha, apertures.beta, radius) : kNaN;
    if (havePsf) {
        // Only stars with no detected neighbour whose light could reach the big aperture
        // (within 5 + 3 FWHM, brighter than a thousandth of the star): in a crowded field
        // the neighbours would lift the curve and with it every calibrated flux.
        const double reach = 8 * apertures.fwhm;
        auto isolated = [&](std::size_t i) {
            const auto& s = sources[i];
            for (std::size_t k = 0; k < sources.size(); ++k)
                if (k != i && std::fabs(sources[k].x - s.x) < reach && std::fabs(sources[k].y - s.y) < reach &&
                    std::hypot(sources[k].x - s.x, sources[k].y - s.y) < reach && sources[k].fluxAuto > 1e-3 * s.fluxAuto)
                    return false;
            return true;
        };
        std::vector<float> growth;
        for (std::size_t i : out.psf.starIndices) {
            const auto& s = sources[i];
            if (s.snr() < 50 || !isolated(i)) continue;
            const auto small = m.circleLocal(s.x, s.y, radius, annulusIn, annulusOut);
            const auto big = m.circleLocal(s.x, s.y, 5 * apertures.fwhm, annulusIn, annulusOut);
            if (small.flux > 0 && big.flux > 0 && !(small.flags | big.flags)) growth.push_back(static_cast<float>(big.flux / small.flux));
        }
        if (growth.size() >= 3)
            correction = reduction::median(growth) /
                         reduction::moffatEnclosed(apertures.alpha, apertures.beta, 5 * apertures.fwhm);
        out.apertureCorrection = correction;
        out.apertureCorrectionStars = static_cast<int>(growth.size() >= 3 ? growth.size() : 0);
    }
    out.detections.reserve(sources.size());
    for (const auto& s : sources) {
        Detection d;
        d.source = s;
        d.fluxPsf = d.fluxErrPsf = d.spread = d.spreadErr = kNaN;
        d.apFlux = d.apErr = kNaN;
        d.ra = d.dec = kNaN;
        if (havePsf) {
            const auto p = reduction::psfPhotometry(m.subtracted(), m.rms(), m.ignored(), apertures, s.x, s.y);
            if (p.ok) {
                d.fluxPsf = p.flux;
                d.fluxErrPsf = p.fluxErr;
                d.spread = p.spread;
                d.spreadErr = p.spreadErr;
            }
            if (s.snr() >= o.calibrationMinSnr) {
                const auto a = m.circleLocal(s.x, s.y, radius, annulusIn, annulusOut);
                d.apFlux = a.flux * correction;
                d.apErr = a.err * correction;
            }
        }
        out.detections.push_back(d);
    }
    // Keep the meshes (for the product file) and let the full-size maps go.
    bkg.level = {};
    bkg.rms = {};
    out.background = std::move(bkg);
    return out;
}

std::string percent(double fraction) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %%", 100 * fraction);
    return buf;
}

} // namespace

CcdMeasurement measureCcd(const reduction::FloatImage& image, const reduction::Mask& mask, const MeasureOptions& o) {
    std::size_t saturated = 0;
    for (const std::uint8_t m : mask.pixels) saturated += (m & reduction::kSaturated) != 0;
    const double fraction = mask.empty() ? 0 : double(saturated) / static_cast<double>(mask.size());
    CcdMeasurement out;
    if (fraction > o.maxSaturatedFraction) {
        out.status = "saturated: " + percent(fraction) + " of its pixels (measure_max_saturated " +
                     percent(o.maxSaturatedFraction) + ")";
        return out;
    }
    try {
        return measureUnsaturatedCcd(image, mask, o);
    } catch (const Error& e) {
        if (e.code() != reduction::kSepPixelBufferFull && e.code() != reduction::kSepDeblendOverflow) throw;
        out.status = std::string("crowded: ") + e.what();
        return out;
    }
}

reduction::AstroSource astrometrySource(double x, double y, double snr, int flags, double psfFwhm) {
    if ((flags & kBadForPosition) || !(snr > 0)) return {x, y, 0, 1};
    const double sigmaPsf = (psfFwhm > 0 ? psfFwhm : 3.0) / 2.35482;
    return {x, y, snr, std::sqrt(2.0) * sigmaPsf / snr};
}

void placeOnSky(std::vector<Detection>& detections, const std::optional<wcs::Wcs>& w) {
    if (!w) {
        for (auto& d : detections) d.ra = d.dec = kNaN;
        return;
    }
    std::vector<wcs::Pixel> px;
    px.reserve(detections.size());
    for (const auto& d : detections) px.push_back({d.source.x + 1, d.source.y + 1});
    const auto sky = w->pixelToSky(px);
    for (std::size_t i = 0; i < detections.size(); ++i) {
        detections[i].ra = sky[i].ra;
        detections[i].dec = sky[i].dec;
    }
}

double julianYear(double mjd) { return 2000 + (mjd - 51544.5) / 365.25; }

double Reference::magnitude(std::size_t star, const std::string& filter) const {
    // The magnitudes are in paucam::filters() order: the 40 narrow bands, then u g r i z Y.
    const auto& all = paucam::filters();
    const auto it = std::find_if(all.begin(), all.end(), [&](const paucam::Filter& f) { return f.name == filter; });
    const auto k = static_cast<std::size_t>(it - all.begin());
    if (it == all.end() || star >= magnitudes.size() || k >= magnitudes[star].size()) return kNaN;
    return magnitudes[star][k];
}

Reference loadReference(db::Connection& c, const std::vector<wcs::SkyBox>& boxes, double margin, double epochYear) {
    Reference ref;
    if (boxes.empty()) return ref;
    double decMin = 90, decMax = -90;
    for (const auto& b : boxes) {
        decMin = std::min(decMin, b.decMin);
        decMax = std::max(decMax, b.decMax);
    }
    decMin -= margin / 3600;
    decMax += margin / 3600;
    // Right ascension per box (a box may straddle 0 h: then raMin > raMax), widened by the
    // margin at the box's worst declination.
    std::string where;
    std::vector<double> lims;
    for (const auto& b : boxes) {
        const double cosd = std::max(0.01, std::cos(std::max(std::fabs(decMin), std::fabs(decMax)) * kDeg));
        lims.push_back(std::fmod(b.raMin - margin / 3600 / cosd + 360, 360));
        lims.push_back(std::fmod(b.raMax + margin / 3600 / cosd + 360, 360));
    }
    // One query over the union: the stars within the declination band and any box's RA.
    const auto r = c.query(
        "SELECT id, catalogue, ra, dec, coalesce(pmra, 0), coalesce(pmdec, 0), epoch, "
        "array_to_string(coalesce(mag_nb, '{}'::real[]) || ARRAY[mag_u, mag_g, mag_r, mag_i, mag_z, mag_y], ',', '') "
        "FROM ref_star s WHERE dec BETWEEN $1 AND $2 AND EXISTS (SELECT 1 FROM unnest($3::float8[], $4::float8[]) "
        "AS b(lo, hi) WHERE CASE WHEN b.lo <= b.hi THEN s.ra BETWEEN b.lo AND b.hi ELSE s.ra >= b.lo OR s.ra <= b.hi END) "
        "ORDER BY id",
        decMin, decMax,
        [&] {
            std::vector<std::optional<std::string>> v;
            for (std::size_t i = 0; i < lims.size(); i += 2) v.push_back(db::toParam(lims[i]));
            return v;
        }(),
        [&] {
            std::vector<std::optional<std::string>> v;
            for (std::size_t i = 1; i < lims.size(); i += 2) v.push_back(db::toParam(lims[i]));
            return v;
        }());
    for (int i = 0; i < r.size(); ++i) {
        const double ra = r.toDouble(i, 2), dec = r.toDouble(i, 3);
        const double years = epochYear - r.toDouble(i, 6);
        reduction::RefStar s;
        s.dec = dec + r.toDouble(i, 5) * years / 3.6e6;
        s.ra = std::fmod(ra + r.toDouble(i, 4) * years / 3.6e6 / std::max(1e-6, std::cos(dec * kDeg)) + 360, 360);
        s.id = r.toInt(i, 0);
        // The narrow bands may be missing as a whole (a broad-band catalogue): pad them.
        std::vector<float> mags;
        const std::string_view text = r.text(i, 7);
        std::size_t start = 0;
        while (start <= text.size()) {
            const std::size_t end = std::min(text.find(',', start), text.size());
            const std::string item(text.substr(start, end - start));
            mags.push_back(item.empty() ? std::numeric_limits<float>::quiet_NaN() : std::stof(item));
            start = end + 1;
        }
        if (mags.size() == 6) mags.insert(mags.begin(), 40, std::numeric_limits<float>::quiet_NaN());
        s.mag = mags.size() > 42 ? mags[42] : kNaN; // r
        if (ref.catalogue.empty()) ref.catalogue = std::string(r.text(i, 1));
        ref.stars.push_back(s);
        ref.rowIds.push_back(s.id);
        ref.magnitudes.push_back(std::move(mags));
    }
    return ref;
}

} // namespace paudm::pipelines::nightly
