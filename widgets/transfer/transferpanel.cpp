#include "transferpanel.h"

#include "liveload.h"
#include "tableview.h"

#include "db/connection.h"
#include "jobs/store.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QGraphicsLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineSeries>
#include <QMessageBox>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>

#include <map>

namespace paudm::ui {

namespace {

const QColor kGood(0x2e, 0x7d, 0x32), kBad(0xc6, 0x28, 0x28), kBusy(0x15, 0x65, 0xc0), kQuiet(0x75, 0x75, 0x75);

QString text(const std::string& s) {
    return QString::fromStdString(s);
}

QString gigabytes(std::int64_t bytes) {
    return QString::number(bytes / 1e9, 'f', 2);
}

/// "held: registration, nightly, age": one word per condition not met (the tooltip has the
/// sentences).
QString bufferText(const transfer::ObsSetState& s) {
    if (s.cleaned.isValid()) return QObject::tr("cleaned %1").arg(s.cleaned.toLocalTime().toString("yyyy-MM-dd"));
    if (!s.inBuffer) return QObject::tr("not in the buffer");
    if (s.holds.empty()) return QObject::tr("may be freed");
    QStringList what;
    for (const auto& h : s.holds)
        what << QObject::tr(transfer::conditionName(h.condition));
    return QObject::tr("held: %1").arg(what.join(", "));
}

} // namespace

// ---------------------------------------------------------------- obs sets

int ObsSetTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ObsSetTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"Obs set", "Transfer", "Registered",  "Buffer", "Files",
                                  "GB",      "Verified", "Quarantined", "Failed", "MB/s"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

QVariant ObsSetTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount) return {};
    const auto& s = rows_[static_cast<std::size_t>(index.row())];
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Name:
            return text(s.obsSet);
        case Files:
            return s.files;
        case Size:
            return gigabytes(s.bytes);
        case Transfer:
            return s.status.empty() ? tr("not transferred") : text(s.status);
        case Verified:
            return s.status.empty() ? QVariant() : QVariant(s.verified);
        case Quarantined:
            return s.status.empty() ? QVariant() : QVariant(s.quarantined);
        case Failed:
            return s.status.empty() ? QVariant() : QVariant(s.failed);
        case Rate:
            return s.rateMBs > 0 ? QString::number(s.rateMBs, 'f', 0) : QString();
        case Registered:
            return s.registered ? tr("yes") : tr("no");
        case Buffer:
            return bufferText(s);
        }
    }
    if (role == Qt::ForegroundRole) {
        if (index.column() == Transfer)
            return s.status == "DONE" ? kGood : s.status == "RUNNING" ? kBusy : s.status.empty() ? kQuiet : kBad;
        if (index.column() == Quarantined && s.quarantined > 0) return kBad;
        if (index.column() == Failed && s.failed > 0) return kBad;
        if (index.column() == Registered) return s.registered ? kGood : kQuiet;
        if (index.column() == Buffer && s.inBuffer && s.holds.empty()) return kGood;
    }
    if (role == Qt::ToolTipRole) {
        QStringList lines;
        if (!s.error.empty()) lines << text(s.error);
        for (const auto& h : s.holds)
            lines << "held: " + text(h.sentence);
        if (s.started.isValid())
            lines << tr("latest transfer %1 to %2")
                         .arg(s.started.toLocalTime().toString("yyyy-MM-dd hh:mm:ss"),
                              s.ended.isValid() ? s.ended.toLocalTime().toString("hh:mm:ss") : tr("(running)"));
        return lines.isEmpty() ? QVariant() : QVariant(lines.join('\n'));
    }
    if (role == Qt::TextAlignmentRole && index.column() >= Files) return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

// ---------------------------------------------------------------- files

int FileTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}
int FileTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant FileTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"File", "Kind", "MB", "Status", "Attempt", "MB/s", "Adler32", "Error"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

QVariant FileTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount) return {};
    const auto& f = rows_[static_cast<std::size_t>(index.row())];
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Name:
            return text(f.name);
        case Kind:
            return text(f.kind);
        case Size:
            return QString::number(f.bytes / 1e6, 'f', 1);
        case Status:
            return text(f.status);
        case Attempt:
            return f.attempt;
        case Rate:
            return f.rateMBs > 0 ? QString::number(f.rateMBs, 'f', 0) : QString();
        case Checksum:
            return f.adler32.empty() || f.adler32 == f.adler32Expected
                       ? text(f.adler32Expected)
                       : tr("%1 (expected %2)").arg(text(f.adler32), text(f.adler32Expected));
        case Error:
            return text(f.error);
        }
    }
    if (role == Qt::ForegroundRole && index.column() == Status)
        return f.status == "VERIFIED" ? kGood : f.status == "PENDING" ? kQuiet : kBad;
    if (role == Qt::ToolTipRole && !f.error.empty()) return text(f.error);
    if (role == Qt::TextAlignmentRole &&
        (index.column() == Size || index.column() == Attempt || index.column() == Rate))
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

void FileTableModel::setFiles(std::vector<transfer::FileState> files) {
    beginResetModel();
    rows_ = std::move(files);
    endResetModel();
}

// ---------------------------------------------------------------- panel

TransferPanel::TransferPanel(QWidget* parent)
    : QWidget(parent), sets_(new ObsSetTableModel(this)), files_(new FileTableModel(this)), setView_(new QTableView),
      fileView_(new QTableView), chart_(new QChartView), source_(new QLabel), summary_(new QLabel),
      problem_(new QLabel), transferButton_(new QPushButton(tr("&Transfer now"))),
      freeButton_(new QPushButton(tr("What can be &freed?"))),
      live_(std::make_unique<LiveLoad<Loaded>>(this, [this](const Result<Loaded>& r) { showLoaded(r); })) {
    auto* layout = new QVBoxLayout(this);
    auto* top = new QHBoxLayout;
    source_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    source_->setStyleSheet("color:#555");
    // Long paths and summaries must not widen the window: they are cut, the tooltip has all.
    source_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    summary_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    top->addWidget(source_, 1);
    transferButton_->setToolTip(
        tr("Queue a transfer job of the buffer into the archive (then a register job per obs set)"));
    freeButton_->setToolTip(tr("Which obs sets 'paudm buffer clean' would remove now, and what holds the others"));
    auto* refreshButton = new QPushButton(tr("Refresh"));
    refreshButton->setToolTip(tr("Read everything again (F5)"));
    top->addWidget(transferButton_);
    top->addWidget(freeButton_);
    top->addWidget(refreshButton);
    layout->addLayout(top);
    problem_->setStyleSheet("color:#c62828");
    problem_->setWordWrap(true);
    problem_->hide();
    layout->addWidget(problem_);
    layout->addWidget(summary_);

    for (QTableView* v : {setView_, fileView_}) setUpRowTable(v);
    setView_->setModel(sets_);
    fileView_->setModel(files_);
    // A double-click on a file opens it in the FITS viewer: the archive's copy once it is
    // verified, else the buffer's.
    fileView_->setToolTip(tr("Double-click a file to open it in the FITS viewer"));
    connect(fileView_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        const QString name = files_->data(files_->index(index.row(), FileTableModel::Name)).toString();
        const QString status = files_->data(files_->index(index.row(), FileTableModel::Status)).toString();
        const std::string obsSet = selectedObsSet();
        if (name.isEmpty() || obsSet.empty() || !name.contains(".fits")) return;
        const std::string folder = status.compare("VERIFIED", Qt::CaseInsensitive) == 0
                                       ? options_.archive.rawDir(obsSet)
                                       : options_.buffer + "/" + obsSet;
        emit fileWanted(QString::fromStdString(folder) + "/" + name);
    });
    chart_->setRenderHint(QPainter::Antialiasing);
    chart_->setMinimumHeight(240);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(setView_);
    split->addWidget(fileView_);
    split->addWidget(chart_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 3);
    split->setStretchFactor(2, 3);
    layout->addWidget(split, 1);

    connect(refreshButton, &QPushButton::clicked, this, &TransferPanel::refresh);
    connect(new QShortcut(QKeySequence::Refresh, this, nullptr, nullptr, Qt::WidgetWithChildrenShortcut),
            &QShortcut::activated, this, &TransferPanel::refresh);
    connect(setView_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] { refresh(); });
    live_->setLoader([this]() -> std::function<Loaded(db::Connection&)> {
        const transfer::RetentionOptions o = options_;
        const std::string selected = selectedObsSet().empty() ? preferred_ : selectedObsSet();
        return [o, selected](db::Connection& c) {
            Loaded r;
            r.overview = transfer::loadTransferOverview(c, o);
            std::string which = selected;
            if (which.empty() && !r.overview.obsSets.empty()) which = r.overview.obsSets.front().obsSet;
            if (!which.empty()) {
                r.files = transfer::loadTransferFiles(c, which);
                r.filesOf = which;
            }
            return r;
        };
    });
    connect(transferButton_, &QPushButton::clicked, this, &TransferPanel::transferNow);
    connect(freeButton_, &QPushButton::clicked, this, &TransferPanel::whatCanBeFreed);
    transferButton_->setEnabled(false);
    freeButton_->setEnabled(false);
    summary_->setText(tr("Waiting for the database..."));
}

TransferPanel::~TransferPanel() = default;

void TransferPanel::setSource(const transfer::RetentionOptions& options) {
    options_ = options;
    actions_ = std::make_unique<Background>(options.conninfo);
    source_->setText(tr("Buffer %1  ·  archive %2").arg(text(options.buffer), text(options.archive.root())));
    source_->setToolTip(source_->text());
    transferButton_->setEnabled(true);
    freeButton_->setEnabled(true);
    live_->listen(options.conninfo, {"paudm_transfer", "paudm_jobs"}, [this](bool ok, const QString& error) {
        if (!ok) {
            problem_->setStyleSheet("color:#c62828");
            problem_->setText(tr("Lost the database (%1); reconnecting...").arg(error));
            problem_->show();
        } else if (loaded_) {
            refresh(); // whatever happened while we were away
        }
    });
    refresh();
}

void TransferPanel::showObsSet(const std::string& name) {
    preferred_ = name;
    const int row = sets_->rowOf(name);
    if (row >= 0)
        setView_->selectionModel()->setCurrentIndex(sets_->index(row, 0),
                                                    QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

std::string TransferPanel::selectedObsSet() const {
    const auto* s = sets_->state(setView_->selectionModel()->currentIndex().row());
    return s ? s->obsSet : std::string();
}

void TransferPanel::refresh() {
    if (!options_.conninfo.empty()) live_->refresh();
}

void TransferPanel::showLoaded(const Result<Loaded>& result) {
    if (!result) {
        problem_->setStyleSheet("color:#c62828");
        problem_->setText(text(result.error().message()));
        problem_->show();
        return;
    }
    const Loaded& r = *result;
    problem_->setVisible(!r.overview.bufferError.empty() || r.overview.bufferMissing);
    problem_->setStyleSheet(r.overview.bufferMissing ? "color:#555" : "color:#c62828");
    problem_->setText(r.overview.bufferMissing
                          ? tr("No observatory buffer at %1 yet. Point PAUDM_BUFFER at it, or simulate a night: "
                               "paudm simulate --out %1 --night YYYY-MM-DD --geometry small")
                                .arg(text(options_.buffer))
                          : text(r.overview.bufferError));
    sets_->setStates(r.overview.obsSets);
    if (!setView_->selectionModel()->currentIndex().isValid() && sets_->rowCount() > 0) {
        const QSignalBlocker block(setView_->selectionModel());
        setView_->selectionModel()->setCurrentIndex(sets_->index(sets_->rowOf(r.filesOf), 0),
                                                    QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    }
    if (r.filesOf == selectedObsSet()) files_->setFiles(r.files);
    setView_->resizeColumnsToContents();
    fileView_->resizeColumnsToContents();

    int inBuffer = 0, freeable = 0, problems = 0;
    double gb = 0;
    for (const auto& s : r.overview.obsSets) {
        inBuffer += s.inBuffer;
        freeable += s.inBuffer && s.holds.empty();
        problems += s.quarantined + s.failed;
        if (s.inBuffer) gb += s.bytes / 1e9;
    }
    summary_->setText(tr("%1 obs sets (%2 in the buffer, %3 GB; %4 may be freed)%5")
                          .arg(r.overview.obsSets.size())
                          .arg(inBuffer)
                          .arg(gb, 0, 'f', 1)
                          .arg(freeable)
                          .arg(problems ? tr("  ·  <span style='color:#c62828'>%1 quarantined or failed</span>")
                                              .arg(problems == 1 ? tr("1 file") : tr("%1 files").arg(problems))
                                        : QString()));
    showChart(r.overview.days);
    loaded_ = true;
    emit loaded();
}

void TransferPanel::showChart(const std::vector<transfer::DayVolume>& days) {
    auto* chart = new QChart;
    chart->setTitle(tr("Transferred per day"));
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->layout()->setContentsMargins(0, 0, 0, 0);
    chart->setBackgroundRoundness(0);
    auto* volume = new QBarSet(tr("volume (GB)"));
    auto* rate = new QLineSeries;
    rate->setName(tr("mean rate (MB/s)"));
    rate->setPointsVisible(true);
    rate->setColor(QColor(0xef, 0x6c, 0x00));
    QStringList categories;
    double maxRate = 1, maxGb = days.empty() ? 1 : 0.001;
    // The last 30 days that saw a transfer.
    const std::size_t first = days.size() > 30 ? days.size() - 30 : 0;
    for (std::size_t i = first; i < days.size(); ++i) {
        categories << days[i].day.toString("MM-dd");
        *volume << days[i].gigabytes;
        rate->append(static_cast<qreal>(i - first), days[i].meanRateMBs);
        maxRate = std::max(maxRate, days[i].meanRateMBs);
        maxGb = std::max(maxGb, days[i].gigabytes);
    }
    auto* bars = new QBarSeries;
    bars->append(volume);
    chart->addSeries(bars);
    chart->addSeries(rate);
    auto* x = new QBarCategoryAxis;
    x->append(categories.isEmpty() ? QStringList{tr("no transfers yet")} : categories);
    auto* yGb = new QValueAxis;
    yGb->setTitleText(tr("GB"));
    yGb->setRange(0, maxGb * 1.15);
    yGb->setLabelFormat(days.empty() ? "%.1f" : maxGb < 10 ? "%.2f" : "%.0f");
    yGb->setTickCount(4);
    auto* yRate = new QValueAxis;
    yRate->setTitleText(tr("MB/s"));
    yRate->setRange(0, maxRate * 1.15);
    yRate->setLabelFormat(maxRate < 10 ? "%.1f" : "%.0f");
    yRate->setTickCount(4);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(yGb, Qt::AlignLeft);
    chart->addAxis(yRate, Qt::AlignRight);
    bars->attachAxis(x);
    bars->attachAxis(yGb);
    rate->attachAxis(x);
    rate->attachAxis(yRate);
    QChart* old = chart_->chart();
    chart_->setChart(chart);
    delete old;
}

void TransferPanel::transferNow() {
    if (!actions_) return;
    const transfer::RetentionOptions o = options_;
    transferButton_->setEnabled(false);
    actions_->query<std::int64_t>(
        this,
        [o](db::Connection& c) {
            jobs::JobStore store(c);
            jobs::NewJob j;
            j.name = "transfer";
            j.config = {{"buffer", QString::fromStdString(o.buffer)},
                        {"archive", QString::fromStdString(o.archive.root())}};
            j.description = "transfer of " + o.buffer + " (from the console)";
            return store.create(j, true);
        },
        [this](const Result<std::int64_t>& id) {
            transferButton_->setEnabled(true);
            summary_->setText(id ? tr("Transfer job %1 queued: a runner takes it (paudm runner, or paudm-console "
                                      "--runner-threads N)")
                                       .arg(*id)
                                 : tr("Could not queue the transfer: %1").arg(text(id.error().message())));
        });
}

void TransferPanel::whatCanBeFreed() {
    if (!actions_) return;
    const transfer::RetentionOptions o = options_;
    freeButton_->setEnabled(false);
    actions_->query<std::vector<transfer::ObsSetHold>>(
        this, [o](db::Connection& c) { return transfer::retentionStatus(c, o); },
        [this](const Result<std::vector<transfer::ObsSetHold>>& holds) {
            freeButton_->setEnabled(true);
            QStringList lines;
            if (!holds) {
                lines << tr("Could not read the buffer: %1").arg(text(holds.error().message()));
            } else {
                for (const auto& h : *holds) {
                    if (h.releasable()) {
                        lines << tr("%1: may be removed (%2 GB)").arg(text(h.obsSet)).arg(h.bytes / 1e9, 0, 'f', 2);
                        continue;
                    }
                    lines << tr("%1: held").arg(text(h.obsSet));
                    for (const auto& reason : h.reasons)
                        lines << "    " + text(reason.sentence);
                }
                if (lines.isEmpty()) lines << tr("The buffer holds no obs sets.");
                lines << QString()
                      << tr("Removing them is 'paudm buffer clean' (it reads each archive copy again "
                            "first); the console never deletes.");
            }
            auto* box = new QMessageBox(QMessageBox::Information, tr("Buffer retention"), lines.join('\n'),
                                        QMessageBox::Ok, this);
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        });
}

} // namespace paudm::ui
