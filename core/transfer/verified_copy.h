#pragma once
// One file from the observatory buffer into the archive, verified.
//
// The bytes go to a temporary name beside the destination while their Adler32 is computed
// in the same pass; the copy is fsynced, its size and checksum compared with what the
// obs-set YAML promised, and only then renamed to its final name. A copy that does not
// verify is moved to the quarantine folder instead. So a final name in the archive always
// holds a verified file, whatever happens (a crash, a full disk, a flipped bit).
#include "common/error.h"

#include <cstdint>
#include <functional>
#include <string>

namespace paudm::transfer {

struct CopyOutcome {
    enum class Status { Copied, AlreadyThere, Quarantined };
    Status status = Status::Copied;
    std::int64_t bytes = 0;
    std::uint32_t adler32 = 0; ///< of the bytes read
    double seconds = 0;
    std::string path;          ///< final path, or the quarantined copy
    std::string problem;       ///< why it was quarantined
};

/// Copies `source` to `destination` as described above. If `destination` exists already
/// with the expected size and checksum, nothing is copied (AlreadyThere); if it exists and
/// does not verify, that is an error (something changed the archive) and it is left alone.
/// I/O errors (a missing source, a full disk) throw an Error that names the file; no
/// partial file is left under the final name or the temporary one.
CopyOutcome copyVerified(const std::string& source, const std::string& destination, std::int64_t expectedSize,
                         std::uint32_t expectedAdler32, const std::string& quarantineDir,
                         const std::function<bool()>& cancelled = {});

/// For a file an external transport (rsync) delivered to `staged`, on the archive's
/// filesystem: computes its Adler32 and fsyncs it, then renames it to `destination` or
/// moves it to the quarantine folder, as copyVerified() does with its own copy.
CopyOutcome placeFetched(const std::string& staged, const std::string& destination, std::int64_t expectedSize,
                         std::uint32_t expectedAdler32, const std::string& quarantineDir);

/// Temporary copies left in `folder` by a transfer that was killed (".NAME.partial-*").
/// Returns how many were removed.
int removeStalePartials(const std::string& folder);

} // namespace paudm::transfer
