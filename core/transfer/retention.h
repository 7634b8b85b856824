#pragma once
// Buffer retention: the only code that ever deletes from the observatory buffer. An obs set
// leaves it only when
//   - every file of its YAML is in the archive, verified (ledger) and, when cleaning,
//     read again from the archive with the right size and Adler32;
//   - it is registered in PAUdb;
//   - a nightly job of it is DONE and reduced every science mosaic;
//   - it is older than the minimum age (5 days by default, the paper's requirement).
// status() says per obs set what still holds it; clean() removes the others.
#include "archive/layout.h"
#include "common/error.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace paudm::db {
class Connection;
}

namespace paudm::transfer {

/// --buffer value (may be empty) > $PAUDM_BUFFER > $PAUDM_HOME/buffer.
std::string resolveBuffer(const std::string& cliBuffer = {});

/// "5d", "36h", "90m", "0": days. Throws for anything else.
double parseAge(const std::string& text);

struct RetentionOptions {
    std::string buffer;
    archive::ArchiveLayout archive{""};
    std::string conninfo; ///< PAUdb: ledger, obs_set, jobs
    double minAgeDays = 5;
};

/// One condition that keeps an obs set in the buffer. Programs look at `condition`; the
/// sentence is for people and may be reworded freely.
struct Hold {
    enum class Condition {
        ManifestUnreadable, ///< its YAML cannot be read
        NotTransferred,     ///< no transfer in the ledger
        NotVerified,        ///< some files are not verified in the archive (or are gone from it)
        NotRegistered,      ///< not registered in PAUdb
        NotReduced,         ///< no nightly job of it is DONE and complete
        TooYoung,           ///< younger than the minimum age
    };
    Condition condition;
    std::string sentence;
};

/// A short name of a condition for tables and logs ("transfer", "registration", ...).
const char* conditionName(Hold::Condition c);

struct ObsSetHold {
    std::string obsSet;
    int files = 0;
    std::int64_t bytes = 0;
    double ageDays = 0;
    std::vector<Hold> reasons; ///< what holds it in the buffer; empty: it may go
    bool releasable() const { return reasons.empty(); }
    bool heldBy(Hold::Condition c) const;
};

/// What holds each obs set of the buffer, oldest first. Reads only.
std::vector<ObsSetHold> retentionStatus(const RetentionOptions& options);
/// The same on a connection of the caller's.
std::vector<ObsSetHold> retentionStatus(db::Connection& c, const RetentionOptions& options);

struct CleanResult {
    std::string obsSet;
    bool removed = false; ///< false in a dry run, or when the archive copy failed its re-check
    std::int64_t bytes = 0;
    std::string problem; ///< why a releasable obs set was kept after all
};

/// Removes every releasable obs set (after reading its archive copy again); with `dryRun`
/// only says what it would remove. `progress` gets one line per step.
std::vector<CleanResult> cleanBuffer(const RetentionOptions& options, bool dryRun,
                                     const std::function<void(const std::string&)>& progress = {});

} // namespace paudm::transfer
