#pragma once
// What every live panel does: load in a worker thread (never on the GUI thread), show the
// result, load again when the database announces a change on the panel's channels (at
// most one load per 300 ms however many notifications come), never run two loads at once, and say when the
// connection is lost or back.
#include "notifications.h"

#include <QFutureWatcher>
#include <QTimer>
#include <QtConcurrent>

#include <functional>
#include <memory>

namespace paudm::ui {

template <class T>
class LiveLoad {
public:
    /// `owner` parents the timer and the listener; `show` runs on the GUI thread.
    LiveLoad(QObject* owner, std::function<void(const T&)> show) : owner_(owner), show_(std::move(show)) {
        debounce_ = new QTimer(owner);
        debounce_->setSingleShot(true);
        debounce_->setInterval(300);
        QObject::connect(debounce_, &QTimer::timeout, owner, [this] { refresh(); });
        QObject::connect(&watcher_, &QFutureWatcher<T>::finished, owner, [this] {
            show_(watcher_.result());
            if (pending_) {
                pending_ = false;
                refresh();
            }
        });
    }
    ~LiveLoad() { watcher_.waitForFinished(); }
    LiveLoad(const LiveLoad&) = delete;
    LiveLoad& operator=(const LiveLoad&) = delete;

    /// Called on the GUI thread at each load: returns the work, which runs in a worker
    /// thread (it opens its own connection; it captures what it needs from the widgets).
    void setLoader(std::function<std::function<T()>()> prepare) { prepare_ = std::move(prepare); }
    /// Listens on `channels` of this database (replacing an earlier listener).
    void listen(const std::string& conninfo, const QStringList& channels,
                std::function<void(bool connected, const QString& error)> onConnection) {
        delete listener_;
        listener_ = new NotificationListener(conninfo, channels, owner_);
        refreshOnNotification(listener_, debounce_);
        QObject::connect(listener_, &NotificationListener::connectionChanged, owner_, std::move(onConnection));
    }
    /// Loads now, or right after the load in progress.
    void refresh() {
        if (!prepare_) return;
        if (watcher_.isRunning()) {
            pending_ = true;
            return;
        }
        watcher_.setFuture(QtConcurrent::run(prepare_()));
    }

private:
    QObject* owner_;
    std::function<void(const T&)> show_;
    std::function<std::function<T()>()> prepare_;
    QTimer* debounce_;
    QFutureWatcher<T> watcher_;
    NotificationListener* listener_ = nullptr;
    bool pending_ = false;
};

} // namespace paudm::ui
