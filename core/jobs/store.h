#pragma once
// The job tables seen as a queue: create, submit, list, inspect, retry, abort, remove.
// Used by the command line, the console and the runners. Every listing takes the same
// filter; every change is one transaction.
#include "jobs/task.h"

#include <QDateTime>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace paudm::db {
class Connection;
}

namespace paudm::jobs {

struct JobFilter {
    std::vector<std::string> statuses; ///< empty: any
    std::string task;                  ///< task name; empty: any
    std::optional<QDateTime> createdFrom, createdTo;
    std::optional<std::int64_t> superId; ///< sub-jobs of this job
    bool topLevel = false;               ///< only jobs without a super-job
    std::string text;                    ///< in the task name or description (any case), or the id
    std::optional<std::int64_t> beforeId; ///< listing: only ids below (the next page, newest first)
    std::string qc;                       ///< QC flag: green, yellow, red or none (no checks); empty: any
    int limit = 1000;                    ///< 0: no limit (counts and bulk actions)
};

struct JobRow {
    std::int64_t id = 0;
    std::optional<std::int64_t> superId;
    std::string name;
    std::string status;
    std::string phase;
    std::string description;
    int priority = 0;
    int attempts = 0;
    int maxAttempts = 0;
    std::int64_t subjobs = 0;
    int qcChecks = 0, qcFailed = 0; ///< the job's own QC entries, and how many failed
    /// green, yellow or red (the rule of the database's job_qc_flag), or empty without QC.
    std::string qcFlag;
    QDateTime created, queued, started, ended;
};

struct JobTag {
    std::string name;
    std::string value;
};

struct JobAttempt {
    int attempt = 0;
    std::int64_t token = 0;
    std::string phase;
    std::string host;
    int pid = 0;
    std::optional<std::int64_t> runnerId;
    QDateTime started, ended;
    std::string outcome;
    std::string error;
};

struct JobDetail {
    JobRow row;
    QJsonObject config, input, output;
    std::vector<JobTag> tags;
    std::vector<JobAttempt> attempts;
    std::vector<QcEntry> qc;
    std::vector<std::int64_t> parents, children;
};

/// A sub-job as the Job graph panel draws it: a node, and a bar of the timeline.
struct GraphNode {
    std::int64_t id = 0;
    std::string name, status;
    std::int64_t subjobs = 0;
    std::string host; ///< of the runner that holds or last held it
    QDateTime queued, started, ended;
};

struct JobGraph {
    std::vector<GraphNode> nodes;                                 ///< by id
    std::vector<std::pair<std::int64_t, std::int64_t>> edges;     ///< parent -> child, among the nodes
};

/// One QC value of a sub-job, for the plot of a super-job's checks.
struct SubjobQc {
    std::int64_t jobId = 0;
    std::string check;
    double value = 0;
    std::optional<double> min, max;
    bool pass = true;
};

/// A runner as the Runners panel shows it.
struct RunnerRow {
    std::int64_t id = 0;
    std::string host, tasks, batchJobId;
    int pid = 0, threads = 0;
    double leaseS = 0;
    double heartbeatAgeS = 0;     ///< seconds since its last heartbeat
    QDateTime started, stopped;   ///< stopped invalid while it runs
    std::int64_t jobsDone = 0;
    std::vector<std::int64_t> inHand; ///< jobs it holds now
    /// Stopped, alive, or dead (silent for longer than its lease: its claims lapse).
    std::string state() const;
};

/// How much work waits and runs, from the small queue tables (cheap at any size).
struct QueueCounts {
    std::int64_t ready = 0;   ///< claimable now or after a back-off
    std::int64_t running = 0; ///< claimed
};

class JobStore {
public:
    explicit JobStore(db::Connection& c, const TaskRegistry& registry = TaskRegistry::standard());
    db::Connection& connection() { return c_; }

    /// Creates a top-level job (configuration merged over the task's defaults). With
    /// `submit` it is QUEUED at once, else STASHED. Returns its id. Like submit(), it runs
    /// its own transaction: do not call it inside one.
    std::int64_t create(const NewJob& job, bool submit);
    /// STASHED -> QUEUED. Returns false if the job was not STASHED.
    bool submit(std::int64_t id);

    std::vector<JobRow> list(const JobFilter& f);
    std::int64_t count(const JobFilter& f);
    /// Jobs per status for a filter (status ignored), for pies and summaries.
    std::vector<std::pair<std::string, std::int64_t>> countByStatus(JobFilter f);
    /// Jobs per task for a filter (task ignored).
    std::vector<std::pair<std::string, std::int64_t>> countByTask(JobFilter f);
    /// One job's row, as list() gives it (no detail).
    std::optional<JobRow> row(std::int64_t id);
    std::optional<JobDetail> show(std::int64_t id);
    std::vector<JobTag> tags(std::int64_t id);
    /// The sub-jobs of `superId` and their dependencies (a job without sub-jobs: the jobs
    /// that depend on it).
    JobGraph graph(std::int64_t superId);
    /// The same, as Graphviz DOT.
    std::string graphDot(std::int64_t superId);
    /// The QC values of every sub-job of `superId`, by check then job.
    std::vector<SubjobQc> subjobQc(std::int64_t superId);

    /// Retries a FAILED or CANCELLED job with its failed sub-jobs and cancelled
    /// dependents; returns how many jobs were put back to work.
    int retry(std::int64_t id);
    /// Cancels a job, its sub-jobs and every job that depends on them; returns how many.
    int abort(std::int64_t id, const std::string& reason = "aborted by the user");
    /// Deletes a finished or stashed top-level job with everything under it.
    int remove(std::int64_t id);
    /// Bulk versions over a filter; with dryRun nothing changes and the count is returned.
    int retryWhere(const JobFilter& f, bool dryRun);
    int abortWhere(const JobFilter& f, bool dryRun);

    /// Inserts sub-jobs of `superId` (QUEUED, with their dependencies, by COPY) inside the
    /// caller's transaction; returns their ids in order.
    std::vector<std::int64_t> insertSubjobs(std::int64_t superId, const std::vector<NewJob>& jobs,
                                            const std::vector<std::pair<int, int>>& deps);
    /// Inserts next-stage jobs that depend on `parentId`, inside the caller's transaction.
    std::vector<std::int64_t> insertChildren(std::int64_t parentId, const std::vector<NewJob>& jobs);

    /// Runners still running (and dead ones not yet marked), then the `stoppedToo` most
    /// recently stopped; newest first.
    std::vector<RunnerRow> runners(int stoppedToo = 20);
    QueueCounts queueCounts();

    /// The configuration a job of this task would get: defaults with `config` over them.
    QJsonObject mergedConfig(const NewJob& job) const;

private:
    std::vector<std::int64_t> ids(const JobFilter& f);
    std::vector<std::pair<std::string, std::int64_t>> countBy(const char* column, const JobFilter& f);

    db::Connection& c_;
    const TaskRegistry& registry_;
};

/// The job statuses, in the order of a job's life.
inline constexpr const char* kJobStatuses[] = {"STASHED", "QUEUED", "RUNNING", "STANDBY", "DONE", "FAILED", "CANCELLED"};
/// The colour of a status (#rrggbb), as the graph export and the console draw it.
const char* statusColour(const std::string& status);

/// Parses "2026-11-23", "2026-11-23T21:00" or "2026-11-23 21:00:00" (UTC).
std::optional<QDateTime> parseTime(const std::string& text);

} // namespace paudm::jobs
