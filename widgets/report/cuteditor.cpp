#include "cuteditor.h"

#include "reportstyle.h"

#include "common/error.h"

#include <QCheckBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QTableWidget>
#include <QVBoxLayout>

#include <map>

namespace paudm::ui {

namespace {

namespace q = quality;
using report::axisTitle;
using report::text;

/// The cut editor: one row per quantity (min, max; empty: no limit), the accepted values
/// of each status, the name to save under, a note, and whether it becomes the default.
class CutEditor : public QDialog {
public:
    CutEditor(const q::CutSet& current, QWidget* parent) : QDialog(parent) {
        setWindowTitle(tr("Quality cuts"));
        auto* layout = new QVBoxLayout(this);
        auto* intro = new QLabel(tr("Saving makes a new version of the cut set (the earlier ones stay, for any "
                                    "night). Leave min and max empty for no cut. A quantity may also be any numeric "
                                    "column, as mosaic.COLUMN or image.COLUMN (the median of the CCDs)."));
        intro->setWordWrap(true);
        layout->addWidget(intro);
        table_ = new QTableWidget(0, 3);
        table_->setHorizontalHeaderLabels({tr("Quantity"), tr("Min"), tr("Max")});
        table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
        table_->verticalHeader()->hide();
        std::vector<std::string> keys;
        for (const auto& qq : q::standardQuantities()) keys.push_back(qq.key);
        for (const auto& c : current.cuts)
            if (!q::findQuantity(c.quantity)) keys.push_back(c.quantity);
        keys.push_back("");
        keys.push_back("");
        for (const auto& key : keys) {
            const int row = table_->rowCount();
            table_->insertRow(row);
            auto* name = new QTableWidgetItem(text(key));
            if (!key.empty() && q::findQuantity(key)) {
                name->setFlags(name->flags() & ~Qt::ItemIsEditable);
                name->setToolTip(axisTitle(key));
            } else {
                name->setToolTip(tr("mosaic.COLUMN or image.COLUMN"));
            }
            table_->setItem(row, 0, name);
            QString lo, hi;
            for (const auto& c : current.cuts)
                if (c.quantity == key) {
                    if (c.min) lo = QString::number(*c.min, 'g', 6);
                    if (c.max) hi = QString::number(*c.max, 'g', 6);
                }
            table_->setItem(row, 1, new QTableWidgetItem(lo));
            table_->setItem(row, 2, new QTableWidgetItem(hi));
        }
        layout->addWidget(table_, 1);
        auto* form = new QFormLayout;
        for (const auto& s : q::statusNames()) {
            auto* edit = new QLineEdit;
            const auto it = current.statuses.find(s);
            QStringList values;
            if (it != current.statuses.end())
                for (const auto& v : it->second) values << text(v);
            edit->setText(values.join(", "));
            edit->setPlaceholderText(tr("any (e.g. ok, few_stars)"));
            statuses_[s] = edit;
            form->addRow(tr("%1 status").arg(text(s)), edit);
        }
        name_ = new QLineEdit(text(current.name));
        note_ = new QLineEdit;
        note_->setPlaceholderText(tr("why this version (kept with it)"));
        makeDefault_ = new QCheckBox(tr("Make the saved version the default"));
        makeDefault_->setChecked(current.isDefault);
        form->addRow(tr("Save as"), name_);
        form->addRow(tr("Note"), note_);
        form->addRow(QString(), makeDefault_);
        layout->addLayout(form);
        problem_ = new QLabel;
        problem_->setStyleSheet("color:#c62828");
        problem_->setWordWrap(true);
        problem_->hide();
        layout->addWidget(problem_);
        auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel);
        connect(buttons, &QDialogButtonBox::accepted, this, [this] {
            auto r = capture([this] { return cutSet(); });
            if (!r) {
                problem_->setText(text(r.error().message()));
                problem_->show();
                return;
            }
            result_ = *r;
            accept();
        });
        connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
        layout->addWidget(buttons);
        resize(560, 620);
    }
    const q::CutSet& result() const { return result_; }
    bool makeDefault() const { return makeDefault_->isChecked(); }

private:
    /// What the form says, checked as a saved definition would be (no database).
    q::CutSet cutSet() const {
        q::CutSet s;
        s.name = name_->text().trimmed().toStdString();
        s.note = note_->text().trimmed().toStdString();
        for (int row = 0; row < table_->rowCount(); ++row) {
            const QString key = table_->item(row, 0)->text().trimmed();
            const QString lo = table_->item(row, 1)->text().trimmed(), hi = table_->item(row, 2)->text().trimmed();
            if (lo.isEmpty() && hi.isEmpty()) continue;
            if (key.isEmpty()) throw Error("a row with limits has no quantity");
            q::Cut c;
            c.quantity = key.toStdString();
            bool ok = true;
            if (!lo.isEmpty()) c.min = lo.toDouble(&ok);
            if (!ok) throw Error(c.quantity + ": min '" + lo.toStdString() + "' is not a number");
            if (!hi.isEmpty()) c.max = hi.toDouble(&ok);
            if (!ok) throw Error(c.quantity + ": max '" + hi.toStdString() + "' is not a number");
            s.cuts.push_back(c);
        }
        for (const auto& [name, edit] : statuses_) {
            std::vector<std::string> accepted;
            for (const QString& v : edit->text().split(',', Qt::SkipEmptyParts))
                if (!v.trimmed().isEmpty()) accepted.push_back(v.trimmed().toStdString());
            if (!accepted.empty()) s.statuses[name] = accepted;
        }
        q::CutSet checked = s;
        q::definitionFromJson(checked, q::toJson(s));
        if (s.name.empty()) throw Error("the cut set needs a name");
        return s;
    }

    QTableWidget* table_;
    std::map<std::string, QLineEdit*> statuses_;
    QLineEdit* name_;
    QLineEdit* note_;
    QCheckBox* makeDefault_;
    QLabel* problem_;
    q::CutSet result_;
};


} // namespace

std::optional<EditedCuts> editCutSet(const q::CutSet& current, QWidget* parent) {
    CutEditor editor(current, parent);
    if (editor.exec() != QDialog::Accepted) return std::nullopt;
    return EditedCuts{editor.result(), editor.makeDefault()};
}

} // namespace paudm::ui
