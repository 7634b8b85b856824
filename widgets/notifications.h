#pragma once
// LISTEN, so that panels update when the database says something changed (no polling) and
// the GUI thread never waits. All listeners of one database share one connection and one
// thread (a hub): five live panels cost the server one session, not five. The hub
// reconnects by itself and says when the connection is lost and when it is back.
#include <QObject>
#include <QStringList>

#include <memory>
#include <string>

class QTimer;

namespace paudm::ui {

class NotificationHub;

class NotificationListener : public QObject {
    Q_OBJECT
public:
    NotificationListener(std::string conninfo, QStringList channels, QObject* parent = nullptr);
    /// Stops listening; never waits (the hub's thread, when this was its last listener,
    /// ends by itself within a twentieth of a second).
    ~NotificationListener() override;

signals:
    /// Queued to this object's thread.
    void notified(const QString& channel, const QString& payload);
    void connectionChanged(bool connected, const QString& error);

private:
    std::shared_ptr<NotificationHub> hub_;
};

/// Starts the single-shot `refresh` timer at a notification unless it is already waiting:
/// at most one refresh per interval however many notifications come. (Restarting it at
/// each would starve it under a steady stream, such as hundreds of runners' heartbeats.)
void refreshOnNotification(NotificationListener* listener, QTimer* refresh);

/// Stops every hub's thread at once (the window closing).
void stopAllListening();

} // namespace paudm::ui
