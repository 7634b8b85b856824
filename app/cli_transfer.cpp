// paudm transfer [--from BUFFER] [--archive DIR] [--streams N] [--obs-set NAME]... [--no-db]
#include "cli.h"

#include "db/connection.h"
#include "db/database.h"
#include "db/reconnecting.h"
#include "jobs/store.h"
#include "transfer/retention.h"
#include "transfer/transfer.h"

#include <QCommandLineParser>

#include <cstdio>
#include <filesystem>

namespace paudm::cli {

int transferCommand(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "paudm transfer: copy the obs sets of the observatory buffer into the archive.\n\n"
        "Each file goes to a temporary name in ARCHIVE/raw/<obs_set>/ while its Adler32 is computed,\n"
        "is fsynced, compared with the obs-set YAML, and only then renamed into place; a file that\n"
        "does not verify goes to ARCHIVE/quarantine/<obs_set>/ and the others continue. A re-run\n"
        "skips verified files. Every file is recorded in PAUdb's transfer ledger (transfer_file,\n"
        "transfer_obs_set), and each obs set that arrived gets a queued register job (run them with\n"
        "'paudm runner --until-idle', or do both at once with 'paudm night'). Nothing is ever\n"
        "deleted from the buffer (see 'paudm buffer').\n\n"
        "Exit status: 0 when every obs set is complete, 1 otherwise.\n\n"
        "Examples:\n  paudm transfer --from /data/buffer --archive /data/archive --streams 4\n"
        "  paudm transfer --from pau@observatory:/data/buffer     (rsync over ssh, then verified here)");
    p.addHelpOption();
    p.addOption({"from", "The observatory buffer (default: $PAUDM_BUFFER, else $PAUDM_HOME/buffer).", "buffer"});
    p.addOption({"archive", "The archive root (default: $PAUDM_ARCHIVE, else $PAUDM_HOME/archive).", "dir"});
    p.addOption({"streams", "Files copied at once. Default 4.", "n", "4"});
    p.addOption({"obs-set", "Only this obs set (repeatable).", "name"});
    p.addOption({"transport",
                 "auto (default), local, or rsync: an external transport for a buffer on another "
                 "machine (--from host:/path); what it delivers is verified as our own copies are.",
                 "name", "auto"});
    p.addOption({"no-db", "Do not record the transfer in PAUdb (and queue no register jobs)."});
    p.addOption({"no-register", "Queue no register jobs."});
    if (auto rc = parseOrEnd(p, "paudm transfer", args)) return *rc;
    bool ok = false;
    transfer::TransferOptions o;
    o.buffer = transfer::resolveBuffer(p.value("from").toStdString());
    o.archive = archive::ArchiveLayout::resolve(p.value("archive").toStdString());
    o.streams = p.value("streams").toInt(&ok);
    if (!ok || o.streams < 1 || o.streams > 64) return usage(p, "--streams wants a number from 1 to 64");
    for (const QString& s : p.values("obs-set"))
        o.only.push_back(s.toStdString());
    o.transport = p.value("transport").toStdString();
    if (o.transport != "auto" && o.transport != "local" && o.transport != "rsync")
        return usage(p, "--transport is auto, local or rsync");
    if (!p.isSet("no-db")) {
        auto c = openDatabase(g, "paudm transfer"); // starts the embedded server, migrates
        if (!c) return 1;
        o.ledger = db::resolveTarget(g.db.toStdString()).conninfo;
    }
    auto reports = capture([&] {
        return transfer::transferBuffer(
            o, [](const std::string& set, const std::string& file, const std::string& what) {
                if (!file.empty()) std::fprintf(stderr, "  %s/%s: %s\n", set.c_str(), file.c_str(), what.c_str());
            });
    });
    if (!reports) return failed(reports.error().what());
    bool allComplete = true;
    for (const auto& r : *reports) {
        if (!r.error.empty()) {
            std::printf("%s: FAILED: %s\n", r.obsSet.c_str(), r.error.c_str());
            allComplete = false;
            continue;
        }
        std::printf("%s: %d files, %d copied (%.1f MB in %.1f s, %.0f MB/s), %d already verified, %d quarantined, "
                    "%d failed\n",
                    r.obsSet.c_str(), r.files, r.copied, r.bytesCopied / 1e6, r.seconds,
                    r.seconds > 0 ? r.bytesCopied / 1e6 / r.seconds : 0.0, r.alreadyThere, r.quarantined, r.failed);
        for (const auto& problem : r.problems)
            std::printf("  %s\n", problem.c_str());
        allComplete = allComplete && r.complete();
    }
    if (reports->empty()) std::printf("no obs sets in %s\n", o.buffer.c_str());
    if (!o.ledger.empty() && !p.isSet("no-register")) {
        db::ReconnectingConnection c(o.ledger, "paudm transfer");
        for (const auto& r : *reports) {
            if (!r.error.empty()) continue;
            jobs::NewJob j;
            j.name = "register";
            j.config = {{"obs_set", QString::fromStdString(r.obsSet)},
                        {"archive", QString::fromStdString(std::filesystem::absolute(o.archive.root()).string())}};
            j.description = "register " + r.obsSet;
            // Made again on a new connection if it was lost. Should the commit have gone
            // through with only its answer lost, the second register job finds the obs set
            // registered and changes nothing.
            auto id = capture([&] {
                return c.run("queueing the register job of " + r.obsSet,
                             [&](db::Connection& conn) { return jobs::JobStore(conn).create(j, true); });
            });
            if (!id) return failed(id.error().what());
            std::printf("%s: register job %lld queued (paudm runner --until-idle runs it)\n", r.obsSet.c_str(),
                        static_cast<long long>(*id));
        }
    }
    return allComplete ? 0 : 1;
}

} // namespace paudm::cli
