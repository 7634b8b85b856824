#pragma once
// The Nightly report's tables: the failing exposures (or those two cut sets judge
// differently) and the pass rates per night and band.
#include "quality/report.h"

#include <QAbstractTableModel>
#include <QString>

#include <memory>
#include <vector>

namespace paudm::ui {

/// The failing exposures of a report: one row per exposure, its reasons joined.
class FailingTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Night, Time, Exposure, Band, Why, ColumnCount };
    using QAbstractTableModel::QAbstractTableModel;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    /// Shows the failing exposures of `r` (kept, not copied).
    void setReport(std::shared_ptr<const quality::Report> r);
    /// Shows exactly these exposures of `r`, with `why` for each (a comparison).
    void setRows(std::shared_ptr<const quality::Report> r, const std::vector<std::size_t>& rows,
                 const std::vector<QString>& why);
    const quality::Exposure* exposure(int row) const;

private:
    struct Row {
        std::size_t exposure; ///< into report_->exposures
        QString why;
    };
    std::shared_ptr<const quality::Report> report_;
    std::vector<Row> rows_;
};

/// Pass rates per night and band.
class PassRateTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Night, Band, Exposures, Passed, Share, ColumnCount };
    using QAbstractTableModel::QAbstractTableModel;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    void setRates(std::vector<quality::PassRate> rates);

private:
    std::vector<quality::PassRate> rows_;
};

} // namespace paudm::ui
