// single_epoch's rows in PAUdb: a measured mosaic's image columns, detections, star
// photometry, zero points and the mosaic's summary, in one statement per table.
#include "pipelines/nightly/single_epoch.h"

#include "db/connection.h"
#include "pipelines/paucam.h"
#include "reduction/statistics.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

namespace paudm::pipelines::nightly {

namespace {

double mean(const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return v.empty() ? std::numeric_limits<double>::quiet_NaN() : sum / v.size();
}
double standardDeviation(const std::vector<double>& v) {
    if (v.size() < 2) return std::numeric_limits<double>::quiet_NaN();
    const double m = mean(v);
    double s2 = 0;
    for (double x : v) s2 += (x - m) * (x - m);
    return std::sqrt(s2 / (v.size() - 1));
}

constexpr int kClippedFromZp = 256; ///< star_photometry.flags: left out of the zero point

/// A database value for a measured number: NULL for NaN.
db::Param numberOrNull(double v) { return std::isfinite(v) ? db::toParam(v) : db::Param(); }

/// The phot_method row that says how the nightly pipeline measured (one per distinct set).
int photMethodId(db::Connection& c, const MeasureOptions& o) {
    char bkg[96], ext[160];
    std::snprintf(bkg, sizeof bkg, "mesh %d px, median filter %d, sources masked and estimated again", o.background.mesh,
                  o.background.filter);
    std::snprintf(ext, sizeof ext, "matched filter %.1f sigma, %d px; aperture %.1f FWHM, annulus 6-8 FWHM, curve of growth",
                  o.detection.threshold, o.detection.minArea, o.apertureFwhm);
    const std::string code = "PAUdm nightly " PAUDM_VERSION ", SEP " + reduction::sepVersion();
    // One statement and no row lock: DO UPDATE would lock the shared row until this
    // mosaic's transaction ends, and every single_epoch of the farm would wait on it.
    const auto r = c.query(
        "WITH added AS (INSERT INTO phot_method (background_method, background_parameter, extraction_code, "
        "extraction_method, extraction_parameter, comments) VALUES ('sextractor_mesh', $1, $2, 'aperture', $3, "
        "'zero points of the nightly pipeline from matched reference stars') ON CONFLICT DO NOTHING RETURNING id) "
        "SELECT id FROM added UNION ALL SELECT id FROM phot_method WHERE background_method = 'sextractor_mesh' AND "
        "background_parameter = $1 AND extraction_code = $2 AND extraction_method = 'aperture' AND "
        "extraction_parameter = $3 LIMIT 1",
        std::string(bkg), code, std::string(ext));
    return static_cast<int>(r.toInt(0, 0));
}

} // namespace

void insertMeasurements(db::Connection& c, std::int64_t mosaicId, const std::vector<CcdSummary>& summaries,
                        const MosaicCalibration& m, const Options& o) {
    std::map<int, std::int64_t> imageOfCcd;
    {
        const auto r = c.query("SELECT ccd_num, id FROM image WHERE mosaic_id = $1", mosaicId);
        for (int i = 0; i < r.size(); ++i) imageOfCcd[static_cast<int>(r.toInt(i, 0))] = r.toInt(i, 1);
    }
    using Column = std::vector<std::optional<std::string>>;
    const double t = std::max(m.exposure.expTime, 1e-9);
    {
        Column id, bkg, bkgStd, n, fit, fwhm, stars, transparency, zp, zpErr, zpStars;
        for (std::size_t k = 0; k < summaries.size(); ++k) {
            const auto& s = summaries[k];
            if (!s.measured) continue;
            const auto& cc = m.ccds[k];
            const auto& psf = s.measured->psf;
            const bool ok = cc.zp.ok();
            id.push_back(db::toParam(imageOfCcd.at(s.ccd)));
            bkg.push_back(db::toParam(s.measured->skyLevel / t));
            bkgStd.push_back(db::toParam(s.measured->skyRms / t));
            n.push_back(db::toParam(static_cast<int>(s.measured->detections.size())));
            fit.push_back(psf.stars ? db::toParam(psf.chi2) : db::Param());
            fwhm.push_back(psf.stars ? db::toParam(psf.fwhm * paucam::kPixelScale) : db::Param());
            stars.push_back(db::toParam(psf.stars));
            transparency.push_back(numberOrNull(cc.transparency));
            zp.push_back(ok ? db::toParam(cc.zp.zp) : db::Param());
            zpErr.push_back(ok ? db::toParam(cc.zp.err) : db::Param());
            zpStars.push_back(ok ? db::toParam(cc.zp.stars) : db::Param());
        }
        c.query("UPDATE image i SET bkg_mean = u.bkg, bkg_std = u.bstd, n_extracted = u.n, psf_fit = u.fit, "
                "psf_fwhm = u.fwhm, psf_stars = u.stars, transparency = u.t, zp_nightly = u.zp, zp_nightly_err = u.zpe, "
                "zp_nightly_stars = u.zps FROM unnest($1::bigint[], $2::real[], $3::real[], $4::int[], $5::real[], "
                "$6::real[], $7::int[], $8::real[], $9::real[], $10::real[], $11::int[]) "
                "AS u(id, bkg, bstd, n, fit, fwhm, stars, t, zp, zpe, zps) WHERE i.id = u.id",
                id, bkg, bkgStd, n, fit, fwhm, stars, transparency, zp, zpErr, zpStars);
    }
    // Detections, all CCDs in one COPY.
    std::size_t k = 0, i = 0;
    c.copyIn("COPY detection (image_id, band, background, spread_model, spreaderr_model, flux_auto, flux_err_auto, "
             "flux_psf, flux_err_psf, flags, elongation, ra, dec, x, y) FROM STDIN",
             [&](std::string& buf) {
                 for (; k < summaries.size() && buf.size() < (1 << 20); ++k, i = 0) {
                     const auto& s = summaries[k];
                     if (!s.measured) continue;
                     const std::string image = std::to_string(imageOfCcd.at(s.ccd));
                     for (; i < s.measured->detections.size(); ++i) {
                         const Detection& d = s.measured->detections[i];
                         const db::Param f[] = {image,
                                                s.filter,
                                                db::toParam(d.source.background),
                                                numberOrNull(d.spread),
                                                numberOrNull(d.spreadErr),
                                                numberOrNull(d.source.fluxAuto),
                                                numberOrNull(d.source.fluxErrAuto),
                                                numberOrNull(d.fluxPsf),
                                                numberOrNull(d.fluxErrPsf),
                                                db::toParam(d.source.flags),
                                                numberOrNull(d.source.elongation()),
                                                numberOrNull(d.ra),
                                                numberOrNull(d.dec),
                                                db::toParam(d.source.x + 1),
                                                db::toParam(d.source.y + 1)};
                         for (std::size_t j = 0; j < std::size(f); ++j) {
                             if (j) buf += '\t';
                             db::Connection::appendCopyField(buf, f[j]);
                         }
                         buf += '\n';
                     }
                 }
                 return k < summaries.size();
             });
    // The calibration stars and each CCD's zero point.
    const int method = photMethodId(c, o.measurement);
    Column image, ref, x, y, flux, err, bg, bgErr, flags, zpImage, zpT, zpValue, zpErr;
    for (std::size_t j = 0; j < summaries.size(); ++j) {
        const auto& s = summaries[j];
        const auto& cc = m.ccds[j];
        if (!s.measured) continue;
        const auto imageId = db::toParam(imageOfCcd.at(s.ccd));
        for (std::size_t n = 0; n < cc.stars.size(); ++n) {
            const Detection& d = s.measured->detections[cc.stars[n].detection];
            image.push_back(imageId);
            ref.push_back(db::toParam(m.reference.rowIds[cc.stars[n].ref]));
            x.push_back(db::toParam(d.source.x + 1));
            y.push_back(db::toParam(d.source.y + 1));
            flux.push_back(db::toParam(d.apFlux));
            err.push_back(db::toParam(d.apErr));
            bg.push_back(db::toParam(d.source.background));
            bgErr.push_back(db::toParam(s.measured->skyRms));
            const bool used = n < cc.zp.used.size() && cc.zp.used[n];
            flags.push_back(db::toParam(d.source.flags | (used ? 0 : kClippedFromZp)));
        }
        if (cc.zp.ok()) {
            zpImage.push_back(imageId);
            zpT.push_back(numberOrNull(cc.transparency));
            zpValue.push_back(db::toParam(cc.zp.zp));
            zpErr.push_back(db::toParam(cc.zp.err));
        }
    }
    c.query("INSERT INTO star_photometry (image_id, phot_method_id, ref_cat, ref_id, x_image, y_image, flux, flux_err, bg, "
            "bg_err, flags) SELECT u.image, $1, $2, u.ref, u.x, u.y, u.flux, u.err, u.bg, u.bge, u.flags FROM "
            "unnest($3::bigint[], $4::bigint[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], "
            "$10::float8[], $11::int[]) AS u(image, ref, x, y, flux, err, bg, bge, flags)",
            method, m.reference.catalogue, image, ref, x, y, flux, err, bg, bgErr, flags);
    c.query("INSERT INTO image_zp (image_id, phot_method_id, calib_method, transparency, zp, zp_error) "
            "SELECT u.image, $1, 'nightly_ref_stars', u.t, u.zp, u.err FROM unnest($2::bigint[], $3::float8[], "
            "$4::float8[], $5::float8[]) AS u(image, t, zp, err)",
            method, zpImage, zpT, zpValue, zpErr);
    // The mosaic.
    const MosaicSummary& sum = m.summary;
    const bool solved = m.astro.ok();
    c.query("UPDATE mosaic SET astro_status = $2, astro_ref_cat = $3, astro_nstars = $4, astro_nstars_highsn = $5, "
            "astro_ref_sigma = $6, astro_href_sigma = $7, astro_chi2 = $8, astro_contrast = $9, photo_status = $10, "
            "psf_model_status = $11, mean_psf_fwhm = $12, extinction = $13, extinction_err = $14 WHERE id = $1",
            mosaicId, m.astro.status, m.reference.catalogue.empty() ? db::Param() : db::toParam(m.reference.catalogue),
            m.astro.nstars, solved ? db::toParam(m.astro.nstarsHighSnr) : db::Param(),
            solved ? db::toParam(m.astro.refSigma) : db::Param(), solved ? db::toParam(m.astro.hrefSigma) : db::Param(),
            solved ? db::toParam(m.astro.chi2) : db::Param(), db::toParam(m.astro.contrast), sum.photoStatus,
            sum.psfStatus, numberOrNull(mean(sum.fwhm)), numberOrNull(mean(sum.lost)),
            numberOrNull(standardDeviation(sum.lost)));
}

} // namespace paudm::pipelines::nightly
