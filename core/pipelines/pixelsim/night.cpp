// The night of pixelsim: an obs-set folder in the observatory buffer, its exposures
// rendered in parallel (render.cpp), the obs-set YAML and the truth, written so that a
// cancelled or failed night leaves no half-written folder.
#include "archive/checksum.h"
#include "common/atomic_file.h"
#include "common/workers.h"
#include "pipelines/pixelsim/simulator.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>

namespace paudm::pipelines::pixelsim {
namespace {

namespace fs = std::filesystem;

int nextCounter(const std::string& buffer, const std::string& night) {
    const std::string prefix = archive::obsSetName(night, 1).substr(0, 9);
    int highest = 0;
    std::error_code ec;
    for (fs::directory_iterator it(buffer, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (name.starts_with(".") && name.ends_with(".partial")) name = name.substr(1, name.size() - 9);
        int counter = 0;
        if (name.starts_with(prefix) && archive::parseObsSetName(name, nullptr, &counter))
            highest = std::max(highest, counter);
    }
    if (ec) throw Error(buffer + ": cannot list the buffer: " + ec.message());
    return highest + 1;
}

bool inside(const fs::path& child, const fs::path& parent) {
    const auto c = fs::weakly_canonical(child), p = fs::weakly_canonical(parent);
    auto ci = c.begin();
    for (auto pi = p.begin(); pi != p.end(); ++pi, ++ci)
        if (ci == c.end() || *ci != *pi) return false;
    return true;
}

std::string csvNumber(double v, int digits) {
    char text[40];
    std::snprintf(text, sizeof text, "%.*f", digits, v);
    return text;
}

void writeTruthCatalog(const std::string& folder, const SkyCatalog& sky) {
    const auto& fl = paucam::filters();
    std::string stars = "source_id,ra,dec,temperature";
    for (const auto& f : fl)
        stars += ",mag_" + f.name;
    stars += "\n";
    for (const auto& s : sky.stars) {
        stars += std::to_string(s.sourceId) + "," + csvNumber(s.ra, 8) + "," + csvNumber(s.dec, 8) + "," +
                 csvNumber(s.temperature, 1);
        for (const auto& f : fl)
            stars += "," + csvNumber(s.mag(f), 4);
        stars += "\n";
    }
    writeFileAtomically(folder + "/stars.csv", stars);
    std::string gal = "source_id,ra,dec,a,b,theta,redshift";
    for (const auto& f : fl)
        gal += ",flux_" + f.name;
    gal += "\n";
    for (const auto& g : sky.galaxies) {
        gal += std::to_string(g.sourceId) + "," + csvNumber(g.ra, 8) + "," + csvNumber(g.dec, 8) + "," +
               csvNumber(g.a, 4) + "," + csvNumber(g.b, 4) + "," + csvNumber(g.theta, 2) + "," +
               csvNumber(g.redshift, 4);
        for (const auto& f : fl)
            gal += "," + csvNumber(g.flux(f), 5);
        gal += "\n";
    }
    writeFileAtomically(folder + "/galaxies.csv", gal);
}

} // namespace

NightResult simulateNight(const NightOptions& o, const std::function<void(int, int, const std::string&)>& progress,
                          const std::function<bool()>& cancelled) {
    if (o.buffer.empty()) throw Error("no buffer folder given");
    planNight(o, 1); // every option checked before anything is written
    std::error_code ec;
    fs::create_directories(o.buffer, ec);
    if (ec) throw Error(o.buffer + ": cannot create the buffer folder: " + ec.message());
    if (!o.truth.empty() && inside(o.truth, o.buffer))
        throw Error("the truth folder " + o.truth + " is inside the buffer " + o.buffer +
                    ": the truth must never travel with the raw data");

    // Reserve the obs set's name: mkdir is atomic, so two simulators never share one.
    NightResult result;
    fs::path tmp;
    int counter = 0;
    for (int attempt = 0; attempt < 100; ++attempt) {
        counter = nextCounter(o.buffer, o.night);
        result.plan = planNight(o, counter);
        tmp = fs::path(o.buffer) / ("." + result.plan.obsSet + ".partial");
        if (fs::create_directory(tmp, ec)) break;
        if (ec) throw Error(tmp.string() + ": cannot create: " + ec.message());
        tmp.clear();
    }
    if (tmp.empty()) throw Error(o.buffer + ": could not reserve an obs set name");
    const NightPlan& plan = result.plan;
    result.obsSet = plan.obsSet;
    const fs::path final = fs::path(o.buffer) / plan.obsSet;
    try {
        const SkyCatalog sky = skyForNight(o);
        fs::path truthDir;
        if (!o.truth.empty()) {
            truthDir = fs::path(o.truth) / plan.obsSet;
            fs::create_directories(truthDir, ec);
            if (ec) throw Error(truthDir.string() + ": cannot create the truth folder: " + ec.message());
        }
        const int total = static_cast<int>(plan.exposures.size());
        std::vector<archive::ObsSetFile> files(plan.exposures.size());
        std::atomic<int> next{0}, done{0};
        std::mutex mutex;
        const int threads = std::clamp(o.threads, 1, std::max(1, total));
        // A failed exposure stops the others after their current one; its error (with the
        // file's name) reaches the caller once every thread has returned.
        runWorkers(threads, [&](int, const WorkerGroup& group) {
            for (;;) {
                if ((cancelled && cancelled()) || group.failed()) return;
                const int i = next++;
                if (i >= total) return;
                const ExposurePlan& e = plan.exposures[i];
                const std::string path = (tmp / e.file).string();
                try {
                    const std::string truth = writeExposure(o, plan, e, sky, path);
                    files[i] = {e.file, e.kind, static_cast<std::int64_t>(fs::file_size(path)),
                                archive::adler32File(path)};
                    if (!truthDir.empty()) writeFileAtomically((truthDir / (e.file + ".json")).string(), truth);
                } catch (const std::exception& ex) {
                    throw Error(path + ": " + ex.what());
                }
                const int d = ++done;
                if (progress) {
                    std::lock_guard lock(mutex);
                    progress(d, total, e.file);
                }
            }
        });
        if (cancelled && cancelled()) throw Error("simulation cancelled", "cancelled");

        archive::ObsSetManifest& m = result.contents;
        m.obsSet = plan.obsSet;
        m.night = o.night;
        m.date = isoTime(plan.exposures.back().mjd + plan.exposures.back().exptime / 86400) + "Z";
        m.operatorName = o.operatorName;
        m.project = o.project;
        m.notes = o.notes;
        m.files = files;
        m.writeFile((tmp / (plan.obsSet + ".yaml")).string());
        if (!truthDir.empty()) {
            writeTruthCatalog(truthDir.string(), sky);
            QJsonArray exposures;
            for (const auto& e : plan.exposures)
                exposures.append(QString::fromStdString(e.file));
            QJsonObject n{{"obs_set", QString::fromStdString(plan.obsSet)},
                          {"night", QString::fromStdString(o.night)},
                          {"seed", QString::number(plan.seed)},
                          {"sky_seed", QString::number(o.sky.seed)},
                          {"geometry", paucam::geometryName(o.geometry)},
                          {"field_ra", o.ra},
                          {"field_dec", o.dec},
                          {"sunset", QString::fromStdString(isoTime(plan.sunsetMjd))},
                          {"dusk", QString::fromStdString(isoTime(plan.duskMjd))},
                          {"dawn", QString::fromStdString(isoTime(plan.dawnMjd))},
                          {"exposures", exposures}};
            writeFileAtomically((truthDir / "night.json").string(), QJsonDocument(n).toJson().toStdString());
        }
        syncDirectory(tmp.string());
        fs::rename(tmp, final, ec);
        if (ec) throw Error(final.string() + ": cannot move the finished obs set into place: " + ec.message());
        syncDirectory(o.buffer);
    } catch (...) {
        fs::remove_all(tmp, ec);
        throw;
    }
    result.folder = final.string();
    result.manifest = (final / (plan.obsSet + ".yaml")).string();
    if (!o.truth.empty()) result.truthFolder = (fs::path(o.truth) / plan.obsSet).string();
    return result;
}

} // namespace paudm::pipelines::pixelsim
