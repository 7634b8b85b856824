#include "notifications.h"

#include "db/connection.h"

#include <QTimer>

#include <chrono>
#include <optional>

namespace paudm::ui {

NotificationListener::NotificationListener(std::string conninfo, QStringList channels, QObject* parent)
    : QObject(parent), conninfo_(std::move(conninfo)), channels_(std::move(channels)) {
    thread_ = std::thread([this] { loop(); });
}

NotificationListener::~NotificationListener() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void NotificationListener::loop() {
    std::optional<db::Connection> c;
    bool reported = false;
    double backoff = 0.25;
    while (!stop_) {
        try {
            if (!c || !c->isHealthy()) {
                c.reset();
                c = db::Connection::open(conninfo_, "paudm console listener");
                for (const QString& ch : channels_) c->listen(ch.toStdString());
                emit connectionChanged(true, {});
                reported = false;
                backoff = 0.25;
            }
            for (const auto& n : c->waitNotifications(std::chrono::milliseconds(250)))
                emit notified(QString::fromStdString(n.channel), QString::fromStdString(n.payload));
        } catch (const std::exception& e) {
            c.reset();
            if (!reported) emit connectionChanged(false, QString::fromUtf8(e.what()));
            reported = true;
            // Wait before trying again, but stay quick to stop.
            for (double waited = 0; waited < backoff && !stop_; waited += 0.05)
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            backoff = std::min(backoff * 2, 5.0);
        }
    }
}

void refreshOnNotification(NotificationListener* listener, QTimer* refresh) {
    QObject::connect(listener, &NotificationListener::notified, refresh, [refresh] {
        if (!refresh->isActive()) refresh->start();
    });
}

} // namespace paudm::ui
