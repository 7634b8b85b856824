#pragma once
// What `paudm night` and `paudm reprocess` share: running the pipeline's jobs in this
// process until nothing is left (Ctrl-C finishes or gives back the jobs in hand), with a
// progress line, and the summary of a nightly job.
#include "common/error.h"
#include "jobs/runner.h"

#include <cstdint>
#include <functional>
#include <string>

namespace paudm::db {
class Connection;
}
namespace paudm::jobs {
class JobStore;
struct JobDetail;
}

namespace paudm::cli {

/// The task types of the morning routine.
inline constexpr const char* kPipelineTasks = "transfer,register*,nightly,master_bias,master_flats,single_epoch";

/// Runs a runner of `threads` threads here until idle. Every second, `progress` (on a
/// connection of its own) gives a line, printed to stderr when it changes. SIGINT and
/// SIGTERM finish the jobs in hand (within 20 s), a second one gives them back.
Result<jobs::RunnerStats> runJobsHere(const std::string& conninfo, const std::string& tasks, int threads,
                                      const std::function<std::string(db::Connection&)>& progress,
                                      const char* command);

/// The last error of a job, from its attempts or its traceback tag.
std::string errorOf(const jobs::JobDetail& d);

/// "  nightly job 16: 24 of 24 science mosaics reduced into red/R1 (master bias, 3 master flats)"
/// and one line per sub-job that did not finish. Sets `complete` to whether everything was reduced.
std::string nightlySummary(jobs::JobStore& store, std::int64_t nightlyId, bool& complete);

/// printf into a std::string.
template <class... A>
std::string format(const char* f, A... args) {
    const int n = std::snprintf(nullptr, 0, f, args...);
    std::string out(static_cast<std::size_t>(std::max(n, 0)), '\0');
    std::snprintf(out.data(), out.size() + 1, f, args...);
    return out;
}

/// "nightly 1/2; single_epoch 10/24 (1 failed)" for the nightly jobs below `rootSql`'s ids.
std::string nightlyProgress(db::Connection& c, const std::vector<std::int64_t>& nightlyIds);

} // namespace paudm::cli
