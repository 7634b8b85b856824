#include "jobs/child_process.h"

#include "jobs/runner.h"

#include <QJsonDocument>

#include <execinfo.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>

namespace paudm::jobs {

namespace {

constexpr size_t kTagLimit = 64 * 1024; // keep the end of long outputs

std::string tail(const std::string& s, size_t n) {
    if (s.size() <= n) return s;
    return "[... " + std::to_string(s.size() - n) + " bytes cut ...]\n" + s.substr(s.size() - n);
}

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fd[2];
        if (::pipe2(fd, O_CLOEXEC) != 0) throw Error(std::string("pipe: ") + std::strerror(errno));
        r = fd[0];
        w = fd[1];
    }
    ~Pipe() {
        closeRead();
        closeWrite();
    }
    void closeRead() {
        if (r >= 0) ::close(r);
        r = -1;
    }
    void closeWrite() {
        if (w >= 0) ::close(w);
        w = -1;
    }
};

extern "C" void crashHandler(int sig) {
    // Only async-signal-safe calls: write and backtrace_symbols_fd.
    const char* name = strsignal(sig);
    (void)!::write(2, "\n*** fatal signal: ", 19);
    (void)!::write(2, name, std::strlen(name));
    (void)!::write(2, " ***\n", 5);
    void* frames[64];
    const int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, 2);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

} // namespace

TaskResult runInChildProcess(const ChildSpec& spec, const std::atomic<bool>& cancelled) {
    const QByteArray input = QJsonDocument(spec.job).toJson(QJsonDocument::Compact);
    const QByteArray exe = spec.executable.toLocal8Bit();
    Pipe in, out, err, res;
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw Error(std::string("cannot start a task process: ") + std::strerror(errno));
    if (pid == 0) {
        // Child: only async-signal-safe calls until exec.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL); // the runner dies -> so does its task
        if (::getppid() != parent) ::_exit(126);
#if !defined(__SANITIZE_ADDRESS__)
        // (Under AddressSanitizer a process reserves terabytes of address space: no limit then.)
        if (spec.memoryLimitMb > 0) {
            const rlim_t bytes = static_cast<rlim_t>(spec.memoryLimitMb) << 20;
            rlimit lim{bytes, bytes};
            ::setrlimit(RLIMIT_AS, &lim);
        }
#endif
        ::dup2(in.r, 0);
        ::dup2(out.w, 1);
        ::dup2(err.w, 2);
        ::dup2(res.w, 3); // dup2 clears O_CLOEXEC on the new descriptors
        char* argv[] = {const_cast<char*>(exe.constData()), const_cast<char*>("__task"), nullptr};
        ::execv(exe.constData(), argv);
        ::_exit(127);
    }
    in.closeRead();
    out.closeWrite();
    err.closeWrite();
    res.closeWrite();
    {
        // The job description is small: write it whole, then close so the child sees EOF.
        const char* p = input.constData();
        qsizetype left = input.size();
        while (left > 0) {
            const ssize_t n = ::write(in.w, p, static_cast<size_t>(left));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            p += n;
            left -= n;
        }
        in.closeWrite();
    }

    std::string outText, errText, resText;
    const auto start = std::chrono::steady_clock::now();
    bool timedOut = false, killedForCancel = false;
    int open = 3;
    pollfd fds[3] = {{out.r, POLLIN, 0}, {err.r, POLLIN, 0}, {res.r, POLLIN, 0}};
    std::string* sinks[3] = {&outText, &errText, &resText};
    while (open > 0) {
        const int rc = ::poll(fds, 3, 100);
        if (rc < 0 && errno != EINTR) break;
        for (int i = 0; i < 3; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[65536];
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<size_t>(n));
                if (i < 2 && sinks[i]->size() > 4 * kTagLimit) sinks[i]->erase(0, sinks[i]->size() - 2 * kTagLimit);
            } else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                fds[i].fd = -1;
                --open;
            }
        }
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!timedOut && !killedForCancel && spec.timeoutS > 0 && elapsed > spec.timeoutS) {
            timedOut = true;
            ::kill(pid, SIGKILL);
        }
        if (!timedOut && !killedForCancel && cancelled.load()) {
            killedForCancel = true;
            ::kill(pid, SIGKILL);
        }
    }
    int status = 0;
    rusage usage{};
    while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    TaskResult r;
    const bool cleanExit = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (cleanExit && !resText.empty()) {
        QJsonParseError perr{};
        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(resText), &perr);
        if (perr.error == QJsonParseError::NoError) r = TaskResult::fromJson(doc.object());
        else {
            r.ok = false;
            r.outcome = "CRASHED";
            r.error = "the task process wrote an unreadable result: " + perr.errorString().toStdString();
        }
    } else {
        r.ok = false;
        if (timedOut) {
            r.outcome = "TIMEOUT";
            r.error = "exceeded its time limit of " + std::to_string(spec.timeoutS) + " s";
        } else if (killedForCancel) {
            r.outcome = "CANCELLED";
            r.error = "aborted";
            r.retryable = false;
        } else if (WIFSIGNALED(status)) {
            r.outcome = "CRASHED";
            r.error = "the task process was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                      strsignal(WTERMSIG(status)) + ")";
        } else {
            r.outcome = "CRASHED";
            r.error = "the task process exited with status " + std::to_string(WEXITSTATUS(status)) +
                      (WEXITSTATUS(status) == 127 ? " (cannot run " + spec.executable.toStdString() + ")" : "");
        }
        r.traceback = r.error + (errText.empty() ? "" : "\n\nstderr:\n" + tail(errText, kTagLimit));
    }
    // What it cost: how close it came to its memory limit matters on a farm slot.
    {
        char line[200];
        const double user = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6;
        const double sys = usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
        std::snprintf(line, sizeof line, "peak memory %.0f MB%s, CPU %.1f s (user %.1f, system %.1f), wall %.1f s",
                      usage.ru_maxrss / 1024.0,
                      spec.memoryLimitMb > 0 ? (" of " + std::to_string(spec.memoryLimitMb) + " MB allowed").c_str() : "",
                      user + sys, user, sys, wall);
        r.tags["resources"] = line;
    }
    if (!outText.empty()) r.tags["stdout"] = tail(outText, kTagLimit);
    if (!errText.empty()) r.tags["stderr"] = tail(errText, kTagLimit);
    return r;
}

int taskProcessMain(const TaskRegistry& registry) {
    for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, crashHandler);
    const std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    const QJsonObject job = QJsonDocument::fromJson(QByteArray::fromStdString(text)).object();
    TaskResult result;
    const TaskType* type = registry.find(job["task"].toString().toStdString());
    if (!type) {
        result.ok = false;
        result.outcome = "FAILED";
        result.retryable = false;
        result.error = "unknown task '" + job["task"].toString().toStdString() + "'";
    } else {
        static const std::atomic<bool> never{false};
        TaskContext ctx(job["job_id"].toInteger(), job["attempt"].toInt(),
                        job["phase"].toString() == "epilog" ? Phase::Epilog : Phase::Prolog, job["config"].toObject(),
                        job["input"].toObject(), job["conninfo"].toString().toStdString(), &never);
        try {
            result = executeTask(*type, ctx);
        } catch (const std::bad_alloc&) {
            result = {};
            result.ok = false;
            result.outcome = "OUT_OF_MEMORY";
            result.error = "ran out of memory";
        }
        if (!result.ok && result.outcome == "FAILED" && result.error.find("bad_alloc") != std::string::npos) {
            result.outcome = "OUT_OF_MEMORY";
            result.error = "ran out of memory (limit " + std::to_string(job["memory_limit_mb"].toInt()) + " MiB)";
        }
    }
    std::cout.flush();
    const QByteArray out = QJsonDocument(result.toJson()).toJson(QJsonDocument::Compact);
    const char* p = out.constData();
    qsizetype left = out.size();
    while (left > 0) {
        const ssize_t n = ::write(3, p, static_cast<size_t>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 3;
        p += n;
        left -= n;
    }
    return 0;
}

} // namespace paudm::jobs
