// paudm night: the morning routine. The buffer's new obs sets are transferred into the
// archive, registered in PAUdb and reduced by the nightly pipeline, all by the job engine,
// with runners in this process until nothing is left to do; then a summary says what
// arrived, what was reduced and what was not.
#include "cli.h"
#include "cli_pipeline.h"

#include "common/stop_signals.h"
#include "common/workers.h"
#include "db/connection.h"
#include "db/database.h"
#include "db/reconnecting.h"
#include "jobs/runner.h"
#include "jobs/store.h"
#include "transfer/retention.h"
#include "transfer/transfer.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>

namespace paudm::cli {

namespace {

const char* kNightHelp = R"TXT(paudm night: the morning routine.

Transfers every obs set of the observatory buffer into the archive (verified against its
YAML, see 'paudm transfer --help'), registers each one in PAUdb (one register job per obs
set, one sub-job per mosaic), then reduces it (one nightly job per obs set: a master bias,
a master flat per filter tray, and each science mosaic detrended into
ARCHIVE/red/<release>/<obs_set>/), running the jobs here with --threads runners until
nothing is left. Every step is a job of the engine: 'paudm jobs list' and the console show
them, and 'paudm jobs retry' takes up what failed. Running it again is safe and cheap:
verified files are skipped, registered mosaics are left as they are, and an obs set reduced
completely already is not reduced again ('paudm reprocess' does that).

The buffer is --buffer, else $PAUDM_BUFFER, else $PAUDM_HOME/buffer; the archive --archive,
else $PAUDM_ARCHIVE, else $PAUDM_HOME/archive. Nothing is deleted from the buffer
('paudm buffer clean' does that, when it is safe).

Exit status: 0 when every obs set was transferred, registered and reduced, 1 otherwise.

Example:
  paudm night --buffer /data/buffer --archive /data/archive --threads 4
)TXT";

/// "transfer DONE; register 1/2 obs sets; mosaics 120/300 (3 failed)" for the job tree.
std::string progressLine(db::Connection& c, std::int64_t transferId) {
    const auto r =
        c.query("WITH reg AS (SELECT child_id AS id FROM dependency WHERE parent_id = $1) "
                "SELECT (SELECT status FROM job WHERE id = $1), "
                "(SELECT count(*) FROM reg), "
                "(SELECT count(*) FROM job j JOIN reg USING (id) WHERE j.status IN ('DONE', 'FAILED', 'CANCELLED')), "
                "(SELECT count(*) FROM job j JOIN reg r ON j.super_id = r.id), "
                "(SELECT count(*) FROM job j JOIN reg r ON j.super_id = r.id WHERE j.status = 'DONE'), "
                "(SELECT count(*) FROM job j JOIN reg r ON j.super_id = r.id WHERE j.status = 'FAILED')",
                transferId);
    std::string line = "transfer " + std::string(r.text(0, 0));
    if (r.toInt(0, 1) > 0) {
        line += "; register " + std::to_string(r.toInt(0, 2)) + "/" + std::to_string(r.toInt(0, 1)) + " obs sets";
        line += "; mosaics " + std::to_string(r.toInt(0, 4)) + "/" + std::to_string(r.toInt(0, 3));
        if (r.toInt(0, 5)) line += " (" + std::to_string(r.toInt(0, 5)) + " failed)";
    }
    return line;
}

/// The summary of a night: what the transfer did per obs set, and each register job's
/// outcome. Reads only, so it may be made again on a new connection.
std::string nightSummary(jobs::JobStore& store, std::int64_t transferId, const std::string& buffer, bool& allGood) {
    std::string out;
    allGood = true;
    const auto td = store.show(transferId);
    if (!td) throw Error("transfer job " + std::to_string(transferId) + " disappeared");
    out += format("transfer job %lld: %s\n", static_cast<long long>(transferId), td->row.status.c_str());
    if (td->row.status != "DONE") {
        allGood = false;
        out += format("  %s\n", errorOf(*td).c_str());
    }
    std::map<std::string, std::int64_t> registerOf;
    for (std::int64_t child : td->children)
        if (auto d = store.show(child); d && d->row.name == "register")
            registerOf[d->config["obs_set"].toString().toStdString()] = child;
    const QJsonArray sets = td->output["obs_sets"].toArray();
    if (sets.isEmpty() && td->row.status == "DONE") out += format("  no obs sets in %s\n", buffer.c_str());
    for (const auto& v : sets) {
        const QJsonObject s = v.toObject();
        const std::string name = s["obs_set"].toString().toStdString();
        out += format("%s: %d files, %d copied, %d already in the archive, %d quarantined, %d failed\n", name.c_str(),
                      s["files"].toInt(), s["copied"].toInt(), s["already_there"].toInt(), s["quarantined"].toInt(),
                      s["failed"].toInt());
        if (!s["error"].toString().isEmpty()) out += format("  transfer: %s\n", qPrintable(s["error"].toString()));
        for (const auto& problem : s["problems"].toArray())
            out += format("  transfer: %s\n", qPrintable(problem.toString()));
        allGood =
            allGood && s["error"].toString().isEmpty() && s["quarantined"].toInt() == 0 && s["failed"].toInt() == 0;
        const auto it = registerOf.find(name);
        if (it == registerOf.end()) {
            out += format("  not registered (its YAML did not reach the archive)\n");
            allGood = false;
            continue;
        }
        const auto rd = store.show(it->second);
        if (rd && rd->row.status == "DONE") {
            out +=
                format("  register job %lld: %s (%d mosaics, %lld images)\n", static_cast<long long>(it->second),
                       rd->output["already_registered"].toBool() ? "registered already, nothing changed" : "registered",
                       rd->output["mosaics"].toInt(), static_cast<long long>(rd->output["images"].toDouble()));
            bool reduced = false;
            bool found = false;
            for (std::int64_t child : rd->children)
                if (auto nd = store.show(child); nd && nd->row.name == "nightly") {
                    found = true;
                    out += nightlySummary(store, child, reduced);
                }
            if (!found) {
                // Reduced completely before: the register epilog did not reduce it again.
                const auto earlier = store.connection().query(
                    "SELECT id FROM job WHERE name = 'nightly' AND status = 'DONE' AND config ->> 'obs_set' = $1 "
                    "AND coalesce((output ->> 'complete')::boolean, false) ORDER BY id DESC LIMIT 1",
                    name);
                if (earlier.size()) {
                    found = true;
                    out += "  reduced already ('paudm reprocess' reduces it again):\n" +
                           nightlySummary(store, earlier.toInt(0, 0), reduced);
                } else {
                    out += "  not reduced (no nightly job)\n";
                }
            }
            allGood = allGood && found && reduced;
            continue;
        }
        allGood = false;
        out +=
            format("  register job %lld: %s\n", static_cast<long long>(it->second), rd ? rd->row.status.c_str() : "?");
        if (rd) {
            std::string e = errorOf(*rd);
            if (!e.empty())
                out += format("    %s\n", QString::fromStdString(e).replace("\n", "\n    ").toUtf8().constData());
            // Failed sub-jobs carry the file, HDU and keyword.
            jobs::JobFilter f;
            f.superId = it->second;
            f.statuses = {"FAILED"};
            f.limit = 5;
            for (const auto& sub : store.list(f))
                if (auto sd = store.show(sub.id))
                    out += format("    job %lld: %s\n", static_cast<long long>(sub.id), errorOf(*sd).c_str());
        }
    }
    return out;
}

} // namespace

int nightCommand(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription(kNightHelp);
    p.addHelpOption();
    p.addOption({"buffer", "The observatory buffer.", "dir"});
    p.addOption({"archive", "The archive root.", "dir"});
    p.addOption({"release", "The release to reduce into (default: $PAUDM_RELEASE or release in paudm.conf, else R1).",
                 "name", qEnvironmentVariable("PAUDM_RELEASE")});
    p.addOption({"streams", "Files copied at once. Default 4.", "n", "4"});
    p.addOption({"threads", "Jobs run at once (registering mosaics). Default 2.", "n", "2"});
    p.addOption({"obs-set", "Only this obs set (repeatable).", "name"});
    p.addOption({"transport", "auto (default: rsync for a buffer given as host:/path, else local), local or rsync.",
                 "name", "auto"});
    if (auto rc = parseOrEnd(p, "paudm night", args)) return *rc;
    if (!p.positionalArguments().isEmpty()) return usage(p, "unexpected " + p.positionalArguments().first());
    bool ok1 = false, ok2 = false;
    const int streams = p.value("streams").toInt(&ok1), threads = p.value("threads").toInt(&ok2);
    if (!ok1 || streams < 1 || streams > 64) return usage(p, "--streams wants a number from 1 to 64");
    if (!ok2 || threads < 1 || threads > 256) return usage(p, "--threads wants a number from 1 to 256");
    const std::string buffer = transfer::resolveBuffer(p.value("buffer").toStdString());
    const auto archive = archive::ArchiveLayout::resolve(p.value("archive").toStdString());
    std::error_code ec;
    const QString transport = p.value("transport");
    if (transport != "auto" && transport != "local" && transport != "rsync")
        return usage(p, "--transport is auto, local or rsync");
    const bool remote = transfer::isRemoteBuffer(buffer);
    if (!remote && !std::filesystem::is_directory(buffer, ec))
        return failed(buffer + ": the observatory buffer is not a folder");

    auto c = openDatabase(g, "paudm night");
    if (!c) return 1;
    const std::string conninfo = db::resolveTarget(g.db.toStdString()).conninfo;
    jobs::JobStore store(*c);
    jobs::NewJob t;
    t.name = "transfer";
    t.config = {{"buffer", QString::fromStdString(remote ? buffer : std::filesystem::absolute(buffer).string())},
                {"transport", transport},
                {"archive", QString::fromStdString(std::filesystem::absolute(archive.root()).string())},
                {"streams", streams}};
    if (!p.value("release").isEmpty()) t.config["release"] = p.value("release");
    if (p.isSet("obs-set")) t.config["obs_sets"] = QJsonArray::fromStringList(p.values("obs-set"));
    t.description = "morning transfer of " + buffer;
    auto transferId = capture([&] { return store.create(t, true); });
    if (!transferId) return failed(transferId.error().what());
    std::fprintf(stderr, "paudm night: transfer job %lld: %s -> %s\n", static_cast<long long>(*transferId),
                 buffer.c_str(), archive.root().c_str());

    QElapsedTimer clock;
    clock.start();
    const auto stats = runJobsHere(
        conninfo, kPipelineTasks, threads,
        [&](db::Connection& pc) {
            std::string line = progressLine(pc, *transferId);
            std::vector<std::int64_t> nightly;
            const auto r = pc.query("SELECT d2.child_id FROM dependency d1 JOIN dependency d2 ON d2.parent_id = d1.child_id "
                                    "JOIN job n ON n.id = d2.child_id AND n.name = 'nightly' WHERE d1.parent_id = $1",
                                    *transferId);
            for (int i = 0; i < r.size(); ++i) nightly.push_back(r.toInt(i, 0));
            if (!nightly.empty()) line += "; " + nightlyProgress(pc, nightly);
            return line;
        },
        "paudm night");
    if (!stats) return failed(stats.error().what());

    // The summary, on a connection that comes back by itself: the one opened at the start
    // may have been lost while the jobs ran (a server restart), and the jobs' outcome is in
    // the database whatever happened to us.
    bool allGood = false;
    auto summary = capture([&] {
        return db::ReconnectingConnection(conninfo, "paudm night")
            .run("reading the night's outcome", [&](db::Connection& sc) {
                jobs::JobStore summaryStore(sc);
                return nightSummary(summaryStore, *transferId, buffer, allGood);
            });
    });
    if (!summary) return failed(summary.error().what());
    std::fputs(summary->c_str(), stdout);
    // What to run next, as it must be typed: with this buffer when it came from an option.
    std::string next = "paudm buffer status";
    if (p.isSet("buffer")) next += " --buffer " + shellQuoted(p.value("buffer").toStdString());
    if (p.isSet("archive")) next += " --archive " + shellQuoted(p.value("archive").toStdString());
    std::printf("%s in %.1f s (paudm jobs list --top; %s)\n", allGood ? "night complete" : "night INCOMPLETE",
                clock.elapsed() / 1000.0, next.c_str());
    return allGood ? 0 : 1;
}

} // namespace paudm::cli
