#include "connectionstatus.h"

#include "background.h"

#include "db/connection.h"
#include "db/migrations.h"

namespace paudm::ui {

namespace {

ConnectionInfo openDatabase(const db::DatabaseTarget& target, const std::shared_ptr<db::Interrupter>& stop) {
    ConnectionInfo info;
    info.embedded = target.isEmbedded();
    info.target = QString::fromStdString(target.describe());
    const auto& migrations = db::bundledMigrations();
    info.knownSchemaVersion = migrations.empty() ? 0 : migrations.back().version;
    auto c = db::openAndMigrate(target, "paudm-console", stop);
    if (!c) {
        info.error = QString::fromStdString(c.error().message());
        return info;
    }
    auto version = capture([&] { return db::schemaVersion(*c); });
    if (!version) {
        info.error = QString::fromStdString(version.error().message());
        return info;
    }
    info.ok = true;
    info.serverVersion = QString::fromStdString(c->serverVersion());
    info.schemaVersion = *version;
    return info;
}

} // namespace

ConnectionMonitor::ConnectionMonitor(db::DatabaseTarget target, QObject* parent)
    : QObject(parent), target_(std::move(target)), background_(std::make_unique<Background>()) {}

ConnectionMonitor::~ConnectionMonitor() = default; // the Background interrupts what is in flight

void ConnectionMonitor::connectNow() {
    if (connecting_) return;
    connecting_ = true;
    finished_ = false;
    background_->run<ConnectionInfo>(
        this, [t = target_](Work& w) { return openDatabase(t, w.interrupter()); },
        [this](const Result<ConnectionInfo>& r) {
            connecting_ = false;
            if (r) {
                info_ = *r;
            } else {
                info_ = {};
                info_.error = QString::fromStdString(r.error().message());
            }
            finished_ = true;
            emit changed(info_);
        });
}

ConnectionIndicator::ConnectionIndicator(QWidget* parent) : QLabel(parent) {
    setTextFormat(Qt::RichText);
    setContentsMargins(6, 0, 6, 0);
}

void ConnectionIndicator::showConnecting(const QString& target) {
    setText(QStringLiteral("<span style='color:#c80'>&#9679;</span> connecting to %1 …").arg(target.toHtmlEscaped()));
    setToolTip(target);
}

void ConnectionIndicator::show(const ConnectionInfo& info) {
    if (!info.ok) {
        setText(QStringLiteral("<span style='color:#c00'>&#9679;</span> <b>no database</b>: %1")
                    .arg(info.error.section('\n', 0, 0).left(140).toHtmlEscaped()));
        setToolTip(info.target + "\n\n" + info.error);
        return;
    }
    const QString kind = info.embedded ? tr("embedded") : tr("external");
    QString schema = tr("schema %1").arg(info.schemaVersion);
    if (info.schemaVersion != info.knownSchemaVersion) schema += tr(" (this build: %1)").arg(info.knownSchemaVersion);
    setText(QStringLiteral("<span style='color:#080'>&#9679;</span> %1 · PostgreSQL %2 · %3")
                .arg(kind, info.serverVersion.toHtmlEscaped(), schema));
    setToolTip(info.target);
}

} // namespace paudm::ui
