#include "reportmodels.h"

#include "reportstyle.h"

namespace paudm::ui {

namespace q = quality;
using report::kBad;
using report::kGood;
using report::reasons;
using report::text;

// ---------------------------------------------------------------- failing exposures

int FailingTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}
int FailingTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant FailingTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"Night", "Time (UTC)", "Exposure", "Band", "Why"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

QVariant FailingTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount) return {};
    const Row& r = rows_[static_cast<std::size_t>(index.row())];
    const q::Exposure& e = report_->exposures[r.exposure];
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Night: return text(e.night);
        case Time: return text(e.timeUtc).mid(11);
        case Exposure: return text(e.file);
        case Band: return text(e.band);
        case Why: return r.why;
        }
    }
    if (role == Qt::ToolTipRole && index.column() == Why) return r.why;
    if (role == Qt::ForegroundRole && index.column() == Why) return kBad;
    return {};
}

void FailingTableModel::setReport(std::shared_ptr<const q::Report> r) {
    std::vector<std::size_t> rows;
    std::vector<QString> why;
    for (std::size_t k = 0; r && k < r->exposures.size(); ++k)
        if (!r->verdicts[k].pass) rows.push_back(k), why.push_back(reasons(r->verdicts[k]));
    setRows(std::move(r), rows, why);
}

void FailingTableModel::setRows(std::shared_ptr<const q::Report> r, const std::vector<std::size_t>& rows,
                                const std::vector<QString>& why) {
    beginResetModel();
    report_ = std::move(r);
    rows_.clear();
    for (std::size_t i = 0; i < rows.size(); ++i) rows_.push_back({rows[i], why[i]});
    endResetModel();
}

const q::Exposure* FailingTableModel::exposure(int row) const {
    return row >= 0 && row < rowCount() ? &report_->exposures[rows_[static_cast<std::size_t>(row)].exposure] : nullptr;
}

// ---------------------------------------------------------------- pass rates

int PassRateTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}
int PassRateTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PassRateTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"Night", "Band", "Exposures", "Passed", "Share"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

QVariant PassRateTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount) return {};
    const auto& r = rows_[static_cast<std::size_t>(index.row())];
    const double share = r.exposures ? 100.0 * r.passed / r.exposures : 0;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Night: return text(r.night);
        case Band: return text(r.band);
        case Exposures: return r.exposures;
        case Passed: return r.passed;
        case Share: return QString("%1 %").arg(share, 0, 'f', 0);
        }
    }
    if (role == Qt::ForegroundRole && index.column() == Share) return share >= 80 ? kGood : kBad;
    if (role == Qt::TextAlignmentRole && index.column() >= Exposures) return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

void PassRateTableModel::setRates(std::vector<q::PassRate> rates) {
    beginResetModel();
    rows_ = std::move(rates);
    endResetModel();
}

} // namespace paudm::ui
