#include "runnerspanel.h"

#include "liveload.h"
#include "runnerhost.h"

#include "db/connection.h"

#include <QCoreApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <QTableView>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>

namespace paudm::ui {

namespace {

const QColor kGood(0x2e, 0x7d, 0x32), kBad(0xc6, 0x28, 0x28), kQuiet(0x75, 0x75, 0x75);

QString age(double seconds) {
    if (seconds < 90) return QObject::tr("%1 s ago").arg(static_cast<int>(seconds));
    if (seconds < 5400) return QObject::tr("%1 min ago").arg(static_cast<int>(seconds / 60));
    if (seconds < 172800) return QObject::tr("%1 h ago").arg(static_cast<int>(seconds / 3600));
    return QObject::tr("%1 days ago").arg(static_cast<int>(seconds / 86400));
}

} // namespace

// ---------------------------------------------------------------- model

int RunnerTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunnerTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"Runner",    "State",   "Host",  "PID",     "Threads",  "Heartbeat",
                                  "Jobs done", "In hand", "Tasks", "Started", "Batch job"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

double RunnerTableModel::ageOf(const jobs::RunnerRow& r) const {
    return r.heartbeatAgeS + (sinceLoad_.isValid() ? sinceLoad_.elapsed() / 1000.0 : 0);
}

QVariant RunnerTableModel::data(const QModelIndex& index, int role) const {
    const jobs::RunnerRow* r = row(index.row());
    if (!index.isValid() || !r || index.column() >= ColumnCount) return {};
    jobs::RunnerRow now = *r;
    now.heartbeatAgeS = ageOf(*r);
    const std::string state = now.state();
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Id:
            return static_cast<qlonglong>(r->id);
        case State:
            return QString::fromStdString(state);
        case Host:
            return QString::fromStdString(r->host);
        case Pid:
            return r->pid;
        case Threads:
            return r->threads;
        case Heartbeat:
            return state == "stopped" ? tr("stopped %1").arg(r->stopped.toLocalTime().toString("MM-dd hh:mm"))
                                      : age(now.heartbeatAgeS);
        case Done:
            return static_cast<qlonglong>(r->jobsDone);
        case InHand: {
            if (r->inHand.empty()) return QString();
            QStringList ids;
            for (std::size_t i = 0; i < r->inHand.size() && i < 3; ++i)
                ids << QString::number(r->inHand[i]);
            if (r->inHand.size() > 3) ids << "...";
            return tr("%1: %2").arg(r->inHand.size()).arg(ids.join(", "));
        }
        case Tasks:
            return r->tasks.empty() ? tr("all") : QString::fromStdString(r->tasks);
        case Started:
            return r->started.toLocalTime().toString("yyyy-MM-dd hh:mm:ss");
        case Batch:
            return QString::fromStdString(r->batchJobId);
        }
    }
    if (role == Qt::ForegroundRole && (index.column() == State || index.column() == Heartbeat))
        return state == "alive" ? kGood : state == "dead" ? kBad : kQuiet;
    if (role == Qt::ToolTipRole && index.column() == State)
        return state == "dead" ? tr("Silent for longer than its lease (%1 s): its claims lapse and its jobs run again "
                                    "elsewhere")
                                     .arg(r->leaseS)
                               : QVariant();
    if (role == Qt::TextAlignmentRole &&
        (index.column() == Id || index.column() == Pid || index.column() == Threads || index.column() == Done))
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

void RunnerTableModel::setRunners(std::vector<jobs::RunnerRow> runners) {
    sinceLoad_.start();
    setRows(std::move(runners));
}

void RunnerTableModel::tick() {
    if (rowCount() > 0) emit dataChanged(index(0, State), index(rowCount() - 1, Heartbeat));
}

// ---------------------------------------------------------------- panel

RunnersPanel::RunnersPanel(RunnerHost* host, QWidget* parent)
    : QWidget(parent), host_(host), model_(new RunnerTableModel(this)), view_(new QTableView), summary_(new QLabel),
      problem_(new QLabel), threads_(new QSpinBox), startStop_(new QPushButton(tr("&Start"))),
      progress_(new QProgressBar), ticker_(new QTimer(this)),
      live_(std::make_unique<LiveLoad<Loaded>>(this, [this](const Result<Loaded>& r) { showLoaded(r); })) {
    auto* layout = new QVBoxLayout(this);
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Run jobs in this console with")));
    threads_->setRange(1, std::max(1, QThread::idealThreadCount() * 4));
    threads_->setValue(std::max(1, QThread::idealThreadCount()));
    threads_->setSuffix(tr(" threads"));
    controls->addWidget(threads_);
    startStop_->setToolTip(tr("Runner threads inside the console: for offline reprocessing on one machine. Stop "
                              "finishes the jobs in hand."));
    controls->addWidget(startStop_);
    controls->addWidget(progress_, 1);
    layout->addLayout(controls);
    progress_->setFormat(tr("%v of %m jobs"));
    progress_->setRange(0, 1);
    progress_->setValue(0);
    progress_->setEnabled(false);
    problem_->setStyleSheet("color:#c62828");
    problem_->setWordWrap(true);
    problem_->hide();
    layout->addWidget(problem_);
    summary_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    layout->addWidget(summary_);
    view_->setModel(model_);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->verticalHeader()->hide();
    view_->horizontalHeader()->setStretchLastSection(true);
    view_->setAlternatingRowColors(true);
    view_->setWordWrap(false);
    layout->addWidget(view_, 1);

    ticker_->setInterval(1000);
    connect(ticker_, &QTimer::timeout, model_, &RunnerTableModel::tick);
    ticker_->start();
    connect(new QShortcut(QKeySequence::Refresh, this, nullptr, nullptr, Qt::WidgetWithChildrenShortcut),
            &QShortcut::activated, this, &RunnersPanel::refresh);
    live_->setLoader([]() -> std::function<Loaded(db::Connection&)> {
        return [](db::Connection& c) {
            jobs::JobStore store(c);
            return Loaded{store.runners(), store.queueCounts()};
        };
    });
    connect(startStop_, &QPushButton::clicked, this, &RunnersPanel::startOrStop);
    connect(host_, &RunnerHost::stopped, this, [this](const jobs::RunnerStats& s, const QString& error) {
        showHostState();
        summary_->setText(error.isEmpty()
                              ? tr("The console's runner stopped: %1 jobs done, %2 failed.").arg(s.done).arg(s.failed)
                              : tr("The console's runner stopped: %1").arg(error));
        refresh();
    });
    startStop_->setEnabled(false);
    summary_->setText(tr("Waiting for the database..."));
}

RunnersPanel::~RunnersPanel() = default;

void RunnersPanel::setDatabase(const std::string& conninfo) {
    conninfo_ = conninfo;
    live_->listen(conninfo, {"paudm_runners", "paudm_jobs", jobs::kProgressChannel},
                  [this](bool ok, const QString& error) {
                      problem_->setVisible(!ok);
                      if (!ok)
                          problem_->setText(tr("Lost the database (%1); reconnecting...").arg(error));
                      else if (loaded_)
                          refresh();
                  });
    showHostState();
    refresh();
}

void RunnersPanel::refresh() {
    if (!conninfo_.empty()) live_->refresh();
}

void RunnersPanel::showLoaded(const Result<Loaded>& result) {
    if (!result) {
        problem_->setText(QString::fromStdString(result.error().message()));
        problem_->show();
        return;
    }
    const Loaded& r = *result;
    problem_->hide();
    model_->setRunners(r.runners);
    view_->resizeColumnsToContents();
    queue_ = r.queue;
    int alive = 0, dead = 0;
    for (const auto& run : r.runners) {
        alive += run.state() == "alive";
        dead += run.state() == "dead";
    }
    if (!host_->isRunning())
        summary_->setText(tr("%1 alive%2  ·  queue: %3 ready, %4 running")
                              .arg(alive == 1 ? tr("1 runner") : tr("%1 runners").arg(alive))
                              .arg(dead ? tr(", <span style='color:#c62828'>%1 dead</span>").arg(dead) : QString())
                              .arg(r.queue.ready)
                              .arg(r.queue.running));
    showHostState();
    loaded_ = true;
    emit loaded();
}

void RunnersPanel::showHostState() {
    const bool running = host_->isRunning();
    startStop_->setEnabled(!conninfo_.empty());
    startStop_->setText(running ? tr("&Stop") : tr("&Start"));
    threads_->setEnabled(!running);
    progress_->setEnabled(running);
    if (!running) {
        progress_->setRange(0, 1);
        progress_->setValue(0);
        progress_->setFormat(tr("no runner threads here"));
        return;
    }
    progress_->setFormat(tr("%v of %m jobs"));
    // The whole queue: what this console's runner did, against what is left.
    const auto s = host_->stats();
    const qint64 done = s.done + s.failed;
    const qint64 total = done + queue_.ready + queue_.running;
    progress_->setRange(0, static_cast<int>(std::max<qint64>(1, total)));
    progress_->setValue(static_cast<int>(done));
    summary_->setText(tr("Running jobs here: %1 done, %2 failed  ·  queue: %3 ready, %4 running")
                          .arg(s.done)
                          .arg(s.failed)
                          .arg(queue_.ready)
                          .arg(queue_.running));
}

void RunnersPanel::startOrStop() {
    if (host_->isRunning()) {
        host_->stop();
        startStop_->setEnabled(false); // until it has stopped
        summary_->setText(tr("Stopping: finishing the jobs in hand..."));
        return;
    }
    jobs::RunnerOptions o;
    o.conninfo = conninfo_;
    o.threads = threads_->value();
    o.taskExecutable = QCoreApplication::applicationDirPath() + "/paudm";
    host_->start(o);
    showHostState();
    refresh();
}

} // namespace paudm::ui
