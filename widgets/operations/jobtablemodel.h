#pragma once
// The Operations panel's jobs table: newest first, one page at a time (the view asks for
// more as it scrolls, so a million jobs cost only what is shown), and live: a refresh
// replaces only the newest page, keeping the selection and the scroll position.
#include "jobs/store.h"
#include "keyedtablemodel.h"

namespace paudm::ui {

class JobTableModel : public KeyedTableModel<jobs::JobRow, std::int64_t> {
    Q_OBJECT
public:
    enum Column { Id, Task, Subjobs, Status, Qc, Created, Started, Duration, Attempts, Description, ColumnCount };
    static constexpr int kPage = 200;

    using KeyedTableModel::KeyedTableModel;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex& parent) const override;
    void fetchMore(const QModelIndex& parent) override;

    /// A new filter's first page.
    void setFirstPage(std::vector<jobs::JobRow> rows);
    /// The page after the last row (answer to moreWanted).
    void appendPage(std::vector<jobs::JobRow> rows);
    /// The page asked for did not come (an error, shown elsewhere): the next scroll asks again.
    void pageFailed() { fetching_ = false; }
    /// The newest rows again (a live refresh): they replace the rows down to the oldest of them.
    void refreshHead(std::vector<jobs::JobRow> rows, int asked);
    /// How many of the newest rows a live refresh reloads: those shown, within reason.
    int headSize() const;
    /// A page is on its way.
    bool fetching() const { return fetching_; }
    std::int64_t idAt(int row) const { return row >= 0 && row < rowCount() ? rows_[static_cast<std::size_t>(row)].id : 0; }

signals:
    /// The view scrolled to the end: load the jobs below `beforeId`.
    void moreWanted(std::int64_t beforeId);

protected:
    std::int64_t keyOf(const jobs::JobRow& r) const override { return r.id; }

private:
    bool more_ = false;     ///< the last page was full: there may be more
    bool fetching_ = false; ///< a page is on its way
};

/// "3 min 20 s", "1 h 05 min": durations as people read them.
QString humanDuration(qint64 ms);
/// "1 of 3 failed", "3 passed", or empty without checks.
QString qcText(const jobs::JobRow& r);
/// How long the job ran (or has been running), empty if it has not started.
QString runTime(const jobs::JobRow& r);
/// The colour of a QC flag (green, yellow, red), invalid for none.
QColor qcColour(const std::string& flag);

} // namespace paudm::ui
