#include "resultmodel.h"

#include <QColor>
#include <QFont>

#include <cmath>
#include <cstdlib>
#include <limits>

namespace paudm::ui {

double numericValue(const sql::Value& v) {
    if (!v || v->empty()) return std::numeric_limits<double>::quiet_NaN();
    char* end = nullptr;
    const double d = std::strtod(v->c_str(), &end);
    return end && *end == '\0' ? d : std::numeric_limits<double>::quiet_NaN();
}

void ResultModel::setResult(std::shared_ptr<const sql::QueryResult> r) {
    beginResetModel();
    result_ = std::move(r);
    endResetModel();
}

int ResultModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() || !result_ ? 0 : static_cast<int>(result_->rows.size());
}

int ResultModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() || !result_ ? 0 : static_cast<int>(result_->columns.size());
}

QVariant ResultModel::data(const QModelIndex& index, int role) const {
    if (!result_ || !index.isValid()) return {};
    const auto& row = result_->rows[static_cast<size_t>(index.row())];
    if (static_cast<size_t>(index.column()) >= row.size()) return {};
    const sql::Value& v = row[static_cast<size_t>(index.column())];
    const sql::ResultColumn& col = result_->columns[static_cast<size_t>(index.column())];
    switch (role) {
    case Qt::DisplayRole: {
        if (!v) return QStringLiteral("NULL");
        QString s = QString::fromStdString(*v);
        const auto nl = s.indexOf('\n');
        if (nl >= 0) s = s.left(nl) + QStringLiteral(" …");
        if (s.size() > 200) s = s.left(200) + QStringLiteral("…");
        return s;
    }
    case Qt::ToolTipRole:
        if (!v) return tr("NULL (no value)");
        if (v->size() > 60 || v->find('\n') != std::string::npos)
            return QString::fromStdString(v->substr(0, 4000)).toHtmlEscaped().replace('\n', "<br>");
        return {};
    case Qt::ForegroundRole:
        return v ? QVariant() : QVariant(QColor(0x9e, 0x9e, 0x9e));
    case Qt::FontRole: {
        if (v) return {};
        QFont f;
        f.setItalic(true);
        return f;
    }
    case Qt::TextAlignmentRole:
        return col.isNumber() ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant(Qt::AlignLeft | Qt::AlignVCenter);
    case SortRole:
        // NULLs first, then numbers by value (or text by its characters).
        if (!v) return col.isNumber() ? QVariant(-std::numeric_limits<double>::infinity()) : QVariant(QString());
        if (col.isNumber()) {
            const double d = numericValue(v);
            return std::isnan(d) ? QVariant(std::numeric_limits<double>::max()) : QVariant(d);
        }
        return QString::fromStdString(*v);
    default: return {};
    }
}

QVariant ResultModel::headerData(int section, Qt::Orientation o, int role) const {
    if (!result_ || o != Qt::Horizontal || section < 0 || static_cast<size_t>(section) >= result_->columns.size())
        return QAbstractTableModel::headerData(section, o, role);
    const sql::ResultColumn& c = result_->columns[static_cast<size_t>(section)];
    if (role == Qt::DisplayRole) return QString::fromStdString(c.name);
    if (role == Qt::ToolTipRole) return QString::fromStdString(c.name + " (" + c.typeName + ")");
    return {};
}

} // namespace paudm::ui
