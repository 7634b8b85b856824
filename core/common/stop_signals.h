#pragma once
// SIGINT and SIGTERM as ordinary calls on an ordinary thread. The signal handler does only
// what is async-signal-safe: it writes one byte to a pipe. A thread of this object's own
// reads the pipe and calls `onSignal`, which may then do anything (take locks, notify
// condition variables, log). This is how Slurm's SIGTERM at a pilot's time limit, and a
// user's Ctrl-C, reach the runner.
#include <functional>
#include <thread>

namespace paudm {

class StopSignals {
public:
    /// Installs the handlers. `onSignal(signo, count)` runs on the helper thread for every
    /// SIGINT or SIGTERM received; `count` is 1 for the first, 2 for the second, ...
    /// Only one StopSignals may exist at a time.
    explicit StopSignals(std::function<void(int signo, int count)> onSignal);
    /// Restores the previous handlers and ends the helper thread.
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    /// "SIGINT", "SIGTERM".
    static const char* name(int signo);

private:
    std::function<void(int, int)> onSignal_;
    std::thread thread_;
    int pipe_[2] = {-1, -1};
};

} // namespace paudm
