#include "pipelines/nightly/nightly.h"

#include "archive/layout.h"
#include "archive/obs_set.h"
#include "common/workers.h"
#include "db/connection.h"
#include "fits/fits.h"
#include "jobs/config_values.h"
#include "jobs/task.h"
#include "pipelines/nightly/measure.h"
#include "pipelines/paucam.h"
#include "pipelines/nightly/products.h"
#include "pipelines/nightly/raw_frames.h"
#include "reduction/statistics.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

namespace paudm::pipelines::nightly {

namespace {

namespace fs = std::filesystem;
using jobs::PermanentError;
using jobs::TaskContext;

constexpr double kPixelAreaCm2 = 15e-4 * 15e-4; // PAUCam's 15 um pixels

QJsonArray range(std::optional<double> lo, std::optional<double> hi) {
    return QJsonArray{lo ? QJsonValue(*lo) : QJsonValue(), hi ? QJsonValue(*hi) : QJsonValue()};
}

QJsonObject qcRange(std::optional<double> passLo, std::optional<double> passHi, std::optional<double> warnLo,
                    std::optional<double> warnHi) {
    return {{"pass", range(passLo, passHi)}, {"warn", range(warnLo, warnHi)}};
}

} // namespace

QJsonObject nightlyDefaults() {
    QJsonObject d{
        {"obs_set", ""},
        {"archive", ""},
        {"release", kDefaultRelease},
        {"threads", 1},
        {"on_subjob_failure", "continue"},
        {"overscan", "clipped_mean"}, // or "median": the level of each overscan row
        {"overscan_clip", 3.0},
        {"bias_combine", "mean"}, // or "median", after sigma clipping
        {"bias_clip", 4.0},       // standard deviations of a frame's read noise
        {"flat_combine", "median"},
        {"flat_clip", 3.0},
        {"cosmic_rays", true},
        {"cosmic_sigclip", 4.5},
        {"cosmic_sigfrac", 0.3},
        {"cosmic_objlim", 5.0},
        {"cosmic_iterations", 4},
        {"protect_stars", true},
        {"qc",
         QJsonObject{
             {"bias_level_adu", qcRange(500, 10000, 100, 30000)},
             {"bias_noise_e", qcRange(0, 3, 0, 6)},
             {"read_noise_e", qcRange(2, 7, 1, 10)},
             {"read_noise_vs_header", qcRange(-0.05, 0.05, -0.15, 0.15)},
             {"flat_level_e", qcRange(5000, 60000, 1000, 100000)},
             {"flat_structure", qcRange(0, 0.03, 0, 0.06)},
             {"bad_pixel_fraction", qcRange(0, 0.005, 0, 0.02)},
             {"masked_fraction", qcRange(0, 0.02, 0, 0.05)},
             {"saturated_fraction", qcRange(0, 0.005, 0, 0.02)},
             {"cosmic_ray_density", qcRange(0, 0.1, 0, 0.3)},
             {"calibration_from_earlier_night", qcRange(0, 0, 0, 1)},
             {"science_reduced_fraction", qcRange(1, 1, 0.9, 1)},
             // The measurement (part 2): seeing and sky as the survey's planning cuts them.
             {"seeing_arcsec", qcRange(0, 1.3, 0, 2.0)},
             {"psf_stars", qcRange(10, std::nullopt, 3, std::nullopt)},
             {"sky_mag_arcsec2", qcRange(19.0, std::nullopt, 17.5, std::nullopt)},
             {"transparency", qcRange(0.8, 1.25, 0.5, 1.4)},
             {"zero_point_stars", qcRange(10, std::nullopt, 3, std::nullopt)},
             {"zero_point_scatter_mag", qcRange(0, 0.05, 0, 0.1)},
             {"astro_rms_arcsec", qcRange(0, 0.1, 0, 0.3)},
             {"astro_stars", qcRange(50, std::nullopt, 8, std::nullopt)},
             {"astrometry_solved", qcRange(1, 1, 1, 1)},
             {"photometry_calibrated_fraction", qcRange(1, 1, 0.5, 1)},
             {"science_pass_fraction", qcRange(0.8, 1, 0.5, 1)},
         }},
        {"measure", true}, // background, detection, PSF, astrometry and zero points
    };
    const QJsonObject m = measureDefaults();
    for (auto it = m.begin(); it != m.end(); ++it) d[it.key()] = it.value();
    return d;
}

int ensureProduction(db::Connection& c, const std::string& release, std::int64_t jobId, std::optional<int> input) {
    const auto r =
        c.query("INSERT INTO production (pipeline, release, software_version, job_id, input_production_id) "
                "VALUES ('nightly', $1, $2, $3, $4) ON CONFLICT (pipeline, release) DO UPDATE "
                "SET software_version = EXCLUDED.software_version, "
                "input_production_id = coalesce(production.input_production_id, EXCLUDED.input_production_id) "
                "RETURNING id",
                release, std::string(PAUDM_VERSION), jobId, input);
    return static_cast<int>(r.toInt(0, 0));
}

std::optional<int> previousProduction(db::Connection& c, const std::string& obsSet, const std::string& release) {
    const auto r = c.query("SELECT p.id FROM production p JOIN mosaic m ON m.production_id = p.id "
                           "JOIN obs_set o ON o.id = m.obs_set_id "
                           "WHERE p.pipeline = 'nightly' AND p.release <> $2 AND o.obs_set = $1 "
                           "ORDER BY p.created DESC, p.id DESC LIMIT 1",
                           obsSet, release);
    if (r.size() == 0) return std::nullopt;
    return static_cast<int>(r.toInt(0, 0));
}

namespace {

// ---------------------------------------------------------------- configuration

struct Options {
    std::string obsSet, release;
    archive::ArchiveLayout archive{""};
    int threads = 1;
    reduction::OverscanOptions overscan;
    reduction::CombineOptions biasCombine;
    reduction::FlatOptions flat;
    reduction::DetrendOptions detrend;
    bool measure = true;
    MeasureOptions measurement;
};

reduction::CombineOptions::Method combineMethod(const QJsonObject& c, const char* key, const char* fallback) {
    const std::string m = jobs::configText(c, key, fallback);
    if (m == "mean") return reduction::CombineOptions::Method::Mean;
    if (m == "median") return reduction::CombineOptions::Method::Median;
    throw PermanentError(std::string("configuration '") + key + "' is mean or median, not '" + m + "'");
}

Options optionsOf(const TaskContext& ctx) {
    const QJsonObject& c = ctx.config();
    Options o;
    o.obsSet = jobs::configText(c, "obs_set");
    if (!archive::parseObsSetName(o.obsSet))
        throw PermanentError("configuration 'obs_set' must name an obs set (YYYYMMDD_NNN), not '" + o.obsSet + "'");
    o.release = jobs::configText(c, "release", kDefaultRelease);
    if (o.release.empty() || o.release.find('/') != std::string::npos || o.release.starts_with("."))
        throw PermanentError("configuration 'release' must be a folder name (no '/'), not '" + o.release + "'");
    o.archive = archive::ArchiveLayout::resolve(jobs::configText(c, "archive"));
    o.threads = jobs::configCount(c, "threads", 1, 1, 64);
    const std::string overscan = jobs::configText(c, "overscan", "clipped_mean");
    if (overscan == "median")
        o.overscan.method = reduction::OverscanOptions::Method::Median;
    else if (overscan != "clipped_mean")
        throw PermanentError("configuration 'overscan' is clipped_mean or median, not '" + overscan + "'");
    o.overscan.clipSigma = jobs::configReal(c, "overscan_clip", 3);
    // Bias frames: rejection around the median against the read noise (ccdclip), then the
    // mean of what is left for the least noise.
    o.biasCombine.method = combineMethod(c, "bias_combine", "mean");
    o.biasCombine.centre = reduction::CombineOptions::Centre::Median;
    o.biasCombine.deviation = reduction::CombineOptions::Deviation::MadStd;
    o.biasCombine.low = o.biasCombine.high = jobs::configReal(c, "bias_clip", 4);
    o.biasCombine.iterations = 1;
    o.biasCombine.threads = o.threads;
    o.flat.combine.method = combineMethod(c, "flat_combine", "median");
    o.flat.combine.centre = reduction::CombineOptions::Centre::Median;
    o.flat.combine.deviation = reduction::CombineOptions::Deviation::MadStd;
    o.flat.combine.low = o.flat.combine.high = jobs::configReal(c, "flat_clip", 3);
    o.flat.combine.iterations = 3;
    o.flat.threads = o.threads;
    o.detrend.cosmicRays = jobs::configBool(c, "cosmic_rays", true);
    o.detrend.cosmics.sigclip = jobs::configReal(c, "cosmic_sigclip", 4.5);
    o.detrend.cosmics.sigfrac = jobs::configReal(c, "cosmic_sigfrac", 0.3);
    o.detrend.cosmics.objlim = jobs::configReal(c, "cosmic_objlim", 5.0);
    o.detrend.cosmics.iterations = jobs::configCount(c, "cosmic_iterations", 4, 1, 10);
    o.detrend.cosmics.protectStars = jobs::configBool(c, "protect_stars", true);
    o.measure = jobs::configBool(c, "measure", true);
    o.measurement = measureOptionsOf(c);
    return o;
}

/// The sub-jobs' configuration: the nightly job's own (options, QC ranges, release).
QJsonObject subConfig(const TaskContext& ctx) {
    QJsonObject c = ctx.config();
    c.remove("on_subjob_failure");
    return c;
}

Provenance provenanceOf(const Options& o, int productionId) {
    return {o.release, productionId, o.obsSet, PAUDM_VERSION, {}};
}

std::string reducedPath(const Options& o) {
    return "red/" + o.release + "/" + o.obsSet;
}

// ---------------------------------------------------------------- PAUdb

struct ObsSetRow {
    int id = 0;
    std::string night;
};

ObsSetRow obsSetOf(db::Connection& c, const std::string& obsSet) {
    const auto r = c.query("SELECT id, night::text, registered IS NOT NULL FROM obs_set WHERE obs_set = $1", obsSet);
    if (r.size() == 0 || !r.toBool(0, 2))
        throw PermanentError(obsSet + " is not registered in PAUdb: the nightly pipeline reduces registered obs sets "
                                      "(paudm night, or a register job)");
    return {static_cast<int>(r.toInt(0, 0)), std::string(r.text(0, 1))};
}

struct MasterRef {
    std::string path; ///< absolute
    std::string file; ///< relative to the archive root
    std::string obsSet;
    std::int64_t mosaicId = 0;
    bool earlier = false; ///< from an earlier night
};

/// The master of `kind` (and tray) for an obs set: its own, else the newest of an earlier
/// night in the same production (release).
std::optional<MasterRef> findMaster(db::Connection& c, const Options& o, int productionId, const ObsSetRow& set,
                                    const std::string& kind, const std::string& tray) {
    const auto r = c.query("SELECT m.id, m.archivepath || '/' || m.filename, o.obs_set, o.id <> $3 FROM mosaic m "
                           "JOIN obs_set o ON o.id = m.obs_set_id "
                           "WHERE m.production_id = $1 AND m.kind = $2 AND ($5 = '' OR m.filtertray = $5) "
                           "AND (o.id = $3 OR o.night < $4::date) "
                           "ORDER BY (o.id = $3) DESC, o.night DESC, m.id DESC LIMIT 1",
                           productionId, kind, set.id, set.night, tray);
    if (r.size() == 0) return std::nullopt;
    MasterRef m;
    m.mosaicId = r.toInt(0, 0);
    m.file = r.text(0, 1);
    m.path = o.archive.root() + "/" + m.file;
    m.obsSet = r.text(0, 2);
    m.earlier = r.toBool(0, 3);
    if (!fs::exists(m.path))
        throw Error("PAUdb lists " + m.file + " (" + kind + " of " + m.obsSet + ") but it is not in the archive at " +
                    o.archive.root());
    return m;
}

struct InputFrame {
    std::int64_t mosaicId = 0;
    std::string file;
};

std::vector<InputFrame> inputFrames(const TaskContext& ctx) {
    std::vector<InputFrame> out;
    for (const auto& v : ctx.input()["mosaics"].toArray())
        out.push_back({v.toObject()["id"].toInteger(), v.toObject()["file"].toString().toStdString()});
    if (out.empty()) throw PermanentError("no input frames (input 'mosaics' is empty)");
    return out;
}

/// Inserts a product's mosaic row (and removes its own earlier one), returning its id.
std::int64_t insertProductMosaic(db::Connection& c, int productionId, int obsSetId, const std::string& archivePath,
                                 const std::string& filename, const std::string& kind, std::int64_t firstRaw,
                                 const std::optional<std::string>& tray, int merged, const std::string& status,
                                 int nextend) {
    c.query("DELETE FROM mosaic WHERE production_id = $1 AND archivepath = $2 AND filename = $3", productionId,
            archivePath, filename);
    const auto r = c.query(
        "INSERT INTO mosaic (obs_set_id, production_id, filename, archivepath, kind, date_obs, time_obs, rjd_obs, "
        "filtertray, instrument, merged_mosaics, detrend_status, nextend, exp_time) "
        "SELECT $1, $2, $3, $4, $5, date_obs, time_obs, rjd_obs, coalesce($7, filtertray), instrument, $8, $9, $10, "
        "exp_time FROM mosaic WHERE id = $6 RETURNING id",
        obsSetId, productionId, filename, archivePath, kind, firstRaw, tray, merged, status, nextend);
    if (r.size() == 0) throw Error("raw mosaic " + std::to_string(firstRaw) + " disappeared from PAUdb");
    return r.toInt(0, 0);
}

struct ImageRow {
    int imageNum = 0, ccd = 0;
    std::optional<std::string> filter, filename;
    double rdnoise = 0, maxReadnoise = 0;
    int naxis1 = 0, naxis2 = 0;
    std::optional<double> saturateRatio, cosmicRatio;
    std::optional<wcs::SkyBox> box;
};

void insertImages(db::Connection& c, std::int64_t mosaicId, std::int64_t rawMosaicId,
                  const std::vector<ImageRow>& rows) {
    constexpr int kColumns = 13;
    std::vector<std::optional<std::string>> cols[kColumns];
    auto opt = [](const std::optional<double>& v) { return v ? db::toParam(*v) : db::Param(); };
    for (const auto& r : rows) {
        const db::Param v[kColumns] = {db::toParam(r.imageNum),
                                       db::toParam(r.ccd),
                                       r.filename ? db::toParam(*r.filename) : db::Param(),
                                       db::toParam(r.rdnoise),
                                       db::toParam(r.maxReadnoise),
                                       db::toParam(r.naxis1),
                                       db::toParam(r.naxis2),
                                       opt(r.saturateRatio),
                                       opt(r.cosmicRatio),
                                       opt(r.box ? std::optional(r.box->raMin) : std::nullopt),
                                       opt(r.box ? std::optional(r.box->raMax) : std::nullopt),
                                       opt(r.box ? std::optional(r.box->decMin) : std::nullopt),
                                       opt(r.box ? std::optional(r.box->decMax) : std::nullopt)};
        for (int i = 0; i < kColumns; ++i)
            cols[i].push_back(v[i]);
    }
    // Filter, band and wavelength from the raw mosaic's amplifiers of the same CCD.
    c.query(
        "INSERT INTO image (mosaic_id, image_num, ccd_num, filename, rdnoise, max_readnoise, gain, naxis1, naxis2, "
        "saturate_ratio, cosmic_ratio, ra_min, ra_max, dec_min, dec_max, filter, waveband, wavelength) "
        "SELECT $1, u.n, u.ccd, u.f, u.rn, u.rnmax, 1, u.w, u.h, u.sat, u.cr, u.ramin, u.ramax, u.decmin, u.decmax, "
        "r.filter, r.waveband, r.wavelength "
        "FROM unnest($3::int[], $4::smallint[], $5::text[], $6::real[], $7::real[], $8::int[], $9::int[], "
        "$10::real[], $11::real[], $12::float8[], $13::float8[], $14::float8[], $15::float8[]) "
        "AS u(n, ccd, f, rn, rnmax, w, h, sat, cr, ramin, ramax, decmin, decmax) "
        "LEFT JOIN LATERAL (SELECT filter, waveband, wavelength FROM image i WHERE i.mosaic_id = $2 "
        "AND i.ccd_num = u.ccd ORDER BY i.image_num LIMIT 1) r ON true",
        mosaicId, rawMosaicId, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8], cols[9],
        cols[10], cols[11], cols[12]);
}

void notifyProducts(db::Connection& c, const std::string& obsSet) {
    c.query("SELECT pg_notify('paudm_nightly', $1)", obsSet); // the console's report and viewer
}

// ---------------------------------------------------------------- reading raw frames

struct OpenRaw {
    fits::File file;
    RawLayout layout;
};

OpenRaw openRaw(const std::string& path) {
    OpenRaw r{fits::File::open(path), {}};
    try {
        r.layout = readRawLayout(r.file);
    } catch (const Error& e) {
        throw PermanentError(e); // the file is what it is
    }
    return r;
}

std::string rawPathOf(const Options& o, const std::string& file) {
    return o.archive.rawDir(o.obsSet) + "/" + file;
}

/// The CCDs of a raw mosaic in a fixed order.
std::vector<int> ccdsOf(const RawLayout& l) {
    std::vector<int> v;
    for (const auto& [ccd, amps] : l.ccds)
        v.push_back(ccd);
    return v;
}

/// Runs work(index) for each of n items on `threads` threads, the first error thrown at
/// the end; stops early when the job is aborted.
void forEach(const TaskContext& ctx, int n, int threads, const std::function<void(int)>& work) {
    std::atomic<int> next{0};
    runWorkers(std::max(1, std::min(threads, n)), [&](int, const WorkerGroup& g) {
        for (int i; !g.failed() && !ctx.cancelled() && (i = next++) < n;)
            work(i);
    });
    if (ctx.cancelled()) throw Error("stopped: the job was aborted");
}

// ---------------------------------------------------------------- master_bias

void masterBiasRun(TaskContext& ctx) {
    const Options o = optionsOf(ctx);
    const int productionId = ctx.input()["production_id"].toInt();
    const auto frames = inputFrames(ctx);
    db::Connection& c = ctx.db();
    const ObsSetRow set = obsSetOf(c, o.obsSet);
    // The layout of every frame, checked before anything is combined.
    std::vector<RawLayout> layouts;
    std::vector<CarriedCard> primary;
    for (const auto& f : frames) {
        OpenRaw r = openRaw(rawPathOf(o, f.file));
        if (primary.empty()) primary = carriedPrimaryCards(r.file);
        if (!layouts.empty() && ccdsOf(r.layout) != ccdsOf(layouts.front()))
            throw PermanentError(r.layout.path + ": its CCDs differ from those of " + layouts.front().path);
        layouts.push_back(std::move(r.layout));
    }
    const std::vector<int> ccds = ccdsOf(layouts.front());
    std::vector<MasterBiasCcd> masters(ccds.size());
    std::vector<double> overscanLevels(ccds.size()), headerRatio(ccds.size(), 0);
    forEach(ctx, static_cast<int>(ccds.size()), o.threads, [&](int k) {
        const int ccd = ccds[static_cast<std::size_t>(k)];
        std::vector<RawCcd> raw;
        for (std::size_t i = 0; i < frames.size(); ++i) {
            auto f = fits::File::open(layouts[i].path);
            raw.push_back(loadCcd(f, layouts[i], ccd, o.overscan));
            if (raw.back().electrons.width != raw.front().electrons.width ||
                raw.back().electrons.height != raw.front().electrons.height)
                throw PermanentError(raw.back().firstLabel + ": CCD " + std::to_string(ccd) + " differs in size from " +
                                     raw.front().firstLabel);
        }
        MasterBiasCcd& m = masters[static_cast<std::size_t>(k)];
        m.ccd = ccd;
        m.frames = static_cast<int>(frames.size());
        // Read noise per amplifier from the differences of consecutive pairs of frames.
        double level = 0, worstRatio = 0;
        const int w = raw.front().electrons.width, h = raw.front().electrons.height;
        reduction::FloatImage sigma(w, h);
        for (std::size_t a = 0; a < raw.front().amps.size(); ++a) {
            const auto& amp = raw.front().amps[a];
            std::vector<double> estimates;
            for (std::size_t i = 0; i + 1 < raw.size(); i += 2)
                estimates.push_back(reduction::readNoiseFromPair(raw[i].electrons, raw[i + 1].electrons, amp.det,
                                                                 amp.gain, amp.overscanPixels));
            const double rn = estimates.empty() ? amp.headerReadNoise.value_or(0)
                                                : reduction::medianInPlace(std::span<double>(estimates));
            m.amplifiers.push_back({amp.det, rn});
            // Each frame's expected dispersion in this amplifier: its read noise, the ADU
            // rounding, and the noise of the row's overscan level.
            const double perFrame = std::sqrt((rn * rn + amp.gain * amp.gain / 12) * (1 + 1 / amp.overscanPixels));
            for (int y = amp.det.ymin() - 1; y < amp.det.ymax(); ++y)
                for (int x = amp.det.xmin() - 1; x < amp.det.xmax(); ++x)
                    sigma.at(x, y) = static_cast<float>(perFrame);
            for (const auto& r : raw)
                level += r.amps[a].overscanLevel / (raw.size() * raw.front().amps.size());
            if (amp.headerReadNoise && *amp.headerReadNoise > 0) {
                const double ratio = rn / *amp.headerReadNoise - 1;
                if (std::fabs(ratio) > std::fabs(worstRatio)) worstRatio = ratio;
            }
        }
        std::vector<const float*> ptrs;
        for (const auto& r : raw)
            ptrs.push_back(r.electrons.pixels.data());
        // Hits and hot pixels are rejected against that dispersion around the median
        // (ccdclip); the mean of the rest has the noise of a plain mean.
        reduction::CombineOptions co = o.biasCombine;
        if (raw.size() >= 2) {
            co.deviation = reduction::CombineOptions::Deviation::Known;
            co.sigma = &sigma;
        }
        m.image = reduction::combine(ptrs, w, h, co, {}, ctx.cancelledFlag()).image;
        overscanLevels[static_cast<std::size_t>(k)] = level;
        headerRatio[static_cast<std::size_t>(k)] = worstRatio;
    });
    const std::string dir = o.archive.reducedDir(o.release, o.obsSet);
    fs::create_directories(dir);
    Provenance p = provenanceOf(o, productionId);
    p.extra.push_back({"NBIAS", std::to_string(frames.size())});
    writeMasterBias(dir + "/master_bias.fits", masters, p, primary);

    // QC and rows: the master's noise, its amplifiers' read noise, the bias level.
    std::vector<float> all;
    double rnSum = 0, rnMax = 0;
    int amps = 0;
    std::vector<ImageRow> rows;
    for (std::size_t k = 0; k < masters.size(); ++k) {
        const auto& m = masters[k];
        all.insert(all.end(), m.image.pixels.begin(), m.image.pixels.end());
        ImageRow row;
        row.imageNum = static_cast<int>(k) + 1;
        row.ccd = m.ccd;
        row.naxis1 = m.image.width;
        row.naxis2 = m.image.height;
        for (const auto& a : m.amplifiers) {
            rnSum += a.readNoise;
            ++amps;
            rnMax = std::max(rnMax, a.readNoise);
            row.rdnoise += a.readNoise / m.amplifiers.size();
            row.maxReadnoise = std::max(row.maxReadnoise, a.readNoise);
        }
        rows.push_back(row);
    }
    double worstHeader = 0;
    for (double r : headerRatio)
        if (std::fabs(r) > std::fabs(worstHeader)) worstHeader = r;
    const double noise = reduction::madStd(all);
    double level = 0;
    for (double l : overscanLevels)
        level += l / overscanLevels.size();
    {
        db::Transaction tx(c);
        const auto id = insertProductMosaic(c, productionId, set.id, reducedPath(o), "master_bias.fits", "master_bias",
                                            frames.front().mosaicId, std::nullopt, static_cast<int>(frames.size()),
                                            "ok", static_cast<int>(masters.size()));
        insertImages(c, id, frames.front().mosaicId, rows);
        notifyProducts(c, o.obsSet);
        tx.commit();
    }
    ctx.check("bias_level_adu", level, "ADU", o.obsSet + " overscan, all amplifiers");
    ctx.check("bias_noise_e", noise, "e-", "master bias, robust rms");
    ctx.check("read_noise_e", rnSum / std::max(1, amps), "e-",
              "mean of " + std::to_string(amps) + " amplifiers (max " + std::to_string(rnMax) + ")");
    ctx.check("read_noise_vs_header", worstHeader, "fraction", "worst amplifier against its header RDNOISE");
    ctx.setOutput({{"file", QString::fromStdString(reducedPath(o) + "/master_bias.fits")},
                   {"frames", static_cast<int>(frames.size())},
                   {"read_noise_e", rnSum / std::max(1, amps)},
                   {"read_noise_max_e", rnMax},
                   {"bias_noise_e", noise}});
}

// ---------------------------------------------------------------- master_flats

void masterFlatsRun(TaskContext& ctx) {
    const Options o = optionsOf(ctx);
    const int productionId = ctx.input()["production_id"].toInt();
    const std::string tray = ctx.input()["tray"].toString().toStdString();
    const auto frames = inputFrames(ctx);
    db::Connection& c = ctx.db();
    const ObsSetRow set = obsSetOf(c, o.obsSet);
    const auto bias = findMaster(c, o, productionId, set, "master_bias", "");
    if (!bias)
        throw PermanentError("cannot make the master flat of " + tray + " for " + o.obsSet +
                             ": no master bias in release " + o.release + " (no bias frames in " + o.obsSet +
                             ", none from an earlier night)");
    std::vector<RawLayout> layouts;
    std::vector<CarriedCard> primary;
    for (const auto& f : frames) {
        OpenRaw r = openRaw(rawPathOf(o, f.file));
        if (primary.empty()) primary = carriedPrimaryCards(r.file);
        layouts.push_back(std::move(r.layout));
    }
    const std::vector<int> ccds = ccdsOf(layouts.front());
    std::vector<MasterFlatCcd> masters(ccds.size());
    forEach(ctx, static_cast<int>(ccds.size()), o.threads, [&](int k) {
        const int ccd = ccds[static_cast<std::size_t>(k)];
        std::vector<reduction::FloatImage> frames2;
        std::string filter;
        for (std::size_t i = 0; i < frames.size(); ++i) {
            auto f = fits::File::open(layouts[i].path);
            RawCcd raw = loadCcd(f, layouts[i], ccd, o.overscan);
            if (filter.empty()) {
                f.moveTo(layouts[i].amps[layouts[i].ccds.at(ccd).front()].hdu);
                filter = f.keyString("FILTER").value_or("");
            }
            const auto mb = readMasterBiasCcd(bias->path, ccd, raw.electrons.width, raw.electrons.height);
            for (std::size_t p = 0; p < raw.electrons.size(); ++p)
                raw.electrons.pixels[p] -= mb.image.pixels[p];
            frames2.push_back(std::move(raw.electrons));
        }
        std::vector<const reduction::FloatImage*> ptrs;
        for (const auto& f : frames2)
            ptrs.push_back(&f);
        auto flat = reduction::buildMasterFlat(ptrs, o.flat, ctx.cancelledFlag());
        masters[static_cast<std::size_t>(k)] = {ccd, filter, std::move(flat), static_cast<int>(frames.size())};
    });
    const std::string dir = o.archive.reducedDir(o.release, o.obsSet);
    fs::create_directories(dir);
    const std::string name = "master_flat_" + tray + ".fits";
    Provenance p = provenanceOf(o, productionId);
    p.extra.push_back({"BIASFILE", bias->file});
    p.extra.push_back({"FILTTRAY", tray});
    writeMasterFlat(dir + "/" + name, masters, p, primary);

    double structure = 0, badFraction = 0;
    std::vector<double> levels;
    std::vector<ImageRow> rows;
    for (std::size_t k = 0; k < masters.size(); ++k) {
        const auto& m = masters[k];
        levels.push_back(m.flat.level);
        structure = std::max(structure, m.flat.structure);
        badFraction = std::max(badFraction, double(m.flat.badPixels) / std::max<std::size_t>(1, m.flat.flat.size()));
        ImageRow row;
        row.imageNum = static_cast<int>(k) + 1;
        row.ccd = m.ccd;
        row.naxis1 = m.flat.flat.width;
        row.naxis2 = m.flat.flat.height;
        rows.push_back(row);
    }
    {
        db::Transaction tx(c);
        const auto id = insertProductMosaic(c, productionId, set.id, reducedPath(o), name, "master_flat",
                                            frames.front().mosaicId, tray, static_cast<int>(frames.size()),
                                            bias->earlier ? "ok, master bias of " + bias->obsSet : "ok",
                                            static_cast<int>(masters.size()) * 2);
        insertImages(c, id, frames.front().mosaicId, rows);
        notifyProducts(c, o.obsSet);
        tx.commit();
    }
    ctx.check("flat_level_e", reduction::medianInPlace(std::span<double>(levels)), "e-", tray + ", median over CCDs");
    ctx.check("flat_structure", structure, "fraction", tray + ", worst CCD");
    ctx.check("bad_pixel_fraction", badFraction, "fraction", tray + ", worst CCD");
    ctx.check("calibration_from_earlier_night", bias->earlier ? 1 : 0, "",
              bias->earlier ? "master bias of " + bias->obsSet : "master bias of this night");
    ctx.setOutput({{"file", QString::fromStdString(reducedPath(o) + "/" + name)},
                   {"tray", QString::fromStdString(tray)},
                   {"frames", static_cast<int>(frames.size())},
                   {"master_bias", QString::fromStdString(bias->file)},
                   {"master_bias_from_earlier_night", bias->earlier}});
}

// ---------------------------------------------------------------- single_epoch

/// What single_epoch keeps of one CCD once its file is written: numbers, not pixels.
struct CcdSummary {
    int ccd = 0;
    std::string filter;
    long long pixels = 0, saturated = 0, cosmic = 0, masked = 0;
    int cosmicGroups = 0;
    double skyLevel = 0, readNoise = 0, maxReadNoise = 0;
    int width = 0, height = 0;
    std::optional<wcs::SkyBox> box;
    reduction::CcdSharpness stars; ///< for the mosaic's star test (deferred: nothing written)
    std::optional<wcs::Wcs> headerWcs;
    std::optional<CcdMeasurement> measured; ///< part 2, when measuring
};

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
        s.measured = measureCcd(d.image, d.mask, o.measurement);
        f.background = &s.measured->background;
    }
    writeReducedCcd(outPath, f, p, primary);
    return s;
}

/// The mosaic's calibration, once all its CCDs are measured: astrometry against the
/// reference stars, then per CCD the zero point from the matched stars.
struct CcdCalibration {
    std::optional<wcs::Wcs> fitted;
    reduction::ZeroPoint zp;
    double expectedZp = 0;      ///< above the atmosphere: the instrument's, times the CCD's illumination
    double transparency = 0;    ///< NaN without a zero point
    struct Star {
        std::size_t detection, ref;
        double mag;
    };
    std::vector<Star> stars;    ///< matched stars offered to the zero point (zp.used says which stayed)
};

struct MosaicCalibration {
    Reference reference;
    reduction::AstroResult astro;
    std::vector<CcdCalibration> ccds; ///< as the summaries
    double mjd = 0, airmass = 1, expTime = 0;
};

constexpr int kClippedFromZp = 256; ///< star_photometry.flags: left out of the zero point

MosaicCalibration calibrateMosaic(db::Connection& c, std::vector<CcdSummary>& summaries, fits::File& raw,
                                  const Options& o) {
    MosaicCalibration m;
    m.ccds.resize(summaries.size());
    raw.moveTo(1);
    m.mjd = raw.keyDouble("MJD-OBS").value_or(0);
    m.airmass = raw.keyDouble("AIRMASS").value_or(1);
    m.expTime = raw.keyDouble("EXPTIME").value_or(0);
    std::vector<wcs::SkyBox> boxes;
    for (const auto& s : summaries)
        if (s.box) boxes.push_back(*s.box);
    m.reference = loadReference(c, boxes, o.measurement.astrometry.searchRadius + 30, julianYear(m.mjd));
    // Astrometry on the detections that can be trusted for position.
    constexpr int kBadForPosition = reduction::kSourceSaturated | reduction::kSourceTruncated | reduction::kSourceMaskedCore;
    std::vector<reduction::AstroCcd> acs;
    std::vector<std::size_t> ccdOf; // AstroCcd -> summary
    for (std::size_t k = 0; k < summaries.size(); ++k) {
        const auto& s = summaries[k];
        if (!s.headerWcs || !s.measured) continue;
        reduction::AstroCcd a{s.ccd, s.width, s.height, *s.headerWcs, {}};
        const double sigmaPsf = (s.measured->psf.fwhm > 0 ? s.measured->psf.fwhm : 3.0) / 2.35482;
        for (const auto& d : s.measured->detections) {
            const double snr = d.source.snr();
            if ((d.source.flags & kBadForPosition) || snr <= 0) {
                a.sources.push_back({d.source.x + 1, d.source.y + 1, 0, 1}); // kept for the indices, never used
                continue;
            }
            a.sources.push_back({d.source.x + 1, d.source.y + 1, snr, std::sqrt(2.0) * sigmaPsf / snr});
        }
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
        cc.zp = reduction::zeroPoint(stars, m.expTime, o.measurement.zpMinStars, o.measurement.zpClip);
        if (cc.zp.ok() && std::isfinite(cc.expectedZp)) {
            const double extinction = paucam::extinction(paucam::filter(s.filter).centre) * m.airmass;
            cc.transparency = std::pow(10.0, 0.4 * (cc.zp.zp - (cc.expectedZp - extinction)));
        }
    }
    return m;
}

/// A database value for a measured number: NULL for NaN.
db::Param numberOrNull(double v) { return std::isfinite(v) ? db::toParam(v) : db::Param(); }

/// The phot_method row that says how the nightly pipeline measured (one per distinct set).
int photMethodId(db::Connection& c, const MeasureOptions& o) {
    char bkg[96], ext[160];
    std::snprintf(bkg, sizeof bkg, "mesh %d px, median filter %d, sources masked and estimated again", o.background.mesh,
                  o.background.filter);
    std::snprintf(ext, sizeof ext, "matched filter %.1f sigma, %d px; aperture %.1f FWHM, PSF aperture correction",
                  o.detection.threshold, o.detection.minArea, o.apertureFwhm);
    const std::string code = "PAUdm nightly " PAUDM_VERSION ", SEP " + reduction::sepVersion();
    c.query("INSERT INTO phot_method (background_method, background_parameter, extraction_code, extraction_method, "
            "extraction_parameter, comments) VALUES ('sextractor_mesh', $1, $2, 'aperture', $3, "
            "'zero points of the nightly pipeline from matched reference stars') ON CONFLICT DO NOTHING",
            std::string(bkg), code, std::string(ext));
    const auto r = c.query("SELECT id FROM phot_method WHERE background_method = 'sextractor_mesh' AND "
                           "background_parameter = $1 AND extraction_code = $2 AND extraction_method = 'aperture' AND "
                           "extraction_parameter = $3",
                           std::string(bkg), code, std::string(ext));
    return static_cast<int>(r.toInt(0, 0));
}

/// The measurement's rows: image columns, detections, star photometry and zero points, the
/// mosaic's astrometric and photometric summary. Inside the caller's transaction.
void insertMeasurements(db::Connection& c, std::int64_t mosaicId, const std::vector<CcdSummary>& summaries,
                        const MosaicCalibration& m, const Options& o) {
    std::map<int, std::int64_t> imageOfCcd;
    {
        const auto r = c.query("SELECT ccd_num, id FROM image WHERE mosaic_id = $1", mosaicId);
        for (int i = 0; i < r.size(); ++i) imageOfCcd[static_cast<int>(r.toInt(i, 0))] = r.toInt(i, 1);
    }
    const double t = std::max(m.expTime, 1e-9);
    for (std::size_t k = 0; k < summaries.size(); ++k) {
        const auto& s = summaries[k];
        if (!s.measured) continue;
        const auto& cc = m.ccds[k];
        const auto& psf = s.measured->psf;
        const bool zp = cc.zp.ok();
        c.query("UPDATE image SET bkg_mean = $2, bkg_std = $3, n_extracted = $4, psf_fit = $5, psf_fwhm = $6, "
                "psf_stars = $7, transparency = $8, zp_nightly = $9, zp_nightly_err = $10, zp_nightly_stars = $11 "
                "WHERE id = $1",
                imageOfCcd.at(s.ccd), s.measured->skyLevel / t, s.measured->skyRms / t,
                static_cast<int>(s.measured->detections.size()), psf.stars ? db::toParam(psf.chi2) : db::Param(),
                psf.stars ? db::toParam(psf.fwhm * paucam::kPixelScale) : db::Param(), psf.stars,
                numberOrNull(cc.transparency), zp ? db::toParam(cc.zp.zp) : db::Param(),
                zp ? db::toParam(cc.zp.err) : db::Param(), zp ? db::toParam(cc.zp.stars) : db::Param());
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
    for (std::size_t j = 0; j < summaries.size(); ++j) {
        const auto& s = summaries[j];
        const auto& cc = m.ccds[j];
        if (!s.measured || cc.stars.empty()) continue;
        std::vector<std::optional<std::string>> ref, x, y, flux, err, bg, bgErr, flags;
        for (std::size_t n = 0; n < cc.stars.size(); ++n) {
            const Detection& d = s.measured->detections[cc.stars[n].detection];
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
        c.query("INSERT INTO star_photometry (image_id, phot_method_id, ref_cat, ref_id, x_image, y_image, flux, "
                "flux_err, bg, bg_err, flags) SELECT $1, $2, $3, u.* FROM unnest($4::bigint[], $5::float8[], "
                "$6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::int[]) AS u",
                imageOfCcd.at(s.ccd), method, m.reference.catalogue, ref, x, y, flux, err, bg, bgErr, flags);
        if (cc.zp.ok())
            c.query("INSERT INTO image_zp (image_id, phot_method_id, calib_method, transparency, zp, zp_error) "
                    "VALUES ($1, $2, 'nightly_ref_stars', $3, $4, $5)",
                    imageOfCcd.at(s.ccd), method, numberOrNull(cc.transparency), cc.zp.zp, cc.zp.err);
    }
    // The mosaic.
    int psfOk = 0, psfCcds = 0, zpOk = 0;
    double fwhmSum = 0;
    std::vector<double> lost;
    for (std::size_t j = 0; j < summaries.size(); ++j) {
        const auto& s = summaries[j];
        if (!s.measured) continue;
        ++psfCcds;
        if (s.measured->psf.ok()) ++psfOk;
        if (s.measured->psf.stars) fwhmSum += s.measured->psf.fwhm * paucam::kPixelScale;
        if (m.ccds[j].zp.ok()) {
            ++zpOk;
            if (std::isfinite(m.ccds[j].expectedZp)) lost.push_back(m.ccds[j].expectedZp - m.ccds[j].zp.zp);
        }
    }
    int psfMeasured = 0;
    for (const auto& s : summaries) psfMeasured += s.measured && s.measured->psf.stars > 0;
    const std::string psfStatus =
        psfOk == psfCcds ? "ok" : "few_stars (" + std::to_string(psfCcds - psfOk) + " of " + std::to_string(psfCcds) + " CCDs)";
    std::string photoStatus = "ok";
    if (!m.astro.ok())
        photoStatus = "no_astrometry";
    else if (zpOk < psfCcds)
        photoStatus = "few_stars (" + std::to_string(psfCcds - zpOk) + " of " + std::to_string(psfCcds) + " CCDs)";
    double ext = 0, ext2 = 0;
    for (double v : lost) ext += v / lost.size();
    for (double v : lost) ext2 += (v - ext) * (v - ext) / std::max<std::size_t>(1, lost.size() - 1);
    const bool solved = m.astro.ok();
    c.query("UPDATE mosaic SET astro_status = $2, astro_ref_cat = $3, astro_nstars = $4, astro_nstars_highsn = $5, "
            "astro_ref_sigma = $6, astro_href_sigma = $7, astro_chi2 = $8, astro_contrast = $9, photo_status = $10, "
            "psf_model_status = $11, mean_psf_fwhm = $12, extinction = $13, extinction_err = $14 WHERE id = $1",
            mosaicId, m.astro.status, m.reference.catalogue.empty() ? db::Param() : db::toParam(m.reference.catalogue),
            m.astro.nstars, solved ? db::toParam(m.astro.nstarsHighSnr) : db::Param(),
            solved ? db::toParam(m.astro.refSigma) : db::Param(), solved ? db::toParam(m.astro.hrefSigma) : db::Param(),
            solved ? db::toParam(m.astro.chi2) : db::Param(), db::toParam(m.astro.contrast), photoStatus, psfStatus,
            psfMeasured ? db::toParam(fwhmSum / psfMeasured) : db::Param(),
            lost.empty() ? db::Param() : db::toParam(ext), lost.size() > 1 ? db::toParam(std::sqrt(ext2)) : db::Param());
}

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
        calibration = calibrateMosaic(c, summaries, raw.file, o);
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
    double expTime = 0;
    if (const auto e = c.query("SELECT coalesce(exp_time, 0) FROM mosaic WHERE id = $1", rawId); e.size())
        expTime = e.toDouble(0, 0);
    const double area = pixels * kPixelAreaCm2;
    ctx.check("masked_fraction", worstMasked, "fraction", file + ", worst CCD");
    ctx.check("saturated_fraction", worstSaturated, "fraction", file + ", worst CCD");
    // Hits per cm^2 per second of exposure (readout included: 30 s), against what the
    // altitude of La Palma brings (about 0.025).
    ctx.check("cosmic_ray_density", groups / area / std::max(1.0, expTime + 30), "cm^-2 s^-1", file);
    ctx.check("calibration_from_earlier_night", earlier ? 1 : 0, "", status);
    QJsonObject measured;
    if (calibration) {
        const MosaicCalibration& m = *calibration;
        std::vector<double> fwhm, transparency, skyMag;
        int fewestPsf = 1 << 30, fewestZp = 1 << 30, calibrated = 0, measuredCcds = 0;
        for (std::size_t k = 0; k < summaries.size(); ++k) {
            const auto& sm = summaries[k];
            if (!sm.measured) continue;
            ++measuredCcds;
            const auto& psf = sm.measured->psf;
            if (psf.stars) fwhm.push_back(psf.fwhm * paucam::kPixelScale);
            fewestPsf = std::min(fewestPsf, psf.stars);
            const auto& cc = m.ccds[k];
            if (!cc.zp.ok()) continue;
            ++calibrated;
            fewestZp = std::min(fewestZp, cc.zp.stars);
            if (std::isfinite(cc.transparency)) transparency.push_back(cc.transparency);
            const double rate = sm.measured->skyLevel / std::max(m.expTime, 1e-9);
            if (rate > 0) skyMag.push_back(cc.zp.zp - 2.5 * std::log10(rate / (paucam::kPixelScale * paucam::kPixelScale)));
        }
        auto med = [](std::vector<double> v) {
            return v.empty() ? std::numeric_limits<double>::quiet_NaN() : reduction::medianInPlace(std::span<double>(v));
        };
        const std::string what = file + " (" + tray + ")";
        if (!fwhm.empty()) ctx.check("seeing_arcsec", med(fwhm), "arcsec", what + ", median PSF FWHM of the CCDs");
        ctx.check("psf_stars", fewestPsf, "stars", what + ", CCD with the fewest");
        ctx.check("astrometry_solved", m.astro.ok() ? 1 : 0, "", what + ": " + m.astro.status + ": " + m.astro.message);
        if (m.astro.ok()) {
            ctx.check("astro_rms_arcsec", m.astro.refSigma, "arcsec", what);
            ctx.check("astro_stars", m.astro.nstars, "stars", what);
        }
        ctx.check("photometry_calibrated_fraction", measuredCcds ? double(calibrated) / measuredCcds : 0, "fraction",
                  what + ", CCDs with a zero point");
        if (calibrated) ctx.check("zero_point_stars", fewestZp, "stars", what + ", CCD with the fewest");
        if (!transparency.empty()) {
            ctx.check("transparency", med(transparency), "fraction", what + ", median of the CCDs");
            double lo = 1e9, hi = -1e9;
            for (double v : transparency) lo = std::min(lo, v), hi = std::max(hi, v);
            ctx.check("zero_point_scatter_mag", 2.5 * std::log10(hi / lo), "mag", what + ", spread of the CCDs' transparency");
        }
        if (!skyMag.empty()) ctx.check("sky_mag_arcsec2", med(skyMag), "mag/arcsec^2", what + ", median of the CCDs");
        measured = QJsonObject{{"astro_status", QString::fromStdString(m.astro.status)},
                               {"astro_message", QString::fromStdString(m.astro.message)},
                               {"astro_rms_arcsec", m.astro.refSigma},
                               {"astro_stars", m.astro.nstars},
                               {"pointing_offset_east_arcsec", m.astro.offsetEast},
                               {"pointing_offset_north_arcsec", m.astro.offsetNorth},
                               {"rotation_deg", m.astro.rotationDeg},
                               {"seeing_arcsec", fwhm.empty() ? QJsonValue() : QJsonValue(med(fwhm))},
                               {"transparency", transparency.empty() ? QJsonValue() : QJsonValue(med(transparency))},
                               {"ccds_calibrated", calibrated}};
    }
    QJsonArray ccdOut;
    for (std::size_t k = 0; k < summaries.size(); ++k) {
        const auto& s = summaries[k];
        QJsonObject ccd{{"ccd", s.ccd},
                        {"file", QString::fromStdString(reducedPath(o) + "/" + reducedCcdName(file, s.ccd))},
                        {"sky_e", s.skyLevel},
                        {"cosmic_rays", s.cosmicGroups},
                        {"masked_fraction", double(s.masked) / s.pixels}};
        if (s.measured) {
            ccd["detections"] = static_cast<int>(s.measured->detections.size());
            ccd["psf_fwhm_arcsec"] = s.measured->psf.fwhm * paucam::kPixelScale;
            ccd["psf_status"] = QString::fromStdString(s.measured->psf.status);
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

// ---------------------------------------------------------------- nightly

void nightlyProlog(TaskContext& ctx) {
    const Options o = optionsOf(ctx);
    db::Connection& c = ctx.db();
    const ObsSetRow set = obsSetOf(c, o.obsSet);
    std::optional<int> input;
    if (ctx.config().contains("input_production_id") && !ctx.config()["input_production_id"].isNull())
        input = jobs::configCount(ctx.config(), "input_production_id", 0, 1, 1 << 30);
    const int productionId = ensureProduction(c, o.release, ctx.jobId(), input);
    const auto r = c.query("SELECT id, filename, kind, coalesce(filtertray, '') FROM mosaic "
                           "WHERE obs_set_id = $1 AND production_id IS NULL ORDER BY rjd_obs, filename",
                           set.id);
    QJsonArray biases;
    std::map<std::string, QJsonArray> flats;
    std::vector<std::tuple<std::int64_t, std::string, std::string>> science;
    for (int i = 0; i < r.size(); ++i) {
        const QJsonObject m{{"id", static_cast<qint64>(r.toInt(i, 0))},
                            {"file", QString::fromUtf8(r.text(i, 1).data(), r.text(i, 1).size())}};
        const std::string kind(r.text(i, 2)), tray(r.text(i, 3));
        if (kind == "bias")
            biases.append(m);
        else if (kind == "flat")
            flats[tray].append(m);
        else if (kind == "science")
            science.emplace_back(r.toInt(i, 0), std::string(r.text(i, 1)), tray);
    }
    const QJsonObject base{{"obs_set", QString::fromStdString(o.obsSet)}, {"production_id", productionId}};
    auto with = [&](QJsonObject extra) {
        for (auto it = base.begin(); it != base.end(); ++it)
            extra[it.key()] = it.value();
        return extra;
    };
    int biasJob = -1;
    if (!biases.isEmpty()) {
        jobs::NewJob j;
        j.name = "master_bias";
        j.config = subConfig(ctx);
        j.input = with({{"mosaics", biases}});
        j.description = "master bias of " + o.obsSet + " (" + std::to_string(biases.size()) + " frames)";
        biasJob = ctx.addSubjob(std::move(j));
    }
    std::map<std::string, int> flatJobs;
    for (const auto& [tray, list] : flats) {
        jobs::NewJob j;
        j.name = "master_flats";
        j.config = subConfig(ctx);
        j.input = with({{"mosaics", list}, {"tray", QString::fromStdString(tray)}});
        j.description = "master flat " + tray + " of " + o.obsSet + " (" + std::to_string(list.size()) + " frames)";
        flatJobs[tray] = ctx.addSubjob(std::move(j));
        if (biasJob >= 0) ctx.addDependency(biasJob, flatJobs[tray]);
    }
    for (const auto& [id, file, tray] : science) {
        jobs::NewJob j;
        j.name = "single_epoch";
        j.config = subConfig(ctx);
        j.input = with({{"mosaic_id", static_cast<qint64>(id)},
                        {"file", QString::fromStdString(file)},
                        {"tray", QString::fromStdString(tray)}});
        j.description = o.obsSet + "/" + file + " (" + tray + ")";
        const int k = ctx.addSubjob(std::move(j));
        if (const auto it = flatJobs.find(tray); it != flatJobs.end())
            ctx.addDependency(it->second, k);
        else if (biasJob >= 0)
            ctx.addDependency(biasJob, k);
    }
    QJsonObject trays;
    for (const auto& [tray, list] : flats)
        trays[QString::fromStdString(tray)] = list.size();
    ctx.setOutput({{"obs_set", QString::fromStdString(o.obsSet)},
                   {"release", QString::fromStdString(o.release)},
                   {"production_id", productionId},
                   {"bias_frames", biases.size()},
                   {"flat_frames", trays},
                   {"science", static_cast<int>(science.size())}});
    ctx.log(o.obsSet + ": " + std::to_string(biases.size()) + " bias frames, flats of " + std::to_string(flats.size()) +
            " trays, " + std::to_string(science.size()) + " science mosaics");
}

void nightlyEpilog(TaskContext& ctx) {
    const Options o = optionsOf(ctx);
    db::Connection& c = ctx.db();
    // What each sub-job did, from the job tables.
    const auto r =
        c.query("SELECT j.name, j.status, coalesce(j.input ->> 'file', j.input ->> 'tray', ''), "
                "coalesce((SELECT value FROM tag t WHERE t.job_id = j.id AND t.name IN ('traceback', 'cancelled') "
                "ORDER BY t.name DESC LIMIT 1), ''), coalesce(j.output ->> 'calibration_from_earlier_night', 'false') "
                "FROM job j WHERE j.super_id = $1 ORDER BY j.id",
                ctx.jobId());
    int science = 0, reduced = 0, earlier = 0;
    QJsonArray failed;
    QJsonObject masters;
    for (int i = 0; i < r.size(); ++i) {
        const std::string name(r.text(i, 0)), status(r.text(i, 1)), what(r.text(i, 2)), why(r.text(i, 3));
        if (name == "single_epoch") {
            ++science;
            if (status == "DONE") ++reduced;
            if (status == "DONE" && r.text(i, 4) == "true") ++earlier;
        } else {
            masters[QString::fromStdString(name == "master_bias" ? "bias" : "flat " + what)] =
                QString::fromStdString(status);
        }
        if (status != "DONE") {
            // The first line of the error says it; the traceback has the rest.
            std::string line = why.substr(0, why.find('\n'));
            if (line.starts_with("task '"))
                line = why.substr(why.find('\n') + 1, why.find('\n', why.find('\n') + 1) - why.find('\n') - 1);
            failed.append(QJsonObject{{"task", QString::fromStdString(name)},
                                      {"what", QString::fromStdString(what)},
                                      {"status", QString::fromStdString(status)},
                                      {"error", QString::fromStdString(line)}});
        }
    }
    const bool complete = failed.isEmpty();
    if (science > 0)
        ctx.check("science_reduced_fraction", double(reduced) / science, "fraction",
                  std::to_string(reduced) + " of " + std::to_string(science) + " science mosaics of " + o.obsSet);
    // The science mosaics' quality: a reduced mosaic passes when none of its checks fails;
    // the others are listed with the checks that failed and by how much.
    const auto q = c.query(
        "SELECT j.input ->> 'file', q.check_name, q.value, q.level, q.min_value, q.max_value, coalesce(q.units, '') "
        "FROM job j JOIN quality_control q ON q.job_id = j.id WHERE j.super_id = $1 AND j.name = 'single_epoch' "
        "AND j.status = 'DONE' AND q.level = 'fail' ORDER BY j.id, q.id",
        ctx.jobId());
    std::map<std::string, QJsonArray> failing;
    for (int i = 0; i < q.size(); ++i) {
        auto bound = [&](int col) { return q.isNull(i, col) ? std::string("...") : QString::number(q.toDouble(i, col), 'g', 4).toStdString(); };
        const std::string line = std::string(q.text(i, 1)) + " " +
                                 (q.isNull(i, 2) ? std::string("?") : QString::number(q.toDouble(i, 2), 'g', 4).toStdString()) +
                                 (q.text(i, 6).empty() ? "" : " " + std::string(q.text(i, 6))) + " (pass " + bound(4) +
                                 " to " + bound(5) + ")";
        failing[std::string(q.text(i, 0))].append(QString::fromStdString(line));
    }
    QJsonArray failingOut;
    for (const auto& [file, checks] : failing)
        failingOut.append(QJsonObject{{"file", QString::fromStdString(file)}, {"failed", checks}});
    const int passing = reduced - static_cast<int>(failing.size());
    if (reduced > 0)
        ctx.check("science_pass_fraction", double(passing) / reduced, "fraction",
                  std::to_string(passing) + " of " + std::to_string(reduced) + " reduced science mosaics of " + o.obsSet +
                      " pass their quality checks");
    QJsonObject out;
    out["obs_set"] = QString::fromStdString(o.obsSet);
    out["release"] = QString::fromStdString(o.release);
    if (const auto p = c.query("SELECT id FROM production WHERE pipeline = 'nightly' AND release = $1", o.release);
        p.size())
        out["production_id"] = static_cast<int>(p.toInt(0, 0));
    out["science_reduced"] = reduced;
    out["science"] = science;
    out["with_earlier_calibration"] = earlier;
    // The night's zero point per band: the median over its calibrated science CCDs of the
    // zero point above the atmosphere (zp_nightly + extinction x airmass).
    const auto z = c.query(
        "SELECT i.filter, i.zp_nightly, coalesce(m.airmass, 1), s.night::text, m.production_id FROM image i "
        "JOIN mosaic m ON m.id = i.mosaic_id JOIN obs_set s ON s.id = m.obs_set_id WHERE s.obs_set = $1 "
        "AND m.kind = 'red_science' AND i.zp_nightly IS NOT NULL AND i.filter IS NOT NULL "
        "AND m.production_id = (SELECT id FROM production WHERE pipeline = 'nightly' AND release = $2)",
        o.obsSet, o.release);
    std::map<std::tuple<std::string, std::string, int>, std::vector<double>> perBand;
    for (int i = 0; i < z.size(); ++i) {
        double k = 0;
        try {
            k = paucam::extinction(paucam::filter(std::string(z.text(i, 0))).centre);
        } catch (const Error&) {
        }
        perBand[{std::string(z.text(i, 0)), std::string(z.text(i, 3)), static_cast<int>(z.toInt(i, 4))}].push_back(
            z.toDouble(i, 1) + k * z.toDouble(i, 2));
    }
    QJsonObject bands;
    for (auto& [key, v] : perBand) {
        const auto& [band, date, production] = key;
        const double zp = reduction::medianInPlace(std::span<double>(v));
        c.query("INSERT INTO phot_zp (production_id, band, date, zp) VALUES ($1, $2, $3::date, $4) "
                "ON CONFLICT (production_id, band, date) DO UPDATE SET zp = excluded.zp",
                production, band, date, zp);
        bands[QString::fromStdString(band)] = zp;
    }
    out["zero_points"] = bands;
    out["science_pass"] = passing;
    out["science_failing_qc"] = failingOut;
    out["masters"] = masters;
    out["not_reduced"] = failed;
    out["complete"] = complete;
    ctx.setOutput(out);
    for (const auto& [file, checks] : failing) {
        std::string why;
        for (const auto& v : checks) why += (why.empty() ? "" : "; ") + v.toString().toStdString();
        ctx.log(o.obsSet + "/" + file + " fails QC: " + why);
    }
    ctx.log(o.obsSet + ": " + std::to_string(reduced) + " of " + std::to_string(science) + " science mosaics reduced, " +
            std::to_string(passing) + " pass QC" +
            (complete ? "" : "; " + std::to_string(failed.size()) + " jobs did not finish (see the output)"));
    notifyProducts(c, o.obsSet);
}

} // namespace

void registerNightlyTasks(jobs::TaskRegistry& registry) {
    const QJsonObject defaults = nightlyDefaults();
    // The pixel work runs in a child process: a farm slot's memory (3-4 GiB in the paper)
    // bounds it, and nothing it meets can take the runner down.
    constexpr int kMemoryMb = 4096;
    registry.add({.name = "nightly",
                  .description = "The nightly reduction of an obs set: master bias, master flats per tray, then each "
                                 "science mosaic detrended",
                  .defaults = defaults,
                  .prolog = nightlyProlog,
                  .epilog = nightlyEpilog});
    registry.add({.name = "master_bias",
                  .description = "Combine an obs set's bias frames into its master bias, measuring each amplifier's "
                                 "read noise",
                  .defaults = defaults,
                  .isolation = jobs::Isolation::ChildProcess,
                  .memoryLimitMb = kMemoryMb,
                  .run = masterBiasRun});
    registry.add({.name = "master_flats",
                  .description = "Combine one filter tray's flats into its master flat and bad-pixel mask",
                  .defaults = defaults,
                  .isolation = jobs::Isolation::ChildProcess,
                  .memoryLimitMb = kMemoryMb,
                  .run = masterFlatsRun});
    registry.add({.name = "single_epoch",
                  .description = "Detrend one science mosaic: overscan, gain, bias, flat, masks (bad pixels, "
                                 "saturation, cosmic rays) and weights, one file per CCD",
                  .defaults = defaults,
                  .isolation = jobs::Isolation::ChildProcess,
                  .memoryLimitMb = kMemoryMb,
                  .run = singleEpochRun});
}

} // namespace paudm::pipelines::nightly
