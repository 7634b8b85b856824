#pragma once
// The one way the console runs work off the GUI thread: database queries, file reads,
// pixel work. A panel owns a Background (for its database, if it has one) and calls
// run(): the work runs on one of the console's worker threads, and `done` gets its
// Result<T> on the GUI thread afterwards, with the error's code intact (a SQLSTATE, or
// db::kInterrupted, or db::kQueryCanceled), never at all if the panel is gone by then.
//
// Rules for what is handed to run():
//   - `work` runs on a worker thread: it captures values (a filter, a path), never the
//     panel or its widgets, and it may throw anything (it becomes the Result's error);
//   - `done` runs on the GUI thread only while `context` lives: it may use the panel.
//
// Connections: each worker thread keeps one connection per database open between calls
// (the live panels refresh several times a second), reopens it when it was lost, and
// attaches it to the call's interrupter while the call runs.
//
// Stopping: cancelStatements() asks the server to cancel this Background's statements in
// progress (the SQL browser's Cancel; Operations when its filter changes); interrupt()
// stops everything of it at once, even against a server that no longer answers; the
// destructor interrupts and never waits. When the window closes, interruptEverything()
// stops every Background of the process, so that the worker threads are free within
// milliseconds and the process can end.
#include "common/error.h"
#include "db/connection.h"

#include <QMetaObject>
#include <QObject>
#include <QPointer>

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace paudm::ui {

/// What a background function sees.
class Work {
public:
    /// This worker thread's connection to the Background's database, open and attached to
    /// this call's interrupter. Throws if the Background has no database.
    db::Connection& db();
    /// True once the call was cancelled or interrupted: loops over pixels or rows should
    /// look now and then and return (or call checkCancelled()).
    bool cancelled() const { return interrupter_->interrupted() || cancelled_->load(); }
    void checkCancelled() const;
    const std::shared_ptr<db::Interrupter>& interrupter() const { return interrupter_; }

private:
    friend class Background;
    Work(std::string conninfo, std::shared_ptr<db::Interrupter> interrupter,
         std::shared_ptr<std::atomic<bool>> cancelled)
        : conninfo_(std::move(conninfo)), interrupter_(std::move(interrupter)), cancelled_(std::move(cancelled)) {}
    void finish();

    std::string conninfo_;
    std::shared_ptr<db::Interrupter> interrupter_;
    std::shared_ptr<std::atomic<bool>> cancelled_;
    db::Connection* attached_ = nullptr;
};

class Background {
public:
    explicit Background(std::string conninfo = {});
    /// Interrupts this Background's calls in flight (their `done` is not called); never waits.
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    const std::string& conninfo() const { return conninfo_; }

    /// Runs `work` on a worker thread, then `done` with its outcome on the GUI thread if
    /// `context` still exists.
    template <class T>
    void run(QObject* context, std::function<T(Work&)> work, std::function<void(const Result<T>&)> done) {
        QPointer<QObject> guard(context);
        auto call = start();
        submit([conninfo = conninfo_, call, work = std::move(work), done = std::move(done), guard]() mutable {
            Work w(conninfo, call->interrupter, call->cancelled);
            auto result = std::make_shared<Result<T>>(capture([&] { return work(w); }));
            w.finish();
            call->finished();
            if (call->dropped()) return;
            deliver([guard, done = std::move(done), result] {
                if (guard) done(*result);
            });
        });
    }
    /// The same, for work that needs only the database connection.
    template <class T>
    void query(QObject* context, std::function<T(db::Connection&)> work, std::function<void(const Result<T>&)> done) {
        run<T>(
            context, [work = std::move(work)](Work& w) { return work(w.db()); }, std::move(done));
    }

    /// Asks the server to cancel the statements in progress of this Background's calls;
    /// those calls end with SQLSTATE 57014 (their `done` is called). Never waits.
    void cancelStatements();
    /// Stops this Background's calls in flight at once; their `done` is not called.
    void interrupt();
    /// Calls started and not yet finished (for the console's busy indicators and tests).
    int running() const;

    /// Interrupts every Background's calls, for the window closing.
    static void interruptEverything();
    /// Waits at most `ms` for the worker threads to be idle (after interruptEverything(),
    /// before the process exits); true if they are.
    static bool drain(int ms);

private:
    struct Call {
        std::shared_ptr<db::Interrupter> interrupter = std::make_shared<db::Interrupter>();
        std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
        std::atomic<bool> droppedFlag{false};
        std::function<void()> onFinished;
        void finished() {
            if (onFinished) onFinished();
        }
        bool dropped() const { return droppedFlag.load(); }
    };
    struct Shared {
        std::mutex mutex;
        std::set<std::shared_ptr<Call>> calls;
    };
    std::shared_ptr<Call> start();
    static void submit(std::function<void()> task);
    static void deliver(std::function<void()> onGuiThread);

    std::string conninfo_;
    std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

} // namespace paudm::ui
