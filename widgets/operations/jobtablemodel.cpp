#include "jobtablemodel.h"

#include <QColor>
#include <QDateTime>

namespace paudm::ui {

QString humanDuration(qint64 ms) {
    if (ms < 0) return {};
    if (ms < 10000) return QObject::tr("%1 s").arg(ms / 1000.0, 0, 'f', 1);
    const qint64 s = ms / 1000;
    if (s < 3600) return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
    if (s < 86400) return QObject::tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QChar('0'));
    return QObject::tr("%1 d %2 h").arg(s / 86400).arg((s % 86400) / 3600);
}

QString qcText(const jobs::JobRow& r) {
    if (!r.qcChecks) return {};
    // Short enough for the column: "8/23 not ok" (the tooltip says it in words).
    return r.qcFailed ? QObject::tr("%1/%2 not ok").arg(r.qcFailed).arg(r.qcChecks)
                      : QObject::tr("%1 passed").arg(r.qcChecks);
}

QString runTime(const jobs::JobRow& r) {
    if (!r.started.isValid()) return {};
    return humanDuration(r.started.msecsTo(r.ended.isValid() ? r.ended : QDateTime::currentDateTimeUtc()));
}

QColor qcColour(const std::string& flag) {
    if (flag == "green") return QColor(0x2e, 0x7d, 0x32);
    if (flag == "yellow") return QColor(0xf9, 0xa8, 0x25);
    if (flag == "red") return QColor(0xc6, 0x28, 0x28);
    return {};
}

int JobTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant JobTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) return {};
    static const char* names[] = {"ID", "Task", "Sub-jobs", "Status", "QC", "Created", "Started", "Duration",
                                  "Attempts", "Description"};
    if (role == Qt::DisplayRole && section >= 0 && section < ColumnCount) return tr(names[section]);
    if (role == Qt::ToolTipRole && section == Qc)
        return tr("Green: every QC check passed. Yellow: some failed (at most half). Red: most failed.");
    return {};
}

QVariant JobTableModel::data(const QModelIndex& index, int role) const {
    const jobs::JobRow* r = row(index.row());
    if (!index.isValid() || !r || index.column() >= ColumnCount) return {};
    const auto time = [](const QDateTime& t) { return t.isValid() ? t.toLocalTime().toString("yyyy-MM-dd hh:mm:ss") : QString(); };
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Id: return static_cast<qlonglong>(r->id);
        case Task: return QString::fromStdString(r->name);
        case Subjobs: return r->subjobs ? QVariant(static_cast<qlonglong>(r->subjobs)) : QVariant();
        case Status: return QString::fromStdString(r->status);
        case Qc: return qcText(*r);
        case Created: return time(r->created);
        case Started: return time(r->started);
        case Duration: return runTime(*r);
        case Attempts: return r->attempts ? tr("%1 / %2").arg(r->attempts).arg(r->maxAttempts) : QString();
        case Description: return QString::fromStdString(r->description);
        }
    }
    if (role == Qt::DecorationRole && index.column() == Status) return QColor(jobs::statusColour(r->status));
    if (role == Qt::DecorationRole && index.column() == Qc) {
        const QColor c = qcColour(r->qcFlag);
        return c.isValid() ? QVariant(c) : QVariant();
    }
    if (role == Qt::ToolTipRole && index.column() == Description) return QString::fromStdString(r->description);
    if (role == Qt::ToolTipRole && index.column() == Qc && r->qcChecks)
        return QObject::tr("%1 of %2 quality checks did not pass (warn or fail)").arg(r->qcFailed).arg(r->qcChecks);
    if (role == Qt::TextAlignmentRole && (index.column() == Id || index.column() == Subjobs))
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

bool JobTableModel::canFetchMore(const QModelIndex& parent) const { return !parent.isValid() && more_ && !fetching_; }

void JobTableModel::fetchMore(const QModelIndex& parent) {
    if (!canFetchMore(parent) || rows_.empty()) return;
    fetching_ = true;
    emit moreWanted(rows_.back().id);
}

void JobTableModel::setFirstPage(std::vector<jobs::JobRow> rows) {
    more_ = rows.size() >= static_cast<std::size_t>(kPage);
    fetching_ = false;
    resetRows(std::move(rows));
}

void JobTableModel::appendPage(std::vector<jobs::JobRow> rows) {
    more_ = rows.size() >= static_cast<std::size_t>(kPage);
    fetching_ = false;
    // A live refresh may have brought some of them already.
    const std::int64_t last = rows_.empty() ? INT64_MAX : rows_.back().id;
    std::erase_if(rows, [last](const jobs::JobRow& r) { return r.id >= last; });
    appendRows(std::move(rows));
}

int JobTableModel::headSize() const { return std::clamp(rowCount(), kPage, 5 * kPage); }

void JobTableModel::refreshHead(std::vector<jobs::JobRow> rows, int asked) {
    if (rows.size() < static_cast<std::size_t>(asked)) { // the whole filter fits: replace everything
        more_ = false;
        setRows(std::move(rows));
        return;
    }
    const std::int64_t oldest = rows.back().id;
    int head = 0;
    while (head < rowCount() && rows_[static_cast<std::size_t>(head)].id >= oldest) ++head;
    if (head == rowCount() && rowCount() < asked) more_ = true;
    setRows(std::move(rows), head);
}

} // namespace paudm::ui
