#pragma once
// LISTEN on a connection of its own, in a thread of its own, so that panels update when
// the database says something changed (no polling) and the GUI thread never waits.
// Reconnects by itself; says when the connection is lost and when it is back.
#include <QObject>
#include <QStringList>

class QTimer;

#include <atomic>
#include <string>
#include <thread>

namespace paudm::ui {

class NotificationListener : public QObject {
    Q_OBJECT
public:
    NotificationListener(std::string conninfo, QStringList channels, QObject* parent = nullptr);
    /// Stops listening and waits for the thread (at most a quarter of a second).
    ~NotificationListener() override;

signals:
    /// Emitted from the listening thread: connect with the default (queued) connection.
    void notified(const QString& channel, const QString& payload);
    void connectionChanged(bool connected, const QString& error);

private:
    void loop();

    std::string conninfo_;
    QStringList channels_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

/// Starts the single-shot `refresh` timer at a notification unless it is already waiting:
/// at most one refresh per interval however many notifications come. (Restarting it at
/// each would starve it under a steady stream, such as hundreds of runners' heartbeats.)
void refreshOnNotification(NotificationListener* listener, QTimer* refresh);

} // namespace paudm::ui
