#pragma once
// The database connection as the console sees it: opened (and migrated) off the GUI
// thread, reported through a signal, shown as an indicator in the status bar.
#include "db/database.h"

#include <QLabel>
#include <QObject>

#include <memory>

namespace paudm::ui {

class Background;

struct ConnectionInfo {
    bool ok = false;
    bool embedded = true;
    QString target;        ///< description, never with a password
    QString serverVersion; ///< e.g. "15.18"
    int schemaVersion = 0;
    int knownSchemaVersion = 0;
    QString error;
};

/// Opens the database on a worker thread (starting the embedded server and applying
/// migrations as needed) and reports the outcome. Destroying it interrupts an attempt in
/// progress (a server that does not answer, an embedded server starting) and never waits.
class ConnectionMonitor : public QObject {
    Q_OBJECT
public:
    explicit ConnectionMonitor(db::DatabaseTarget target, QObject* parent = nullptr);
    ~ConnectionMonitor() override;
    void connectNow();
    const ConnectionInfo& info() const { return info_; }
    bool finished() const { return finished_; }
    const db::DatabaseTarget& target() const { return target_; }

signals:
    void changed(const paudm::ui::ConnectionInfo& info);

private:
    db::DatabaseTarget target_;
    ConnectionInfo info_;
    bool finished_ = false;
    bool connecting_ = false;
    std::unique_ptr<Background> background_;
};

/// Status-bar indicator: a coloured dot and "embedded · PostgreSQL 15.18 · schema 4".
class ConnectionIndicator : public QLabel {
    Q_OBJECT
public:
    explicit ConnectionIndicator(QWidget* parent = nullptr);
    void show(const ConnectionInfo& info);
    void showConnecting(const QString& target);
};

} // namespace paudm::ui
