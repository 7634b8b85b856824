#include "operationspanel.h"

#include "background.h"
#include "jobdetailview.h"
#include "jobs/runner.h"
#include "jobtablemodel.h"
#include "notifications.h"
#include "submitdialog.h"

#include <QAction>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDateEdit>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPieSeries>
#include <QPieSlice>
#include <QSettings>
#include <QShortcut>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

namespace paudm::ui {

namespace {

constexpr int kPieSlices = 8; ///< the largest; the rest become "other"

QString describe(const jobs::JobFilter& f) {
    QStringList parts;
    parts << (f.topLevel ? QObject::tr("top-level") : QObject::tr("all"));
    if (!f.task.empty()) parts << QObject::tr("task %1").arg(QString::fromStdString(f.task));
    if (!f.statuses.empty()) parts << QString::fromStdString(f.statuses.front());
    if (!f.qc.empty()) parts << QObject::tr("QC %1").arg(QString::fromStdString(f.qc));
    if (!f.text.empty()) parts << QObject::tr("matching \"%1\"").arg(QString::fromStdString(f.text));
    if (f.createdFrom) parts << QObject::tr("from %1").arg(f.createdFrom->toLocalTime().toString("yyyy-MM-dd"));
    if (f.createdTo) parts << QObject::tr("before %1").arg(f.createdTo->toLocalTime().toString("yyyy-MM-dd"));
    return parts.join(", ");
}

} // namespace

OperationsPanel::OperationsPanel(QWidget* parent)
    : QWidget(parent), debounce_(new QTimer(this)), textDebounce_(new QTimer(this)), task_(new QComboBox),
      status_(new QComboBox), qc_(new QComboBox), fromOn_(new QCheckBox(tr("From"))), toOn_(new QCheckBox(tr("to"))),
      subjobs_(new QCheckBox(tr("Sub-jobs too"))), from_(new QDateEdit), to_(new QDateEdit), text_(new QLineEdit),
      summary_(new QLabel), problem_(new QLabel), model_(new JobTableModel(this)), view_(new QTableView),
      taskPie_(new QChartView), statusPie_(new QChartView), detail_(new JobDetailView),
      split_(new QSplitter(Qt::Horizontal)), leftSplit_(new QSplitter(Qt::Vertical)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    // Filters.
    auto* filters = new QHBoxLayout;
    task_->addItem(tr("All tasks"));
    for (const auto& name : jobs::TaskRegistry::standard().names())
        task_->addItem(QString::fromStdString(name));
    status_->addItem(tr("Any status"));
    for (const char* s : jobs::kJobStatuses)
        status_->addItem(s);
    qc_->addItem(tr("Any QC"), QString());
    qc_->addItem(tr("QC green"), "green");
    qc_->addItem(tr("QC yellow"), "yellow");
    qc_->addItem(tr("QC red"), "red");
    qc_->addItem(tr("No QC"), "none");
    for (QDateEdit* d : {from_, to_}) {
        d->setCalendarPopup(true);
        d->setDisplayFormat("yyyy-MM-dd");
        d->setDate(QDate::currentDate());
        d->setEnabled(false);
    }
    from_->setDate(QDate::currentDate().addDays(-7));
    text_->setPlaceholderText(tr("Search task, description or ID (Ctrl+F)"));
    text_->setClearButtonEnabled(true);
    text_->setMinimumWidth(120);
    subjobs_->setToolTip(tr("List sub-jobs as well as top-level jobs (e.g. every failed register_mosaic)"));
    filters->addWidget(task_);
    filters->addWidget(status_);
    filters->addWidget(qc_);
    filters->addWidget(fromOn_);
    filters->addWidget(from_);
    filters->addWidget(toOn_);
    filters->addWidget(to_);
    filters->addWidget(text_, 1);
    filters->addWidget(subjobs_);
    layout->addLayout(filters);

    // Actions.
    auto* bar = new QToolBar;
    bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    QAction* submit = bar->addAction(tr("Submit..."), this, &OperationsPanel::submit);
    submit->setShortcut(QKeySequence::New);
    submit->setToolTip(tr("Submit a task with its configuration (Ctrl+N)"));
    retry_ = bar->addAction(tr("Retry"), this, &OperationsPanel::retrySelected);
    retry_->setShortcut(Qt::CTRL | Qt::Key_R);
    retry_->setToolTip(tr("Retry the selected failed or cancelled job and its failed sub-jobs (Ctrl+R)"));
    abort_ = bar->addAction(tr("Abort..."), this, &OperationsPanel::abortSelected);
    abort_->setShortcut(QKeySequence::Delete);
    abort_->setToolTip(tr("Abort the selected job, its sub-jobs and what depends on them (Del)"));
    graph_ = bar->addAction(tr("Graph"), this, [this] {
        if (const auto id = selectedId()) emit graphWanted(id);
    });
    graph_->setShortcut(Qt::CTRL | Qt::Key_G);
    graph_->setToolTip(tr("Show the selected job's sub-jobs in the Job graph panel (Ctrl+G)"));
    bar->addSeparator();
    bar->addAction(tr("Retry matching..."), this, [this] { bulk(false); })
        ->setToolTip(tr("Retry every failed or cancelled job the filter matches, after saying how many"));
    bar->addAction(tr("Abort matching..."), this, [this] { bulk(true); })
        ->setToolTip(tr("Abort every unfinished job the filter matches, after saying how many"));
    bar->addSeparator();
    QAction* reload = bar->addAction(tr("Refresh"), this, &OperationsPanel::refresh);
    reload->setShortcut(QKeySequence::Refresh);
    for (QAction* a : bar->actions())
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addActions(bar->actions());
    layout->addWidget(bar);

    problem_->setWordWrap(true);
    problem_->hide();
    layout->addWidget(problem_);
    summary_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    summary_->setText(tr("Waiting for the database..."));
    layout->addWidget(summary_);

    // Table and pies on the left, the selected job on the right.
    view_->setModel(model_);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setSelectionMode(QAbstractItemView::SingleSelection);
    view_->verticalHeader()->hide();
    view_->verticalHeader()->setDefaultSectionSize(view_->fontMetrics().height() + 6);
    view_->horizontalHeader()->setStretchLastSection(true);
    view_->horizontalHeader()->setSectionsMovable(true);
    view_->horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu);
    view_->setAlternatingRowColors(true);
    view_->setWordWrap(false);
    view_->setColumnWidth(JobTableModel::Id, 70);
    view_->setColumnWidth(JobTableModel::Task, 130);
    view_->setColumnWidth(JobTableModel::Subjobs, 70);
    view_->setColumnWidth(JobTableModel::Status, 105);
    view_->setColumnWidth(JobTableModel::Qc, 110);
    view_->setColumnWidth(JobTableModel::Created, 145);
    view_->setColumnWidth(JobTableModel::Started, 145);
    view_->setColumnWidth(JobTableModel::Duration, 95);
    view_->setColumnWidth(JobTableModel::Attempts, 70);
    connect(view_->horizontalHeader(), &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        QMenu menu;
        for (int c = 0; c < JobTableModel::ColumnCount; ++c) {
            QAction* a = menu.addAction(model_->headerData(c, Qt::Horizontal).toString());
            a->setCheckable(true);
            a->setChecked(!view_->isColumnHidden(c));
            a->setEnabled(c != JobTableModel::Id);
            connect(a, &QAction::toggled, this, [this, c](bool on) {
                view_->setColumnHidden(c, !on);
                saveSettings();
            });
        }
        menu.exec(view_->horizontalHeader()->mapToGlobal(at));
    });
    connect(view_, &QTableView::doubleClicked, this, [this] {
        if (const auto id = selectedId()) emit graphWanted(id);
    });
    // The table across the width; below it the selected job, and the pies beside that.
    leftSplit_->addWidget(view_);
    auto* pies = new QWidget;
    auto* pieLayout = new QVBoxLayout(pies);
    pieLayout->setContentsMargins(0, 0, 0, 0);
    for (QChartView* v : {taskPie_, statusPie_}) {
        v->setRenderHint(QPainter::Antialiasing);
        v->setMinimumSize(260, 140);
        pieLayout->addWidget(v);
    }
    split_->addWidget(detail_);
    split_->addWidget(pies);
    split_->setStretchFactor(0, 3);
    split_->setStretchFactor(1, 1);
    leftSplit_->addWidget(split_);
    leftSplit_->setStretchFactor(0, 1);
    leftSplit_->setStretchFactor(1, 1);
    layout->addWidget(leftSplit_, 1);

    // Behaviour.
    connect(new QShortcut(QKeySequence::Find, this, nullptr, nullptr, Qt::WidgetWithChildrenShortcut),
            &QShortcut::activated, text_, [this] {
                text_->setFocus();
                text_->selectAll();
            });
    debounce_->setSingleShot(true);
    debounce_->setInterval(1000);
    connect(debounce_, &QTimer::timeout, this, &OperationsPanel::refresh);
    textDebounce_->setSingleShot(true);
    textDebounce_->setInterval(250);
    connect(textDebounce_, &QTimer::timeout, this, &OperationsPanel::filterChanged);
    connect(text_, &QLineEdit::textChanged, textDebounce_, qOverload<>(&QTimer::start));
    connect(text_, &QLineEdit::returnPressed, this, [this] {
        textDebounce_->stop();
        filterChanged();
    });
    for (QComboBox* c : {task_, status_, qc_})
        connect(c, &QComboBox::currentIndexChanged, this, &OperationsPanel::filterChanged);
    for (QCheckBox* c : {fromOn_, toOn_, subjobs_})
        connect(c, &QCheckBox::toggled, this, &OperationsPanel::filterChanged);
    connect(fromOn_, &QCheckBox::toggled, from_, &QWidget::setEnabled);
    connect(toOn_, &QCheckBox::toggled, to_, &QWidget::setEnabled);
    for (QDateEdit* d : {from_, to_})
        connect(d, &QDateEdit::dateChanged, this, &OperationsPanel::filterChanged);
    connect(model_, &JobTableModel::moreWanted, this, &OperationsPanel::loadMore);
    connect(view_->selectionModel(), &QItemSelectionModel::selectionChanged, this, &OperationsPanel::selectionChanged);
    connect(detail_, &JobDetailView::jobActivated, this, &OperationsPanel::showJob);
    selectionChanged();
    restoreSettings();
}

OperationsPanel::~OperationsPanel() {
    saveSettings();
}

void OperationsPanel::setDatabase(const std::string& conninfo) {
    conninfo_ = conninfo;
    pool_ = std::make_shared<Background>(conninfo);
    listPool_ = std::make_shared<Background>(conninfo);
    detail_->setPool(pool_);
    delete listener_;
    listener_ = new NotificationListener(conninfo, {"paudm_jobs", "paudm_runners", jobs::kProgressChannel}, this);
    refreshOnNotification(listener_, debounce_); // at most one live refresh a second
    connect(listener_, &NotificationListener::connectionChanged, this, [this](bool ok, const QString& error) {
        if (!ok)
            showProblem(tr("Lost the database (%1); reconnecting...").arg(error));
        else if (loaded_) {
            problem_->hide();
            refresh();
        }
    });
    loadFirstPage();
    loadSummary();
    loadDetail(); // a job asked for before the database was there (--job)
}

jobs::JobFilter OperationsPanel::filter() const {
    jobs::JobFilter f;
    f.topLevel = !subjobs_->isChecked();
    if (task_->currentIndex() > 0) f.task = task_->currentText().toStdString();
    if (status_->currentIndex() > 0) f.statuses = {status_->currentText().toStdString()};
    f.qc = qc_->currentData().toString().toStdString();
    if (fromOn_->isChecked()) f.createdFrom = from_->date().startOfDay().toUTC();
    if (toOn_->isChecked()) f.createdTo = to_->date().addDays(1).startOfDay().toUTC();
    f.text = text_->text().trimmed().toStdString();
    f.limit = JobTableModel::kPage;
    return f;
}

void OperationsPanel::setFilter(const jobs::JobFilter& f) {
    restoring_ = true;
    subjobs_->setChecked(!f.topLevel);
    task_->setCurrentIndex(f.task.empty() ? 0 : std::max(0, task_->findText(QString::fromStdString(f.task))));
    status_->setCurrentIndex(
        f.statuses.empty() ? 0 : std::max(0, status_->findText(QString::fromStdString(f.statuses.front()))));
    qc_->setCurrentIndex(std::max(0, qc_->findData(QString::fromStdString(f.qc))));
    fromOn_->setChecked(f.createdFrom.has_value());
    if (f.createdFrom) from_->setDate(f.createdFrom->toLocalTime().date());
    toOn_->setChecked(f.createdTo.has_value());
    if (f.createdTo) to_->setDate(f.createdTo->toLocalTime().date().addDays(-1));
    text_->setText(QString::fromStdString(f.text));
    textDebounce_->stop();
    restoring_ = false;
    filterChanged();
}

void OperationsPanel::filterChanged() {
    if (restoring_) return;
    saveSettings();
    if (!pool_) return;
    listPool_->cancelStatements(); // the old filter's pages and counts: nobody waits for them now
    loadFirstPage();
    loadSummary();
}

void OperationsPanel::loadFirstPage() {
    const int generation = ++generation_;
    sinceFilter_.start();
    const jobs::JobFilter f = filter();
    listPool_->query<std::vector<jobs::JobRow>>(
        this, [f](db::Connection& c) { return jobs::JobStore(c).list(f); },
        [this, generation](const Result<std::vector<jobs::JobRow>>& o) {
            if (generation != generation_) return; // a newer filter is on its way
            if (!o) return showProblem(QString::fromStdString(o.error().message()));
            const std::int64_t selected = wanted_;
            model_->setFirstPage(*o);
            lastFilterMs_ = sinceFilter_.elapsed();
            emit firstPageShown(lastFilterMs_);
            if (const int r = model_->rowOf(selected); r >= 0) view_->selectRow(r);
        });
}

void OperationsPanel::loadMore(std::int64_t beforeId) {
    const int generation = generation_;
    jobs::JobFilter f = filter();
    f.beforeId = beforeId;
    listPool_->query<std::vector<jobs::JobRow>>(
        this, [f](db::Connection& c) { return jobs::JobStore(c).list(f); },
        [this, generation](const Result<std::vector<jobs::JobRow>>& o) {
            if (generation != generation_) return;
            if (!o) {
                showProblem(QString::fromStdString(o.error().message()));
                return model_->pageFailed();
            }
            model_->appendPage(*o);
        });
}

void OperationsPanel::refresh() {
    if (!pool_) return;
    if (refreshing_) {
        refreshAgain_ = true;
        return;
    }
    refreshing_ = true;
    const int generation = generation_;
    jobs::JobFilter f = filter();
    const int asked = model_->headSize();
    f.limit = asked;
    listPool_->query<std::vector<jobs::JobRow>>(
        this, [f](db::Connection& c) { return jobs::JobStore(c).list(f); },
        [this, generation, asked](const Result<std::vector<jobs::JobRow>>& o) {
            refreshing_ = false;
            if (generation == generation_ && o) model_->refreshHead(*o, asked);
            if (generation == generation_ && !o) showProblem(QString::fromStdString(o.error().message()));
            if (refreshAgain_) {
                refreshAgain_ = false;
                refresh();
            }
        });
    loadSummary();
    loadDetail();
}

void OperationsPanel::loadSummary() {
    const int generation = generation_;
    const jobs::JobFilter f = filter();
    listPool_->query<Summary>(
        this,
        [f](db::Connection& c) {
            jobs::JobStore store(c);
            Summary s;
            s.byTask = store.countByTask(f);
            s.byStatus = store.countByStatus(f);
            // The count is the pie's slice of the filtered status, or the whole pie.
            for (const auto& [status, n] : s.byStatus)
                if (f.statuses.empty() || status == f.statuses.front()) s.matching += n;
            return s;
        },
        [this, generation](const Result<Summary>& o) {
            if (generation != generation_) return;
            if (!o) return showProblem(QString::fromStdString(o.error().message()));
            if (problem_->property("lost").toBool()) problem_->hide();
            showSummary(*o);
        });
}

void OperationsPanel::showSummary(const Summary& s) {
    const jobs::JobFilter f = filter();
    summary_->setText(tr("<b>%L1</b> %2 jobs match%3")
                          .arg(s.matching)
                          .arg(describe(f).toHtmlEscaped())
                          .arg(lastFilterMs_ >= 0
                                   ? tr(" <span style='color:#888'>· first page in %1 ms</span>").arg(lastFilterMs_)
                                   : QString()));
    fillPie(taskPie_, tr("Jobs per task"), s.byTask, false);
    fillPie(statusPie_, tr("Jobs per status"), s.byStatus, true);
    loaded_ = true;
    emit loaded();
}

void OperationsPanel::fillPie(QChartView* view, const QString& title,
                              const std::vector<std::pair<std::string, std::int64_t>>& counts, bool byStatus) {
    auto sorted = counts;
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    auto* series = new QPieSeries;
    std::int64_t other = 0;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (i >= kPieSlices) {
            other += sorted[i].second;
            continue;
        }
        const QString name = QString::fromStdString(sorted[i].first);
        QPieSlice* slice =
            series->append(QString("%1 (%L2)").arg(name).arg(sorted[i].second), static_cast<qreal>(sorted[i].second));
        if (byStatus) slice->setColor(QColor(jobs::statusColour(sorted[i].first)));
        slice->setBorderColor(Qt::white);

        connect(slice, &QPieSlice::hovered, slice, [slice](bool on) { slice->setExploded(on); });
        connect(slice, &QPieSlice::clicked, this, [this, name, byStatus] {
            QComboBox* box = byStatus ? status_ : task_;
            const int at = box->findText(name);
            box->setCurrentIndex(box->currentIndex() == at ? 0 : at); // a second click clears it
        });
    }
    if (other > 0)
        series->append(tr("other (%L1)").arg(other), static_cast<qreal>(other))->setColor(QColor(0xdd, 0xdd, 0xdd));
    auto* chart = new QChart;
    chart->addSeries(series);
    chart->setTitle(sorted.empty() ? tr("%1: none").arg(title) : title);
    series->setPieSize(0.9);
    chart->legend()->setAlignment(Qt::AlignLeft);
    chart->legend()->setShowToolTips(true);
    QFont small = font();
    small.setPointSizeF(font().pointSizeF() * 0.85);
    chart->legend()->setFont(small);
    chart->setMargins(QMargins(0, 0, 0, 0));
    chart->setBackgroundRoundness(0);
    chart->setToolTip(tr("Click a slice to filter by it; click again to clear"));
    QChart* old = view->chart();
    view->setChart(chart);
    delete old;
}

std::int64_t OperationsPanel::selectedId() const {
    const auto rows = view_->selectionModel()->selectedRows();
    return rows.isEmpty() ? 0 : model_->idAt(rows.first().row());
}

void OperationsPanel::selectionChanged() {
    const std::int64_t id = selectedId();
    const jobs::JobRow* r = model_->row(model_->rowOf(id));
    retry_->setEnabled(r && (r->status == "FAILED" || r->status == "CANCELLED"));
    abort_->setEnabled(r && r->status != "DONE" && r->status != "FAILED" && r->status != "CANCELLED");
    graph_->setEnabled(r != nullptr);
    if (id) {
        wanted_ = id;
        loadDetail();
    }
}

void OperationsPanel::showJob(std::int64_t id) {
    if (const int r = model_->rowOf(id); r >= 0) {
        view_->selectRow(r);
        view_->scrollTo(model_->index(r, 0));
        return;
    }
    view_->clearSelection(); // not under this filter (or not loaded): show it anyway
    wanted_ = id;
    loadDetail();
}

void OperationsPanel::loadDetail() {
    const std::int64_t id = wanted_;
    if (!id || !pool_) return;
    pool_->query<std::optional<JobView>>(
        this,
        [id](db::Connection& c) -> std::optional<JobView> {
            jobs::JobStore store(c);
            auto d = store.show(id);
            if (!d) return std::nullopt;
            JobView v{std::move(*d), {}};
            if (v.detail.row.subjobs > 0) v.subjobQc = store.subjobQc(id);
            return v;
        },
        [this, id](const Result<std::optional<JobView>>& o) {
            if (id != wanted_) return; // the user moved on
            if (!o) return showProblem(QString::fromStdString(o.error().message()));
            if (!*o) return detail_->clear(tr("Job %1 no longer exists.").arg(id));
            detail_->setJob(**o);
            emit detailShown(id);
        });
}

void OperationsPanel::showProblem(const QString& text) {
    problem_->setStyleSheet("color:#c62828");
    problem_->setText(text);
    problem_->setProperty("lost", true);
    problem_->show();
}

void OperationsPanel::submit() {
    if (!pool_) return;
    SubmitDialog dialog(this);
    if (dialog.exec() != QDialog::Accepted) return;
    const jobs::NewJob job = dialog.job();
    const bool queue = dialog.queueNow();
    pool_->query<std::int64_t>(
        this, [job, queue](db::Connection& c) { return jobs::JobStore(c).create(job, queue); },
        [this, queue, name = QString::fromStdString(job.name)](const Result<std::int64_t>& o) {
            if (!o)
                return showProblem(
                    tr("Could not submit %1: %2").arg(name, QString::fromStdString(o.error().message())));
            summary_->setText(tr("Job %1 (%2) %3.").arg(*o).arg(name, queue ? tr("queued") : tr("stashed")));
            wanted_ = *o;
            refresh();
        });
}

void OperationsPanel::retrySelected() {
    const std::int64_t id = selectedId();
    if (!id || !pool_) return;
    pool_->query<int>(
        this, [id](db::Connection& c) { return jobs::JobStore(c).retry(id); },
        [this, id](const Result<int>& o) {
            if (!o)
                return showProblem(tr("Retry of job %1: %2").arg(id).arg(QString::fromStdString(o.error().message())));
            summary_->setText(tr("Job %1: %2 jobs back to work.").arg(id).arg(*o));
            refresh();
        });
}

void OperationsPanel::abortSelected() {
    const std::int64_t id = selectedId();
    if (!id || !pool_) return;
    const jobs::JobRow* r = model_->row(model_->rowOf(id));
    const QString what = r ? tr("job %1 (%2)").arg(id).arg(QString::fromStdString(r->name)) : tr("job %1").arg(id);
    if (QMessageBox::question(this, tr("Abort"),
                              tr("Abort %1?\n\nIts sub-jobs and every job that depends on them are cancelled too; "
                                 "running ones are stopped.")
                                  .arg(what),
                              QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel) != QMessageBox::Yes)
        return;
    pool_->query<int>(
        this, [id](db::Connection& c) { return jobs::JobStore(c).abort(id); },
        [this, what](const Result<int>& o) {
            if (!o) return showProblem(tr("Abort of %1: %2").arg(what, QString::fromStdString(o.error().message())));
            summary_->setText(tr("Aborted %1: %2 jobs cancelled.").arg(what).arg(*o));
            refresh();
        });
}

void OperationsPanel::bulk(bool abort) {
    if (!pool_) return;
    jobs::JobFilter f = filter();
    f.limit = 0; // everything the filter matches, not a page
    const QString verb = abort ? tr("Abort") : tr("Retry");
    summary_->setText(tr("Counting the jobs the filter matches..."));
    // First the dry run, then the question with its number, then the change.
    pool_->query<int>(
        this,
        [f, abort](db::Connection& c) {
            return abort ? jobs::JobStore(c).abortWhere(f, true) : jobs::JobStore(c).retryWhere(f, true);
        },
        [this, f, abort, verb](const Result<int>& o) {
            if (!o) return showProblem(QString::fromStdString(o.error().message()));
            if (*o == 0) {
                summary_->setText(
                    tr("%1: no job the filter matches can be %2.").arg(verb, abort ? tr("aborted") : tr("retried")));
                return;
            }
            if (QMessageBox::question(
                    this, verb,
                    tr("%1 %L2 jobs (%3)?").arg(verb).arg(*o).arg(describe(f)) +
                        (abort ? tr("\n\nTheir sub-jobs and dependents are cancelled too.") : QString()),
                    QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel) != QMessageBox::Yes) {
                summary_->setText(tr("Nothing changed."));
                return;
            }
            pool_->query<int>(
                this,
                [f, abort](db::Connection& c) {
                    return abort ? jobs::JobStore(c).abortWhere(f, false) : jobs::JobStore(c).retryWhere(f, false);
                },
                [this, verb](const Result<int>& done) {
                    if (!done) return showProblem(QString::fromStdString(done.error().message()));
                    summary_->setText(tr("%1: %L2 jobs changed.").arg(verb).arg(*done));
                    refresh();
                });
        });
}

void OperationsPanel::saveSettings() const {
    if (restoring_) return;
    QSettings s;
    s.beginGroup("operations");
    s.setValue("header", view_->horizontalHeader()->saveState());
    s.setValue("split", split_->saveState());
    s.setValue("leftSplit", leftSplit_->saveState());
    s.setValue("task", task_->currentText());
    s.setValue("status", status_->currentText());
    s.setValue("qc", qc_->currentData());
    s.setValue("text", text_->text());
    s.setValue("subjobs", subjobs_->isChecked());
}

void OperationsPanel::restoreSettings() {
    restoring_ = true;
    QSettings s;
    s.beginGroup("operations");
    view_->horizontalHeader()->restoreState(s.value("header").toByteArray());
    split_->restoreState(s.value("split").toByteArray());
    leftSplit_->restoreState(s.value("leftSplit").toByteArray());
    task_->setCurrentIndex(std::max(0, task_->findText(s.value("task").toString())));
    status_->setCurrentIndex(std::max(0, status_->findText(s.value("status").toString())));
    qc_->setCurrentIndex(std::max(0, qc_->findData(s.value("qc").toString())));
    text_->setText(s.value("text").toString());
    textDebounce_->stop();
    subjobs_->setChecked(s.value("subjobs", false).toBool());
    restoring_ = false;
}

} // namespace paudm::ui
