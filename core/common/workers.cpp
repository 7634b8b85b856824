#include "common/workers.h"

#include <thread>
#include <vector>

namespace paudm {

void WorkerGroup::fail(std::exception_ptr e) {
    std::lock_guard lock(mutex_);
    if (!first_) first_ = std::move(e);
    failed_ = true;
}

void runWorkers(int n, const std::function<void(int, const WorkerGroup&)>& work) {
    WorkerGroup group;
    auto body = [&](int index) {
        try {
            work(index, group);
        } catch (...) {
            group.fail(std::current_exception());
        }
    };
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(std::max(0, n - 1)));
    try {
        for (int i = 1; i < n; ++i)
            threads.emplace_back(body, i);
    } catch (...) {
        // Could not start a thread (out of resources): the ones started still run to the end.
        group.fail(std::current_exception());
    }
    body(0);
    for (auto& t : threads)
        t.join();
    if (group.first_) std::rethrow_exception(group.first_);
}

std::thread startGuardedThread(std::function<void()> body, std::function<void(const Error&)> onError) {
    return std::thread([body = std::move(body), onError = std::move(onError)] {
        try {
            body();
        } catch (...) {
            const Error e = currentExceptionAsError();
            try {
                if (onError) onError(e);
            } catch (...) {
                // Nothing more can be said: the error handler itself failed.
            }
        }
    });
}

std::string describeCurrentException() {
    try {
        throw;
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception (not a std::exception)";
    }
}

Error currentExceptionAsError() {
    try {
        throw;
    } catch (const Error& e) {
        return e;
    } catch (const std::exception& e) {
        return Error(e.what());
    } catch (...) {
        return Error("unknown exception (not a std::exception)");
    }
}

} // namespace paudm
