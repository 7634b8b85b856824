#include "jobdetailview.h"

#include "archive/layout.h"

#include "background.h"
#include "jobtablemodel.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDir>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QListWidget>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPlainTextEdit>
#include <QScatterSeries>
#include <QSplitter>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QValueAxis>

#include <functional>

namespace paudm::ui {

namespace {

constexpr int kSubjobLimit = 1000; ///< sub-jobs listed per level of the tree
constexpr int kIdRole = Qt::UserRole + 1;

QPlainTextEdit* monospaceText() {
    auto* t = new QPlainTextEdit;
    t->setReadOnly(true);
    t->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    t->setLineWrapMode(QPlainTextEdit::NoWrap);
    return t;
}

QString json(const QJsonObject& o) {
    return o.isEmpty() ? QString() : QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Indented));
}

QString when(const QDateTime& t) {
    return t.isValid() ? t.toLocalTime().toString("yyyy-MM-dd hh:mm:ss.zzz") : "-";
}

QString range(const std::optional<double>& lo, const std::optional<double>& hi) {
    if (lo && hi) return QString("[%1, %2]").arg(*lo, 0, 'g', 6).arg(*hi, 0, 'g', 6);
    if (lo) return QString(">= %1").arg(*lo, 0, 'g', 6);
    if (hi) return QString("<= %1").arg(*hi, 0, 'g', 6);
    return {};
}

QString idList(const std::vector<std::int64_t>& ids) {
    QStringList out;
    for (std::size_t i = 0; i < ids.size() && i < 20; ++i)
        out << QString("<a href='%1'>%1</a>").arg(ids[i]);
    if (ids.size() > 20) out << QObject::tr("and %1 more").arg(ids.size() - 20);
    return out.isEmpty() ? "-" : out.join(", ");
}

} // namespace

JobDetailView::JobDetailView(QWidget* parent)
    : QTabWidget(parent), summary_(new QLabel), config_(monospaceText()), input_(monospaceText()),
      output_(monospaceText()), log_(monospaceText()), traceback_(monospaceText()), attempts_(new QTableWidget),
      qcTable_(new QTableWidget), qcCheck_(new QComboBox), qcChart_(new QChartView), qcNote_(new QLabel),
      products_(new QListWidget), tree_(new QTreeWidget) {
    summary_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextBrowserInteraction);
    summary_->setMargin(8);
    connect(summary_, &QLabel::linkActivated, this,
            [this](const QString& link) { emit jobActivated(link.toLongLong()); });
    addTab(summary_, tr("Summary"));
    addTab(config_, tr("Configuration"));
    addTab(input_, tr("Input"));
    addTab(output_, tr("Output"));
    products_->setToolTip(tr("The FITS files this job read and wrote; double-click one to open it in the FITS viewer"));
    connect(products_, &QListWidget::itemActivated, this,
            [this](QListWidgetItem* item) { emit fileWanted(item->data(Qt::UserRole).toString()); });
    addTab(products_, tr("Products"));
    addTab(log_, tr("Log"));
    addTab(traceback_, tr("Traceback"));

    attempts_->setColumnCount(8);
    attempts_->setHorizontalHeaderLabels(
        {tr("Attempt"), tr("Phase"), tr("Outcome"), tr("Host"), tr("PID"), tr("Started"), tr("Ended"), tr("Error")});
    attempts_->verticalHeader()->hide();
    attempts_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    attempts_->horizontalHeader()->setStretchLastSection(true);
    addTab(attempts_, tr("Attempts"));

    auto* qc = new QSplitter(Qt::Vertical);
    qcTable_->setColumnCount(5);
    qcTable_->setHorizontalHeaderLabels({tr("Check"), tr("Description"), tr("Value"), tr("Range"), tr("Flag")});
    qcTable_->verticalHeader()->hide();
    qcTable_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    qcTable_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    qc->addWidget(qcTable_);
    auto* plot = new QWidget;
    auto* plotLayout = new QVBoxLayout(plot);
    plotLayout->setContentsMargins(0, 0, 0, 0);
    auto* plotBar = new QHBoxLayout;
    plotBar->addWidget(new QLabel(tr("Sub-jobs' values of")));
    plotBar->addWidget(qcCheck_, 1);
    plotLayout->addLayout(plotBar);
    qcNote_->setStyleSheet("color:#666");
    plotLayout->addWidget(qcNote_);
    qcChart_->setRenderHint(QPainter::Antialiasing);
    qcChart_->setMinimumHeight(160);
    plotLayout->addWidget(qcChart_, 1);
    qc->addWidget(plot);
    connect(qcCheck_, &QComboBox::currentIndexChanged, this, &JobDetailView::showQcPlot);
    addTab(qc, tr("QC"));

    tree_->setColumnCount(5);
    tree_->setHeaderLabels({tr("ID"), tr("Task"), tr("Status"), tr("QC"), tr("Duration")});
    tree_->setUniformRowHeights(true);
    connect(tree_, &QTreeWidget::itemExpanded, this, [this](QTreeWidgetItem* item) {
        if (item->childCount() == 1 && !item->child(0)->data(0, kIdRole).isValid()) // the "loading" placeholder
            loadSubjobs(item, item->data(0, kIdRole).toLongLong());
    });
    connect(tree_, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem* item) {
        if (item->data(0, kIdRole).isValid()) emit jobActivated(item->data(0, kIdRole).toLongLong());
    });
    addTab(tree_, tr("Sub-jobs"));
    clear(tr("Select a job to see its configuration, log, QC and sub-jobs."));
}

void JobDetailView::clear(const QString& why) {
    jobId_ = 0;
    summary_->setText(QString("<p style='color:#666'>%1</p>").arg(why.toHtmlEscaped()));
    for (auto* t : {config_, input_, output_, log_, traceback_})
        t->clear();
    attempts_->setRowCount(0);
    qcTable_->setRowCount(0);
    subjobQc_.clear();
    qcCheck_->clear();
    tree_->clear();
    showQcPlot();
}

void JobDetailView::setJob(const JobView& job) {
    const jobs::JobDetail& d = job.detail;
    const jobs::JobRow& r = d.row;
    const bool same = jobId_ == r.id;
    jobId_ = r.id;
    QString other;
    QString log, traceback;
    for (const auto& t : d.tags) {
        if (t.name == "log")
            log = QString::fromStdString(t.value);
        else if (t.name == "traceback")
            traceback = QString::fromStdString(t.value);
        else
            other += QString("<tr><td>%1</td><td>%2</td></tr>")
                         .arg(QString::fromStdString(t.name).toHtmlEscaped(),
                              QString::fromStdString(t.value).toHtmlEscaped());
    }
    const QColor qc = qcColour(r.qcFlag);
    summary_->setText(
        QString("<h3>%1 <span style='color:#666'>#%2</span></h3>"
                "<table cellspacing=3>"
                "<tr><td><b>Status</b></td><td><span style='background:%3'>&nbsp;%4&nbsp;</span> (%5)</td></tr>"
                "<tr><td><b>QC</b></td><td>%6</td></tr>"
                "<tr><td><b>Description</b></td><td>%7</td></tr>"
                "<tr><td><b>Super-job</b></td><td>%8</td></tr>"
                "<tr><td><b>Sub-jobs</b></td><td>%9</td></tr>"
                "<tr><td><b>Attempts</b></td><td>%10 of %11 · priority %12</td></tr>"
                "<tr><td><b>Created</b></td><td>%13</td></tr><tr><td><b>Queued</b></td><td>%14</td></tr>"
                "<tr><td><b>Started</b></td><td>%15</td></tr><tr><td><b>Ended</b></td><td>%16</td></tr>"
                "<tr><td><b>Depends on</b></td><td>%17</td></tr><tr><td><b>Needed by</b></td><td>%18</td></tr>"
                "%19</table>")
            .arg(QString::fromStdString(r.name).toHtmlEscaped())
            .arg(r.id)
            .arg(jobs::statusColour(r.status))
            .arg(QString::fromStdString(r.status), QString::fromStdString(r.phase))
            .arg(r.qcChecks ? QString("<span style='color:%1'>&#9679;</span> %2 of %3 checks not passed (warn or fail)")
                                  .arg(qc.name())
                                  .arg(r.qcFailed)
                                  .arg(r.qcChecks)
                            : tr("no checks"))
            .arg(QString::fromStdString(r.description).toHtmlEscaped())
            .arg(r.superId ? QString("<a href='%1'>%1</a>").arg(*r.superId) : QString("-"))
            .arg(r.subjobs)
            .arg(r.attempts)
            .arg(r.maxAttempts)
            .arg(r.priority)
            .arg(when(r.created), when(r.queued), when(r.started), when(r.ended))
            .arg(idList(d.parents), idList(d.children), other));
    config_->setPlainText(json(d.config));
    input_->setPlainText(json(d.input));
    output_->setPlainText(json(d.output));
    // Every "file" of the input and output that is a FITS file, archive paths made absolute.
    products_->clear();
    const QString root = QString::fromStdString(archive::ArchiveLayout::resolve().root());
    std::function<void(const QJsonValue&, const QString&)> collect = [&](const QJsonValue& v, const QString& key) {
        if (v.isObject()) {
            const QJsonObject o = v.toObject();
            for (auto it = o.begin(); it != o.end(); ++it) collect(it.value(), it.key());
        } else if (v.isArray()) {
            for (const QJsonValue& e : v.toArray()) collect(e, key);
        } else if (v.isString() && (key == "file" || key.endsWith("_file") || key == "master_bias" || key == "master_flat")) {
            const QString f = v.toString();
            if (!f.contains(".fits")) return;
            const QString path = QDir::isAbsolutePath(f) ? f : root + "/" + f;
            if (products_->findItems(f, Qt::MatchExactly).isEmpty()) {
                auto* item = new QListWidgetItem(f, products_);
                item->setData(Qt::UserRole, path);
            }
        }
    };
    collect(d.input, {});
    collect(d.output, {});
    setTabText(indexOf(products_), products_->count() ? tr("Products (%1)").arg(products_->count()) : tr("Products"));
    log_->setPlainText(log);
    traceback_->setPlainText(traceback);
    setTabText(indexOf(traceback_), traceback.isEmpty() ? tr("Traceback") : tr("Traceback (!)"));

    attempts_->setRowCount(static_cast<int>(d.attempts.size()));
    for (int i = 0; i < attempts_->rowCount(); ++i) {
        const auto& a = d.attempts[static_cast<std::size_t>(i)];
        const QStringList cells{QString::number(a.attempt),
                                QString::fromStdString(a.phase),
                                a.outcome.empty() ? tr("running") : QString::fromStdString(a.outcome),
                                QString::fromStdString(a.host),
                                a.pid ? QString::number(a.pid) : QString(),
                                when(a.started),
                                when(a.ended),
                                QString::fromStdString(a.error)};
        for (int c = 0; c < cells.size(); ++c)
            attempts_->setItem(i, c, new QTableWidgetItem(cells[c]));
    }
    attempts_->resizeColumnsToContents();

    qcTable_->setRowCount(static_cast<int>(d.qc.size()));
    for (int i = 0; i < qcTable_->rowCount(); ++i) {
        const auto& q = d.qc[static_cast<std::size_t>(i)];
        const jobs::QcLevel level = q.level();
        QString shownRange = range(q.min, q.max);
        if (q.failMin || q.failMax) shownRange += tr(" (warn %1)").arg(range(q.failMin ? q.failMin : q.min, q.failMax ? q.failMax : q.max));
        const QStringList cells{QString::fromStdString(q.check), QString::fromStdString(q.ref),
                                QString("%1 %2").arg(q.value, 0, 'g', 6).arg(QString::fromStdString(q.units)).trimmed(),
                                shownRange,
                                level == jobs::QcLevel::Pass ? tr("pass") : level == jobs::QcLevel::Warn ? tr("WARN") : tr("FAIL")};
        for (int c = 0; c < cells.size(); ++c)
            qcTable_->setItem(i, c, new QTableWidgetItem(cells[c]));
        qcTable_->item(i, 4)->setForeground(level == jobs::QcLevel::Pass   ? qcColour("green")
                                            : level == jobs::QcLevel::Warn ? qcColour("yellow")
                                                                           : qcColour("red"));
    }
    qcTable_->resizeColumnToContents(0);

    subjobQc_ = job.subjobQc;
    const QString check = qcCheck_->currentText();
    QStringList checks;
    for (const auto& v : subjobQc_)
        if (checks.isEmpty() || checks.back() != QString::fromStdString(v.check))
            checks << QString::fromStdString(v.check);
    {
        QSignalBlocker block(qcCheck_);
        qcCheck_->clear();
        qcCheck_->addItems(checks);
        if (checks.contains(check)) qcCheck_->setCurrentText(check);
    }
    showQcPlot();

    if (!same || tree_->topLevelItemCount() == 0) {
        tree_->clear();
        if (r.subjobs > 0) loadSubjobs(tree_->invisibleRootItem(), r.id);
    }
}

void JobDetailView::showQcPlot() {
    const std::string check = qcCheck_->currentText().toStdString();
    auto* chart = new QChart;
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(4, 4, 4, 4));
    auto* pass = new QScatterSeries;
    pass->setName(tr("pass"));
    pass->setColor(qcColour("green"));
    pass->setMarkerSize(7);
    auto* fail = new QScatterSeries;
    fail->setName(tr("fail"));
    fail->setColor(qcColour("red"));
    fail->setMarkerSize(9);
    std::optional<double> lo, hi;
    int n = 0;
    double ymin = 0, ymax = 0;
    for (const auto& v : subjobQc_) {
        if (v.check != check) continue;
        (v.pass ? pass : fail)->append(n, v.value);
        ymin = n ? std::min(ymin, v.value) : v.value;
        ymax = n ? std::max(ymax, v.value) : v.value;
        if (v.min) lo = v.min;
        if (v.max) hi = v.max;
        ++n;
    }
    plotted_ = n;
    qcNote_->setText(n ? tr("%1 sub-jobs; %2 outside the range (dashed)").arg(n).arg(fail->count())
                       : tr("No QC values from sub-jobs."));
    chart->addSeries(pass);
    chart->addSeries(fail);
    for (const auto& bound : {lo, hi}) {
        if (!bound) continue;
        auto* line = new QLineSeries;
        line->append(0, *bound);
        line->append(std::max(1, n - 1), *bound);
        line->setPen(QPen(QColor(0x55, 0x55, 0x55), 1, Qt::DashLine));
        chart->addSeries(line);
        chart->legend()->markers(line).first()->setVisible(false);
        ymin = std::min(ymin, *bound);
        ymax = std::max(ymax, *bound);
    }
    auto* x = new QValueAxis;
    x->setTitleText(tr("sub-job (by ID)"));
    x->setLabelFormat("%d");
    x->setRange(-0.5, std::max(1, n) - 0.5);
    auto* y = new QValueAxis;
    const double pad = ymax > ymin ? 0.08 * (ymax - ymin) : 1;
    y->setRange(ymin - pad, ymax + pad);
    y->setTitleText(QString::fromStdString(check));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (auto* s : chart->series()) {
        s->attachAxis(x);
        s->attachAxis(y);
    }
    QChart* old = qcChart_->chart();
    qcChart_->setChart(chart);
    delete old;
}

void JobDetailView::loadSubjobs(QTreeWidgetItem* parent, std::int64_t superId) {
    if (!pool_) return;
    struct Level {
        std::vector<jobs::JobRow> rows;
        std::int64_t total = 0;
    };
    const std::int64_t shown = jobId_;
    // The tree may be cleared before the answer: find the parent again by its job id.
    pool_->query<Level>(
        this,
        [superId](db::Connection& c) {
            jobs::JobStore store(c);
            jobs::JobFilter f;
            f.superId = superId;
            f.limit = kSubjobLimit;
            Level l;
            l.rows = store.list(f);
            l.total = l.rows.size() < static_cast<std::size_t>(kSubjobLimit) ? static_cast<std::int64_t>(l.rows.size())
                                                                             : store.count(f);
            std::reverse(l.rows.begin(), l.rows.end()); // oldest first: the order they were made in
            return l;
        },
        [this, shown, superId, parent](const Result<Level>& o) {
            if (jobId_ != shown) return;
            QTreeWidgetItem* at = parent == tree_->invisibleRootItem() ? parent : nullptr;
            if (!at) {
                const auto found = tree_->findItems(QString::number(superId), Qt::MatchExactly | Qt::MatchRecursive, 0);
                if (found.isEmpty()) return;
                at = found.first();
            }
            if (!o) {
                qDeleteAll(at->takeChildren());
                at->addChild(new QTreeWidgetItem(QStringList{QString::fromStdString(o.error().message())}));
                return;
            }
            fillSubjobs(at, o->rows, o->total);
        });
}

void JobDetailView::fillSubjobs(QTreeWidgetItem* parent, const std::vector<jobs::JobRow>& rows, std::int64_t total) {
    qDeleteAll(parent->takeChildren());
    QList<QTreeWidgetItem*> items;
    for (const auto& r : rows) {
        auto* item = new QTreeWidgetItem(QStringList{QString::number(r.id), QString::fromStdString(r.name),
                                                     QString::fromStdString(r.status), qcText(r), runTime(r)});
        item->setData(0, kIdRole, static_cast<qlonglong>(r.id));
        item->setData(2, Qt::DecorationRole, QColor(jobs::statusColour(r.status)));
        if (const QColor c = qcColour(r.qcFlag); c.isValid()) item->setData(3, Qt::DecorationRole, c);
        if (r.subjobs > 0) item->addChild(new QTreeWidgetItem(QStringList{tr("loading...")}));
        items << item;
    }
    if (total > static_cast<std::int64_t>(rows.size()))
        items << new QTreeWidgetItem(
            QStringList{tr("... and %1 more (the Job graph shows them all)").arg(total - rows.size())});
    parent->addChildren(items);
    if (parent == tree_->invisibleRootItem())
        for (int c = 0; c < tree_->columnCount(); ++c)
            tree_->resizeColumnToContents(c);
}

} // namespace paudm::ui
