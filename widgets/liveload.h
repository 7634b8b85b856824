#pragma once
// What every live panel does: load on a worker thread (never on the GUI thread), show the
// result, load again when the database announces a change on the panel's channels (at
// most one load per 300 ms however many notifications come), never run two loads at once,
// and say when the connection is lost or back. Built on Background and the shared
// notification hub; its destructor never waits (a load in flight is interrupted and its
// result dropped).
#include "background.h"
#include "notifications.h"

#include <QTimer>

#include <functional>
#include <memory>

namespace paudm::ui {

template <class T> class LiveLoad {
public:
    /// `owner` parents the timer and the listener; `show` runs on the GUI thread.
    LiveLoad(QObject* owner, std::function<void(const Result<T>&)> show) : owner_(owner), show_(std::move(show)) {
        debounce_ = new QTimer(owner);
        debounce_->setSingleShot(true);
        debounce_->setInterval(300);
        QObject::connect(debounce_, &QTimer::timeout, owner, [this] { refresh(); });
    }
    LiveLoad(const LiveLoad&) = delete;
    LiveLoad& operator=(const LiveLoad&) = delete;

    /// Called on the GUI thread at each load: returns the work, which runs on a worker
    /// thread with this panel's connection (it captures what it needs, by value).
    void setLoader(std::function<std::function<T(db::Connection&)>()> prepare) { prepare_ = std::move(prepare); }
    /// Reads this database and listens on `channels` of it (replacing an earlier one).
    void listen(const std::string& conninfo, const QStringList& channels,
                std::function<void(bool connected, const QString& error)> onConnection) {
        background_ = std::make_unique<Background>(conninfo);
        running_ = false;
        delete listener_;
        listener_ = new NotificationListener(conninfo, channels, owner_);
        refreshOnNotification(listener_, debounce_);
        QObject::connect(listener_, &NotificationListener::connectionChanged, owner_, std::move(onConnection));
    }
    /// Loads now, or right after the load in progress.
    void refresh() {
        if (!prepare_ || !background_) return;
        if (running_) {
            pending_ = true;
            return;
        }
        running_ = true;
        Background* generation = background_.get();
        background_->query<T>(owner_, prepare_(), [this, generation](const Result<T>& r) {
            if (generation != background_.get()) return; // from a database we left
            running_ = false;
            show_(r);
            if (pending_) {
                pending_ = false;
                refresh();
            }
        });
    }

private:
    QObject* owner_;
    std::function<void(const Result<T>&)> show_;
    std::function<std::function<T(db::Connection&)>()> prepare_;
    QTimer* debounce_;
    std::unique_ptr<Background> background_;
    NotificationListener* listener_ = nullptr;
    bool running_ = false, pending_ = false;
};

} // namespace paudm::ui
