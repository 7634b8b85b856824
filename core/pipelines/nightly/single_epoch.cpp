// single_epoch: one science mosaic detrended and measured, CCD by CCD on the pixels in
// memory, then calibrated as a whole (astrometry, zero points), its products written and
// its rows inserted together.
#include "pipelines/nightly/single_epoch.h"

#include "archive/obs_set.h"
#include "common/workers.h"
#include "db/connection.h"
#include "jobs/config_values.h"
#include "pipelines/paucam.h"
#include "reduction/statistics.h"

#include <QJsonArray>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <span>

namespace paudm::pipelines::nightly {

namespace fs = std::filesystem;

namespace {

/// Detrends one CCD, measures it (background, sources, PSF) on the same pixels, and writes
/// its file; what the mosaic's calibration needs stays in the summary.
CcdSummary reduceCcd(fits::File& raw, const RawLayout& layout, int ccd, const Options& o, const MasterRef& bias,
                     const MasterRef& flat, const std::string& outPath, const Provenance& p,
                     const std::vector<CarriedCard>& primary, const std::optional<reduction::Sharpness>& sharpness,
                     bool defer, const std::atomic<bool>* cancelled) {
    RawCcd r = loadCcd(raw, layout, ccd, o.overscan);
    const int w = r.electrons.width, h = r.electrons.height;
    const auto mb = readMasterBiasCcd(bias.path, ccd, w, h);
    const auto mf = readMasterFlatCcd(flat.path, ccd, w, h);
    reduction::DetrendInputs in;
    in.electrons = &r.electrons;
    in.saturated = &r.saturated;
    in.bias = &mb.image;
    in.flat = &mf.flat.flat;
    in.badPixels = &mf.flat.bad;
    in.biasFrames = mb.frames;
    in.flatRelativeVariance = reduction::flatRelativeVariance(mf.frames, mf.flat.level);
    // The read noise the master bias measured, amplifier by amplifier (the header's where
    // it has none).
    for (const auto& a : r.amps) {
        double rn = a.headerReadNoise.value_or(0);
        for (const auto& m : mb.amplifiers)
            if (m.det.xmin() == a.det.xmin() && m.det.ymin() == a.det.ymin()) rn = m.readNoise;
        in.amplifiers.push_back({a.det, rn});
    }
    reduction::DetrendOptions opts = o.detrend;
    opts.cosmics.satLevel = 1e30; // saturation comes from the raw values (SATURATE), already masked
    opts.cosmics.sharpness = sharpness;
    opts.cosmics.deferWithoutSharpness = defer;
    const reduction::Detrended d = reduction::detrend(in, opts, cancelled);
    if (d.image.empty()) throw Error("stopped: the job was aborted");
    CcdSummary s;
    s.stars = {d.cosmicInfo.needsSharpness, d.cosmicInfo.sharpnessSamples};
    if (s.stars.deferred) return s;
    s.ccd = ccd;
    s.filter = mf.filter;
    raw.moveTo(layout.amps[layout.ccds.at(ccd).front()].hdu);
    if (auto f = raw.keyString("FILTER")) s.filter = *f;
    s.pixels = static_cast<long long>(d.image.size());
    s.saturated = d.saturated;
    s.cosmic = d.cosmic;
    s.masked = d.masked;
    s.skyLevel = d.skyLevel;
    s.width = w;
    s.height = h;
    // Cosmic-ray events: the 8-connected groups of flagged pixels.
    {
        reduction::Mask seen(w, h);
        std::vector<std::size_t> stack;
        for (std::size_t i = 0; i < d.mask.size(); ++i) {
            if (!(d.mask.pixels[i] & reduction::kCosmicRay) || seen.pixels[i]) continue;
            ++s.cosmicGroups;
            stack.assign(1, i);
            seen.pixels[i] = 1;
            while (!stack.empty()) {
                const std::size_t j = stack.back();
                stack.pop_back();
                const int x = static_cast<int>(j % w), y = static_cast<int>(j / w);
                for (int dy = -1; dy <= 1; ++dy)
                    for (int dx = -1; dx <= 1; ++dx) {
                        const int ax = x + dx, ay = y + dy;
                        if (ax < 0 || ay < 0 || ax >= w || ay >= h) continue;
                        const std::size_t k = static_cast<std::size_t>(ay) * w + ax;
                        if ((d.mask.pixels[k] & reduction::kCosmicRay) && !seen.pixels[k]) {
                            seen.pixels[k] = 1;
                            stack.push_back(k);
                        }
                    }
            }
        }
    }
    for (const auto& a : in.amplifiers) {
        s.readNoise += a.readNoise / in.amplifiers.size();
        s.maxReadNoise = std::max(s.maxReadNoise, a.readNoise);
    }
    ReducedCcdFile f;
    f.ccd = ccd;
    f.filter = s.filter;
    f.data = &d;
    f.wcs = r.wcs;
    f.readNoise = s.readNoise;
    f.maxReadNoise = s.maxReadNoise;
    if (r.wcs) s.box = r.wcs->footprint(w, h);
    s.headerWcs = r.wcs;
    if (o.measure) {
        CcdMeasurement m = measureCcd(d.image, d.mask, o.measurement);
        if (m.ok()) {
            s.measured = std::move(m);
            f.background = &s.measured->background;
        } else {
            s.notMeasured = m.status;
        }
    }
    writeReducedCcd(outPath, f, p, primary);
    return s;
}

Exposure exposureOf(fits::File& raw) {
    raw.moveTo(1);
    return {raw.keyDouble("MJD-OBS").value_or(0), raw.keyDouble("AIRMASS").value_or(1),
            raw.keyDouble("EXPTIME").value_or(0)};
}

using reduction::median;
MosaicSummary summarise(const std::vector<CcdSummary>& summaries, const MosaicCalibration& m) {
    MosaicSummary out;
    out.fewestZpStars = 1 << 30;
    for (std::size_t k = 0; k < summaries.size(); ++k) {
        const auto& s = summaries[k];
        out.unmeasurable += !s.notMeasured.empty();
        if (!s.measured) continue;
        ++out.measuredCcds;
        const auto& psf = s.measured->psf;
        out.psfOk += psf.ok();
        if (psf.ok()) out.fwhm.push_back(psf.fwhm * paucam::kPixelScale);
        const auto& cc = m.ccds[k];
        if (!cc.zp.ok()) continue;
        ++out.calibrated;
        out.fewestZpStars = std::min(out.fewestZpStars, cc.zp.stars);
        if (std::isfinite(cc.transparency)) out.transparency.push_back(cc.transparency);
        if (std::isfinite(cc.expectedZp)) out.lost.push_back(cc.expectedZp - cc.zp.zp);
        const double rate = s.measured->skyLevel / std::max(m.exposure.expTime, 1e-9);
        if (rate > 0) out.skyMag.push_back(cc.zp.zp - 2.5 * std::log10(rate / (paucam::kPixelScale * paucam::kPixelScale)));
    }
    // Where no CCD has stars enough for its PSF (a defocused frame), the seeing comes from
    // those with some, when they are five stars together; never from one or two stars.
    if (out.fwhm.empty()) {
        for (const auto& s : summaries)
            if (s.measured && s.measured->psf.stars > 0) {
                out.fwhm.push_back(s.measured->psf.fwhm * paucam::kPixelScale);
                out.seeingStars += s.measured->psf.stars;
            }
        if (out.seeingStars < 5) {
            out.fwhm.clear();
            out.seeingStars = 0;
        }
    } else {
        for (const auto& s : summaries)
            if (s.measured && s.measured->psf.ok()) out.seeingStars += s.measured->psf.stars;
    }
    auto ofCcds = [&](int bad) {
        return " (" + std::to_string(bad) + " of " + std::to_string(out.measuredCcds) + " CCDs)";
    };
    out.psfStatus = out.measuredCcds == 0          ? "not_measured"
                    : out.psfOk == out.measuredCcds ? "ok"
                                                    : "few_stars" + ofCcds(out.measuredCcds - out.psfOk);
    out.photoStatus = !m.astro.ok()                         ? "no_astrometry"
                      : out.calibrated == out.measuredCcds ? "ok"
                                                           : "few_stars" + ofCcds(out.measuredCcds - out.calibrated);
    if (out.unmeasurable > 0) {
        // Said in both, so that neither reads as the whole mosaic's: "saturated", "crowded".
        std::string why;
        for (const auto& s : summaries)
            if (!s.notMeasured.empty()) {
                const std::string kind = s.notMeasured.substr(0, s.notMeasured.find(':'));
                if (why.find(kind) == std::string::npos) why += (why.empty() ? "" : ", ") + kind;
            }
        const std::string note = "; " + std::to_string(out.unmeasurable) + " of " +
                                 std::to_string(out.unmeasurable + out.measuredCcds) + " CCDs not measured (" + why + ")";
        out.psfStatus += note;
        out.photoStatus += note;
    }
    return out;
}

MosaicCalibration calibrateMosaic(db::Connection& c, std::vector<CcdSummary>& summaries, const Exposure& exposure,
                                  const Options& o) {
    MosaicCalibration m;
    m.exposure = exposure;
    m.ccds.resize(summaries.size());
    std::vector<wcs::SkyBox> boxes;
    for (const auto& s : summaries)
        if (s.box) boxes.push_back(*s.box);
    m.reference = loadReference(c, boxes, o.measurement.astrometry.searchRadius + 30, julianYear(m.exposure.mjd));
    // Astrometry on the detections that can be trusted for position.
    std::vector<reduction::AstroCcd> acs;
    std::vector<std::size_t> ccdOf; // AstroCcd -> summary
    for (std::size_t k = 0; k < summaries.size(); ++k) {
        const auto& s = summaries[k];
        if (!s.headerWcs || !s.measured) continue;
        reduction::AstroCcd a{s.ccd, s.width, s.height, *s.headerWcs, {}};
        for (const auto& d : s.measured->detections)
            a.sources.push_back(astrometrySource(d.source.x + 1, d.source.y + 1, d.source.snr(), d.source.flags, s.measured->psf.fwhm));
        acs.push_back(std::move(a));
        ccdOf.push_back(k);
    }
    if (acs.empty()) {
        m.astro.status = "no_wcs";
        m.astro.message = "no CCD has a WCS in its header to start from";
    } else {
        m.astro = reduction::solveAstrometry(acs, m.reference.stars, o.measurement.astrometry);
    }
    for (std::size_t i = 0; i < acs.size(); ++i)
        if (m.astro.ok() && i < m.astro.fitted.size()) m.ccds[ccdOf[i]].fitted = m.astro.fitted[i];
    // Sky positions and footprints through the best WCS each CCD has.
    for (std::size_t k = 0; k < summaries.size(); ++k) {
        auto& s = summaries[k];
        const auto& w = m.ccds[k].fitted ? m.ccds[k].fitted : s.headerWcs;
        if (s.measured) placeOnSky(s.measured->detections, w);
        if (w) s.box = w->footprint(s.width, s.height);
    }
    // Zero points from the matched stars, per CCD.
    // (Neighbours in the wide Kron aperture do not touch the 2-FWHM calibration aperture.)
    constexpr int kBadForFlux = kBadForPosition | reduction::kSourceBlended;
    for (const auto& match : m.astro.matches) {
        const std::size_t k = ccdOf[static_cast<std::size_t>(match.ccdIndex)];
        const auto& d = summaries[k].measured->detections[match.source];
        const double mag = m.reference.magnitude(match.ref, summaries[k].filter);
        if ((d.source.flags & kBadForFlux) || !std::isfinite(d.apFlux) || !(d.apFlux > 0) || !std::isfinite(mag)) continue;
        m.ccds[k].stars.push_back({match.source, match.ref, mag});
    }
    for (std::size_t k = 0; k < summaries.size(); ++k) {
        auto& cc = m.ccds[k];
        const auto& s = summaries[k];
        cc.transparency = std::numeric_limits<double>::quiet_NaN();
        try {
            const paucam::Filter& f = paucam::filter(s.filter);
            const auto& place = paucam::placements().at(static_cast<std::size_t>(s.ccd - 1));
            cc.expectedZp = paucam::zeroPoint(f) + 2.5 * std::log10(paucam::illumination(place.centreX, place.centreY, f));
        } catch (const Error&) {
            cc.expectedZp = std::numeric_limits<double>::quiet_NaN(); // not a PAUCam filter or CCD
        }
        if (!s.measured || !m.ccds[k].fitted) {
            cc.zp.status = m.astro.ok() ? "not_measured" : "no_astrometry";
            continue;
        }
        std::vector<reduction::CalibrationStar> stars;
        for (const auto& st : cc.stars) {
            const auto& d = s.measured->detections[st.detection];
            stars.push_back({d.apFlux, d.apErr, st.mag});
        }
        cc.zp = reduction::zeroPoint(stars, m.exposure.expTime, o.measurement.zpMinStars, o.measurement.zpClip);
        if (cc.zp.ok() && std::isfinite(cc.expectedZp)) {
            const double extinction = paucam::extinction(paucam::filter(s.filter).centre) * m.exposure.airmass;
            cc.transparency = std::pow(10.0, 0.4 * (cc.zp.zp - (cc.expectedZp - extinction)));
        }
    }
    m.summary = summarise(summaries, m);
    return m;
}

} // namespace

void singleEpochRun(TaskContext& ctx) {
    const Options o = optionsOf(ctx);
    const int productionId = ctx.input()["production_id"].toInt();
    const std::int64_t rawId = ctx.input()["mosaic_id"].toInteger();
    const std::string file = ctx.input()["file"].toString().toStdString();
    const std::string tray = ctx.input()["tray"].toString().toStdString();
    if (rawId <= 0 || file.empty() || file.find('/') != std::string::npos)
        throw PermanentError("single_epoch needs input mosaic_id and file (a raw mosaic of the obs set)");
    db::Connection& c = ctx.db();
    const ObsSetRow set = obsSetOf(c, o.obsSet);
    const auto bias = findMaster(c, o, productionId, set, "master_bias", "");
    const auto flat = findMaster(c, o, productionId, set, "master_flat", tray);
    if (!bias || !flat) {
        std::string missing =
            !bias ? "no master bias (no bias frames in " + o.obsSet + ", none from an earlier night)" : "";
        if (!flat)
            missing += std::string(missing.empty() ? "" : ", and ") + "no master flat for " + tray + " (no flats of " +
                       tray + " in " + o.obsSet + ", none from an earlier night)";
        throw PermanentError("cannot reduce " + file + ": " + missing + " in release " + o.release);
    }
    OpenRaw raw = openRaw(rawPathOf(o, file));
    const std::vector<CarriedCard> primary = carriedPrimaryCards(raw.file);
    const Exposure exposure = exposureOf(raw.file);
    const std::vector<int> ccds = ccdsOf(raw.layout);
    const std::string dir = o.archive.reducedDir(o.release, o.obsSet);
    // The CCD files are written in a hidden folder, then moved into place together: the
    // products of an exposure are there whole or not at all.
    const std::string staging = dir + "/." + reducedCcdName(file, 0) + ".partial-" + std::to_string(ctx.jobId());
    fs::remove_all(staging);
    fs::create_directories(staging);
    struct Cleanup {
        std::string path;
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    } cleanup{staging};
    Provenance p = provenanceOf(o, productionId);
    p.extra.push_back({"RAWFILE", "raw/" + o.obsSet + "/" + file});
    p.extra.push_back({"BIASFILE", bias->file});
    p.extra.push_back({"FLATFILE", flat->file});
    std::vector<CcdSummary> summaries(ccds.size());
    reduction::withMosaicSharpness(
        static_cast<int>(ccds.size()),
        [&](int n, const std::function<void(int)>& work) { forEach(ctx, n, o.threads, work); },
        [&](int k, const std::optional<reduction::Sharpness>& sharpness, bool defer) {
            auto f = fits::File::open(raw.layout.path); // a fitsfile is never shared between threads
            const int ccd = ccds[static_cast<std::size_t>(k)];
            auto& s = summaries[static_cast<std::size_t>(k)];
            s = reduceCcd(f, raw.layout, ccd, o, *bias, *flat, staging + "/" + reducedCcdName(file, ccd), p, primary,
                          sharpness, defer, ctx.cancelledFlag());
            return s.stars;
        });
    std::optional<MosaicCalibration> calibration;
    if (o.measure) {
        for (const auto& s : summaries)
            if (!s.notMeasured.empty()) ctx.log(file + ": CCD " + std::to_string(s.ccd) + " not measured: " + s.notMeasured);
        calibration = calibrateMosaic(c, summaries, exposure, o);
        const auto& a = calibration->astro;
        ctx.log(file + ": astrometry " + a.status + ": " + a.message);
        // The solution into the reduced headers (and what became of it when there is none).
        for (std::size_t k = 0; k < summaries.size(); ++k) {
            const auto& cc = calibration->ccds[k];
            char v[64];
            std::vector<CarriedCard> cards{{"ASTROSTA", "'" + a.status + "'", "astrometric solution of the mosaic"}};
            if (cc.fitted) {
                std::snprintf(v, sizeof v, "%.4f", a.refSigma);
                cards.push_back({"ASTRRMS", v, "rms of the residuals (arcsec)"});
                cards.push_back({"ASTRNSTR", std::to_string(a.nstars), "stars matched in the mosaic"});
                cards.push_back({"ASTRMODL", "'" + a.ccdModel[k < a.ccdModel.size() ? k : 0] + "'", "this CCD's correction"});
                cards.push_back({"ASTRREF", "'" + calibration->reference.catalogue + "'", "reference catalogue"});
            }
            if (cc.zp.ok()) {
                std::snprintf(v, sizeof v, "%.4f", cc.zp.zp);
                cards.push_back({"MAGZP", v, "AB mag for 1 e-/s (matched reference stars)"});
                std::snprintf(v, sizeof v, "%.4f", cc.zp.err);
                cards.push_back({"MAGZPERR", v, "its uncertainty (mag)"});
            }
            updateReducedWcs(staging + "/" + reducedCcdName(file, summaries[k].ccd), cc.fitted, cards);
        }
    }
    for (int ccd : ccds)
        fs::rename(staging + "/" + reducedCcdName(file, ccd), dir + "/" + reducedCcdName(file, ccd));

    // Rows and QC.
    long long pixels = 0, saturated = 0, cosmic = 0, masked = 0, groups = 0;
    double worstMasked = 0, worstSaturated = 0;
    std::vector<ImageRow> rows;
    std::vector<double> skies;
    for (const auto& s : summaries) {
        pixels += s.pixels;
        saturated += s.saturated;
        cosmic += s.cosmic;
        masked += s.masked;
        groups += s.cosmicGroups;
        worstMasked = std::max(worstMasked, double(s.masked) / s.pixels);
        worstSaturated = std::max(worstSaturated, double(s.saturated) / s.pixels);
        skies.push_back(s.skyLevel);
        ImageRow row;
        row.imageNum = s.ccd;
        row.ccd = s.ccd;
        row.filename = reducedCcdName(file, s.ccd);
        row.rdnoise = s.readNoise;
        row.maxReadnoise = s.maxReadNoise;
        row.naxis1 = s.width;
        row.naxis2 = s.height;
        row.saturateRatio = double(s.saturated) / s.pixels;
        row.cosmicRatio = double(s.cosmic) / s.pixels;
        row.box = s.box;
        rows.push_back(row);
    }
    const bool earlier = bias->earlier || flat->earlier;
    std::string status = "ok";
    if (flat->earlier) status += ", master flat of " + flat->obsSet;
    if (bias->earlier) status += ", master bias of " + bias->obsSet;
    {
        db::Transaction tx(c);
        c.query("DELETE FROM mosaic WHERE production_id = $1 AND raw_mosaic_id = $2", productionId, rawId);
        const auto r = c.query(
            "INSERT INTO mosaic (obs_set_id, production_id, filename, archivepath, kind, raw_mosaic_id, date_obs, "
            "time_obs, rjd_obs, ra, dec, equinox, airmass, exp_time, exp_num, filtertray, obs_title, instrument, "
            "telfocus, amb_temp, humidity, pressure, wind_spd, wind_dir, guide_enabled, guide_fwhm, guide_var, "
            "nextend, "
            "detrend_status) "
            "SELECT obs_set_id, $1, filename, $2, 'red_science', id, date_obs, time_obs, rjd_obs, ra, dec, equinox, "
            "airmass, exp_time, exp_num, filtertray, obs_title, instrument, telfocus, amb_temp, humidity, pressure, "
            "wind_spd, wind_dir, guide_enabled, guide_fwhm, guide_var, $3, $4 FROM mosaic WHERE id = $5 RETURNING id",
            productionId, reducedPath(o), static_cast<int>(ccds.size()), status, rawId);
        if (r.size() == 0) throw Error("raw mosaic " + std::to_string(rawId) + " (" + file + ") is not in PAUdb");
        insertImages(c, r.toInt(0, 0), rawId, rows);
        if (calibration) insertMeasurements(c, r.toInt(0, 0), summaries, *calibration, o);
        notifyProducts(c, o.obsSet);
        tx.commit();
    }
    const double area = pixels * kPixelAreaCm2;
    ctx.check("masked_fraction", worstMasked, "fraction", file + ", worst CCD");
    ctx.check("saturated_fraction", worstSaturated, "fraction", file + ", worst CCD");
    // Hits per cm^2 per second of exposure (readout included: 30 s), against what the
    // altitude of La Palma brings (about 0.025).
    ctx.check("cosmic_ray_density", groups / area / std::max(1.0, exposure.expTime + 30), "cm^-2 s^-1", file);
    ctx.check("calibration_from_earlier_night", earlier ? 1 : 0, "", status);
    QJsonObject measured;
    if (calibration) {
        const MosaicCalibration& m = *calibration;
        const MosaicSummary& sum = m.summary;
        const std::string what = file + " (" + tray + ")";
        if (!sum.fwhm.empty())
            ctx.check("seeing_arcsec", median(sum.fwhm), "arcsec",
                      what + ", median PSF FWHM of " + std::to_string(sum.fwhm.size()) + " CCDs (" +
                          std::to_string(sum.seeingStars) + " stars)");
        // The stars behind the mosaic's seeing (a CCD short of stars leaves the seeing to
        // the others, and says so in its own psf_status).
        ctx.check("psf_stars", sum.seeingStars, "stars",
                  what + ", behind the seeing (" + std::to_string(sum.psfOk) + " of " + std::to_string(sum.measuredCcds) +
                      " CCDs with a PSF of their own)");
        ctx.check("astrometry_solved", m.astro.ok() ? 1 : 0, "", what + ": " + m.astro.status + ": " + m.astro.message);
        if (m.astro.ok()) {
            ctx.check("astro_rms_arcsec", m.astro.refSigma, "arcsec", what);
            ctx.check("astro_stars", m.astro.nstars, "stars", what);
        }
        // Over every CCD meant to be measured: one that could not be has no zero point either.
        const int meant = sum.measuredCcds + sum.unmeasurable;
        ctx.check("photometry_calibrated_fraction", meant ? double(sum.calibrated) / meant : 0, "fraction",
                  what + ", CCDs with a zero point" +
                      (sum.unmeasurable ? " (" + std::to_string(sum.unmeasurable) + " not measured)" : std::string()));
        if (sum.calibrated) ctx.check("zero_point_stars", sum.fewestZpStars, "stars", what + ", CCD with the fewest");
        if (!sum.transparency.empty()) {
            ctx.check("transparency", median(sum.transparency), "fraction", what + ", median of the CCDs");
            const auto [lo, hi] = std::minmax_element(sum.transparency.begin(), sum.transparency.end());
            ctx.check("zero_point_scatter_mag", 2.5 * std::log10(*hi / *lo), "mag", what + ", spread of the CCDs' transparency");
        }
        if (!sum.skyMag.empty()) ctx.check("sky_mag_arcsec2", median(sum.skyMag), "mag/arcsec^2", what + ", median of the CCDs");
        auto orNull = [](double v) { return std::isfinite(v) ? QJsonValue(v) : QJsonValue(); };
        measured = QJsonObject{{"astro_status", QString::fromStdString(m.astro.status)},
                               {"astro_message", QString::fromStdString(m.astro.message)},
                               {"astro_rms_arcsec", m.astro.refSigma},
                               {"astro_stars", m.astro.nstars},
                               {"pointing_offset_east_arcsec", m.astro.offsetEast},
                               {"pointing_offset_north_arcsec", m.astro.offsetNorth},
                               {"rotation_deg", m.astro.rotationDeg},
                               {"seeing_arcsec", orNull(median(sum.fwhm))},
                               {"transparency", orNull(median(sum.transparency))},
                               {"ccds_calibrated", sum.calibrated}};
    }
    QJsonArray ccdOut;
    for (std::size_t k = 0; k < summaries.size(); ++k) {
        const auto& s = summaries[k];
        QJsonObject ccd{{"ccd", s.ccd},
                        {"file", QString::fromStdString(reducedPath(o) + "/" + reducedCcdName(file, s.ccd))},
                        {"sky_e", s.skyLevel},
                        {"cosmic_rays", s.cosmicGroups},
                        {"masked_fraction", double(s.masked) / s.pixels}};
        if (!s.notMeasured.empty()) ccd["measure_status"] = QString::fromStdString(s.notMeasured);
        if (s.measured) {
            ccd["detections"] = static_cast<int>(s.measured->detections.size());
            ccd["background_e"] = s.measured->skyLevel;
            ccd["psf_fwhm_arcsec"] = s.measured->psf.fwhm * paucam::kPixelScale;
            ccd["psf_status"] = QString::fromStdString(s.measured->psf.status);
            ccd["psf_stars"] = s.measured->psf.stars;
            if (s.measured->apertureCorrection > 0) {
                ccd["aperture_correction"] = s.measured->apertureCorrection;
                ccd["aperture_correction_stars"] = s.measured->apertureCorrectionStars;
            }
            const auto& cc = calibration->ccds[k];
            ccd["zp_status"] = QString::fromStdString(cc.zp.status);
            if (cc.zp.ok()) {
                ccd["zp"] = cc.zp.zp;
                ccd["zp_err"] = cc.zp.err;
                ccd["zp_stars"] = cc.zp.stars;
            }
            if (std::isfinite(cc.transparency)) ccd["transparency"] = cc.transparency;
        }
        ccdOut.append(ccd);
    }
    ctx.setOutput({{"file", QString::fromStdString(file)},
                   {"folder", QString::fromStdString(reducedPath(o))},
                   {"master_bias", QString::fromStdString(bias->file)},
                   {"master_flat", QString::fromStdString(flat->file)},
                   {"calibration_from_earlier_night", earlier},
                   {"detrend_status", QString::fromStdString(status)},
                   {"sky_e", reduction::medianInPlace(std::span<double>(skies))},
                   {"measured", measured},
                   {"ccds", ccdOut}});
}

} // namespace paudm::pipelines::nightly
