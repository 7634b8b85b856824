// The PAUdb schema holds every table and column of the paper's Appendix B (tables .1 to
// .4), each described with COMMENT ON, plus the reference catalogues and the job engine.
#include "testserver.h"

#include "db/connection.h"
#include "db/migrations.h"

#include <QtTest>

#include <map>
#include <set>

using paudm::db::Connection;
using paudm::test::TestServer;

namespace {

// Transcribed from Appendix B of the paper (tables .1 to .4), lower-cased.
const std::map<std::string, std::vector<std::string>> kAppendixB = {
    {"production", {"comments", "created", "id", "input_production_id", "job_id", "pipeline", "release",
                    "software_version"}},
    {"mosaic", {"airmass", "amb_temp", "archivepath", "astro_chi2", "astro_contrast", "astro_href_sigma",
                "astro_nstars", "astro_nstars_highsn", "astro_ref_cat", "astro_ref_sigma", "astro_status", "comment",
                "date_creat", "date_obs", "dec", "detrend_status", "equinox", "exp_num", "exp_time", "extinction",
                "extinction_err", "filename", "filtertray", "filtertray_tmp", "guide_enabled", "guide_fwhm",
                "guide_var", "humidity", "id", "instrument", "kind", "mean_psf_fwhm", "merged_mosaics", "nextend",
                "obs_set_id", "obs_title", "photo_status", "pressure", "production_id", "psf_model_status", "ra",
                "rjd_obs", "telfocus", "time_creat", "time_obs", "wind_dir", "wind_spd", "zp_phot_id"}},
    {"image", {"amp_num", "bkg_mean", "bkg_std", "ccd_num", "cosmic_ratio", "dec_max", "dec_min", "filter", "gain",
               "id", "image_num", "max_readnoise", "mosaic_id", "naxis1", "naxis2", "n_extracted", "psf_fit",
               "psf_fwhm", "psf_stars", "ra_max", "ra_min", "rdnoise", "saturate_ratio", "transparency", "waveband",
               "wavelength", "zp_nightly", "zp_nightly_err", "zp_nightly_stars"}},
    {"obs_set", {"id", "instrument", "log", "night", "notes", "obs_set", "operator", "rjd_start", "rjd_stop"}},
    {"project", {"contact_email", "contact_name", "created_at", "description", "id", "name"}},
    {"crosstalk_ratio", {"amp_num_dest", "amp_num_orig", "ccd_num_dest", "ccd_num_orig", "production_id", "ratio"}},
    {"detection", {"id", "image_id", "insert_date", "band", "background", "class_star", "spread_model",
                   "spreaderr_model", "flux_auto", "flux_err_auto", "flux_psf", "flux_err_psf", "flux_model",
                   "flux_err_model", "flags", "elongation", "dec", "ra", "x", "y", "zp_offset"}},
    {"phot_method", {"background_method", "background_parameter", "comments", "extraction_code", "extraction_method",
                     "extraction_parameter", "id", "scatterlight_method", "scatterlight_parameter"}},
    {"phot_zp", {"band", "date", "id", "production_id", "zp"}},
    {"template", {"filename", "id", "template_index", "template_lib", "template_name"}},
    {"star_photometry", {"bg", "bg_err", "flags", "flux", "flux_err", "id", "image_id", "phot_method_id", "ref_cat",
                         "ref_id", "x_image", "y_image"}},
    {"star_template_zp", {"id", "star_zp_id", "template_fit_band_id", "zp", "zp_error", "zp_weight"}},
    {"star_zp", {"calib_method", "id", "star_photometry_id", "zp", "zp_error", "zp_weight"}},
    {"image_zp", {"calib_method", "id", "image_id", "phot_method_id", "transparency", "zp", "zp_error"}},
    {"forced_aperture", {"annulus_a_in", "annulus_a_out", "annulus_b_in", "annulus_b_out", "annulus_ellipticity",
                         "annulus_median", "annulus_samples", "annulus_sigma", "aperture_a", "aperture_b",
                         "aperture_theta", "aperture_x", "aperture_y", "flag", "flux", "flux_error",
                         "image_ellipticity", "image_id", "pixel_id", "production_id", "ref_id"}},
    {"forced_aperture_coadd", {"band", "chi2", "flux", "flux_error", "n_coadd", "production_id", "ref_id", "run"}},
    {"sdss_spec_photo", {"_class", "dec", "extinction_g", "extinction_i", "extinction_r", "extinction_u",
                         "extinction_z", "fiberid", "fibermagerr_g", "fibermagerr_i", "fibermagerr_r",
                         "fibermagerr_u", "fibermagerr_z", "fibermag_g", "fibermag_i", "fibermag_r", "fibermag_u",
                         "fibermag_z", "mjd", "mode", "modelmagerr_g", "modelmagerr_i", "modelmagerr_r",
                         "modelmagerr_u", "modelmagerr_z", "modelmag_g", "modelmag_i", "modelmag_r", "modelmag_u",
                         "modelmag_z", "objid", "plate", "ra", "specobjid", "subclass", "survey", "tile", "z", "zerr",
                         "zwarning"}},
    {"membra_ref_cat", {"production_id", "ref_cat"}},
    {"photoz_bcnz", {"chi2", "ebv", "n_band", "odds", "production_id", "pz_width", "ref_id", "zb", "zb_mean"}},
    {"dependency", {"super_id", "parent_id", "child_id"}},
    {"job", {"config", "description", "id", "input", "name", "output", "status", "super_id", "token", "ts_created",
             "ts_ended", "ts_queued", "ts_started"}},
    {"quality_control", {"check_name", "id", "job_id", "max_value", "min_value", "plot_file", "qc_pass", "ref", "time",
                         "units", "value"}},
    {"tag", {"job_id", "name", "value"}},
};

// Foreign keys marked in italics in Appendix B: (table, column) -> referenced table.
const std::vector<std::tuple<std::string, std::string, std::string>> kForeignKeys = {
    {"production", "input_production_id", "production"}, {"production", "job_id", "job"},
    {"mosaic", "obs_set_id", "obs_set"},                 {"mosaic", "production_id", "production"},
    {"mosaic", "zp_phot_id", "phot_zp"},                 {"image", "mosaic_id", "mosaic"},
    {"crosstalk_ratio", "production_id", "production"},  {"detection", "image_id", "image"},
    {"phot_zp", "production_id", "production"},          {"star_photometry", "image_id", "image"},
    {"star_photometry", "phot_method_id", "phot_method"}, {"star_template_zp", "star_zp_id", "star_zp"},
    {"star_template_zp", "template_fit_band_id", "template"}, {"star_zp", "star_photometry_id", "star_photometry"},
    {"image_zp", "image_id", "image"},                   {"image_zp", "phot_method_id", "phot_method"},
    {"forced_aperture", "image_id", "image"},            {"forced_aperture", "production_id", "production"},
    {"forced_aperture_coadd", "production_id", "production"}, {"membra_ref_cat", "production_id", "production"},
    {"photoz_bcnz", "production_id", "production"},      {"dependency", "super_id", "job"},
    {"dependency", "parent_id", "job"},                  {"dependency", "child_id", "job"},
    {"quality_control", "job_id", "job"},                {"tag", "job_id", "job"},
    // job.super_id -> job is kept by statement triggers instead (migration 0026; checked by
    // test_jobs' superJobIsCheckedAndDeletesCascade).
};

} // namespace

class TestSchema : public QObject {
    Q_OBJECT
    std::optional<Connection> c_;

private slots:
    void initTestCase() {
        c_.emplace(Connection::open(TestServer::instance().freshDatabase("t_schema")));
        paudm::db::migrate(*c_);
    }

    void appendixBTablesAndColumns() {
        QCOMPARE(kAppendixB.size(), size_t(23)); // the 23 tables of Appendix B tables .1-.4
        for (const auto& [table, columns] : kAppendixB) {
            const auto r = c_->query("SELECT column_name FROM information_schema.columns "
                                     "WHERE table_schema = 'public' AND table_name = $1",
                                     table);
            QVERIFY2(r.size() > 0, ("missing table " + table).c_str());
            std::set<std::string> have;
            for (int i = 0; i < r.size(); ++i) have.insert(std::string(r.text(i, 0)));
            for (const auto& col : columns)
                QVERIFY2(have.count(col), ("missing column " + table + "." + col).c_str());
        }
    }

    void referenceCataloguesAndEngineTables() {
        for (const char* t : {"ref_star", "ref_galaxy", "runner", "job_attempt", "job_ready", "job_lease", "schema_migration"})
            QVERIFY2(c_->query("SELECT to_regclass($1) IS NOT NULL", t).toBool(0, 0), t);
        for (const char* col : {"ra", "dec", "mag_g", "mag_nb"})
            QVERIFY(c_->query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'ref_star' "
                              "AND column_name = $1", col).toInt(0, 0) == 1);
        for (const char* col : {"ra", "dec", "a", "b", "theta", "mag_i", "flux_nb"})
            QVERIFY(c_->query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'ref_galaxy' "
                              "AND column_name = $1", col).toInt(0, 0) == 1);
        for (const char* col : {"priority", "attempts", "max_attempts", "runner_id",
                                "unfinished_parents"})
            QVERIFY(c_->query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'job' "
                              "AND column_name = $1", col).toInt(0, 0) == 1);
    }

    void foreignKeys() {
        for (const auto& [table, column, target] : kForeignKeys) {
            const auto r = c_->query(R"sql(
                SELECT ct.relname FROM pg_constraint k
                JOIN pg_class t ON t.oid = k.conrelid
                JOIN pg_class ct ON ct.oid = k.confrelid
                JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
                WHERE k.contype = 'f' AND t.relname = $1 AND a.attname = $2)sql",
                                     table, column);
            QVERIFY2(r.size() == 1, ("no foreign key on " + table + "." + column).c_str());
            QCOMPARE(std::string(r.text(0, 0)), target);
        }
    }

    void everyTableAndColumnIsDescribed() {
        const auto tables = c_->exec(R"sql(
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND obj_description(c.oid, 'pg_class') IS NULL)sql");
        QVERIFY2(tables.size() == 0, ("undescribed table: " + std::string(tables.size() ? tables.text(0, 0) : "")).c_str());
        const auto cols = c_->exec(R"sql(
            SELECT c.relname || '.' || a.attname FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
              AND col_description(c.oid, a.attnum) IS NULL)sql");
        QString missing;
        for (int i = 0; i < cols.size(); ++i) missing += QString::fromStdString(std::string(cols.text(i, 0))) + " ";
        QVERIFY2(cols.size() == 0, qPrintable("undescribed columns: " + missing));
        // And there are many of them: the check above is not vacuous.
        QVERIFY(c_->exec("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public'")
                    .toInt(0, 0) > 350);
    }

    void jobStatusIsConstrained() {
        paudm::db::Transaction t(*c_);
        try {
            c_->exec("INSERT INTO job (name, status) VALUES ('noop', 'EXPLODED')");
            QFAIL("accepted an unknown status");
        } catch (const paudm::Error& e) {
            QCOMPARE(QString::fromStdString(e.code()), QString("23514")); // check_violation
        }
    }
};

QTEST_GUILESS_MAIN(TestSchema)
#include "test_schema.moc"
