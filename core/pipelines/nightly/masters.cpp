// master_bias and master_flats: an obs set's calibration frames combined, per CCD.
#include "pipelines/nightly/steps.h"

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
#include <optional>
#include <span>

namespace paudm::pipelines::nightly {

namespace fs = std::filesystem;

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
        std::optional<MasterBiasCcd> mb; // this CCD of the bias, read once for all the frames
        for (std::size_t i = 0; i < frames.size(); ++i) {
            auto f = fits::File::open(layouts[i].path);
            RawCcd raw = loadCcd(f, layouts[i], ccd, o.overscan);
            if (filter.empty()) {
                f.moveTo(layouts[i].amps[layouts[i].ccds.at(ccd).front()].hdu);
                filter = f.keyString("FILTER").value_or("");
            }
            if (!mb) mb = readMasterBiasCcd(bias->path, ccd, raw.electrons.width, raw.electrons.height);
            if (raw.electrons.width != mb->image.width || raw.electrons.height != mb->image.height)
                throw PermanentError(raw.firstLabel + ": CCD " + std::to_string(ccd) + " differs in size from the other flats'");
            for (std::size_t p = 0; p < raw.electrons.size(); ++p)
                raw.electrons.pixels[p] -= mb->image.pixels[p];
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

} // namespace paudm::pipelines::nightly
