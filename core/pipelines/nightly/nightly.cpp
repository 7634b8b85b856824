#include "pipelines/nightly/nightly.h"

#include "pipelines/nightly/steps.h"

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
