#include "pipelines/nightly/steps.h"

#include "pipelines/nightly/nightly.h"

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
reduction::CombineOptions::Method combineMethod(const QJsonObject& c, const char* key, const char* fallback) {
    const std::string m = jobs::configText(c, key, fallback);
    if (m == "mean") return reduction::CombineOptions::Method::Mean;
    if (m == "median") return reduction::CombineOptions::Method::Median;
    throw PermanentError(std::string("configuration '") + key + "' is mean or median, not '" + m + "'");
}

} // namespace


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

ObsSetRow obsSetOf(db::Connection& c, const std::string& obsSet) {
    const auto r = c.query("SELECT id, night::text, registered IS NOT NULL FROM obs_set WHERE obs_set = $1", obsSet);
    if (r.size() == 0 || !r.toBool(0, 2))
        throw PermanentError(obsSet + " is not registered in PAUdb: the nightly pipeline reduces registered obs sets "
                                      "(paudm night, or a register job)");
    return {static_cast<int>(r.toInt(0, 0)), std::string(r.text(0, 1))};
}

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

} // namespace paudm::pipelines::nightly
