#pragma once
// The one way this project runs worker threads: every thread body runs inside a catch-all,
// every thread is joined, and the first failure is carried back to the caller, which
// rethrows it (with its original type, so a PermanentError stays one) only after the last
// thread has returned. No exception ever leaves a thread, and no thread is left unjoined
// when one of them fails.
#include "common/error.h"

#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace paudm {

/// What a worker sees of its siblings: whether one of them failed (so that it may stop
/// early) and its own index.
class WorkerGroup {
public:
    bool failed() const { return failed_.load(); }
    /// Records `e` as the group's failure if it is the first one.
    void fail(std::exception_ptr e);

private:
    friend void runWorkers(int, const std::function<void(int, const WorkerGroup&)>&);
    std::atomic<bool> failed_{false};
    std::mutex mutex_;
    std::exception_ptr first_;
};

/// Runs `work(index, group)` on `n` threads (the calling thread is one of them, index 0)
/// and returns when all have returned. If any worker threw, the first exception is
/// rethrown here after every thread has been joined; the others are dropped (their
/// siblings see group.failed() and should stop early).
void runWorkers(int n, const std::function<void(int index, const WorkerGroup& group)>& work);

/// A long-lived thread (a listener, a hosted runner) whose body cannot let an exception
/// out: whatever escapes it is handed to `onError`, on that thread, instead of ending the
/// process. The caller joins (or detaches) the thread as with any std::thread.
std::thread startGuardedThread(std::function<void()> body, std::function<void(const Error&)> onError);

/// A description of the exception in flight, for a catch (...) block: its what() for a
/// std::exception, else "unknown exception". Call only inside a catch handler.
std::string describeCurrentException();

/// The exception in flight as a paudm::Error (code kept when it is one). Call only inside
/// a catch handler.
Error currentExceptionAsError();

} // namespace paudm
