#include "sqlpanel.h"

#include "background.h"
#include "resultchart.h"
#include "resultmodel.h"
#include "sqleditor.h"
#include "tableview.h"

#include "common/atomic_file.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QClipboard>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLocale>
#include <QRegularExpression>
#include <QMenu>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QShortcut>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace paudm::ui {

namespace {

constexpr int kHistoryLength = 200;
const char* kHistoryKey = "sql/history";

QString thousands(qint64 n) {
    return QLocale(QLocale::English).toString(n);
}

QString megabytes(qint64 bytes) {
    return QString::number(static_cast<double>(bytes) / 1e6, 'f', bytes < 10000000 ? 1 : 0) + " MB";
}

/// The server's message without the connection target libpq errors carry: the panel
/// shows what the server said about the query.
QString serverMessage(const Error& e) {
    QString m = QString::fromStdString(e.message());
    static const QRegularExpression target(R"(^(your (query|statement)) \([^)]*\): )");
    m.replace(target, "");
    return m;
}

} // namespace

SqlPanel::SqlPanel(QWidget* parent)
    : QWidget(parent), editor_(new SqlEditor), runButton_(new QPushButton(tr("Run"))),
      cancelButton_(new QPushButton(tr("Cancel"))), limit_(new QSpinBox), timeout_(new QSpinBox),
      history_(new QToolButton), exportButton_(new QToolButton), notice_(new QLabel), status_(new QLabel),
      problem_(new QLabel), views_(new QTabWidget), table_(new QTableView), model_(new ResultModel(this)),
      sorted_(new QSortFilterProxyModel(this)), plotKind_(new QComboBox), plotX_(new QComboBox), plotY_(new QComboBox),
      bins_(new QSpinBox), chartView_(new QChartView), exportBar_(new QWidget), exportText_(new QLabel),
      progress_(new QProgressBar), ticker_(new QTimer(this)), clock_(std::make_unique<QElapsedTimer>()),
      exportClock_(std::make_unique<QElapsedTimer>()), files_(std::make_unique<Background>()) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    auto* bar = new QHBoxLayout;
    runButton_->setToolTip(tr("Run the query (Ctrl+Enter)"));
    runButton_->setDefault(true);
    cancelButton_->setToolTip(tr("Stop the running query on the server (Esc)"));
    cancelButton_->setEnabled(false);
    limit_->setRange(1, sql::kMaxRows);
    limit_->setValue(sql::kDefaultRows);
    limit_->setGroupSeparatorShown(true);
    limit_->setToolTip(tr("Show at most this many rows (at most %1); a notice says when the result has more. "
                          "A full export has no limit.")
                           .arg(thousands(sql::kMaxRows)));
    timeout_->setRange(1, 30);
    timeout_->setValue(30);
    timeout_->setSuffix(tr(" s"));
    timeout_->setToolTip(tr("Statement timeout: at most the read-only role's"));
    history_->setText(tr("History"));
    history_->setPopupMode(QToolButton::InstantPopup);
    history_->setToolTip(tr("Queries run before, newest first (remembered between sessions)"));
    history_->setMenu(new QMenu(history_));
    exportButton_->setText(tr("Export"));
    exportButton_->setPopupMode(QToolButton::InstantPopup);
    auto* exportMenu = new QMenu(exportButton_);
    exportMenu->addAction(tr("Rows shown, as CSV..."), this, &SqlPanel::chooseShownExport);
    exportMenu->addAction(tr("Whole result (no row limit), CSV or FITS..."), this, &SqlPanel::chooseFullExport);
    exportButton_->setMenu(exportMenu);
    bar->addWidget(runButton_);
    bar->addWidget(cancelButton_);
    bar->addSpacing(8);
    bar->addWidget(new QLabel(tr("Limit")));
    bar->addWidget(limit_);
    bar->addWidget(new QLabel(tr("Timeout")));
    bar->addWidget(timeout_);
    bar->addStretch(1);
    bar->addWidget(history_);
    bar->addWidget(exportButton_);
    layout->addLayout(bar);

    auto* split = new QSplitter(Qt::Vertical);
    editor_->setMinimumHeight(70);
    split->addWidget(editor_);

    auto* lower = new QWidget;
    auto* lowerLayout = new QVBoxLayout(lower);
    lowerLayout->setContentsMargins(0, 0, 0, 0);
    notice_->setWordWrap(true);
    notice_->setStyleSheet("QLabel { background: #fff4ce; border: 1px solid #e0c060; padding: 4px; }");
    notice_->hide();
    problem_->setWordWrap(true);
    problem_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    problem_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    problem_->setStyleSheet("QLabel { color: #b71c1c; background: #fdecea; border: 1px solid #e8a0a0; padding: 4px; }");
    problem_->hide();
    status_->setStyleSheet("color:#555");
    lowerLayout->addWidget(notice_);
    lowerLayout->addWidget(problem_);
    lowerLayout->addWidget(status_);

    sorted_->setSourceModel(model_);
    sorted_->setSortRole(ResultModel::SortRole);
    table_->setModel(sorted_);
    setUpRowTable(table_);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table_->setSortingEnabled(true);
    table_->horizontalHeader()->setStretchLastSection(false);
    table_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(table_, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        QMenu menu;
        menu.addAction(tr("Copy as TSV (for spreadsheets)"), this, [this] { copyRows('\t'); });
        menu.addAction(tr("Copy as CSV"), this, [this] { copyRows(','); });
        menu.addSeparator();
        menu.addAction(tr("Export rows shown as CSV..."), this, &SqlPanel::chooseShownExport);
        menu.exec(table_->viewport()->mapToGlobal(at));
    });
    auto* copy = new QShortcut(QKeySequence::Copy, table_, [this] { copyRows('\t'); }, Qt::WidgetShortcut);
    Q_UNUSED(copy);
    views_->addTab(table_, tr("Table"));

    auto* plot = new QWidget;
    auto* plotLayout = new QVBoxLayout(plot);
    plotLayout->setContentsMargins(0, 0, 0, 0);
    auto* plotBar = new QHBoxLayout;
    plotKind_->addItems({tr("Histogram"), tr("Scatter")});
    bins_->setRange(2, 500);
    bins_->setValue(40);
    bins_->setPrefix(tr("bins "));
    plotBar->addWidget(plotKind_);
    plotBar->addWidget(new QLabel(tr("x")));
    plotBar->addWidget(plotX_, 1);
    plotBar->addWidget(new QLabel(tr("y")));
    plotBar->addWidget(plotY_, 1);
    plotBar->addWidget(bins_);
    plotLayout->addLayout(plotBar);
    auto* hint = new QLabel(tr("Numeric columns of the result; derive one in the query itself, "
                               "e.g. SELECT mag_g - mag_r AS colour."));
    hint->setStyleSheet("color:#777");
    plotLayout->addWidget(hint);
    chartView_->setRenderHint(QPainter::Antialiasing);
    plotLayout->addWidget(chartView_, 1);
    views_->addTab(plot, tr("Plot"));
    for (QComboBox* b : {plotKind_, plotX_, plotY_})
        connect(b, &QComboBox::currentIndexChanged, this, &SqlPanel::drawPlot);
    connect(bins_, &QSpinBox::valueChanged, this, &SqlPanel::drawPlot);
    connect(views_, &QTabWidget::currentChanged, this, &SqlPanel::drawPlot);
    lowerLayout->addWidget(views_, 1);

    auto* exportLayout = new QHBoxLayout(exportBar_);
    exportLayout->setContentsMargins(0, 0, 0, 0);
    auto* stopExport = new QPushButton(tr("Cancel export"));
    connect(stopExport, &QPushButton::clicked, this, &SqlPanel::cancelExport);
    progress_->setTextVisible(true);
    exportLayout->addWidget(exportText_, 1);
    exportLayout->addWidget(progress_, 1);
    exportLayout->addWidget(stopExport);
    exportBar_->hide();
    lowerLayout->addWidget(exportBar_);

    split->addWidget(lower);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 3);
    layout->addWidget(split, 1);

    connect(runButton_, &QPushButton::clicked, this, &SqlPanel::run);
    connect(cancelButton_, &QPushButton::clicked, this, &SqlPanel::cancel);
    connect(editor_, &SqlEditor::runRequested, this, &SqlPanel::run);
    for (const QKeySequence& k : {QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)})
        new QShortcut(k, this, [this] { run(); }, Qt::WidgetWithChildrenShortcut);
    new QShortcut(QKeySequence(Qt::Key_Escape), this, [this] { cancel(); }, Qt::WidgetWithChildrenShortcut);
    ticker_->setInterval(100);
    connect(ticker_, &QTimer::timeout, this, [this] {
        if (running_)
            status_->setText(tr("Running... %1 s (Esc cancels)").arg(static_cast<double>(clock_->elapsed()) / 1000.0, 0, 'f', 1));
        if (exporting_) updateExportProgress();
    });

    historyList_ = QSettings().value(kHistoryKey).toStringList(); // once, as the window is built
    fillHistory();
    status_->setText(tr("Waiting for the database..."));
    setBusy(false);
    setMinimumWidth(420);
}

SqlPanel::~SqlPanel() = default;

void SqlPanel::setDatabase(const std::string& readerConninfo) {
    queries_ = std::make_unique<Background>(readerConninfo);
    exports_ = std::make_unique<Background>(readerConninfo);
    running_ = exporting_ = false;
    setBusy(false);
    // The role's timeout bounds the user's.
    queries_->query<int>(
        this, [](db::Connection& c) { return sql::roleTimeoutMs(c); },
        [this](const Result<int>& r) {
            if (!r) {
                showProblem(tr("The read-only connection failed: %1").arg(QString::fromStdString(r.error().message())));
                status_->clear();
                markLoaded();
                return;
            }
            roleTimeoutMs_ = *r;
            roleKnown_ = true;
            const int seconds = roleTimeoutMs_ > 0 ? std::max(1, roleTimeoutMs_ / 1000) : 3600;
            timeout_->setRange(1, seconds);
            timeout_->setValue(seconds);
            timeout_->setToolTip(roleTimeoutMs_ > 0
                                     ? tr("Statement timeout: the read-only role allows at most %1 s; it may be lowered")
                                           .arg(seconds)
                                     : tr("Statement timeout (the read-only role has none)"));
            status_->setText(tr("Read-only, as paudm_reader. Ctrl+Enter runs the query."));
            if (runWhenConnected_) {
                runWhenConnected_ = false;
                run();
            } else {
                markLoaded();
            }
        });
}

void SqlPanel::setSchema(std::shared_ptr<const sql::Schema> schema) {
    editor_->setSchema(std::move(schema));
}

void SqlPanel::setQuery(const QString& text, bool runNow) {
    editor_->setPlainText(text);
    if (!runNow) return;
    if (roleKnown_)
        run();
    else
        runWhenConnected_ = true;
}

void SqlPanel::markLoaded() {
    if (loaded_) return;
    loaded_ = true;
    emit loaded();
}

void SqlPanel::setBusy(bool busy) {
    runButton_->setEnabled(!busy && queries_ != nullptr);
    cancelButton_->setEnabled(busy);
    if (busy || exporting_)
        ticker_->start();
    else
        ticker_->stop();
}

void SqlPanel::showProblem(const QString& message) {
    problem_->setText(message);
    problem_->setVisible(!message.isEmpty());
}

void SqlPanel::run() {
    if (!queries_ || running_) return;
    const QString text = editor_->toPlainText();
    if (text.trimmed().isEmpty()) {
        showProblem(tr("Write a query first, e.g. SELECT * FROM mosaic ORDER BY date_obs DESC"));
        return;
    }
    sql::QueryOptions o;
    o.limit = limit_->value();
    o.timeoutMs = chosenTimeoutMs();
    remember(text);
    running_ = true;
    showProblem({});
    notice_->hide();
    clock_->start();
    setBusy(true);
    const std::string sqlText = text.toStdString();
    queries_->query<sql::QueryResult>(
        this, [sqlText, o](db::Connection& c) { return sql::runQuery(c, sqlText, o); },
        [this](const Result<sql::QueryResult>& r) { showResult(r); });
}

int SqlPanel::chosenTimeoutMs() const {
    const int ms = timeout_->value() * 1000;
    return roleTimeoutMs_ > 0 && ms >= roleTimeoutMs_ ? 0 : ms; // 0: the role's own
}

std::vector<int> SqlPanel::rowsInViewOrder(bool selectedOnly) const {
    std::vector<int> viewRows;
    if (selectedOnly && table_->selectionModel())
        for (const QModelIndex& i : table_->selectionModel()->selectedRows()) viewRows.push_back(i.row());
    if (viewRows.empty())
        for (int i = 0; i < sorted_->rowCount(); ++i) viewRows.push_back(i);
    std::sort(viewRows.begin(), viewRows.end());
    std::vector<int> rows;
    rows.reserve(viewRows.size());
    for (int v : viewRows) rows.push_back(sorted_->mapToSource(sorted_->index(v, 0)).row());
    return rows;
}

void SqlPanel::cancel() {
    if (running_ && queries_) {
        status_->setText(tr("Cancelling..."));
        queries_->cancelStatements();
    }
}

void SqlPanel::showResult(const Result<sql::QueryResult>& r) {
    running_ = false;
    setBusy(false);
    const double seconds = static_cast<double>(clock_->elapsed()) / 1000.0;
    if (!r) {
        const Error& e = r.error();
        if (e.code() == db::kQueryCanceled && serverMessage(e).contains("statement timeout"))
            showProblem(tr("The query ran past its statement timeout (%1 s) and was stopped by the server. "
                           "Narrow it (WHERE, LIMIT), or export it in the background.\n\n%2")
                            .arg(timeout_->value())
                            .arg(serverMessage(e)));
        else if (e.code() == db::kQueryCanceled)
            showProblem(tr("Cancelled after %1 s.").arg(seconds, 0, 'f', 1));
        else
            showProblem(serverMessage(e));
        status_->setText(tr("Failed after %1 s; the previous result is still shown.").arg(seconds, 0, 'f', 2));
        markLoaded();
        emit queryFinished(false);
        return;
    }
    auto result = std::make_shared<const sql::QueryResult>(*r);
    table_->setSortingEnabled(false);
    sorted_->sort(-1);
    model_->setResult(result);
    table_->setSortingEnabled(true);
    table_->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
    table_->resizeColumnsToContents();
    for (int c = 0; c < model_->columnCount(); ++c) table_->setColumnWidth(c, std::min(table_->columnWidth(c), 360));
    if (result->truncated) {
        notice_->setText(tr("<b>Only the first %1 rows are shown: the result has more.</b> Raise the limit (at most "
                            "%2), narrow the query, or use Export \u2192 Whole result.")
                             .arg(thousands(result->limit), thousands(sql::kMaxRows)));
        notice_->show();
    }
    status_->setText(tr("%1 in %2 ms (timeout %3 s)")
                         .arg(QString::fromStdString(result->summary()))
                         .arg(result->elapsedMs, 0, 'f', result->elapsedMs < 10 ? 1 : 0)
                         .arg(result->timeoutMs / 1000));
    fillPlotColumns();
    drawPlot();
    markLoaded();
    emit queryFinished(true);
}

void SqlPanel::remember(const QString& text) {
    historyList_.removeAll(text);
    historyList_.prepend(text);
    while (historyList_.size() > kHistoryLength) historyList_.removeLast();
    fillHistory();
    // Kept on disk off the GUI thread; only the newest list is written when several queue up.
    const int generation = ++historyGeneration_;
    auto latest = historyLatest_;
    latest->store(generation);
    files_->run<int>(
        this,
        [list = historyList_, generation, latest](Work&) {
            if (latest->load() != generation) return 0;
            QSettings settings;
            settings.setValue(kHistoryKey, list);
            settings.sync();
            return 0;
        },
        [](const Result<int>&) {});
}

QStringList SqlPanel::historyEntries() const {
    return historyList_;
}

void SqlPanel::fillHistory() {
    const QStringList h = historyEntries();
    QMenu* menu = history_->menu();
    menu->clear();
    if (h.isEmpty()) menu->addAction(tr("(no queries yet)"))->setEnabled(false);
    for (int i = 0; i < h.size() && i < 40; ++i) {
        QString line = h[i].simplified();
        if (line.size() > 90) line = line.left(90) + "…";
        QAction* a = menu->addAction(line);
        a->setToolTip(h[i]);
        const QString text = h[i];
        connect(a, &QAction::triggered, this, [this, text] { editor_->setPlainText(text); });
    }
    menu->setToolTipsVisible(true);
}

void SqlPanel::copyRows(char delimiter) {
    const auto& r = model_->result();
    if (!r) return;
    const std::vector<int> rows = rowsInViewOrder(true);
    QApplication::clipboard()->setText(QString::fromStdString(sql::toDelimited(*r, delimiter, &rows)));
    status_->setText(tr("Copied %1 rows as %2").arg(rows.size()).arg(delimiter == '\t' ? "TSV" : "CSV"));
}

void SqlPanel::chooseShownExport() {
    if (!model_->result()) return;
    const QString path = QFileDialog::getSaveFileName(this, tr("Save the rows shown"), "query.csv", tr("CSV (*.csv)"));
    if (!path.isEmpty()) exportShown(path);
}

void SqlPanel::exportShown(const QString& path) {
    auto r = model_->result();
    if (!r) return;
    const std::vector<int> rows = rowsInViewOrder(false);
    const std::string file = path.toStdString();
    files_->run<int>(
        this,
        [r, rows, file](Work&) {
            writeFileAtomically(file, sql::toDelimited(*r, ',', &rows));
            return static_cast<int>(rows.size());
        },
        [this, path](const Result<int>& done) {
            const QString message = done ? tr("Saved %1 rows to %2").arg(*done).arg(path)
                                         : QString::fromStdString(done.error().message());
            if (done)
                status_->setText(message);
            else
                showProblem(message);
            emit exportFinished(bool(done), message);
        });
}

void SqlPanel::chooseFullExport() {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export the whole result"), "query.csv",
                                                      tr("CSV (*.csv);;FITS binary table (*.fits)"));
    if (!path.isEmpty()) startFullExport(path);
}

void SqlPanel::startFullExport(const QString& path) {
    if (!exports_ || exporting_) return;
    const QString text = editor_->toPlainText();
    if (!sql::isQuery(text.toStdString())) {
        showProblem(tr("A full export needs a query (SELECT, WITH, VALUES or TABLE)."));
        return;
    }
    sql::QueryOptions o;
    o.timeoutMs = chosenTimeoutMs();
    exportState_ = std::make_shared<sql::ExportProgress>();
    exportPath_ = path;
    exporting_ = true;
    exportClock_->start();
    progress_->setRange(0, 0);
    exportText_->setText(tr("Exporting to %1...").arg(path));
    exportBar_->show();
    showProblem({});
    setBusy(running_);
    const std::string file = path.toStdString(), sqlText = text.toStdString();
    const sql::ExportFormat format = sql::exportFormatFor(file);
    auto state = exportState_;
    exports_->query<sql::ExportResult>(
        this, [sqlText, file, format, o, state](db::Connection& c) { return sql::exportQuery(c, sqlText, file, format, o, state.get()); },
        [this, path](const Result<sql::ExportResult>& r) {
            exporting_ = false;
            setBusy(running_);
            exportBar_->hide();
            QString message;
            if (r) {
                message = tr("Exported %1 rows to %2 (%3 in %4 s)")
                              .arg(thousands(r->rows), path, megabytes(r->bytes))
                              .arg(r->seconds, 0, 'f', 1);
                status_->setText(message);
            } else if (r.error().code() == db::kQueryCanceled && !serverMessage(r.error()).contains("statement timeout")) {
                message = tr("Export cancelled; nothing was written to %1.").arg(path);
                status_->setText(message);
            } else {
                message = tr("The export failed; nothing was written to %1.\n\n%2").arg(path, serverMessage(r.error()));
                showProblem(message);
            }
            emit exportFinished(bool(r), message);
        });
    ticker_->start();
}

void SqlPanel::cancelExport() {
    if (!exporting_ || !exports_) return;
    if (exportState_) exportState_->stop = true;
    exports_->cancelStatements();
    exportText_->setText(tr("Cancelling the export..."));
}

void SqlPanel::updateExportProgress() {
    if (!exportState_) return;
    const qint64 rows = exportState_->rows.load(), estimate = exportState_->estimatedRows.load();
    const double s = std::max(0.001, static_cast<double>(exportClock_->elapsed()) / 1000.0);
    if (exportState_->phase.load() == 1) {
        exportText_->setText(tr("Writing the FITS table: %1 rows").arg(thousands(rows)));
    } else {
        exportText_->setText(tr("%1 rows, %2 (%3 rows/s)")
                                 .arg(thousands(rows), megabytes(exportState_->bytes.load()))
                                 .arg(thousands(static_cast<qint64>(static_cast<double>(rows) / s))));
    }
    if (estimate > 0) {
        // The planner's estimate: a guide, not a promise (the bar stops at 99% until done).
        progress_->setRange(0, 1000);
        progress_->setValue(static_cast<int>(std::min<double>(990, 1000.0 * static_cast<double>(rows) / static_cast<double>(estimate))));
        progress_->setFormat(tr("~%p% of ~%1 rows").arg(thousands(estimate)));
    }
}

void SqlPanel::fillPlotColumns() {
    const auto& r = model_->result();
    const QString x = plotX_->currentText(), y = plotY_->currentText();
    for (QComboBox* b : {plotX_, plotY_}) {
        const QSignalBlocker block(b);
        b->clear();
        if (!r) continue;
        for (size_t c = 0; c < r->columns.size(); ++c)
            if (r->columns[c].isNumber()) b->addItem(QString::fromStdString(r->columns[c].name), static_cast<int>(c));
    }
    const QSignalBlocker bx(plotX_), by(plotY_);
    if (plotX_->findText(x) >= 0) plotX_->setCurrentIndex(plotX_->findText(x));
    if (plotY_->findText(y) >= 0)
        plotY_->setCurrentIndex(plotY_->findText(y));
    else if (plotY_->count() > 1)
        plotY_->setCurrentIndex(1);
}

void SqlPanel::drawPlot() {
    if (views_->currentIndex() != 1) return; // drawn when looked at
    const auto& r = model_->result();
    const bool scatter = plotKind_->currentIndex() == 1;
    plotY_->setEnabled(scatter);
    bins_->setEnabled(!scatter);
    QChart* old = chartView_->chart();
    QChart* chart = nullptr;
    if (!r || plotX_->count() == 0) {
        chart = new QChart;
        chart->setTitle(tr("The result has no numeric column to plot"));
    } else if (scatter) {
        chart = scatterChart(*r, plotX_->currentData().toInt(), plotY_->currentData().toInt());
    } else {
        chart = histogramChart(*r, plotX_->currentData().toInt(), bins_->value());
    }
    chartView_->setChart(chart);
    delete old;
}

} // namespace paudm::ui
