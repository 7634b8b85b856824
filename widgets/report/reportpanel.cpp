#include "reportpanel.h"

#include "background.h"
#include "liveload.h"

#include "common/atomic_file.h"
#include "db/connection.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QCheckBox>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDateEdit>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLegendMarker>
#include <QLineEdit>
#include <QLineSeries>
#include <QMessageBox>
#include <QPushButton>
#include <QScatterSeries>
#include <QShortcut>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <cmath>
#include <set>

namespace paudm::ui {

namespace q = quality;

namespace {

const QColor kBad(0xc6, 0x28, 0x28), kGood(0x2e, 0x7d, 0x32);
const QColor kBandColours[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
                               QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b), QColor(0xe3, 0x77, 0xc2),
                               QColor(0x17, 0xbe, 0xcf), QColor(0xbc, 0xbd, 0x22)};
/// The quantities plotted against time, in the grid's order.
const char* kTimePlots[] = {"seeing", "sky", "transparency", "zero_point", "airmass", "astro_rms"};

QString text(const std::string& s) {
    return QString::fromStdString(s);
}

/// An exposure's time on a QDateTimeAxis, which labels in local time: shifted by the local
/// offset from UTC, so that the labels read UTC, as the observatory's logs do.
qint64 msecsOf(double mjd) {
    const auto utc = static_cast<qint64>(std::llround((mjd - 40587.0) * 86400000.0));
    return utc - QDateTime::fromMSecsSinceEpoch(utc).offsetFromUtc() * qint64(1000);
}

QString reasons(const q::Verdict& v) {
    QStringList r;
    for (const auto& f : v.failures) r << text(f.reason);
    return r.join("; ");
}

const q::Quantity* quantityOf(const std::string& key) {
    for (const auto& qq : q::standardQuantities())
        if (qq.key == key) return &qq;
    return nullptr;
}

QString axisTitle(const std::string& key) {
    if (key == "time") return QObject::tr("Time (UTC)");
    const q::Quantity* qq = quantityOf(key);
    if (!qq) return text(key);
    return text(qq->label) + (qq->unit.empty() ? QString() : " (" + text(qq->unit) + ")");
}

QString tooltipOf(const q::Exposure& e, const q::Verdict& v) {
    QStringList lines{QString("<b>%1</b> %2 UTC  ·  %3").arg(text(e.file), text(e.timeUtc), text(e.band))};
    for (const char* key : kTimePlots) {
        const auto it = e.values.find(key);
        if (it != e.values.end()) lines << QString("%1: %2").arg(key).arg(it->second, 0, 'g', 4);
    }
    lines << (v.pass ? QString("<span style='color:#2e7d32'>passes</span>")
                     : QString("<span style='color:#c62828'>%1</span>").arg(reasons(v).toHtmlEscaped()));
    return lines.join("<br>");
}

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
            if (!quantityOf(c.quantity)) keys.push_back(c.quantity);
        keys.push_back("");
        keys.push_back("");
        for (const auto& key : keys) {
            const int row = table_->rowCount();
            table_->insertRow(row);
            auto* name = new QTableWidgetItem(text(key));
            if (!key.empty() && quantityOf(key)) {
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
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Night: return text(r.exposure.night);
        case Time: return text(r.exposure.timeUtc).mid(11);
        case Exposure: return text(r.exposure.file);
        case Band: return text(r.exposure.band);
        case Why: return r.why;
        }
    }
    if (role == Qt::ToolTipRole && index.column() == Why) return r.why;
    if (role == Qt::ForegroundRole && index.column() == Why) return kBad;
    return {};
}

void FailingTableModel::setReport(const q::Report& r) {
    std::vector<std::size_t> rows;
    std::vector<QString> why;
    for (std::size_t k = 0; k < r.exposures.size(); ++k)
        if (!r.verdicts[k].pass) rows.push_back(k), why.push_back(reasons(r.verdicts[k]));
    setRows(r, rows, why);
}

void FailingTableModel::setRows(const q::Report& r, const std::vector<std::size_t>& rows, const std::vector<QString>& why) {
    beginResetModel();
    rows_.clear();
    for (std::size_t i = 0; i < rows.size(); ++i) rows_.push_back({r.exposures[rows[i]], why[i]});
    endResetModel();
}

const q::Exposure* FailingTableModel::exposure(int row) const {
    return row >= 0 && row < rowCount() ? &rows_[static_cast<std::size_t>(row)].exposure : nullptr;
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

// ---------------------------------------------------------------- the panel

ReportPanel::ReportPanel(QWidget* parent)
    : QWidget(parent), fromEdit_(new QDateEdit), toEdit_(new QDateEdit), release_(new QLineEdit), cuts_(new QComboBox),
      compare_(new QComboBox), summary_(new QLabel), problem_(new QLabel), views_(new QTabWidget),
      scatterView_(new QChartView), xQuantity_(new QComboBox), yQuantity_(new QComboBox),
      rates_(new PassRateTableModel(this)), failing_(new FailingTableModel(this)), changed_(new FailingTableModel(this)),
      ratesView_(new QTableView), failingView_(new QTableView), changedView_(new QTableView), changedSummary_(new QLabel),
      live_(std::make_unique<LiveLoad<Loaded>>(this, [this](const Result<Loaded>& r) { showLoaded(r); })) {
    auto* layout = new QVBoxLayout(this);
    auto* top = new QHBoxLayout;
    for (QDateEdit* d : {fromEdit_, toEdit_}) {
        d->setDisplayFormat("yyyy-MM-dd");
        d->setCalendarPopup(true);
        d->setDate(QDate::currentDate());
    }
    for (QComboBox* box : {cuts_, compare_, xQuantity_, yQuantity_}) {
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        box->setMinimumContentsLength(10);
    }
    release_->setPlaceholderText(tr("every release"));
    release_->setMaximumWidth(90);
    release_->setToolTip(tr("Only this release (empty: every release)"));
    auto* editButton = new QPushButton(tr("&Edit..."));
    editButton->setToolTip(tr("Change the cuts and save them as a new version"));
    compare_->setToolTip(tr("Another cut set: which exposures it judges differently"));
    auto* exportButton = new QPushButton(tr("E&xport..."));
    exportButton->setToolTip(tr("The failing exposures as CSV, one row per failed cut, for re-scheduling"));
    auto* refreshButton = new QPushButton(tr("Refresh"));
    refreshButton->setToolTip(tr("Read again now (F5); the report also follows the database by itself"));
    top->addWidget(new QLabel(tr("Nights")));
    top->addWidget(fromEdit_);
    top->addWidget(new QLabel(tr("to")));
    top->addWidget(toEdit_);
    top->addWidget(release_);
    top->addStretch(1);
    top->addWidget(refreshButton);
    layout->addLayout(top);
    auto* second = new QHBoxLayout;
    second->addWidget(new QLabel(tr("Cuts")));
    second->addWidget(cuts_, 1);
    second->addWidget(editButton);
    second->addWidget(new QLabel(tr("vs")));
    second->addWidget(compare_, 1);
    second->addWidget(exportButton);
    layout->addLayout(second);
    problem_->setStyleSheet("color:#c62828");
    problem_->setWordWrap(true);
    problem_->hide();
    layout->addWidget(problem_);
    summary_->setTextFormat(Qt::RichText);
    summary_->setWordWrap(true);
    layout->addWidget(summary_);

    // Against time: the six quantities the observers re-plan from.
    auto* grid = new QWidget;
    auto* gridLayout = new QGridLayout(grid);
    gridLayout->setContentsMargins(0, 0, 0, 0);
    gridLayout->setSpacing(2);
    for (int k = 0; k < static_cast<int>(std::size(kTimePlots)); ++k) {
        auto* v = new QChartView;
        v->setRenderHint(QPainter::Antialiasing);
        v->setMinimumSize(130, 110);
        gridLayout->addWidget(v, k / 3, k % 3);
        timeViews_.push_back(v);
    }
    auto* against = new QWidget;
    auto* againstLayout = new QVBoxLayout(against);
    againstLayout->setContentsMargins(2, 2, 2, 2);
    legend_ = new QLabel;
    legend_->setTextFormat(Qt::RichText);
    legend_->setWordWrap(true);
    againstLayout->addWidget(legend_);
    againstLayout->addWidget(grid, 1);
    views_->addTab(against, tr("Against &time"));
    auto* scatter = new QWidget;
    auto* scatterLayout = new QVBoxLayout(scatter);
    auto* axes = new QHBoxLayout;
    axes->addWidget(new QLabel(tr("x")));
    axes->addWidget(xQuantity_, 1);
    axes->addWidget(new QLabel(tr("y")));
    axes->addWidget(yQuantity_, 1);
    scatterLayout->addLayout(axes);
    scatterView_->setRenderHint(QPainter::Antialiasing);
    scatterLayout->addWidget(scatterView_, 1);
    views_->addTab(scatter, tr("T&wo quantities"));
    auto* comparison = new QWidget;
    auto* comparisonLayout = new QVBoxLayout(comparison);
    changedSummary_->setWordWrap(true);
    comparisonLayout->addWidget(changedSummary_);
    comparisonLayout->addWidget(changedView_, 1);
    views_->addTab(comparison, tr("&Compare"));
    passView_ = new QChartView;
    passView_->setRenderHint(QPainter::Antialiasing);
    views_->insertTab(2, passView_, tr("&Pass rate"));
    xQuantity_->addItem(tr("Time (UTC)"), QString("time"));
    for (const auto& qq : q::standardQuantities()) {
        xQuantity_->addItem(axisTitle(qq.key), text(qq.key));
        yQuantity_->addItem(axisTitle(qq.key), text(qq.key));
    }
    xQuantity_->setObjectName("x-quantity");
    yQuantity_->setObjectName("y-quantity");
    for (QComboBox* box : {xQuantity_, yQuantity_}) {
        // Or any numeric column, typed as mosaic.COLUMN or image.COLUMN.
        box->setEditable(true);
        box->setInsertPolicy(QComboBox::NoInsert);
        box->setToolTip(tr("A quantity of the report, or any numeric column typed as mosaic.COLUMN or image.COLUMN "
                           "(the median of the CCDs)"));
    }
    xQuantity_->setCurrentIndex(xQuantity_->findData("airmass"));
    yQuantity_->setCurrentIndex(yQuantity_->findData("seeing"));

    for (QTableView* v : {ratesView_, failingView_, changedView_}) {
        v->setSelectionBehavior(QAbstractItemView::SelectRows);
        v->setSelectionMode(QAbstractItemView::SingleSelection);
        v->verticalHeader()->hide();
        v->horizontalHeader()->setStretchLastSection(true);
        v->setAlternatingRowColors(true);
        v->setWordWrap(false);
        v->setSortingEnabled(false);
    }
    ratesView_->setModel(rates_);
    failingView_->setModel(failing_);
    changedView_->setModel(changed_);
    failingView_->setToolTip(tr("Double-click: the exposure's job in Operations"));
    auto* lists = new QSplitter(Qt::Horizontal);
    auto* ratesBox = new QWidget;
    auto* ratesLayout = new QVBoxLayout(ratesBox);
    ratesLayout->setContentsMargins(0, 0, 0, 0);
    auto* ratesTitle = new QLabel(tr("<b>Pass rate</b> per night and band"));
    ratesTitle->setWordWrap(true);
    ratesLayout->addWidget(ratesTitle);
    ratesLayout->addWidget(ratesView_);
    auto* failingBox = new QWidget;
    auto* failingLayout = new QVBoxLayout(failingBox);
    failingLayout->setContentsMargins(0, 0, 0, 0);
    auto* failingTitle = new QLabel(tr("<b>To schedule again</b>: the exposures that fail, and why"));
    failingTitle->setWordWrap(true);
    failingLayout->addWidget(failingTitle);
    failingLayout->addWidget(failingView_);
    lists->addWidget(ratesBox);
    lists->addWidget(failingBox);
    lists->setStretchFactor(0, 2);
    lists->setStretchFactor(1, 5);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(views_);
    split->addWidget(lists);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);

    connect(refreshButton, &QPushButton::clicked, this, &ReportPanel::refresh);
    connect(new QShortcut(QKeySequence::Refresh, this, nullptr, nullptr, Qt::WidgetWithChildrenShortcut),
            &QShortcut::activated, this, &ReportPanel::refresh);
    connect(editButton, &QPushButton::clicked, this, &ReportPanel::editCuts);
    connect(exportButton, &QPushButton::clicked, this, &ReportPanel::exportCsv);
    auto nightsChanged = [this] {
        if (toEdit_->date() < fromEdit_->date()) toEdit_->setDate(fromEdit_->date());
        from_ = fromEdit_->date().toString(Qt::ISODate);
        to_ = toEdit_->date().toString(Qt::ISODate);
        refresh();
    };
    connect(fromEdit_, &QDateEdit::dateChanged, this, nightsChanged);
    connect(toEdit_, &QDateEdit::dateChanged, this, nightsChanged);
    connect(release_, &QLineEdit::editingFinished, this, &ReportPanel::refresh);
    connect(cuts_, &QComboBox::activated, this, [this] {
        cutSpec_ = cuts_->currentData().toString();
        refresh();
    });
    connect(compare_, &QComboBox::activated, this, [this] {
        compareSpec_ = compare_->currentData().toString();
        if (!compareSpec_.isEmpty()) views_->setCurrentIndex(3);
        refresh();
    });
    for (QComboBox* box : {xQuantity_, yQuantity_}) {
        auto chosen = [this, box] {
            const QString key = quantityKey(box);
            const bool loaded = report_ && std::any_of(report_->exposures.begin(), report_->exposures.end(), [&](const auto& e) {
                return e.values.count(key.toStdString());
            });
            if (key != "time" && !quantityOf(key.toStdString()) && !plotExtra_.contains(key) && !loaded) {
                plotExtra_ << key; // read it, then plot it
                refresh();
            } else {
                drawScatter();
            }
        };
        connect(box, &QComboBox::activated, this, chosen);
        connect(box->lineEdit(), &QLineEdit::returnPressed, this, chosen);
    }
    for (QTableView* v : {failingView_, changedView_}) {
        auto* model = v == failingView_ ? failing_ : changed_;
        connect(v, &QTableView::doubleClicked, this, [this, model](const QModelIndex& i) {
            if (const auto* e = model->exposure(i.row())) openJobOf(*e);
        });
    }

    live_->setLoader([this]() -> std::function<Loaded(db::Connection&)> {
        q::Selection s;
        s.from = from_.toStdString();
        s.to = to_.toStdString();
        s.release = release_->text().trimmed().toStdString();
        const std::string cutSpec = cutSpec_.toStdString(), compareSpec = compareSpec_.toStdString();
        std::vector<std::string> plotted;
        for (const QString& k : plotExtra_) plotted.push_back(k.toStdString());
        return [s, cutSpec, compareSpec, plotted](db::Connection& c) mutable {
            Loaded r;
            if (s.from.empty()) {
                const auto latest = c.query("SELECT max(o.night)::text FROM mosaic m JOIN obs_set o ON o.id = m.obs_set_id "
                                            "WHERE m.kind = 'red_science'");
                r.latestNight = latest.optText(0, 0).value_or(QDate::currentDate().toString(Qt::ISODate).toStdString());
                s.from = s.to = r.latestNight;
            }
            if (s.to.empty()) s.to = s.from;
            r.cutSets = q::listCutSets(c);
            const q::CutSet cuts = q::loadCutSet(c, cutSpec);
            std::optional<q::CutSet> other;
            if (!compareSpec.empty()) other = q::loadCutSet(c, compareSpec);
            // One load of the exposures with every column either cut set needs.
            for (const q::CutSet* set : std::initializer_list<const q::CutSet*>{&cuts, other ? &*other : nullptr})
                if (set)
                    for (const auto& cut : set->cuts)
                        if (!quantityOf(cut.quantity) &&
                            std::find(s.extra.begin(), s.extra.end(), cut.quantity) == s.extra.end())
                            s.extra.push_back(cut.quantity);
            const std::vector<std::string> forCuts = s.extra;
            for (const auto& k : plotted)
                if (std::find(s.extra.begin(), s.extra.end(), k) == s.extra.end()) s.extra.push_back(k);
            try {
                r.report.exposures = q::loadExposures(c, s);
            } catch (const Error& e) {
                if (s.extra == forCuts) throw;
                // A column typed for a plot that is not one: said, and the rest shown.
                r.warning = e.message();
                s.extra = forCuts;
                r.report.exposures = q::loadExposures(c, s);
            }
            r.report.selection = s;
            r.report.cuts = cuts;
            r.report.verdicts = q::evaluate(cuts, r.report.exposures);
            r.report.rates = q::passRates(r.report.exposures, r.report.verdicts);
            if (other) {
                q::Report b = r.report;
                b.cuts = *other;
                b.verdicts = q::evaluate(*other, b.exposures);
                b.rates = q::passRates(b.exposures, b.verdicts);
                r.compared = std::move(b);
            }
            return r;
        };
    });
    summary_->setText(tr("Waiting for the database..."));
    fillCutSets({});
    // A narrow dock squeezes the controls rather than widening the window.
    setMinimumWidth(420);
}

ReportPanel::~ReportPanel() = default;

void ReportPanel::setDatabase(const std::string& conninfo) {
    conninfo_ = conninfo;
    actions_ = std::make_unique<Background>(conninfo);
    live_->listen(conninfo, {"paudm_nightly", "paudm_quality"}, [this](bool ok, const QString& error) {
        if (!ok) {
            problem_->setText(tr("Lost the database (%1); reconnecting...").arg(error));
            problem_->show();
        } else if (loaded_) {
            refresh();
        }
    });
    refresh();
}

void ReportPanel::showNights(const QString& from, const QString& to) {
    from_ = from;
    to_ = to.isEmpty() ? from : to;
    if (!from.isEmpty()) {
        const QSignalBlocker a(fromEdit_), b(toEdit_);
        fromEdit_->setDate(QDate::fromString(from_, Qt::ISODate));
        toEdit_->setDate(QDate::fromString(to_, Qt::ISODate));
    }
    refresh();
}

void ReportPanel::showCuts(const QString& spec) {
    cutSpec_ = spec;
    refresh();
}

void ReportPanel::refresh() {
    if (!conninfo_.empty()) live_->refresh();
}

void ReportPanel::fillCutSets(const std::vector<q::CutSet>& sets) {
    cutSets_ = sets;
    const QSignalBlocker a(cuts_), b(compare_);
    cuts_->clear();
    compare_->clear();
    cuts_->addItem(tr("the default"), QString());
    compare_->addItem(tr("no comparison"), QString());
    for (auto it = sets.rbegin(); it != sets.rend(); ++it) {
        const QString label = text(it->label()) + (it->isDefault ? tr(" (default)") : QString());
        const QString tip = text(it->changes) + (it->note.empty() ? QString() : "\n" + text(it->note)) + "\n" +
                            tr("by %1, %2").arg(text(it->author), text(it->created));
        cuts_->addItem(label, text(it->label()));
        cuts_->setItemData(cuts_->count() - 1, tip, Qt::ToolTipRole);
        compare_->addItem(label, text(it->label()));
        compare_->setItemData(compare_->count() - 1, tip, Qt::ToolTipRole);
    }
    cuts_->setCurrentIndex(std::max(0, cuts_->findData(cutSpec_)));
    compare_->setCurrentIndex(std::max(0, compare_->findData(compareSpec_)));
}

void ReportPanel::showLoaded(const Result<Loaded>& result) {
    if (!result) {
        problem_->setText(text(result.error().message()));
        problem_->show();
        return;
    }
    const Loaded& r = *result;
    problem_->setVisible(!r.warning.empty());
    problem_->setText(text(r.warning));
    if (!r.warning.empty()) plotExtra_.clear();
    if (!r.latestNight.empty() && from_.isEmpty()) {
        const QSignalBlocker a(fromEdit_), b(toEdit_);
        fromEdit_->setDate(QDate::fromString(text(r.latestNight), Qt::ISODate));
        toEdit_->setDate(fromEdit_->date());
    }
    report_ = std::make_unique<q::Report>(r.report);
    fillCutSets(r.cutSets);
    int passed = 0;
    for (const auto& v : report_->verdicts) passed += v.pass;
    const int n = static_cast<int>(report_->exposures.size());
    const std::string& from = report_->selection.from, &to = report_->selection.to;
    summary_->setText(n == 0 ? tr("No reduced science exposure on %1 yet.").arg(text(from + (to != from ? " to " + to : "")))
                             : tr("<b>%1</b>: %2 science exposures, <b>%3 pass</b> %4 (%5 %)%6")
                                   .arg(text(from + (to != from ? " to " + to : "")))
                                   .arg(n)
                                   .arg(passed)
                                   .arg(text(report_->cuts.label()))
                                   .arg(n ? 100.0 * passed / n : 0, 0, 'f', 0)
                                   .arg(n - passed ? tr("  ·  <span style='color:#c62828'>%1 to schedule again</span>")
                                                         .arg(n - passed)
                                                   : QString()));
    rates_->setRates(report_->rates);
    failing_->setReport(*report_);
    // One night: its date on every row says nothing.
    failingView_->setColumnHidden(FailingTableModel::Night, from == to);
    ratesView_->setColumnHidden(PassRateTableModel::Night, from == to);
    ratesView_->resizeColumnsToContents();
    failingView_->resizeColumnsToContents();
    if (r.compared) {
        const auto changed = q::changedVerdicts(report_->verdicts, r.compared->verdicts);
        std::vector<QString> why;
        for (std::size_t k : changed) {
            const bool passesHere = report_->verdicts[k].pass;
            why.push_back(passesHere ? tr("fails %1: %2").arg(text(r.compared->cuts.label()), reasons(r.compared->verdicts[k]))
                                     : tr("fails %1: %2").arg(text(report_->cuts.label()), reasons(report_->verdicts[k])));
        }
        changed_->setRows(*report_, changed, why);
        changedSummary_->setText(tr("%1 against %2: %3 of %4 exposures change verdict.<br><span style='color:#555'>%5</span>")
                                     .arg(text(report_->cuts.label()), text(r.compared->cuts.label()))
                                     .arg(changed.size())
                                     .arg(n)
                                     .arg(text(q::describeChanges(report_->cuts, r.compared->cuts)).toHtmlEscaped()));
        changedView_->resizeColumnsToContents();
    } else {
        changed_->setRows(*report_, {}, {});
        changedSummary_->setText(tr("Choose a cut set under <i>vs</i> to see which exposures it judges "
                                    "differently."));
    }
    drawTimePlots();
    drawScatter();
    drawPassRates();
    loaded_ = true;
    emit loaded();
}

namespace {

/// The bands of a report in order of first appearance (stable colours).
std::vector<std::string> bandsOf(const q::Report& r) {
    std::vector<std::string> bands;
    for (const auto& e : r.exposures)
        if (std::find(bands.begin(), bands.end(), e.band) == bands.end()) bands.push_back(e.band);
    return bands;
}

QScatterSeries* ringSeries() {
    auto* s = new QScatterSeries;
    s->setName(QObject::tr("fails a cut"));
    s->setMarkerSize(13);
    s->setColor(Qt::transparent);
    s->setBorderColor(kBad);
    s->setPen(QPen(kBad, 2));
    return s;
}

} // namespace

QChart* ReportPanel::timeChart(const q::Quantity& qq) {
    auto* chart = new QChart;
    chart->setTitle(axisTitle(qq.key));
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->legend()->setVisible(false); // one legend for the grid, above it
    const q::Report& r = *report_;
    const auto bands = bandsOf(r);
    std::vector<QScatterSeries*> series;
    for (std::size_t b = 0; b < bands.size(); ++b) {
        auto* s = new QScatterSeries;
        s->setName(text(bands[b]));
        s->setMarkerSize(7);
        s->setColor(kBandColours[b % std::size(kBandColours)]);
        s->setBorderColor(s->color().darker(130));
        series.push_back(s);
    }
    auto* rings = ringSeries();
    // One time range for every plot (the whole selection), so that they line up.
    double t0 = INFINITY, t1 = -INFINITY, v0 = INFINITY, v1 = -INFINITY;
    for (const auto& e : r.exposures) {
        const double t = static_cast<double>(msecsOf(e.mjd));
        t0 = std::min(t0, t), t1 = std::max(t1, t);
    }
    bool any = false;
    std::vector<std::vector<std::size_t>> members(bands.size() + 1);
    for (std::size_t k = 0; k < r.exposures.size(); ++k) {
        const auto& e = r.exposures[k];
        const auto it = e.values.find(qq.key);
        if (it == e.values.end()) continue;
        const double t = static_cast<double>(msecsOf(e.mjd));
        const auto b = static_cast<std::size_t>(std::find(bands.begin(), bands.end(), e.band) - bands.begin());
        series[b]->append(t, it->second);
        members[b].push_back(k);
        if (!r.verdicts[k].pass) rings->append(t, it->second), members.back().push_back(k);
        v0 = std::min(v0, it->second), v1 = std::max(v1, it->second);
        any = true;
    }
    auto* x = new QDateTimeAxis;
    x->setFormat(r.selection.from == r.selection.to ? "HH:mm" : "MM-dd HH:mm");
    x->setTitleText(tr("UTC"));
    x->setTickCount(3);
    QFont small = x->labelsFont();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    x->setLabelsFont(small);
    auto* y = new QValueAxis;
    y->setLabelFormat("%.3g");
    y->setLabelsFont(small);
    y->setTickCount(5);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    // The cut's limits, dashed, across the night.
    for (const auto& cut : r.cuts.cuts) {
        if (cut.quantity != qq.key || !any) continue;
        for (const auto& lim : {cut.min, cut.max}) {
            if (!lim) continue;
            auto* line = new QLineSeries;
            line->setName(tr("cut"));
            line->setPen(QPen(kBad, 1.2, Qt::DashLine));
            line->append(t0 - 6e5, *lim);
            line->append(t1 + 6e5, *lim);
            chart->addSeries(line);
            line->attachAxis(x);
            line->attachAxis(y);
            v0 = std::min(v0, *lim), v1 = std::max(v1, *lim);
            for (QLegendMarker* m : chart->legend()->markers(line)) m->setVisible(false);
        }
    }
    for (std::size_t b = 0; b <= bands.size(); ++b) {
        QScatterSeries* s = b < bands.size() ? series[b] : rings;
        chart->addSeries(s);
        s->attachAxis(x);
        s->attachAxis(y);
        const std::vector<std::size_t> idx = members[b];
        connect(s, &QScatterSeries::hovered, this, [this, idx, s](const QPointF& p, bool on) {
            if (!on || !report_) return QToolTip::hideText();
            // The nearest of this series' points on the screen.
            const auto pts = s->points();
            const QPointF at = s->chart()->mapToPosition(p, s);
            int best = -1;
            double bestD = INFINITY;
            for (int i = 0; i < pts.size(); ++i) {
                const QPointF d = s->chart()->mapToPosition(pts[i], s) - at;
                if (std::hypot(d.x(), d.y()) < bestD) bestD = std::hypot(d.x(), d.y()), best = i;
            }
            if (best < 0 || best >= static_cast<int>(idx.size())) return;
            const std::size_t k = idx[static_cast<std::size_t>(best)];
            if (k < report_->exposures.size())
                QToolTip::showText(QCursor::pos(), tooltipOf(report_->exposures[k], report_->verdicts[k]));
        });
        connect(s, &QScatterSeries::clicked, this, [this, idx, s](const QPointF& p) {
            const auto pts = s->points();
            for (int i = 0; i < pts.size() && i < static_cast<int>(idx.size()); ++i)
                if (pts[i] == p && report_ && idx[static_cast<std::size_t>(i)] < report_->exposures.size())
                    return openJobOf(report_->exposures[idx[static_cast<std::size_t>(i)]]);
        });
    }
    if (any) {
        const double pad = (t1 - t0) * 0.04 + 6e5;
        x->setRange(QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(t0 - pad)),
                    QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(t1 + pad)));
        const double vp = (v1 - v0) * 0.08 + (v1 == v0 ? std::max(1e-3, std::fabs(v0) * 0.05) : 0);
        y->setRange(v0 - vp, v1 + vp);
    } else {
        chart->setTitle(axisTitle(qq.key) + tr(" — not measured"));
    }
    return chart;
}

void ReportPanel::drawTimePlots() {
    QStringList legend;
    const auto bands = bandsOf(*report_);
    for (std::size_t b = 0; b < bands.size(); ++b)
        legend << QString("<span style='color:%1'>&#9679;</span> %2")
                      .arg(kBandColours[b % std::size(kBandColours)].name(), text(bands[b]).toHtmlEscaped());
    legend << tr("<span style='color:#c62828'>&#9711;</span> fails a cut") << tr("<span style='color:#c62828'>- -</span> cut");
    legend_->setText(legend.join(" &nbsp; "));
    for (std::size_t k = 0; k < timeViews_.size(); ++k) {
        const q::Quantity* qq = quantityOf(kTimePlots[k]);
        QChart* old = timeViews_[k]->chart();
        timeViews_[k]->setChart(timeChart(*qq));
        delete old;
    }
}

QString ReportPanel::quantityKey(const QComboBox* box) const {
    const QString typed = box->currentText().trimmed();
    const int i = box->findText(typed);
    return i >= 0 ? box->itemData(i).toString() : typed;
}

void ReportPanel::drawPassRates() {
    // The paper's Figure 11: the share of science exposures that pass, per night and band.
    auto* chart = new QChart;
    chart->setTitle(tr("Science exposures that pass %1 (%)").arg(text(report_->cuts.label())));
    std::vector<std::string> nights;
    for (const auto& p : report_->rates)
        if (std::find(nights.begin(), nights.end(), p.night) == nights.end()) nights.push_back(p.night);
    std::sort(nights.begin(), nights.end());
    const auto bands = bandsOf(*report_);
    auto* series = new QBarSeries;
    for (std::size_t b = 0; b < bands.size(); ++b) {
        auto* set = new QBarSet(text(bands[b]));
        set->setColor(kBandColours[b % std::size(kBandColours)]);
        for (const auto& n : nights) {
            double share = 0;
            for (const auto& p : report_->rates)
                if (p.night == n && p.band == bands[b] && p.exposures) share = 100.0 * p.passed / p.exposures;
            *set << share;
        }
        series->append(set);
    }
    chart->addSeries(series);
    auto* x = new QBarCategoryAxis;
    for (const auto& n : nights) x->append(text(n));
    auto* y = new QValueAxis;
    y->setRange(0, 100);
    y->setLabelFormat("%.0f");
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    series->attachAxis(x);
    series->attachAxis(y);
    chart->legend()->setAlignment(Qt::AlignBottom);
    QChart* old = passView_->chart();
    passView_->setChart(chart);
    delete old;
}

void ReportPanel::drawScatter() {
    if (!report_) return;
    const std::string xs = quantityKey(xQuantity_).toStdString(), ys = quantityKey(yQuantity_).toStdString();
    auto* chart = new QChart;
    chart->setTitle(tr("%1 against %2").arg(axisTitle(ys), axisTitle(xs)));
    const q::Report& r = *report_;
    const auto bands = bandsOf(r);
    // x may be the time (any quantity or column through the night).
    const bool againstTime = xs == "time";
    QAbstractAxis* x = nullptr;
    if (againstTime) {
        auto* t = new QDateTimeAxis;
        t->setFormat(r.selection.from == r.selection.to ? "HH:mm" : "MM-dd HH:mm");
        t->setTitleText(tr("UTC"));
        x = t;
    } else {
        x = new QValueAxis;
        x->setTitleText(axisTitle(xs));
    }
    auto* y = new QValueAxis;
    y->setTitleText(axisTitle(ys));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    std::vector<QScatterSeries*> series;
    for (std::size_t b = 0; b < bands.size(); ++b) {
        auto* s = new QScatterSeries;
        s->setName(text(bands[b]));
        s->setMarkerSize(8);
        s->setColor(kBandColours[b % std::size(kBandColours)]);
        series.push_back(s);
    }
    auto* rings = ringSeries();
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (std::size_t k = 0; k < r.exposures.size(); ++k) {
        const auto& e = r.exposures[k];
        const auto a = e.values.find(xs), b = e.values.find(ys);
        if ((!againstTime && a == e.values.end()) || b == e.values.end()) continue;
        const double xv = againstTime ? static_cast<double>(msecsOf(e.mjd)) : a->second;
        series[static_cast<std::size_t>(std::find(bands.begin(), bands.end(), e.band) - bands.begin())]->append(xv, b->second);
        if (!r.verdicts[k].pass) rings->append(xv, b->second);
        x0 = std::min(x0, xv), x1 = std::max(x1, xv), y0 = std::min(y0, b->second), y1 = std::max(y1, b->second);
    }
    series.push_back(rings);
    for (auto* s : series) {
        chart->addSeries(s);
        s->attachAxis(x);
        s->attachAxis(y);
    }
    if (std::isfinite(x0)) {
        const double xp = (x1 - x0) * 0.06 + (x1 == x0 ? (againstTime ? 6e5 : 0.01) : 0),
                     yp = (y1 - y0) * 0.06 + (y1 == y0 ? 0.01 : 0);
        if (againstTime)
            x->setRange(QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(x0 - xp)),
                        QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(x1 + xp)));
        else
            x->setRange(x0 - xp, x1 + xp);
        y->setRange(y0 - yp, y1 + yp);
    }
    chart->legend()->setAlignment(Qt::AlignRight);
    QChart* old = scatterView_->chart();
    scatterView_->setChart(chart);
    delete old;
}

void ReportPanel::editCuts() {
    q::CutSet current;
    for (const auto& s : cutSets_)
        if ((report_ && s.label() == report_->cuts.label())) current = s;
    if (current.name.empty() && report_) current = report_->cuts;
    CutEditor editor(current, this);
    if (editor.exec() != QDialog::Accepted || !actions_) return;
    const q::CutSet wanted = editor.result();
    const bool makeDefault = editor.makeDefault();
    actions_->query<q::CutSet>(
        this,
        [wanted, makeDefault](db::Connection& c) {
            return q::saveCutSet(c, wanted, makeDefault);
        },
        [this](const Result<q::CutSet>& r) {
            if (!r) {
                QMessageBox::warning(this, tr("Cuts not saved"), text(r.error().message()));
                return;
            }
            cutSpec_ = text(r->label());
            summary_->setText(tr("Saved %1: %2").arg(text(r->label()), text(r->changes)));
            refresh();
        });
}

void ReportPanel::exportCsv() {
    if (!report_ || !actions_) return;
    const QString suggested = QString("failing-%1.csv").arg(text(report_->selection.from));
    const QString file = QFileDialog::getSaveFileName(this, tr("Export the failing exposures"), suggested, tr("CSV (*.csv)"));
    if (file.isEmpty()) return;
    const std::string csv = q::failingCsv(*report_), path = file.toStdString();
    actions_->run<int>(
        this,
        [csv, path](Work&) {
            writeFileAtomically(path, csv);
            return 0;
        },
        [this, file](const Result<int>& r) {
            if (!r) QMessageBox::warning(this, tr("Export failed"), text(r.error().message()));
            else summary_->setText(summary_->text() + tr("  ·  exported to %1").arg(file.toHtmlEscaped()));
        });
}

void ReportPanel::openJobOf(const q::Exposure& e) {
    if (!actions_) return;
    const std::string file = e.file;
    actions_->query<std::int64_t>(
        this,
        [file](db::Connection& c) -> std::int64_t {
            const auto r = c.query("SELECT id FROM job WHERE name = 'single_epoch' AND input ->> 'file' = $1 "
                                   "ORDER BY id DESC LIMIT 1",
                                   file);
            return r.size() ? r.toInt(0, 0) : 0;
        },
        [this, file](const Result<std::int64_t>& r) {
            if (r && *r > 0) emit jobWanted(*r);
            else summary_->setText(tr("No single_epoch job for %1").arg(text(file)));
        });
}

} // namespace paudm::ui
