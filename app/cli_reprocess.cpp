// paudm reprocess --obs-set X | --night D --release R: the nightly pipeline again, from the
// archive, as a new production.
#include "cli.h"
#include "cli_pipeline.h"

#include "archive/layout.h"
#include "archive/obs_set.h"
#include "db/connection.h"
#include "db/database.h"
#include "db/reconnecting.h"
#include "jobs/store.h"
#include "pipelines/nightly/nightly.h"

#include <QCommandLineParser>
#include <QDate>

#include <cstdio>
#include <filesystem>

namespace paudm::cli {

int reprocessCommand(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "paudm reprocess: reduce registered obs sets again from the archive, as a new release.\n\n"
        "One nightly job per obs set (its masters and science mosaics, as 'paudm night' reduces them)\n"
        "under --release R: the products go to ARCHIVE/red/R/<obs_set>/ and into PAUdb as the\n"
        "'nightly' production of R, whose input_production_id points at the production that reduced\n"
        "the obs set before. Other releases stay as they are, and stay selectable. The jobs run here\n"
        "(--threads runners) unless --queue-only, then a summary says what was reduced.\n\n"
        "Exit status: 0 when everything was reduced, 1 otherwise.\n\n"
        "Examples:\n"
        "  paudm reprocess --night 2026-11-24 --release R2\n"
        "  paudm reprocess --obs-set 20261124_001 --obs-set 20261125_001 --release R2 --threads 4");
    p.addHelpOption();
    p.addOption({"obs-set", "An obs set to reduce again (repeatable).", "name"});
    p.addOption({"night", "Every obs set of this night (YYYY-MM-DD; repeatable).", "date"});
    p.addOption({"release", "The release to reduce into (a folder name under red/; default: $PAUDM_RELEASE or "
                            "release in paudm.conf).", "name", qEnvironmentVariable("PAUDM_RELEASE")});
    p.addOption({"archive", "The archive root (default: $PAUDM_ARCHIVE, else $PAUDM_HOME/archive).", "dir"});
    p.addOption({"threads", "Jobs run at once. Default 2.", "n", "2"});
    p.addOption({"queue-only", "Queue the jobs and return (a runner elsewhere runs them)."});
    if (auto rc = parseOrEnd(p, "paudm reprocess", args)) return *rc;
    if (!p.positionalArguments().isEmpty()) return usage(p, "unexpected " + p.positionalArguments().first());
    if (p.value("release").isEmpty()) return usage(p, "--release NAME is required (the products go to red/NAME/)");
    const std::string release = p.value("release").toStdString();
    if (release.find('/') != std::string::npos || release.starts_with(".") || release.empty())
        return usage(p, "--release must be a folder name (no '/')");
    if (!p.isSet("obs-set") && !p.isSet("night")) return usage(p, "say what to reprocess: --obs-set X or --night D");
    bool ok = false;
    const int threads = p.value("threads").toInt(&ok);
    if (!ok || threads < 1 || threads > 256) return usage(p, "--threads wants a number from 1 to 256");
    for (const QString& n : p.values("night"))
        if (!QDate::fromString(n, Qt::ISODate).isValid()) return usage(p, "--night wants YYYY-MM-DD, not " + n);
    for (const QString& s : p.values("obs-set"))
        if (!archive::parseObsSetName(s.toStdString())) return usage(p, "'" + s + "' is not an obs set name (YYYYMMDD_NNN)");
    const auto archive = archive::ArchiveLayout::resolve(p.value("archive").toStdString());

    auto c = openDatabase(g, "paudm reprocess");
    if (!c) return 1;
    const std::string conninfo = db::resolveTarget(g.db.toStdString()).conninfo;
    std::vector<std::string> sets;
    {
        std::vector<std::string> names, nights;
        for (const QString& s : p.values("obs-set")) names.push_back(s.toStdString());
        for (const QString& n : p.values("night")) nights.push_back(n.toStdString());
        const auto r = c->query("SELECT obs_set, registered IS NOT NULL FROM obs_set "
                                "WHERE obs_set = ANY ($1) OR night = ANY ($2::date[]) ORDER BY obs_set",
                                names, nights);
        for (int i = 0; i < r.size(); ++i) {
            if (!r.toBool(i, 1)) return failed(std::string(r.text(i, 0)) + " is not registered: run 'paudm night' (or a register job) first");
            sets.emplace_back(r.text(i, 0));
        }
        for (const auto& n : names)
            if (std::find(sets.begin(), sets.end(), n) == sets.end()) return failed(n + " is not in PAUdb");
        if (sets.empty()) return failed("no registered obs set matches");
    }
    jobs::JobStore store(*c);
    std::vector<std::int64_t> ids;
    for (const auto& s : sets) {
        jobs::NewJob j;
        j.name = "nightly";
        j.config = {{"obs_set", QString::fromStdString(s)},
                    {"release", QString::fromStdString(release)},
                    {"archive", QString::fromStdString(std::filesystem::absolute(archive.root()).string())}};
        if (const auto prev = capture([&] { return pipelines::nightly::previousProduction(*c, s, release); }); prev && *prev)
            j.config["input_production_id"] = **prev;
        j.description = "reprocessing of " + s + " as " + release;
        auto id = capture([&] { return store.create(j, true); });
        if (!id) return failed(id.error().what());
        ids.push_back(*id);
        std::fprintf(stderr, "paudm reprocess: nightly job %lld: %s -> red/%s/%s\n", static_cast<long long>(*id),
                     s.c_str(), release.c_str(), s.c_str());
    }
    if (p.isSet("queue-only")) {
        std::printf("%zu nightly jobs queued (paudm runner --until-idle runs them)\n", ids.size());
        return 0;
    }
    const auto stats = runJobsHere(conninfo, kPipelineTasks, threads,
                                   [&](db::Connection& pc) { return nightlyProgress(pc, ids); }, "paudm reprocess");
    if (!stats) return failed(stats.error().what());
    bool allGood = true;
    auto summary = capture([&] {
        return db::ReconnectingConnection(conninfo, "paudm reprocess").run("reading the outcome", [&](db::Connection& sc) {
            jobs::JobStore s(sc);
            std::string out;
            for (std::size_t i = 0; i < ids.size(); ++i) {
                bool complete = false;
                out += sets[i] + ":\n" + nightlySummary(s, ids[i], complete);
                allGood = allGood && complete;
            }
            return out;
        });
    });
    if (!summary) return failed(summary.error().what());
    std::fputs(summary->c_str(), stdout);
    std::printf("%s\n", allGood ? "reprocessing complete" : "reprocessing INCOMPLETE");
    return allGood ? 0 : 1;
}

} // namespace paudm::cli
