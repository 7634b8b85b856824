#pragma once
// A pilot runner: claims ready jobs, runs them, and commits each outcome (output, tags,
// QC, new sub-jobs and children) in one transaction that only succeeds while its claim
// is still current. A control thread renews the leases (heartbeat), reaps the expired
// leases of dead runners, and listens for new jobs and aborts.
//
// Connections: the control thread and the first worker share one, so a pilot of one
// thread holds one connection, working or idle; each further worker holds its own while
// it has work. An idle runner asks the server nothing until a notification comes (LISTEN
// needs a session of its own: one connection per pilot is the floor).
#include "jobs/task.h"

#include <QString>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace paudm::jobs {

/// Sent by a runner that finds nothing ready and no claim in progress anywhere: the
/// --until-idle runners waiting on others' claims listen to it, and end.
inline constexpr const char* kIdleChannel = "paudm_idle";

/// A claim takes at most this many jobs unless told otherwise (RunnerOptions::claimBatch).
inline constexpr int kDefaultClaimCap = 256;
/// A claim takes about this many seconds of work (by recent run times) unless told otherwise.
inline constexpr double kDefaultClaimWindowS = 0.1;

/// A runner announces on this channel, at most once a second, that it finished jobs (the
/// payload: how many so far). Runners do not listen to it; the console does.
inline constexpr const char* kProgressChannel = "paudm_progress";

struct RunnerOptions {
    std::string conninfo;
    int threads = 1;
    /// Task names this runner takes: comma-separated globs ("register*,noop"); empty: all
    /// the task types it knows.
    std::string tasks;
    bool untilIdle = false;   ///< return when there is nothing left to do
    std::int64_t maxJobs = 0; ///< return after this many jobs (0: no limit)
    double leaseS = 30;       ///< a claim lapses this long after the last heartbeat
    /// At most this many jobs claimed (and committed) together; 0: kDefaultClaimCap. How
    /// many a claim takes within that is judged from the recent run times of their tasks.
    int claimBatch = 0;
    /// A claim takes about this many seconds of work; 0: kDefaultClaimWindowS. Short jobs
    /// come in large batches, jobs longer than this one at a time.
    double claimWindowS = 0;
    QString taskExecutable;   ///< the `paudm` binary, for child-process tasks
    std::string batchJobId;   ///< e.g. the Slurm array job and task
    bool verbose = false;     ///< one line per job on stderr
};

/// Outcome of a claim that a stopping runner gave back unfinished (job_give_back).
inline constexpr const char* kReleasedOutcome = "RELEASED";

struct RunnerStats {
    std::int64_t runnerId = 0;
    std::int64_t done = 0;
    std::int64_t failed = 0;
    std::int64_t lost = 0;     ///< results discarded because the claim had lapsed
    std::int64_t released = 0; ///< jobs given back unfinished when stopping
};

class Runner {
public:
    explicit Runner(RunnerOptions options, const TaskRegistry& registry = TaskRegistry::standard());
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    /// Runs until requestStop(), until idle (untilIdle) or maxJobs. Connection losses are
    /// survived (reconnecting); an error is returned only if the runner cannot start.
    Result<RunnerStats> run();
    /// Thread-safe: claims nothing more, finishes the jobs in hand and returns from run().
    /// With a grace period, the jobs still unfinished `graceS` seconds from now are
    /// stopped and given back (queued again at once, the attempt not counted); a second
    /// call may shorten the grace (0: give back now). Only calls whose time is up stop a
    /// job: they never make the wait longer.
    void requestStop(double graceS = -1);
    /// Live counters (thread-safe).
    RunnerStats stats() const;
    /// Jobs claimed and not yet committed (thread-safe).
    int jobsInHand() const;

    /// "a*,b" -> "^(a.*|b)$"
    static std::string tasksRegex(const std::string& globs);

private:
    struct Impl;
    std::unique_ptr<Impl> d_;
};

/// The `paudm __task` entry point of a child process: reads the job from stdin, runs it,
/// writes the result to descriptor 3. Returns the process exit code.
int taskProcessMain(const TaskRegistry& registry = TaskRegistry::standard());

} // namespace paudm::jobs
