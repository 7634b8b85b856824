#pragma once
// A connection that comes back by itself, for work that may simply be done again (upserts
// keyed by name, idempotent updates, whole transactions). Each run() is retried on a new
// connection after a transient error (the server restarted, our session was terminated,
// a deadlock), with back-off, for up to `patience`; past that, or at once for any other
// error, the error is thrown with what was being done in front of it. So a long-running
// command rides out a server restart and a pg_terminate_backend, and says clearly when the
// server stays away.
#include "db/connection.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace paudm::db {

class ReconnectingConnection {
public:
    explicit ReconnectingConnection(std::string conninfo, std::string purpose = "paudm",
                                    std::chrono::milliseconds patience = std::chrono::seconds(60),
                                    std::shared_ptr<Interrupter> interrupter = {})
        : conninfo_(std::move(conninfo)), purpose_(std::move(purpose)), patience_(patience),
          interrupter_(std::move(interrupter)) {}

    /// Runs `work(connection)`; a transient failure closes the connection and runs it
    /// again on a new one. Returns what `work` returns.
    template <class F> auto run(const std::string& doing, F&& work) -> decltype(work(std::declval<Connection&>())) {
        const auto start = std::chrono::steady_clock::now();
        std::chrono::milliseconds wait(50);
        for (;;) {
            try {
                if (!c_ || !c_->isHealthy()) {
                    c_.reset();
                    c_ = Connection::open(conninfo_, purpose_, interrupter_);
                }
                return work(*c_);
            } catch (const Error& e) {
                if (!isTransient(e) && !(c_ && !c_->isHealthy() && e.code() != kInterrupted))
                    throw e.withContext(doing);
                c_.reset();
                if (std::chrono::steady_clock::now() - start + wait > patience_)
                    throw e.withContext(doing + " (the database stayed away for " +
                                        std::to_string(patience_.count() / 1000) + " s)");
                std::this_thread::sleep_for(wait);
                wait = std::min(wait * 2, std::chrono::milliseconds(2000));
                ++retries_;
            }
        }
    }

    /// How many times a run() had to start again (for reports and tests).
    int retries() const { return retries_; }
    const std::string& conninfo() const { return conninfo_; }

private:
    std::string conninfo_, purpose_;
    std::chrono::milliseconds patience_;
    std::shared_ptr<Interrupter> interrupter_;
    std::optional<Connection> c_;
    int retries_ = 0;
};

} // namespace paudm::db
