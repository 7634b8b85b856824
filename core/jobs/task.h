#pragma once
// Task types: the C++ code a job runs, registered under a name with a default
// configuration. A task type has up to three parts:
//   prolog  may create sub-jobs (with dependencies among them); if it does, the job waits
//           in STANDBY until they have all finished, then is queued again for its epilog;
//   run     does the work of a job that created no sub-jobs;
//   epilog  runs when all sub-jobs are done (right after run when there are none); it may
//           record QC and create children: jobs of the next stage that depend on this one.
// The engine calls the parts of one phase in one claim, in a runner thread or, for task
// types that ask for isolation, in a child process that may crash, time out or run out
// of memory without harming the runner.
#include "common/error.h"

#include <QJsonObject>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace paudm::db {
class Connection;
}

namespace paudm::jobs {

/// Thrown by a task when another attempt would fail the same way (bad input data, a
/// mismatch to be resolved by a person): the job fails at once instead of being retried.
class PermanentError : public Error {
public:
    using Error::Error;
    explicit PermanentError(const Error& e) : Error(e) {}
};

/// A job to create from a task: a sub-job (prolog) or a child (epilog).
struct NewJob {
    std::string name;   ///< task type
    QJsonObject config; ///< merged over the task type's defaults when created
    QJsonObject input;
    std::string description;
    int priority = 0;
    std::optional<int> maxAttempts;
};

/// The verdict of a quality check: within its range, within the wider band of a
/// warning, or outside both.
enum class QcLevel { Pass, Warn, Fail };
const char* qcLevelName(QcLevel level); ///< "pass", "warn", "fail"
std::optional<QcLevel> parseQcLevel(const std::string& name);

struct QcEntry {
    std::string check;
    double value = 0;
    std::optional<double> min;  ///< a pass needs min <= value <= max (open bounds allowed)
    std::optional<double> max;
    std::string units;
    std::string ref;
    std::optional<double> failMin; ///< with failMax, the band of a warning around [min, max]
    std::optional<double> failMax;
    std::optional<QcLevel> recorded; ///< the verdict stored with it (an aggregate's differs from its range test)
    QcLevel level() const;
    bool pass() const { return level() == QcLevel::Pass; }
};

/// What one claim of a job produced. Serialisable, so that a child process can hand it
/// back to its runner.
struct TaskResult {
    bool ok = true;
    std::string error;     ///< message when !ok
    std::string errorCode; ///< the Error's code when !ok (a SQLSTATE, ...), if it had one
    std::string traceback; ///< detail when !ok (stack, stderr tail, signal)
    std::string outcome;   ///< DONE/STANDBY/FAILED/CRASHED/TIMEOUT/OUT_OF_MEMORY
    bool retryable = true;
    QJsonObject output;
    std::map<std::string, std::string> tags;
    std::vector<QcEntry> qc;
    std::vector<NewJob> subjobs;
    std::vector<std::pair<int, int>> dependencies; ///< (parent, child) indices into subjobs
    std::vector<NewJob> children;

    QJsonObject toJson() const;
    static TaskResult fromJson(const QJsonObject& o);
};

enum class Phase { Prolog, Epilog };

/// What a task part sees of its job. Owned by the engine for the duration of one claim.
class TaskContext {
public:
    TaskContext(std::int64_t jobId, int attempt, Phase phase, QJsonObject config, QJsonObject input,
                std::string conninfo, const std::atomic<bool>* cancelled);
    ~TaskContext();

    std::int64_t jobId() const { return jobId_; }
    int attempt() const { return attempt_; }
    Phase phase() const { return phase_; }
    const QJsonObject& config() const { return config_; }
    const QJsonObject& input() const { return input_; }
    /// True once the job was aborted: long parts should check it and return.
    bool cancelled() const { return cancelled_ && cancelled_->load(); }
    /// The flag behind cancelled(), for loops deep in code that knows nothing of jobs
    /// (may be null).
    const std::atomic<bool>* cancelledFlag() const { return cancelled_; }

    /// Prolog: a sub-job; returns its index for addDependency().
    int addSubjob(NewJob job);
    /// Prolog: `child` runs only after `parent` is DONE (indices from addSubjob()).
    void addDependency(int parent, int child);
    /// Epilog: a job of the next stage, which depends on this one.
    void addChild(NewJob job);
    void setOutput(QJsonObject output) { result_.output = std::move(output); }
    void log(const std::string& line);
    void tag(const std::string& name, const std::string& value) { result_.tags[name] = value; }
    void qc(QcEntry entry) { result_.qc.push_back(std::move(entry)); }
    /// A check judged by the ranges the job's configuration gives it under "qc":
    ///   "qc": {"<check>": {"pass": [lo, hi], "warn": [lo, hi]}}   (null: an open bound)
    /// A check the configuration does not mention is recorded without a range (a pass).
    /// Returns its verdict.
    QcLevel check(const std::string& name, double value, const std::string& units, const std::string& ref);
    /// A connection of this task's own, opened on first use (for the task's own writes,
    /// which it makes idempotent: a job may run again after a crash).
    db::Connection& db();
    /// Where db() connects, for a task that opens connections of its own (worker threads).
    const std::string& conninfo() const { return conninfo_; }

    TaskResult& result() { return result_; }

private:
    std::int64_t jobId_;
    int attempt_;
    Phase phase_;
    QJsonObject config_;
    QJsonObject input_;
    std::string conninfo_;
    const std::atomic<bool>* cancelled_;
    std::unique_ptr<db::Connection> db_;
    std::string log_;
    TaskResult result_;
};

enum class Isolation {
    InProcess,    ///< in a runner thread: fastest, for code that cannot crash the process
    ChildProcess, ///< in a child process with time and memory limits
};

struct TaskType {
    std::string name;
    std::string description;
    QJsonObject defaults; ///< default configuration
    Isolation isolation = Isolation::InProcess;
    double timeoutS = 0;   ///< 0: none (a job's timeout_s overrides)
    int memoryLimitMb = 0; ///< 0: none (child processes only; job's memory_limit_mb overrides)
    std::function<void(TaskContext&)> prolog = {};
    std::function<void(TaskContext&)> run = {};
    std::function<void(TaskContext&)> epilog = {};
};

class TaskRegistry {
public:
    void add(TaskType type);
    const TaskType* find(const std::string& name) const;
    std::vector<std::string> names() const;
    /// The task types of this program: the registry it installed with installStandard(),
    /// else the built-in ones (noop, fail, crash, fanout). The engine knows no pipeline:
    /// the programs register theirs (pipelines/tasks.h).
    static const TaskRegistry& standard();
    /// Makes `registry` (which must outlive every use) what standard() returns. Call it
    /// at the start of main(), before any thread runs.
    static void installStandard(const TaskRegistry* registry);

private:
    std::map<std::string, TaskType> types_;
};

/// Registers noop, fail, crash and fanout.
void registerBuiltinTasks(TaskRegistry& registry);

/// Runs the parts of `phase` of a task in this thread and returns what they produced;
/// exceptions become a failed result. Prolog phase: prolog, then (if it created no
/// sub-jobs) run and epilog.
TaskResult executeTask(const TaskType& type, TaskContext& ctx);

} // namespace paudm::jobs
