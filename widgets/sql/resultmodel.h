#pragma once
// A query's result as a table model: the server's text, NULL shown as such (grey), numbers
// right-aligned and sorted as numbers (Qt::UserRole), long or multi-line values elided
// with the whole value in the tooltip.
#include "sql/query.h"

#include <QAbstractTableModel>

#include <memory>

namespace paudm::ui {

class ResultModel : public QAbstractTableModel {
    Q_OBJECT
public:
    using QAbstractTableModel::QAbstractTableModel;
    static constexpr int SortRole = Qt::UserRole;

    void setResult(std::shared_ptr<const sql::QueryResult> r);
    const std::shared_ptr<const sql::QueryResult>& result() const { return result_; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

private:
    std::shared_ptr<const sql::QueryResult> result_;
};

/// A value as a number, for sorting and plotting: NaN for NULL, text and non-numbers.
double numericValue(const sql::Value& v);

} // namespace paudm::ui
