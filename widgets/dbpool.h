#pragma once
// Background database work for the panels: each call runs in a worker thread on a pooled
// connection of its own (opened once, reused; a broken one is dropped and the next call
// opens a fresh one, which is how the panels reconnect), and hands its result back on the
// GUI thread. Several calls may run at once: a slow count never delays a page of rows.
#include "db/connection.h"

#include <QFutureWatcher>
#include <QObject>
#include <QtConcurrent>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace paudm::ui {

class DbPool {
public:
    DbPool(std::string conninfo, std::string purpose) : conninfo_(std::move(conninfo)), purpose_(std::move(purpose)) {}

    /// Runs `work` with a connection, in a worker thread.
    template <class T>
    T with(const std::function<T(db::Connection&)>& work) {
        std::unique_ptr<db::Connection> c = take();
        db::Connection* raw = c.get();
        {
            std::lock_guard lock(mutex_);
            busy_.push_back(raw);
        }
        struct Done { // gives the connection back however `work` ends
            DbPool* pool;
            std::unique_ptr<db::Connection>& c;
            ~Done() {
                {
                    std::lock_guard lock(pool->mutex_);
                    std::erase(pool->busy_, c.get());
                }
                pool->give(std::move(c));
            }
        } done{this, c};
        return work(*raw);
    }

    /// Cancels the queries in progress on this pool's connections (answers nobody waits
    /// for any more: the filter changed). Their work ends with an error, which callers
    /// drop as out of date.
    void cancelRunning() {
        std::lock_guard lock(mutex_);
        for (db::Connection* c : busy_) c->cancelQuery();
    }

    const std::string& conninfo() const { return conninfo_; }

private:
    std::unique_ptr<db::Connection> take() {
        {
            std::lock_guard lock(mutex_);
            while (!idle_.empty()) {
                auto c = std::move(idle_.back());
                idle_.pop_back();
                if (c->isHealthy()) return c;
            }
        }
        return std::make_unique<db::Connection>(db::Connection::open(conninfo_, purpose_));
    }
    void give(std::unique_ptr<db::Connection> c) {
        if (!c->isHealthy()) return;
        std::lock_guard lock(mutex_);
        if (idle_.size() < 4) idle_.push_back(std::move(c));
    }

    std::string conninfo_, purpose_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<db::Connection>> idle_;
    std::vector<db::Connection*> busy_;
};

/// What a background query hands back: its value, or the error that stopped it.
template <class T>
struct Outcome {
    T value{};
    std::string error;
};

/// Runs `work` on a pooled connection in a worker thread and `done` with its outcome on
/// `context`'s thread (not at all if `context` is gone by then). Exceptions become errors.
template <class T>
void inBackground(QObject* context, std::shared_ptr<DbPool> pool, std::function<T(db::Connection&)> work,
                  std::function<void(const Outcome<T>&)> done) {
    auto* watcher = new QFutureWatcher<Outcome<T>>(context);
    QObject::connect(watcher, &QFutureWatcher<Outcome<T>>::finished, context, [watcher, done = std::move(done)] {
        done(watcher->result());
        watcher->deleteLater();
    });
    watcher->setFuture(QtConcurrent::run([pool = std::move(pool), work = std::move(work)] {
        Outcome<T> o;
        try {
            o.value = pool->with<T>(work);
        } catch (const std::exception& e) {
            o.error = e.what();
        }
        return o;
    }));
}

} // namespace paudm::ui
