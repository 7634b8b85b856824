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

    /// Replaces the rows with `incoming` (in its order). With `head` >= 0 only the first
    /// `head` rows are replaced and the rest stay after them (a live refresh of the newest
    /// page of a table that loads older pages on demand).
    void setRows(std::vector<Row> incoming, int head = -1) {
        int end = head < 0 || head > rowCount() ? rowCount() : head; // the rows being replaced: [0, end)
        std::map<Key, bool> keep;
        for (const auto& r : incoming) keep[keyOf(r)] = true;
        for (int i = end - 1; i >= 0; --i)
            if (!keep.count(keyOf(rows_[static_cast<std::size_t>(i)]))) {
                beginRemoveRows({}, i, i);
                rows_.erase(rows_.begin() + i);
                endRemoveRows();
                --end;
            }
        const int last = columnCount() - 1;
        for (std::size_t k = 0; k < incoming.size(); ++k) {
            const int at = static_cast<int>(k);
            int existing = -1;
            for (int i = at; i < end && existing < 0; ++i)
                if (keyOf(rows_[static_cast<std::size_t>(i)]) == keyOf(incoming[k])) existing = i;
            if (existing < 0) {
                beginInsertRows({}, at, at);
                rows_.insert(rows_.begin() + at, incoming[k]);
                endInsertRows();
                ++end;
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

    /// Adds rows at the end (the next page).
    void appendRows(std::vector<Row> more) {
        if (more.empty()) return;
        beginInsertRows({}, rowCount(), rowCount() + static_cast<int>(more.size()) - 1);
        for (auto& r : more) rows_.push_back(std::move(r));
        endInsertRows();
    }

    /// Replaces everything (a new filter: nothing to keep).
    void resetRows(std::vector<Row> rows) {
        beginResetModel();
        rows_ = std::move(rows);
        endResetModel();
    }

    std::vector<Row> rows_;
};

} // namespace paudm::ui
