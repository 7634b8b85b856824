#include "transfer/transfer.h"

#include "archive/checksum.h"
#include "archive/obs_set.h"
#include "common/atomic_file.h"
#include "common/workers.h"
#include "db/connection.h"
#include "db/reconnecting.h"
#include "transfer/verified_copy.h"

#include <QProcess>
#include <QStringList>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>

namespace paudm::transfer {

namespace {

namespace fs = std::filesystem;

// The ledger's writes are upserts and idempotent updates keyed by obs set and file, so a
// write cut short by a lost connection is simply made again on a new one (see
// ReconnectingConnection): a server restart or a terminated session mid-transfer costs a
// pause, not the transfer. If the server stays away, the transfer stops with that error;
// every file copied so far stays verified under its final name, and a re-run records it.
using Ledger = db::ReconnectingConnection;

void ledgerStart(Ledger& ledger, const std::string& obsSet, const std::string& src, const std::string& dst,
                 const archive::ObsSetManifest* m, const std::string& error) {
    ledger.run("recording the transfer of " + obsSet + " in the ledger", [&](db::Connection& c) {
        db::Transaction tx(c);
        std::int64_t bytes = 0;
        if (m)
            for (const auto& f : m->files)
                bytes += f.size;
        c.query(
            "INSERT INTO transfer_obs_set (obs_set, buffer_path, archive_path, files, bytes, status, error) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (obs_set) DO UPDATE SET buffer_path = "
            "EXCLUDED.buffer_path, "
            "archive_path = EXCLUDED.archive_path, files = EXCLUDED.files, bytes = EXCLUDED.bytes, started = now(), "
            "ended = NULL, status = EXCLUDED.status, error = EXCLUDED.error",
            obsSet, src, dst, m ? static_cast<int>(m->files.size()) : 0, bytes, error.empty() ? "RUNNING" : "FAILED",
            error.empty() ? std::optional<std::string>() : std::optional<std::string>(error));
        if (m)
            for (const auto& f : m->files)
                c.query("INSERT INTO transfer_file (obs_set, filename, kind, bytes, adler32_expected) VALUES ($1, $2, "
                        "$3, $4, $5) "
                        "ON CONFLICT (obs_set, filename) DO UPDATE SET kind = EXCLUDED.kind, bytes = EXCLUDED.bytes, "
                        "adler32_expected = EXCLUDED.adler32_expected",
                        obsSet, f.name, f.kind, f.size, archive::formatAdler32(f.adler32));
        tx.commit();
    });
}

void ledgerFile(Ledger& ledger, const std::string& obsSet, const std::string& file, const char* status,
                const std::optional<CopyOutcome>& r, const std::string& error, bool attempted) {
    ledger.run("recording " + obsSet + "/" + file + " in the transfer ledger", [&](db::Connection& c) {
        c.query("UPDATE transfer_file SET status = $3, adler32 = coalesce($4, adler32), "
                "started = CASE WHEN $7 THEN now() - make_interval(secs => $5::float8) ELSE started END, "
                "ended = CASE WHEN $7 THEN now() ELSE ended END, "
                "rate_mb_s = CASE WHEN $7 AND $5::float8 > 0 THEN $6::float8 / 1e6 / $5::float8 ELSE rate_mb_s END, "
                "attempt = attempt + CASE WHEN $7 THEN 1 ELSE 0 END, error = $8 "
                "WHERE obs_set = $1 AND filename = $2",
                obsSet, file, status, r ? std::optional<std::string>(archive::formatAdler32(r->adler32)) : std::nullopt,
                r ? r->seconds : 0.0, r ? r->bytes : std::int64_t(0), attempted,
                error.empty() ? std::optional<std::string>() : std::optional<std::string>(error));
        c.query("SELECT pg_notify('paudm_transfer', $1)", obsSet); // the console's Transfer panel
    });
}

void ledgerEnd(Ledger& ledger, const ObsSetReport& r) {
    std::string problems = r.error;
    for (const auto& p : r.problems)
        problems += (problems.empty() ? "" : "\n") + p;
    ledger.run("recording the end of the transfer of " + r.obsSet + " in the ledger", [&](db::Connection& c) {
        c.query(
            "UPDATE transfer_obs_set SET ended = now(), status = $2, error = $3, "
            "files_verified = (SELECT count(*) FROM transfer_file f WHERE f.obs_set = $1 AND f.status = 'VERIFIED'), "
            "files_quarantined = $4, files_failed = $5 WHERE obs_set = $1",
            r.obsSet, r.complete() ? "DONE" : "INCOMPLETE",
            problems.empty() ? std::optional<std::string>() : std::optional<std::string>(problems), r.quarantined,
            r.failed);
        c.query("SELECT pg_notify('paudm_transfer', $1)", r.obsSet);
    });
}

/// Runs rsync with `args`; stops it when `stop` says so. Returns its exit code; its
/// standard error (last lines) goes to `errors`.
int runRsync(const QStringList& args, const std::function<bool()>& stop, std::string& errors,
             std::string* out = nullptr) {
    QProcess p;
    p.start("rsync", args);
    if (!p.waitForStarted(10'000))
        throw Error("cannot start rsync: " + p.errorString().toStdString() + " (install the Debian package rsync)");
    while (!p.waitForFinished(200))
        if (stop && stop()) {
            p.kill();
            p.waitForFinished();
            throw Error("transfer stopped while rsync was running; a re-run continues");
        }
    const QString err = QString::fromLocal8Bit(p.readAllStandardError()).trimmed();
    errors = err.split('\n').mid(std::max<qsizetype>(0, err.count('\n') - 4)).join("; ").toStdString();
    if (out) *out = QString::fromLocal8Bit(p.readAllStandardOutput()).toStdString();
    if (p.exitStatus() != QProcess::NormalExit) throw Error("rsync crashed: " + errors);
    return p.exitCode();
}

QString rsyncSource(const std::string& buffer, const std::string& obsSet) {
    return QString::fromStdString(buffer + "/" + obsSet + "/");
}

} // namespace

bool isRemoteBuffer(const std::string& buffer) {
    if (buffer.starts_with("rsync://")) return true;
    const auto colon = buffer.find(':');
    return colon != std::string::npos && colon > 0 && buffer.find('/') > colon;
}

std::vector<std::string> findObsSets(const std::string& buffer) {
    if (isRemoteBuffer(buffer)) {
        std::string errors, listing;
        if (const int rc = runRsync({"--list-only", QString::fromStdString(buffer + "/")}, {}, errors, &listing);
            rc != 0)
            throw Error(buffer + ": cannot list the remote observatory buffer (rsync exit " + std::to_string(rc) +
                        "): " + errors);
        std::vector<std::string> out;
        for (const QString& line : QString::fromStdString(listing).split('\n', Qt::SkipEmptyParts)) {
            const QString name = line.section(' ', -1);
            if (line.startsWith('d') && archive::parseObsSetName(name.toStdString())) out.push_back(name.toStdString());
        }
        std::sort(out.begin(), out.end());
        return out;
    }
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(buffer, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!it->is_directory() || !archive::parseObsSetName(name)) continue;
        out.push_back(name);
    }
    if (ec) throw Error(buffer + ": cannot list the observatory buffer: " + ec.message());
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<ObsSetReport>
transferBuffer(const TransferOptions& o,
               const std::function<void(const std::string&, const std::string&, const std::string&)>& progress) {
    std::vector<ObsSetReport> reports;
    std::optional<Ledger> ledger;
    if (!o.ledger.empty()) ledger.emplace(o.ledger, "paudm transfer");
    const bool rsync = o.transport == "rsync" || (o.transport == "auto" && isRemoteBuffer(o.buffer));
    if (o.transport != "auto" && o.transport != "rsync" && o.transport != "local")
        throw Error("unknown transport '" + o.transport +
                    "' (auto, local or rsync; bbcp is not packaged in Debian 12)");
    if (!rsync && isRemoteBuffer(o.buffer)) throw Error(o.buffer + ": a remote buffer needs the rsync transport");
    std::vector<std::string> sets = o.only.empty() ? findObsSets(o.buffer) : o.only;
    std::mutex mutex;
    for (const std::string& obsSet : sets) {
        ObsSetReport report;
        report.obsSet = obsSet;
        const std::string src = o.buffer + "/" + obsSet, dst = o.archive.rawDir(obsSet);
        // With rsync, files arrive in a hidden folder inside the obs set's archive folder
        // (same filesystem: placing them is a rename) and are verified there.
        const std::string staging = dst + "/.incoming";
        std::optional<archive::ObsSetManifest> manifest;
        std::string manifestPath;
        try {
            if (rsync) {
                std::error_code ec;
                fs::create_directories(staging, ec);
                if (ec) throw Error(staging + ": cannot create the staging folder: " + ec.message());
                std::string errors;
                const int rc = runRsync({"-a", "--include=*.yaml", "--exclude=*", rsyncSource(o.buffer, obsSet),
                                         QString::fromStdString(staging + "/")},
                                        o.stop, errors);
                if (rc != 0)
                    throw Error(src + ": rsync could not fetch the obs-set YAML (exit " + std::to_string(rc) +
                                "): " + errors);
            }
            manifestPath = archive::manifestPathIn(rsync ? staging : src);
            manifest = archive::ObsSetManifest::readFile(manifestPath);
            if (manifest->obsSet != obsSet)
                throw Error(manifestPath + ": describes obs set " + manifest->obsSet + ", not " + obsSet);
        } catch (const Error& e) {
            report.error = e.what();
            manifest.reset();
        }
        if (ledger) ledgerStart(*ledger, obsSet, src, dst, manifest ? &*manifest : nullptr, report.error);
        if (!manifest) {
            reports.push_back(report);
            if (progress) progress(obsSet, "", report.error);
            continue;
        }
        report.files = static_cast<int>(manifest->files.size());
        std::error_code ec;
        fs::create_directories(dst, ec);
        if (ec) throw Error(dst + ": cannot create the archive folder: " + ec.message());
        removeStalePartials(dst);
        const auto start = std::chrono::steady_clock::now();
        double fetchSeconds = 0;
        std::int64_t fetchBytes = 0;
        if (rsync) {
            // One rsync for the files not yet in place (it resumes partial ones), then each
            // file is verified as the local copy verifies its own.
            std::string list;
            for (const auto& f : manifest->files) {
                std::error_code ec;
                if (fs::exists(dst + "/" + f.name, ec)) continue;
                list += f.name + "\n";
                fetchBytes += f.size;
            }
            if (!list.empty()) {
                const std::string listFile = staging + "/.files";
                writeFileAtomically(listFile, list);
                std::string errors;
                const auto t0 = std::chrono::steady_clock::now();
                int rc = 0;
                try {
                    rc = runRsync({"-a", "--partial-dir=.rsync-partial",
                                   "--files-from=" + QString::fromStdString(listFile), rsyncSource(o.buffer, obsSet),
                                   QString::fromStdString(staging + "/")},
                                  o.stop, errors);
                } catch (const Error& e) {
                    report.error = e.what();
                }
                fetchSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                // 23 and 24: some files could not be fetched; each one is reported below.
                if (report.error.empty() && rc != 0 && rc != 23 && rc != 24)
                    report.error = src + ": rsync failed (exit " + std::to_string(rc) + "): " + errors;
                if (!report.error.empty()) {
                    report.seconds = fetchSeconds;
                    if (ledger) ledgerEnd(*ledger, report);
                    reports.push_back(report);
                    if (progress) progress(obsSet, "", report.error);
                    continue;
                }
            }
        }
        std::atomic<std::size_t> next{0};
        // Each copy stream writes the ledger on a connection of its own; a stream that
        // fails (the ledger gone for good) stops the others after their current file, and
        // the error reaches the caller once every stream has returned.
        const int streams = std::clamp(o.streams, 1, std::max(1, report.files));
        runWorkers(streams, [&](int, const WorkerGroup& group) {
            std::optional<Ledger> c;
            if (!o.ledger.empty()) c.emplace(o.ledger, "paudm transfer");
            const auto stopped = [&] { return group.failed() || (o.stop && o.stop()); };
            for (;;) {
                if (stopped()) return;
                const std::size_t i = next++;
                if (i >= manifest->files.size()) return;
                const auto& f = manifest->files[i];
                std::optional<CopyOutcome> r;
                std::string error;
                try {
                    if (rsync) {
                        r = placeFetched(staging + "/" + f.name, dst + "/" + f.name, f.size, f.adler32,
                                         o.archive.quarantineDir(obsSet));
                        if (fetchBytes > 0 && r->status != CopyOutcome::Status::AlreadyThere)
                            r->seconds += fetchSeconds * static_cast<double>(f.size) / static_cast<double>(fetchBytes);
                    } else {
                        r = copyVerified(src + "/" + f.name, dst + "/" + f.name, f.size, f.adler32,
                                         o.archive.quarantineDir(obsSet), stopped);
                    }
                } catch (const Error& e) {
                    error = e.what();
                }
                const char* status = !r                                              ? "FAILED"
                                     : r->status == CopyOutcome::Status::Quarantined ? "QUARANTINED"
                                                                                     : "VERIFIED";
                if (r && r->status == CopyOutcome::Status::Quarantined) error = r->problem;
                if (c)
                    ledgerFile(*c, obsSet, f.name, status, r, error,
                               !r || r->status != CopyOutcome::Status::AlreadyThere);
                std::lock_guard lock(mutex);
                if (!r) {
                    ++report.failed;
                    report.problems.push_back(error);
                } else if (r->status == CopyOutcome::Status::Quarantined) {
                    ++report.quarantined;
                    report.problems.push_back(error);
                } else if (r->status == CopyOutcome::Status::AlreadyThere) {
                    ++report.alreadyThere;
                } else {
                    ++report.copied;
                    report.bytesCopied += r->bytes;
                }
                if (progress) progress(obsSet, f.name, status);
            }
        });
        if (o.stop && o.stop() && next < manifest->files.size()) {
            report.error = "stopped before every file was copied; a re-run continues";
            report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (ledger) ledgerEnd(*ledger, report);
            reports.push_back(report);
            break;
        }
        // The YAML last: an archive folder with its YAML holds every file that verified.
        try {
            const std::string yamlName = fs::path(manifestPath).filename().string();
            const auto size = static_cast<std::int64_t>(fs::file_size(manifestPath));
            const auto sum = archive::adler32File(manifestPath);
            const auto r =
                rsync ? placeFetched(manifestPath, dst + "/" + yamlName, size, sum, o.archive.quarantineDir(obsSet))
                      : copyVerified(manifestPath, dst + "/" + yamlName, size, sum, o.archive.quarantineDir(obsSet));
            if (r.status == CopyOutcome::Status::Quarantined) report.problems.push_back(r.problem);
            if (rsync && report.complete()) { // nothing left to resume: the staging folder goes
                std::error_code ec;
                fs::remove_all(staging, ec);
            }
        } catch (const Error& e) {
            ++report.failed;
            report.problems.push_back(e.what());
        }
        report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (ledger) ledgerEnd(*ledger, report);
        reports.push_back(report);
    }
    return reports;
}

} // namespace paudm::transfer
