// The pixelsim task type and the night options it (and `paudm simulate`) reads.
#include "db/connection.h"
#include "jobs/config_values.h"
#include "jobs/task.h"
#include "pipelines/pixelsim/simulator.h"

#include <QJsonArray>

#include <cmath>

namespace paudm::pipelines::pixelsim {

using jobs::configCount;
using jobs::configReal;
using jobs::configText;
using jobs::configUnsigned;


NightOptions nightOptionsFromConfig(const QJsonObject& c) {
    NightOptions o;
    o.buffer = configText(c, "buffer");
    if (o.buffer.empty()) throw Error("configuration 'buffer' (the observatory buffer folder) is required");
    o.night = configText(c, "night");
    if (o.night.empty()) throw Error("configuration 'night' (YYYY-MM-DD) is required");
    o.truth = configText(c, "truth");
    o.geometry = paucam::parseGeometry(configText(c, "geometry", "full"));
    o.bias = configCount(c, "bias", o.bias, 0, 999);
    o.flatsPerTray = configCount(c, "flats_per_tray", o.flatsPerTray, 0, 999);
    o.science = configCount(c, "science", o.science, 0, 999);
    o.focus = configCount(c, "focus", o.focus, 0, 99);
    // A list of trays: a JSON array, or a comma-separated string.
    auto trayList = [&](const char* key) -> std::optional<std::vector<std::string>> {
        const QJsonValue v = c.value(key);
        if (v.isUndefined() || v.isNull()) return std::nullopt;
        std::vector<std::string> list;
        if (v.isArray())
            for (const auto& t : v.toArray()) list.push_back(paucam::tray(t.toString().toStdString()).name);
        else
            for (const QString& t : QString::fromStdString(configText(c, key)).split(',', Qt::SkipEmptyParts))
                list.push_back(paucam::tray(t.trimmed().toStdString()).name);
        return list;
    };
    if (auto t = trayList("trays")) o.trays = *t;
    o.flatTrays = trayList("flat_trays");
    if (o.trays.empty()) throw Error("configuration 'trays' names no filter tray");
    o.ra = configText(c, "field_ra") == "transit" ? meridianAtMidnight(o.night) : configReal(c, "field_ra", o.ra);
    o.dec = configReal(c, "field_dec", o.dec);
    if (o.ra < 0 || o.ra >= 360 || o.dec < -90 || o.dec > 90)
        throw Error("the field centre must have 0 <= RA < 360 and -90 <= Dec <= 90");
    if (c.contains("seed") && !c.value("seed").isNull()) o.seed = configUnsigned(c, "seed");
    if (c.contains("sky_seed") && !c.value("sky_seed").isNull()) o.sky.seed = configUnsigned(c, "sky_seed");
    if (c.contains("star_density") && !c.value("star_density").isNull()) {
        o.sky.starDensity = configReal(c, "star_density", o.sky.starDensity);
        if (o.sky.starDensity < 0 || o.sky.starDensity > 1e6)
            throw Error("configuration 'star_density' must be stars per square degree from 0 to 1000000, not " +
                        configText(c, "star_density"));
    }
    o.threads = configCount(c, "threads", 1, 1, 256);
    if (c.contains("seeing") && !c.value("seeing").isNull()) {
        o.seeing = configReal(c, "seeing", 0);
        if (*o.seeing < 0.2 || *o.seeing > 5)
            throw Error("configuration 'seeing' must be a FWHM in arcseconds from 0.2 to 5, not " + configText(c, "seeing"));
    }
    if (c.contains("max_airmass") && !c.value("max_airmass").isNull()) {
        o.maxAirmass = configReal(c, "max_airmass", 0);
        if (*o.maxAirmass < 1 || *o.maxAirmass > 5)
            throw Error("configuration 'max_airmass' must be an airmass from 1 to 5, not " + configText(c, "max_airmass"));
    }
    o.operatorName = configText(c, "operator", o.operatorName);
    o.project = configText(c, "project", o.project);
    o.notes = configText(c, "notes", o.notes);
    return o;
}

void registerPixelsimTask(jobs::TaskRegistry& registry) {
    jobs::TaskType t;
    t.name = "pixelsim";
    t.description = "Simulate one PAUCam obs set (raw mosaics and YAML) into an observatory buffer, with its truth";
    t.defaults = QJsonObject{{"geometry", "full"}, {"bias", 5},     {"flats_per_tray", 5}, {"science", 20},
                             {"focus", 0},         {"threads", 1},  {"load_catalog", true}};
    // Full-size mosaics take ~300 MB each: keep a runner safe from this task's memory.
    t.isolation = jobs::Isolation::ChildProcess;
    t.run = [](jobs::TaskContext& ctx) {
        const NightOptions o = nightOptionsFromConfig(ctx.config());
        const NightResult r = simulateNight(
            o,
            [&](int done, int total, const std::string& file) {
                ctx.log("[" + std::to_string(done) + "/" + std::to_string(total) + "] " + file);
            },
            [&] { return ctx.cancelled(); });
        QJsonObject out{{"obs_set", QString::fromStdString(r.obsSet)},
                        {"folder", QString::fromStdString(r.folder)},
                        {"manifest", QString::fromStdString(r.manifest)},
                        {"files", static_cast<int>(r.contents.files.size())}};
        if (!r.truthFolder.empty()) out["truth"] = QString::fromStdString(r.truthFolder);
        qint64 bytes = 0;
        for (const auto& f : r.contents.files) bytes += f.size;
        out["bytes"] = bytes;
        if (ctx.config().value("load_catalog").toBool(true)) {
            const auto [stars, galaxies] = loadSky(ctx.db(), skyForNight(o), "pixelsim");
            out["catalog_stars_added"] = static_cast<qint64>(stars);
            out["catalog_galaxies_added"] = static_cast<qint64>(galaxies);
        }
        ctx.setOutput(out);
    };
    registry.add(std::move(t));
}

} // namespace paudm::pipelines::pixelsim
