#pragma once
// The morning transfer: every obs set found in the observatory buffer is copied into the
// archive's raw/<obs_set>/ (YAML included), each file verified against the obs-set YAML
// (see verified_copy.h), several files at a time, and recorded in the transfer ledger.
// A re-run skips what is already verified and redoes the rest.
#include "archive/layout.h"
#include "common/error.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace paudm::jobs {
class TaskRegistry;
}

namespace paudm::transfer {

struct TransferOptions {
    std::string buffer;
    archive::ArchiveLayout archive{""};
    int streams = 4;               ///< files copied at once
    std::vector<std::string> only; ///< obs sets to transfer (empty: every one in the buffer)
    std::string ledger;            ///< conninfo of PAUdb for the ledger (empty: no ledger)
    std::function<bool()> stop;    ///< asked before each file: true stops (the rest stays PENDING)
    /// How bytes travel: "local" (our own copy, reading the buffer as a folder), "rsync"
    /// (an external transport, for a buffer on another machine, "host:/path"; the files
    /// land in a staging folder inside the archive and are verified there exactly as our
    /// own copies are), or "auto": rsync for a remote buffer, else local.
    std::string transport = "auto";
};

struct ObsSetReport {
    std::string obsSet;
    int files = 0, copied = 0, alreadyThere = 0, quarantined = 0, failed = 0;
    std::int64_t bytesCopied = 0;
    double seconds = 0;
    std::string error;                 ///< the YAML could not be read
    std::vector<std::string> problems; ///< one line per quarantined or failed file
    bool complete() const { return error.empty() && quarantined == 0 && failed == 0; }
};

/// True for "host:/path", "user@host:path" or "rsync://...": a buffer rsync must fetch from.
bool isRemoteBuffer(const std::string& buffer);

/// Obs set folders in the buffer (well-formed names holding a YAML file), oldest first.
std::vector<std::string> findObsSets(const std::string& buffer);

/// Transfers the obs sets; `progress` is called after each file (from worker threads,
/// serialised).
std::vector<ObsSetReport> transferBuffer(const TransferOptions& options,
                                         const std::function<void(const std::string& obsSet, const std::string& file,
                                                                  const std::string& what)>& progress = {});

/// Registers the `transfer` task type: transfers a buffer (configuration: buffer, archive,
/// streams, obs_sets) with the ledger in the job's database, then creates one `register`
/// job per obs set whose YAML arrived.
void registerTransferTask(jobs::TaskRegistry& registry);

} // namespace paudm::transfer
