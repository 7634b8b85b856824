#include "transfer/retention.h"

#include "archive/checksum.h"
#include "archive/obs_set.h"
#include "common/atomic_file.h"
#include "db/connection.h"
#include "db/embedded_server.h"
#include "transfer/transfer.h"

#include <QDateTime>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

namespace paudm::transfer {

namespace {

namespace fs = std::filesystem;

std::string fixed(double v, int digits = 1) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", digits, v);
    return b;
}

/// When the obs set was closed: the YAML's date, else the morning after its night.
QDateTime closedAt(const archive::ObsSetManifest& m) {
    QDateTime t = QDateTime::fromString(QString::fromStdString(m.date), Qt::ISODate);
    if (t.isValid()) return t.toUTC();
    const QDate night = QDate::fromString(QString::fromStdString(m.night), Qt::ISODate);
    return QDateTime(night.addDays(1), QTime(7, 0), Qt::UTC);
}

struct Assessed {
    ObsSetHold hold;
    std::optional<archive::ObsSetManifest> manifest;
};

Assessed assess(db::Connection& c, const RetentionOptions& o, const std::string& obsSet) {
    Assessed a;
    a.hold.obsSet = obsSet;
    auto& why = a.hold.reasons;
    try {
        a.manifest = archive::ObsSetManifest::readFile(archive::manifestPathIn(o.buffer + "/" + obsSet));
    } catch (const Error& e) {
        why.push_back({Hold::Condition::ManifestUnreadable, std::string("its YAML cannot be read: ") + e.what()});
        return a;
    }
    const auto& m = *a.manifest;
    a.hold.files = static_cast<int>(m.files.size());
    for (const auto& f : m.files)
        a.hold.bytes += f.size;
    a.hold.ageDays = closedAt(m).secsTo(QDateTime::currentDateTimeUtc()) / 86400.0;

    // 1. In the archive, verified: the ledger's word, and the archive copy still there.
    const auto t = c.query("SELECT status FROM transfer_obs_set WHERE obs_set = $1", obsSet);
    if (t.size() == 0) {
        why.push_back({Hold::Condition::NotTransferred, "not transferred to the archive yet"});
    } else {
        std::map<std::string, std::pair<std::string, std::string>> ledger; // file -> (status, adler32)
        const auto r =
            c.query("SELECT filename, status, coalesce(adler32, '') FROM transfer_file WHERE obs_set = $1", obsSet);
        for (int i = 0; i < r.size(); ++i)
            ledger[std::string(r.text(i, 0))] = {std::string(r.text(i, 1)), std::string(r.text(i, 2))};
        int bad = 0;
        std::string first;
        for (const auto& f : m.files) {
            const auto it = ledger.find(f.name);
            std::string problem;
            if (it == ledger.end())
                problem = "not in the transfer ledger";
            else if (it->second.first != "VERIFIED")
                problem = it->second.first;
            else if (it->second.second != archive::formatAdler32(f.adler32))
                problem = "verified as " + it->second.second + " but the buffer's YAML says " +
                          archive::formatAdler32(f.adler32);
            else {
                std::error_code ec;
                const auto size = fs::file_size(o.archive.rawDir(obsSet) + "/" + f.name, ec);
                if (ec)
                    problem = "gone from the archive (" + ec.message() + ")";
                else if (static_cast<std::int64_t>(size) != f.size)
                    problem = "the archive copy has " + std::to_string(size) + " bytes, not " + std::to_string(f.size);
            }
            if (!problem.empty() && bad++ == 0) first = f.name + ": " + problem;
        }
        if (bad)
            why.push_back({Hold::Condition::NotVerified, std::to_string(bad) + " of " + std::to_string(m.files.size()) +
                                                             " files not verified in the archive (" + first +
                                                             (bad > 1 ? ", ..." : "") + ")"});
    }
    // 2. Registered.
    const auto s = c.query("SELECT registered IS NOT NULL FROM obs_set WHERE obs_set = $1", obsSet);
    if (s.size() == 0 || !s.toBool(0, 0)) why.push_back({Hold::Condition::NotRegistered, "not registered in PAUdb"});
    // 3. Reduced: a nightly job of it is DONE and reduced everything (its epilog says
    // "complete"); the newest one names what is missing otherwise.
    const auto n = c.query("SELECT count(*) FILTER (WHERE status = 'DONE' AND coalesce((output ->> 'complete')::boolean, false)), "
                           "count(*) FROM job WHERE name = 'nightly' AND config ->> 'obs_set' = $1",
                           obsSet);
    if (n.toInt(0, 0) == 0) {
        std::string sentence = "its nightly reduction has not run (no nightly job)";
        if (n.toInt(0, 1) > 0) {
            const auto last = c.query("SELECT id, status, coalesce(output ->> 'science_reduced', ''), "
                                      "coalesce(output ->> 'science', '') FROM job WHERE name = 'nightly' "
                                      "AND config ->> 'obs_set' = $1 ORDER BY id DESC LIMIT 1",
                                      obsSet);
            const std::string id(last.text(0, 0)), status(last.text(0, 1));
            sentence = status == "DONE" ? "its nightly reduction is incomplete: " + std::string(last.text(0, 2)) + " of " +
                                              std::string(last.text(0, 3)) + " science mosaics reduced (job " + id + ")"
                                        : "its nightly job is not DONE (job " + id + ": " + status + ")";
        }
        why.push_back({Hold::Condition::NotReduced, sentence});
    }
    // 4. Old enough.
    if (a.hold.ageDays < o.minAgeDays)
        why.push_back(
            {Hold::Condition::TooYoung,
             fixed(a.hold.ageDays) + " days old, younger than the minimum age of " + fixed(o.minAgeDays) + " days"});
    return a;
}

} // namespace

const char* conditionName(Hold::Condition c) {
    switch (c) {
    case Hold::Condition::ManifestUnreadable:
        return "YAML";
    case Hold::Condition::NotTransferred:
        return "transfer";
    case Hold::Condition::NotVerified:
        return "archive copy";
    case Hold::Condition::NotRegistered:
        return "registration";
    case Hold::Condition::NotReduced:
        return "nightly";
    case Hold::Condition::TooYoung:
        return "age";
    }
    return "?";
}

bool ObsSetHold::heldBy(Hold::Condition c) const {
    return std::any_of(reasons.begin(), reasons.end(), [c](const Hold& h) { return h.condition == c; });
}

std::string resolveBuffer(const std::string& cliBuffer) {
    if (!cliBuffer.empty()) return cliBuffer;
    const QByteArray env = qgetenv("PAUDM_BUFFER");
    if (!env.isEmpty()) return QString::fromLocal8Bit(env).toStdString();
    return (db::EmbeddedServer::defaultHome() + "/buffer").toStdString();
}

double parseAge(const std::string& text) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    const std::string unit = used ? text.substr(used) : "";
    const double scale = unit == "d"              ? 1
                         : unit == "h"            ? 1.0 / 24
                         : unit == "m"            ? 1.0 / 1440
                         : unit.empty() && v == 0 ? 1
                                                  : -1;
    if (used == 0 || scale < 0 || !std::isfinite(v) || v < 0)
        throw Error("'" + text + "' is not an age: use days, hours or minutes, e.g. 5d, 36h, 90m (or 0)");
    return v * scale;
}

std::vector<ObsSetHold> retentionStatus(const RetentionOptions& o) {
    db::Connection c = db::Connection::open(o.conninfo, "paudm buffer");
    return retentionStatus(c, o);
}

std::vector<ObsSetHold> retentionStatus(db::Connection& c, const RetentionOptions& o) {
    std::vector<ObsSetHold> out;
    for (const auto& set : findObsSets(o.buffer))
        out.push_back(assess(c, o, set).hold);
    return out;
}

std::vector<CleanResult> cleanBuffer(const RetentionOptions& o, bool dryRun,
                                     const std::function<void(const std::string&)>& progress) {
    db::Connection c = db::Connection::open(o.conninfo, "paudm buffer");
    std::vector<CleanResult> out;
    if (!dryRun) { // finish what an interrupted clean began
        std::error_code ec;
        for (fs::directory_iterator it(o.buffer, ec), end; !ec && it != end; it.increment(ec))
            if (it->path().filename().string().starts_with(".removing-")) fs::remove_all(it->path(), ec);
    }
    for (const auto& set : findObsSets(o.buffer)) {
        Assessed a = assess(c, o, set);
        if (!a.hold.releasable()) continue;
        CleanResult r{set, false, a.hold.bytes, {}};
        if (dryRun) {
            out.push_back(r);
            continue;
        }
        // Read the archive copy again, byte for byte, before the buffer copy goes.
        for (const auto& f : a.manifest->files) {
            const std::string copy = o.archive.rawDir(set) + "/" + f.name;
            if (progress) progress(set + "/" + f.name + ": checking the archive copy");
            try {
                const auto sum = archive::adler32File(copy);
                if (sum != f.adler32)
                    r.problem = copy + ": Adler32 " + archive::formatAdler32(sum) + ", the YAML says " +
                                archive::formatAdler32(f.adler32);
            } catch (const Error& e) {
                r.problem = e.what();
            }
            if (!r.problem.empty()) break;
        }
        if (r.problem.empty()) {
            // Out of sight first (a name no obs set can have), then gone: an interrupted
            // clean never leaves a half obs set that looks like a new one.
            const fs::path from = fs::path(o.buffer) / set, gone = fs::path(o.buffer) / (".removing-" + set);
            std::error_code ec;
            fs::rename(from, gone, ec);
            if (!ec) {
                syncDirectory(o.buffer);
                fs::remove_all(gone, ec);
            }
            if (ec) {
                r.problem = from.string() + ": cannot remove: " + ec.message();
            } else {
                r.removed = true;
                c.query("UPDATE transfer_obs_set SET buffer_cleaned = now() WHERE obs_set = $1 "
                        "RETURNING pg_notify('paudm_transfer', obs_set)",
                        set);
                if (progress) progress(set + ": removed from the buffer (" + fixed(r.bytes / 1e6) + " MB)");
            }
        }
        out.push_back(r);
    }
    return out;
}

} // namespace paudm::transfer
