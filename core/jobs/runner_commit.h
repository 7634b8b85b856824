#pragma once
// How a runner commits what its jobs produced (the engine's own: used by jobs/runner.cpp).
#include "jobs/task.h"

#include <QJsonObject>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace paudm::db {
class Connection;
}

namespace paudm::jobs {

/// A job as a runner claimed it.
struct Claimed {
    std::int64_t id = 0;
    std::string name;
    Phase phase = Phase::Prolog;
    QJsonObject config, input;
    std::int64_t token = 0;
    int attempt = 0;
    double timeoutS = 0;
    int memoryLimitMb = 0;
    std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
    /// Set with `cancelled` when a stopping runner's grace is over: the job is given back.
    std::shared_ptr<std::atomic<bool>> released = std::make_shared<std::atomic<bool>>(false);
};

struct CommitCounts {
    std::int64_t done = 0, failed = 0, lost = 0, released = 0;
};

/// Commits a batch of results in one transaction; a result whose claim has lapsed is
/// discarded whole (its sub-jobs, tags and QC too). Results of given-back claims are
/// dropped and their jobs queued again.
CommitCounts commitResults(db::Connection& c, const TaskRegistry& registry,
                           std::vector<std::pair<Claimed, TaskResult>>& batch);

} // namespace paudm::jobs
