// The `transfer` task type: the morning transfer run by the job engine, which then hands
// each obs set that arrived to a `register` job.
#include "jobs/config_values.h"
#include "jobs/task.h"
#include "transfer/transfer.h"

#include <QJsonArray>

namespace paudm::transfer {

namespace {

TransferOptions optionsOf(const jobs::TaskContext& ctx) {
    const QJsonObject& c = ctx.config();
    TransferOptions o;
    o.buffer = jobs::configText(c, "buffer");
    if (o.buffer.empty()) throw Error("configuration 'buffer' (the observatory buffer folder) is required");
    o.archive = archive::ArchiveLayout::resolve(jobs::configText(c, "archive"));
    o.streams = jobs::configCount(c, "streams", 4, 1, 64);
    o.transport = jobs::configText(c, "transport", "auto");
    const QJsonValue sets = c.value("obs_sets");
    if (sets.isArray())
        for (const auto& s : sets.toArray()) o.only.push_back(s.toString().toStdString());
    else
        for (const QString& s : QString::fromStdString(jobs::configText(c, "obs_sets")).split(',', Qt::SkipEmptyParts))
            o.only.push_back(s.trimmed().toStdString());
    o.ledger = ctx.conninfo();
    o.stop = [&ctx] { return ctx.cancelled(); };
    return o;
}

void transferRun(jobs::TaskContext& ctx) {
    const TransferOptions o = optionsOf(ctx);
    const auto reports = transferBuffer(o, [&](const std::string& set, const std::string& file, const std::string& what) {
        ctx.log(set + "/" + file + ": " + what);
    });
    QJsonArray sets;
    int quarantined = 0, failed = 0, unreadable = 0;
    qint64 bytes = 0;
    double seconds = 0;
    for (const auto& r : reports) {
        QJsonArray problems;
        for (const auto& p : r.problems) problems.append(QString::fromStdString(p));
        sets.append(QJsonObject{{"obs_set", QString::fromStdString(r.obsSet)},
                                {"files", r.files},
                                {"copied", r.copied},
                                {"already_there", r.alreadyThere},
                                {"quarantined", r.quarantined},
                                {"failed", r.failed},
                                {"bytes_copied", static_cast<qint64>(r.bytesCopied)},
                                {"seconds", r.seconds},
                                {"error", QString::fromStdString(r.error)},
                                {"problems", problems}});
        quarantined += r.quarantined;
        failed += r.failed;
        unreadable += r.error.empty() ? 0 : 1;
        bytes += r.bytesCopied;
        seconds += r.seconds;
    }
    if (ctx.cancelled()) throw Error("transfer stopped: the job was aborted");
    ctx.setOutput({{"buffer", QString::fromStdString(o.buffer)},
                   {"archive", QString::fromStdString(o.archive.root())},
                   {"obs_sets", sets},
                   {"bytes_copied", bytes},
                   {"seconds", seconds}});
    // Problems stay visible without stopping the obs sets that did arrive from registering.
    auto none = [&](const char* check, int value, const char* units) {
        jobs::QcEntry q;
        q.check = check;
        q.value = value;
        q.max = 0;
        q.units = units;
        q.ref = o.buffer;
        ctx.qc(std::move(q));
    };
    none("files_quarantined", quarantined, "files");
    none("files_failed", failed, "files");
    none("obs_sets_unreadable", unreadable, "obs sets");
    ctx.tag("obs_sets", std::to_string(reports.size()));
}

void transferEpilog(jobs::TaskContext& ctx) {
    if (!jobs::configBool(ctx.config(), "register", true)) return;
    const QJsonObject out = ctx.result().output;
    for (const auto& v : out["obs_sets"].toArray()) {
        const QJsonObject s = v.toObject();
        if (!s["error"].toString().isEmpty()) continue; // its YAML never reached the archive
        jobs::NewJob j;
        j.name = "register";
        j.config = {{"obs_set", s["obs_set"]}, {"archive", out["archive"]}};
        // The release the night is reduced into, when one was asked for (else the task's default).
        const std::string release = jobs::configText(ctx.config(), "release");
        if (!release.empty()) j.config["release"] = QString::fromStdString(release);
        j.description = "register " + s["obs_set"].toString().toStdString();
        ctx.addChild(std::move(j));
    }
}

} // namespace

void registerTransferTask(jobs::TaskRegistry& registry) {
    registry.add({.name = "transfer",
                  .description = "Copy the obs sets of the observatory buffer into the archive, verified against their "
                                 "YAML, then register each one",
                  .defaults = {{"buffer", ""}, {"archive", ""}, {"streams", 4}, {"transport", "auto"}, {"register", true},
                               {"release", ""}},
                  .run = transferRun,
                  .epilog = transferEpilog});
}

} // namespace paudm::transfer
