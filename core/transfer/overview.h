#pragma once
// What the console's Transfer panel shows, read in one go (off the GUI thread): every obs
// set in the buffer or in the transfer ledger with its state, the files of one obs set,
// and the volume and rate transferred per day (the paper's Figure 1).
#include "transfer/retention.h"

#include <QDate>
#include <QDateTime>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace paudm::db {
class Connection;
}

namespace paudm::transfer {

struct ObsSetState {
    std::string obsSet;
    bool inBuffer = false;
    int files = 0; ///< listed in the YAML (buffer) or the ledger
    std::int64_t bytes = 0;
    std::string status; ///< ledger: RUNNING, DONE, INCOMPLETE, FAILED; "" = not transferred
    int verified = 0, quarantined = 0, failed = 0;
    double rateMBs = 0; ///< mean over the files copied in the latest run
    QDateTime started, ended, cleaned;
    bool registered = false;
    std::vector<Hold> holds; ///< what keeps it in the buffer (empty and inBuffer: may go)
    std::string error;
};

struct FileState {
    std::string name, kind, status, adler32Expected, adler32, error;
    std::int64_t bytes = 0;
    int attempt = 0;
    double rateMBs = 0;
    QDateTime ended;
};

struct DayVolume {
    QDate day;
    double gigabytes = 0;
    double meanRateMBs = 0;
    int files = 0;
};

struct TransferOverview {
    std::vector<ObsSetState> obsSets; ///< newest first
    std::vector<DayVolume> days;      ///< oldest first
    std::string bufferError;          ///< the buffer could not be read (the ledger is still shown)
    bool bufferMissing = false;       ///< there is no buffer folder (yet): not an error
};

/// Reads the ledger, the obs_set table and the buffer (with what holds each obs set).
TransferOverview loadTransferOverview(db::Connection& c, const RetentionOptions& options);
/// The ledger's files of one obs set.
std::vector<FileState> loadTransferFiles(db::Connection& c, const std::string& obsSet);

} // namespace paudm::transfer
