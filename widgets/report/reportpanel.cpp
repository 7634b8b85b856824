#include "reportpanel.h"

#include "background.h"
#include "cuteditor.h"
#include "liveload.h"
#include "reportcharts.h"
#include "reportstyle.h"
#include "tableview.h"

#include "common/atomic_file.h"
#include "db/connection.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDateEdit>
#include <QDateTime>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QToolTip>
#include <QVBoxLayout>

#include <cmath>
#include <set>

namespace paudm::ui {

namespace q = quality;
using report::axisTitle;
using report::kBad;
using report::reasons;
using report::text;

namespace {

/// The quantities plotted against time, in the grid's order.
const char* kTimePlots[] = {"seeing", "sky", "transparency", "zero_point", "airmass", "astro_rms"};

} // namespace

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

    for (QTableView* v : {ratesView_, failingView_, changedView_}) setUpRowTable(v);
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
            if (key != "time" && !q::findQuantity(key.toStdString()) && !plotExtra_.contains(key) && !loaded) {
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
            // One read of the exposures, with the columns the comparison tests and those
            // typed for a plot; makeReport adds the cuts' own.
            if (other) s.extra = q::columnQuantities(*other);
            const std::vector<std::string> needed = s.extra;
            for (const auto& k : plotted)
                if (std::find(s.extra.begin(), s.extra.end(), k) == s.extra.end()) s.extra.push_back(k);
            std::optional<q::Report> report;
            try {
                report = q::makeReport(c, s, cuts);
            } catch (const Error& e) {
                if (s.extra == needed) throw;
                // A column typed for a plot that is not one: said, and the rest shown.
                r.warning = e.message();
                s.extra = needed;
                report = q::makeReport(c, s, cuts);
            }
            if (other) r.compared = std::make_shared<const q::Report>(q::rejudged(*report, *other));
            r.report = std::make_shared<const q::Report>(std::move(*report));
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
    report_ = r.report; // built on the worker: nothing copied here
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
    failing_->setReport(report_);
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
        changed_->setRows(report_, changed, why);
        changedSummary_->setText(tr("%1 against %2: %3 of %4 exposures change verdict.<br><span style='color:#555'>%5</span>")
                                     .arg(text(report_->cuts.label()), text(r.compared->cuts.label()))
                                     .arg(changed.size())
                                     .arg(n)
                                     .arg(text(q::describeChanges(report_->cuts, r.compared->cuts)).toHtmlEscaped()));
        changedView_->resizeColumnsToContents();
    } else {
        changed_->setRows(report_, {}, {});
        changedSummary_->setText(tr("Choose a cut set under <i>vs</i> to see which exposures it judges "
                                    "differently."));
    }
    drawTimePlots();
    drawScatter();
    drawPassRates();
    loaded_ = true;
    emit loaded();
}

void ReportPanel::drawTimePlots() {
    QStringList legend;
    const auto bands = report::bandsOf(*report_);
    for (std::size_t b = 0; b < bands.size(); ++b)
        legend << QString("<span style='color:%1'>&#9679;</span> %2")
                      .arg(report::bandColour(b).name(), text(bands[b]).toHtmlEscaped());
    legend << tr("<span style='color:#c62828'>&#9711;</span> fails a cut") << tr("<span style='color:#c62828'>- -</span> cut");
    legend_->setText(legend.join(" &nbsp; "));
    for (std::size_t k = 0; k < timeViews_.size(); ++k) {
        const q::Quantity* qq = q::findQuantity(kTimePlots[k]);
        QChart* old = timeViews_[k]->chart();
        timeViews_[k]->setChart(report::qualityChart(*report_, "time", qq->key, true, hooks()));
        delete old;
    }
}

QString ReportPanel::quantityKey(const QComboBox* box) const {
    const QString typed = box->currentText().trimmed();
    const int i = box->findText(typed);
    return i >= 0 ? box->itemData(i).toString() : typed;
}

void ReportPanel::drawPassRates() {
    QChart* old = passView_->chart();
    passView_->setChart(report::passRateChart(*report_));
    delete old;
}

report::ChartHooks ReportPanel::hooks() {
    report::ChartHooks h;
    h.hovered = [r = report_](std::optional<std::size_t> k) {
        if (k && *k < r->exposures.size()) QToolTip::showText(QCursor::pos(), report::tooltipOf(r->exposures[*k], r->verdicts[*k]));
        else QToolTip::hideText();
    };
    h.clicked = [this, r = report_](std::size_t k) {
        if (k < r->exposures.size()) openJobOf(r->exposures[k]);
    };
    return h;
}

void ReportPanel::drawScatter() {
    if (!report_) return;
    QChart* old = scatterView_->chart();
    scatterView_->setChart(report::qualityChart(*report_, quantityKey(xQuantity_).toStdString(),
                                                quantityKey(yQuantity_).toStdString(), false, hooks()));
    delete old;
}

void ReportPanel::editCuts() {
    if (!actions_) return;
    const auto edited = editCutSet(report_ ? report_->cuts : q::CutSet{}, this);
    if (!edited) return;
    struct Saved {
        q::CutSet cuts;
        bool created = false;
    };
    actions_->query<Saved>(
        this,
        [wanted = *edited](db::Connection& c) {
            Saved s;
            s.cuts = q::saveCutSet(c, wanted.cuts, wanted.makeDefault, &s.created);
            return s;
        },
        [this](const Result<Saved>& r) {
            if (!r) {
                QMessageBox::warning(this, tr("Cuts not saved"), text(r.error().message()));
                return;
            }
            cutSpec_ = text(r->cuts.label());
            summary_->setText(r->created ? tr("Saved %1: %2").arg(text(r->cuts.label()), text(r->cuts.changes))
                                         : tr("%1 unchanged: nothing saved").arg(text(r->cuts.label())));
            refresh();
        });
}

void ReportPanel::exportCsv() {
    if (!report_ || !actions_) return;
    const QString suggested = QString("failing-%1.csv").arg(text(report_->selection.from));
    const QString file = QFileDialog::getSaveFileName(this, tr("Export the failing exposures"), suggested, tr("CSV (*.csv)"));
    if (file.isEmpty()) return;
    actions_->run<int>(
        this,
        [report = report_, path = file.toStdString()](Work&) {
            writeFileAtomically(path, q::failingCsv(*report)); // a year's list is no GUI-thread work
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
