#include "notifications.h"

#include "common/workers.h"
#include "db/connection.h"

#include <QMetaObject>
#include <QSet>
#include <QTimer>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

namespace paudm::ui {

/// One LISTEN connection to one database, shared by every listener of it. Its thread holds
/// a reference to the state, so the hub may go (the last listener deleted) while the
/// thread is still finishing: it notices within 50 ms and ends.
class NotificationHub {
public:
    static std::shared_ptr<NotificationHub> of(const std::string& conninfo);
    ~NotificationHub();

    void subscribe(NotificationListener* l, const QStringList& channels);
    void unsubscribe(NotificationListener* l);
    void stop();

private:
    struct State {
        std::string conninfo;
        std::mutex mutex;
        std::map<NotificationListener*, QSet<QString>> listeners;
        bool channelsChanged = false;
        std::atomic<bool> stop{false};
        std::shared_ptr<db::Interrupter> interrupter = std::make_shared<db::Interrupter>();
        std::optional<bool> connected; ///< last state announced
        QString lastError;
    };
    explicit NotificationHub(std::string conninfo);
    static void loop(std::shared_ptr<State> s);
    static void announce(State& s, bool ok, const QString& error);

    std::shared_ptr<State> state_;
};

namespace {
std::mutex g_hubsMutex;
std::map<std::string, std::weak_ptr<NotificationHub>>& hubs() {
    static std::map<std::string, std::weak_ptr<NotificationHub>> h;
    return h;
}
} // namespace

std::shared_ptr<NotificationHub> NotificationHub::of(const std::string& conninfo) {
    std::lock_guard lock(g_hubsMutex);
    auto& slot = hubs()[conninfo];
    if (auto h = slot.lock()) return h;
    std::shared_ptr<NotificationHub> h(new NotificationHub(conninfo));
    slot = h;
    return h;
}

NotificationHub::NotificationHub(std::string conninfo) : state_(std::make_shared<State>()) {
    state_->conninfo = std::move(conninfo);
    // loop() catches what the database throws; anything else ends the thread, and the
    // panels say that live updates stopped.
    auto s = state_;
    startGuardedThread(
        [s] { loop(s); },
        [s](const Error& e) { announce(*s, false, QString::fromStdString("listener stopped: " + e.message())); })
        .detach(); // ends by itself once stopped: nobody waits for it
}

NotificationHub::~NotificationHub() {
    stop();
}

void NotificationHub::stop() {
    state_->stop = true;
    state_->interrupter->interrupt();
}

void NotificationHub::subscribe(NotificationListener* l, const QStringList& channels) {
    std::lock_guard lock(state_->mutex);
    state_->listeners[l] = QSet<QString>(channels.begin(), channels.end());
    state_->channelsChanged = true;
    // A newcomer hears the state the others heard already.
    if (state_->connected)
        QMetaObject::invokeMethod(l, "connectionChanged", Qt::QueuedConnection, Q_ARG(bool, *state_->connected),
                                  Q_ARG(QString, state_->lastError));
}

void NotificationHub::unsubscribe(NotificationListener* l) {
    std::lock_guard lock(state_->mutex);
    state_->listeners.erase(l);
}

void NotificationHub::announce(State& s, bool ok, const QString& error) {
    std::lock_guard lock(s.mutex);
    if (s.connected == ok && (ok || s.lastError == error)) return;
    s.connected = ok;
    s.lastError = error;
    // Under the mutex: a listener being deleted waits in unsubscribe() until this is
    // posted, and deleting it then drops the posted event.
    for (const auto& [l, channels] : s.listeners)
        QMetaObject::invokeMethod(l, "connectionChanged", Qt::QueuedConnection, Q_ARG(bool, ok), Q_ARG(QString, error));
}

void NotificationHub::loop(std::shared_ptr<State> s) {
    std::optional<db::Connection> c;
    std::set<QString> listening;
    double backoff = 0.25;
    while (!s->stop) {
        try {
            if (!c || !c->isHealthy()) {
                c.reset();
                listening.clear();
                c = db::Connection::open(s->conninfo, "paudm console listener", s->interrupter);
                {
                    std::lock_guard lock(s->mutex);
                    s->channelsChanged = true;
                }
                backoff = 0.25;
            }
            std::set<QString> wanted;
            bool changed = false;
            {
                std::lock_guard lock(s->mutex);
                changed = s->channelsChanged;
                s->channelsChanged = false;
                if (changed)
                    for (const auto& [l, channels] : s->listeners)
                        wanted.insert(channels.begin(), channels.end());
            }
            if (changed) {
                for (const QString& ch : wanted)
                    if (!listening.count(ch)) c->listen(ch.toStdString());
                listening.insert(wanted.begin(), wanted.end());
                announce(*s, true, {});
            }
            for (const auto& n : c->waitNotifications(std::chrono::milliseconds(50))) {
                const QString channel = QString::fromStdString(n.channel), payload = QString::fromStdString(n.payload);
                std::lock_guard lock(s->mutex);
                for (const auto& [l, channels] : s->listeners)
                    if (channels.contains(channel))
                        QMetaObject::invokeMethod(l, "notified", Qt::QueuedConnection, Q_ARG(QString, channel),
                                                  Q_ARG(QString, payload));
            }
        } catch (const Error& e) {
            c.reset();
            if (s->stop) return;
            announce(*s, false, QString::fromUtf8(e.what()));
            // Wait before trying again, but stay quick to stop.
            for (double waited = 0; waited < backoff && !s->stop; waited += 0.05)
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            backoff = std::min(backoff * 2, 5.0);
        }
    }
}

NotificationListener::NotificationListener(std::string conninfo, QStringList channels, QObject* parent)
    : QObject(parent), hub_(NotificationHub::of(conninfo)) {
    hub_->subscribe(this, channels);
}

NotificationListener::~NotificationListener() {
    hub_->unsubscribe(this);
}

void refreshOnNotification(NotificationListener* listener, QTimer* refresh) {
    QObject::connect(listener, &NotificationListener::notified, refresh, [refresh] {
        if (!refresh->isActive()) refresh->start();
    });
}

void stopAllListening() {
    std::vector<std::shared_ptr<NotificationHub>> all;
    {
        std::lock_guard lock(g_hubsMutex);
        for (auto& [k, w] : hubs())
            if (auto h = w.lock()) all.push_back(h);
    }
    for (auto& h : all)
        h->stop();
}

} // namespace paudm::ui
