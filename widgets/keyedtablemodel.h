#pragma once
// A table model over rows that carry a key (an obs set name, a runner id): a refresh
// replaces the rows, signalling removals, insertions, moves and changes instead of a
// reset, so that views keep their selection and scroll position while data arrives live.
#include <QAbstractTableModel>

#include <map>
#include <vector>

namespace paudm::ui {

template <class Row, class Key>
class KeyedTableModel : public QAbstractTableModel {
public:
    using QAbstractTableModel::QAbstractTableModel;
    int rowCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() ? 0 : static_cast<int>(rows_.size());
    }
    const Row* row(int r) const { return r >= 0 && r < rowCount() ? &rows_[static_cast<std::size_t>(r)] : nullptr; }
    int rowOf(const Key& key) const {
        for (std::size_t i = 0; i < rows_.size(); ++i)
            if (keyOf(rows_[i]) == key) return static_cast<int>(i);
        return -1;
    }

protected:
    virtual Key keyOf(const Row& row) const = 0;

    /// Replaces the rows with `incoming` (in its order).
    void setRows(std::vector<Row> incoming) {
        std::map<Key, bool> keep;
        for (const auto& r : incoming) keep[keyOf(r)] = true;
        for (int i = rowCount() - 1; i >= 0; --i)
            if (!keep.count(keyOf(rows_[static_cast<std::size_t>(i)]))) {
                beginRemoveRows({}, i, i);
                rows_.erase(rows_.begin() + i);
                endRemoveRows();
            }
        const int last = columnCount() - 1;
        for (std::size_t k = 0; k < incoming.size(); ++k) {
            const int at = static_cast<int>(k);
            const int existing = at < rowCount() && keyOf(rows_[k]) == keyOf(incoming[k]) ? at : rowOf(keyOf(incoming[k]));
            if (existing < 0) {
                beginInsertRows({}, at, at);
                rows_.insert(rows_.begin() + at, incoming[k]);
                endInsertRows();
                continue;
            }
            if (existing != at) { // positions before `at` are placed already, so existing > at
                beginMoveRows({}, existing, existing, {}, at);
                Row moved = rows_[static_cast<std::size_t>(existing)];
                rows_.erase(rows_.begin() + existing);
                rows_.insert(rows_.begin() + at, std::move(moved));
                endMoveRows();
            }
            rows_[k] = incoming[k];
            emit dataChanged(index(at, 0), index(at, last));
        }
    }

    std::vector<Row> rows_;
};

} // namespace paudm::ui
