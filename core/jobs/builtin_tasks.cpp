// The built-in task types, for tests, benchmarks and trying the engine out.
#include "jobs/task.h"

#include <QFile>
#include <QJsonArray>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

namespace paudm::jobs {

namespace {

/// Sleeps, waking every 10 ms to see whether the job was aborted.
void interruptibleSleep(TaskContext& ctx, double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end && !ctx.cancelled())
        std::this_thread::sleep_for(std::min<std::chrono::duration<double>>(end - std::chrono::steady_clock::now(),
                                                                            std::chrono::milliseconds(10)));
}

void noopRun(TaskContext& ctx) {
    const double sleep = ctx.config()["sleep_s"].toDouble(0);
    if (sleep > 0) interruptibleSleep(ctx, sleep);
    // `mark`: a file to which each run that was not stopped appends its job id, one line
    // per run (one write with O_APPEND, so runs never mix): how tests count that every job
    // ran to its end exactly once.
    if (const QString mark = ctx.config()["mark"].toString(); !mark.isEmpty() && !ctx.cancelled()) {
        const std::string line = std::to_string(ctx.jobId()) + "\n";
        const int fd = ::open(QFile::encodeName(mark).constData(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            if (fd >= 0) ::close(fd);
            throw Error("noop: cannot append to " + mark.toStdString());
        }
        ::close(fd);
    }
    if (ctx.config().contains("qc_value")) {
        // qc_value + qc_step * (the sub-job's index), so that sub-jobs of a fanout differ.
        QcEntry q;
        q.check = ctx.config()["qc_check"].toString("noop_value").toStdString();
        q.value =
            ctx.config()["qc_value"].toDouble() + ctx.config()["qc_step"].toDouble(0) * ctx.input()["index"].toInt(0);
        if (ctx.config()["qc_min"].isDouble()) q.min = ctx.config()["qc_min"].toDouble();
        if (ctx.config()["qc_max"].isDouble()) q.max = ctx.config()["qc_max"].toDouble();
        q.ref = "job " + std::to_string(ctx.jobId());
        ctx.qc(q);
    }
    ctx.setOutput({{"slept_s", sleep}, {"attempt", ctx.attempt()}});
}

void failRun(TaskContext& ctx) {
    // Fails its first `fail_attempts` attempts (all of them by default), then succeeds.
    const int failAttempts = ctx.config()["fail_attempts"].toInt(1 << 30);
    if (ctx.attempt() > failAttempts) {
        ctx.setOutput({{"attempt", ctx.attempt()}});
        return;
    }
    ctx.log("about to fail on attempt " + std::to_string(ctx.attempt()));
    const std::string message = ctx.config()["message"].toString("failed on purpose").toStdString();
    // What the failure is made of, for trying the engine with careless code: our own Error,
    // a std::exception, or something that is no exception class at all.
    const QString thrown = ctx.config()["throw"].toString("error");
    if (thrown == "std") throw std::logic_error(message);
    if (thrown == "other") throw 42;
    throw Error(message);
}

[[noreturn]] void crashRun(TaskContext& ctx) {
    const QString mode = ctx.config()["mode"].toString("abort");
    if (mode == "segv") std::raise(SIGSEGV);
    if (mode == "hang") {
        for (;;)
            std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    if (mode == "oom") {
        std::vector<std::vector<char>> hog;
        for (;;)
            hog.emplace_back(64 << 20, 'x'); // touches every page
    }
    std::abort();
}

/// fanout: the prolog creates `n` sub-jobs of task `task` with configuration
/// `subjob_config`, connected as `shape` says:
///   flat     no dependencies
///   chain    0 -> 1 -> ... -> n-1
///   fanin    0 .. n-2 all -> n-1
///   diamond  0 -> (1 .. n-2) -> n-1
/// `fail_index` makes that sub-job a `fail` job; `subjob_max_attempts` limits their attempts. The epilog counts what
/// its sub-jobs did and, if `then` names a task, creates it as the next stage.
void fanoutProlog(TaskContext& ctx) {
    const QJsonObject& c = ctx.config();
    const int n = c["n"].toInt(10);
    if (n < 1) throw Error("fanout: n must be at least 1 (got " + std::to_string(n) + ")");
    const QString shape = c["shape"].toString("flat");
    if (shape != "flat" && shape != "chain" && shape != "fanin" && shape != "diamond")
        throw Error("fanout: unknown shape '" + shape.toStdString() + "' (flat, chain, fanin, diamond)");
    if ((shape == "diamond" && n < 3) || (shape == "fanin" && n < 2))
        throw Error("fanout: shape " + shape.toStdString() + " needs more sub-jobs");
    const int failIndex = c["fail_index"].toInt(-1);
    // Read once: each of 20,000 sub-jobs looked them up again (about a quarter of this loop, by perf).
    const std::string task = c["task"].toString("noop").toStdString();
    const QJsonObject subjobConfig = c["subjob_config"].toObject();
    const std::optional<int> maxAttempts =
        c["subjob_max_attempts"].isDouble() ? std::optional<int>(c["subjob_max_attempts"].toInt()) : std::nullopt;
    const std::string ofN = " of " + std::to_string(n);
    for (int i = 0; i < n; ++i) {
        NewJob j;
        j.name = i == failIndex ? "fail" : task;
        j.config = subjobConfig;
        j.input = {{"index", i}};
        j.description = "part " + std::to_string(i + 1) + ofN;
        j.maxAttempts = maxAttempts;
        ctx.addSubjob(std::move(j));
    }
    if (shape == "chain")
        for (int i = 0; i + 1 < n; ++i)
            ctx.addDependency(i, i + 1);
    if (shape == "fanin")
        for (int i = 0; i + 1 < n; ++i)
            ctx.addDependency(i, n - 1);
    if (shape == "diamond")
        for (int i = 1; i + 1 < n; ++i) {
            ctx.addDependency(0, i);
            ctx.addDependency(i, n - 1);
        }
}

void fanoutEpilog(TaskContext& ctx) {
    ctx.setOutput({{"subjobs", ctx.config()["n"].toInt(10)}});
    const QString then = ctx.config()["then"].toString();
    if (!then.isEmpty()) {
        NewJob next;
        next.name = then.toStdString();
        next.config = ctx.config()["then_config"].toObject();
        next.description = "next stage of job " + std::to_string(ctx.jobId());
        ctx.addChild(std::move(next));
    }
}

} // namespace

void registerBuiltinTasks(TaskRegistry& r) {
    r.add({.name = "noop",
           .description = "Does nothing (optionally sleeps sleep_s seconds, records a QC value qc_value, and appends "
                          "its id to the file `mark`)",
           .defaults = {{"sleep_s", 0}},
           .run = noopRun});
    r.add({.name = "fail",
           .description = "Fails with `message` (only its first fail_attempts attempts, if given); `throw`: error "
                          "(default), std (a std::exception) or other (an int)",
           .defaults = {{"message", "failed on purpose"}},
           .run = failRun});
    r.add({.name = "crash",
           .description = "Crashes its process: mode abort, segv, oom (runs out of memory) or hang",
           .defaults = {{"mode", "abort"}},
           .isolation = Isolation::ChildProcess,
           .memoryLimitMb = 512,
           .run = crashRun});
    r.add({.name = "fanout",
           .description = "Creates n sub-jobs of `task` shaped flat, chain, fanin or diamond",
           .defaults = {{"n", 10}, {"task", "noop"}, {"shape", "flat"}, {"on_subjob_failure", "wait"}},
           .prolog = fanoutProlog,
           .epilog = fanoutEpilog});
}

} // namespace paudm::jobs
