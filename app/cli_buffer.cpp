// paudm buffer status | clean [--dry-run] [--min-age 5d]: what holds each obs set in the
// observatory buffer, and the removal of those nothing holds any more.
#include "cli.h"

#include "db/connection.h"
#include "db/database.h"
#include "transfer/retention.h"

#include <QCommandLineParser>

#include <cstdio>

namespace paudm::cli {

namespace {

const char* kBufferHelp = R"TXT(paudm buffer: the observatory buffer's retention.

  paudm buffer status [--buffer DIR]     what still holds each obs set in the buffer
  paudm buffer clean [--dry-run]         remove the obs sets nothing holds any more

An obs set leaves the buffer only when
  - every file of its YAML is in the archive, verified by the transfer (and, when cleaning,
    read again from the archive with the right size and Adler32),
  - it is registered in PAUdb,
  - its nightly job is DONE, and
  - it is older than --min-age (default 5d: the five days the survey keeps raw data at the
    telescope).
Nothing else in PAUdm ever deletes from the buffer.

The buffer is --buffer, else $PAUDM_BUFFER, else $PAUDM_HOME/buffer; the archive --archive,
else $PAUDM_ARCHIVE, else $PAUDM_HOME/archive.

Exit status of clean: 0 when every releasable obs set was removed (or would be, with
--dry-run), 1 when one was kept because its archive copy failed the re-check.
)TXT";

} // namespace

int bufferCommand(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription(kBufferHelp);
    p.addHelpOption();
    p.addPositionalArgument("action", "status or clean");
    p.addOption({"buffer", "The observatory buffer.", "dir"});
    p.addOption({"archive", "The archive root.", "dir"});
    p.addOption({"min-age", "Keep obs sets younger than this (e.g. 5d, 36h, 0). Default 5d.", "age", "5d"});
    p.addOption({"dry-run", "clean: only say what would be removed."});
    if (auto rc = parseOrEnd(p, "paudm buffer", args)) return *rc;
    const QStringList pos = p.positionalArguments();
    if (pos.size() != 1 || (pos[0] != "status" && pos[0] != "clean")) return usage(p, "say status or clean");
    transfer::RetentionOptions o;
    o.buffer = transfer::resolveBuffer(p.value("buffer").toStdString());
    o.archive = archive::ArchiveLayout::resolve(p.value("archive").toStdString());
    auto age = capture([&] { return transfer::parseAge(p.value("min-age").toStdString()); });
    if (!age) return usage(p, QString("--min-age: ") + age.error().what());
    o.minAgeDays = *age;
    {
        auto c = openDatabase(g, "paudm buffer");
        if (!c) return 1;
    }
    o.conninfo = db::resolveTarget(g.db.toStdString()).conninfo;

    if (pos[0] == "status") {
        auto holds = capture([&] { return transfer::retentionStatus(o); });
        if (!holds) return failed(holds.error().what());
        if (holds->empty()) std::printf("no obs sets in %s\n", o.buffer.c_str());
        int releasable = 0;
        for (const auto& h : *holds) {
            std::printf("%s  %3d files  %8.1f MB  %6.1f days  %s\n", h.obsSet.c_str(), h.files, h.bytes / 1e6,
                        h.ageDays, h.releasable() ? "may be removed" : "held:");
            for (const auto& r : h.reasons)
                std::printf("    - %s\n", r.sentence.c_str());
            releasable += h.releasable();
        }
        if (!holds->empty())
            std::printf("%d of %zu obs sets may leave the buffer (paudm buffer clean)\n", releasable, holds->size());
        return 0;
    }
    const bool dry = p.isSet("dry-run");
    auto results = capture([&] {
        return transfer::cleanBuffer(o, dry,
                                     [](const std::string& line) { std::fprintf(stderr, "  %s\n", line.c_str()); });
    });
    if (!results) return failed(results.error().what());
    int kept = 0;
    double mb = 0;
    for (const auto& r : *results) {
        if (dry)
            std::printf("%s: would be removed (%.1f MB)\n", r.obsSet.c_str(), r.bytes / 1e6);
        else if (r.removed)
            std::printf("%s: removed (%.1f MB)\n", r.obsSet.c_str(), r.bytes / 1e6);
        else {
            std::printf("%s: KEPT: %s\n", r.obsSet.c_str(), r.problem.c_str());
            ++kept;
        }
        if (dry || r.removed) mb += r.bytes / 1e6;
    }
    const std::size_t freed = results->size() - kept;
    std::printf("%s %.1f MB in %zu obs set%s; see 'paudm buffer status' for what holds the others\n",
                dry ? "would free" : "freed", mb, freed, freed == 1 ? "" : "s");
    return kept ? 1 : 0;
}

} // namespace paudm::cli
