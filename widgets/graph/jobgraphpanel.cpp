#include "jobgraphpanel.h"

#include "background.h"
#include "jobs/runner.h"
#include "notifications.h"
#include "operations/jobtablemodel.h"

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QDateTimeAxis>
#include <QGraphicsItem>
#include <QGraphicsPathItem>
#include <QGraphicsScene>
#include <QGraphicsSceneMouseEvent>
#include <QGraphicsView>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollArea>
#include <QShortcut>
#include <QSpinBox>
#include <QStyleOptionGraphicsItem>
#include <QTabWidget>
#include <QTimer>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>
#include <QWheelEvent>

#include <cmath>
#include <map>

namespace paudm::ui {

namespace {

constexpr double kBoxW = 180, kBoxH = 40, kLayerGap = 240, kRowGap = 52;
constexpr int kCollapseAbove = 300; ///< nodes: collapse by task by default above this

bool finished(const std::string& s) {
    return s == "DONE" || s == "FAILED" || s == "CANCELLED";
}

/// Zoom with the wheel (around the cursor), pan by dragging, keys + - 0.
class ZoomView : public QGraphicsView {
public:
    using QGraphicsView::QGraphicsView;
    void zoom(double f) {
        const double s = transform().m11() * f;
        if (s < 0.01 || s > 8) return;
        scale(f, f);
    }

protected:
    void wheelEvent(QWheelEvent* e) override { zoom(std::pow(1.0015, e->angleDelta().y())); }
    void keyPressEvent(QKeyEvent* e) override {
        if (e->key() == Qt::Key_Plus || e->key() == Qt::Key_Equal)
            zoom(1.25);
        else if (e->key() == Qt::Key_Minus)
            zoom(0.8);
        else if (e->key() == Qt::Key_0)
            fitInView(sceneRect(), Qt::KeepAspectRatio);
        else
            QGraphicsView::keyPressEvent(e);
    }
};

} // namespace

/// One box: a job (filled with its status colour) or a task group (a bar of its members'
/// statuses). Reads the panel's graph when painting, so a status change is a repaint.
class GroupItem : public QGraphicsItem {
public:
    GroupItem(const JobGraphPanel* panel, int group, std::function<void(int, bool)> clicked)
        : panel_(panel), group_(group), clicked_(std::move(clicked)) {
        setAcceptHoverEvents(true);
        setCursor(Qt::PointingHandCursor);
    }
    QRectF boundingRect() const override { return {0, 0, kBoxW, kBoxH}; }

    void paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) override {
        const auto& nodes = panel_->graph().nodes;
        const auto& members = panel_->layout().groups[static_cast<std::size_t>(group_)].members;
        const double lod = option->levelOfDetailFromTransform(p->worldTransform());
        const QRectF r = boundingRect();
        std::map<std::string, int> counts; // a group's statuses (a single job needs none)
        if (members.size() > 1)
            for (int m : members)
                ++counts[nodes[static_cast<std::size_t>(m)].status];
        p->setPen(Qt::NoPen);
        if (members.size() == 1) {
            p->setBrush(QColor(jobs::statusColour(nodes[static_cast<std::size_t>(members[0])].status)));
            p->drawRect(r);
        } else { // a bar: one segment per status, in the order of a job's life
            double x = 0;
            for (const char* s : jobs::kJobStatuses) {
                const auto it = counts.find(s);
                if (it == counts.end()) continue;
                const double w = kBoxW * it->second / static_cast<double>(members.size());
                p->setBrush(QColor(jobs::statusColour(s)));
                p->drawRect(QRectF(x, 0, w, kBoxH));
                x += w;
            }
        }
        p->setBrush(Qt::NoBrush);
        p->setPen(QPen(hovered_ ? QColor(0x1e, 0x88, 0xe5) : QColor(0x60, 0x60, 0x60), hovered_ ? 2 : 1));
        p->drawRect(r);
        if (lod < 0.35) return; // too small to read: colour only
        const GraphNode0& first = nodes[static_cast<std::size_t>(members[0])];
        QString top, bottom;
        if (members.size() == 1) {
            top = QString("%1  #%2").arg(QString::fromStdString(first.name)).arg(first.id);
            bottom = QString::fromStdString(first.status) +
                     (first.subjobs ? QString("  [%1 sub-jobs]").arg(first.subjobs) : QString());
        } else {
            top = QString("%1  x%L2").arg(QString::fromStdString(first.name)).arg(members.size());
            QStringList parts;
            for (const char* s : jobs::kJobStatuses)
                if (counts.count(s)) parts << QString("%1 %2").arg(counts[s]).arg(QString(s).toLower());
            bottom = parts.join(" ");
        }
        QFont f = p->font();
        f.setPointSizeF(8);
        p->setFont(f);
        p->setPen(Qt::black);
        p->drawText(r.adjusted(4, 2, -4, -kBoxH / 2), Qt::AlignLeft | Qt::AlignVCenter, top);
        p->setPen(QColor(0x33, 0x33, 0x33));
        p->drawText(r.adjusted(4, kBoxH / 2, -4, -2), Qt::AlignLeft | Qt::AlignVCenter, bottom);
    }

protected:
    void hoverEnterEvent(QGraphicsSceneHoverEvent*) override {
        hovered_ = true;
        update();
    }
    void hoverLeaveEvent(QGraphicsSceneHoverEvent*) override {
        hovered_ = false;
        update();
    }
    void mousePressEvent(QGraphicsSceneMouseEvent* e) override {
        if (e->button() == Qt::LeftButton) clicked_(group_, false);
    }
    void mouseDoubleClickEvent(QGraphicsSceneMouseEvent*) override { clicked_(group_, true); }

private:
    using GraphNode0 = jobs::GraphNode;
    const JobGraphPanel* panel_;
    int group_;
    std::function<void(int, bool)> clicked_;
    bool hovered_ = false;
};

/// The timeline: one row per job, grouped in one lane per runner host; a light segment
/// while queued, the status colour while running (or since it ended).
class TimelineView : public QWidget {
public:
    std::function<void(std::int64_t)> clicked;

    void setNodes(const std::vector<jobs::GraphNode>* nodes) {
        rows_.clear();
        lanes_.clear();
        nodes_ = nodes;
        std::vector<int> order(nodes->size());
        for (std::size_t i = 0; i < order.size(); ++i)
            order[i] = static_cast<int>(i);
        auto host = [&](int i) { return (*nodes)[static_cast<std::size_t>(i)].host; };
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
            const auto& x = (*nodes)[static_cast<std::size_t>(a)];
            const auto& y = (*nodes)[static_cast<std::size_t>(b)];
            if (x.host.empty() != y.host.empty()) return !x.host.empty(); // not started: at the end
            if (x.host != y.host) return x.host < y.host;
            return x.started < y.started;
        });
        t0_ = {};
        t1_ = {};
        for (int i : order) {
            const auto& n = (*nodes)[static_cast<std::size_t>(i)];
            if (lanes_.empty() || lanes_.back().first != host(i))
                lanes_.emplace_back(host(i), static_cast<int>(rows_.size()));
            rows_.push_back(i);
            for (const QDateTime& t : {n.queued, n.started, n.ended})
                if (t.isValid()) {
                    if (!t0_.isValid() || t < t0_) t0_ = t;
                    if (!t1_.isValid() || t > t1_) t1_ = t;
                }
        }
        rowH_ = rows_.size() <= 200 ? 14 : rows_.size() <= 1000 ? 5 : 2;
        setMinimumHeight(kTop + static_cast<int>(rows_.size()) * rowH_ + 8);
        update();
    }

protected:
    static constexpr int kTop = 24, kLeft = 150;

    QDateTime now() const { return QDateTime::currentDateTimeUtc(); }
    double xOf(const QDateTime& t, double span) const {
        return kLeft + (width() - kLeft - 10) * (t0_.msecsTo(t) / std::max(1.0, span));
    }

    void paintEvent(QPaintEvent* e) override {
        QPainter p(this);
        p.fillRect(e->rect(), palette().base());
        if (!nodes_ || rows_.empty() || !t0_.isValid()) {
            p.drawText(rect(), Qt::AlignCenter, tr("No job has been queued yet."));
            return;
        }
        QDateTime end = t1_;
        for (int i : rows_)
            if (!finished((*nodes_)[static_cast<std::size_t>(i)].status) &&
                (*nodes_)[static_cast<std::size_t>(i)].queued.isValid())
                end = std::max(end, now());
        const double span = static_cast<double>(t0_.msecsTo(end));
        // Time axis: five ticks.
        p.setPen(palette().text().color());
        for (int k = 0; k <= 4; ++k) {
            const QDateTime t = t0_.addMSecs(static_cast<qint64>(span * k / 4));
            const double x = xOf(t, span);
            p.drawText(QRectF(x - 40, 2, 80, 16), Qt::AlignCenter,
                       t.toLocalTime().toString(span < 20000    ? "hh:mm:ss.zzz"
                                                : span < 600000 ? "hh:mm:ss"
                                                                : "MM-dd hh:mm"));
            p.setPen(QColor(0xe0, 0xe0, 0xe0));
            p.drawLine(QPointF(x, kTop - 4), QPointF(x, height()));
            p.setPen(palette().text().color());
        }
        const int firstRow = std::max(0, (e->rect().top() - kTop) / rowH_ - 1);
        const int lastRow = std::min(static_cast<int>(rows_.size()) - 1, (e->rect().bottom() - kTop) / rowH_ + 1);
        for (int r = firstRow; r <= lastRow; ++r) {
            const auto& n = (*nodes_)[static_cast<std::size_t>(rows_[static_cast<std::size_t>(r)])];
            const double y = kTop + r * rowH_;
            const double h = std::max(1, rowH_ - (rowH_ > 4 ? 2 : 0));
            if (n.queued.isValid()) {
                const QDateTime until = n.started.isValid() ? n.started : n.ended.isValid() ? n.ended : end;
                p.fillRect(QRectF(xOf(n.queued, span), y + h / 3, std::max(1.0, xOf(until, span) - xOf(n.queued, span)),
                                  h / 3 + 1),
                           QColor(0xcf, 0xd8, 0xdc));
            }
            if (n.started.isValid()) {
                const QDateTime until = n.ended.isValid() ? n.ended : end;
                p.fillRect(QRectF(xOf(n.started, span), y, std::max(1.5, xOf(until, span) - xOf(n.started, span)), h),
                           QColor(jobs::statusColour(n.status)).darker(110));
            }
        }
        // Lane labels and separators.
        for (std::size_t l = 0; l < lanes_.size(); ++l) {
            const int y = kTop + lanes_[l].second * rowH_;
            p.setPen(QColor(0x90, 0x90, 0x90));
            p.drawLine(0, y, width(), y);
            p.setPen(palette().text().color());
            p.drawText(QRect(4, y + 1, kLeft - 8, 16), Qt::AlignLeft | Qt::AlignTop,
                       lanes_[l].first.empty() ? tr("not started") : QString::fromStdString(lanes_[l].first));
        }
    }

    int rowAt(int y) const {
        const int r = (y - kTop) / rowH_;
        return y >= kTop && r < static_cast<int>(rows_.size()) ? r : -1;
    }
    bool event(QEvent* e) override {
        if (e->type() == QEvent::ToolTip && nodes_) {
            auto* help = static_cast<QHelpEvent*>(e);
            const int r = rowAt(help->pos().y());
            if (r < 0) return QToolTip::hideText(), true;
            const auto& n = (*nodes_)[static_cast<std::size_t>(rows_[static_cast<std::size_t>(r)])];
            QString text = QString("<b>%1 #%2</b> %3")
                               .arg(QString::fromStdString(n.name))
                               .arg(n.id)
                               .arg(QString::fromStdString(n.status));
            if (n.queued.isValid() && n.started.isValid())
                text += tr("<br>queued %1").arg(humanDuration(n.queued.msecsTo(n.started)));
            if (n.started.isValid())
                text += tr("<br>ran %1 on %2")
                            .arg(humanDuration(n.started.msecsTo(n.ended.isValid() ? n.ended : now())),
                                 QString::fromStdString(n.host));
            QToolTip::showText(help->globalPos(), text, this);
            return true;
        }
        return QWidget::event(e);
    }
    void mousePressEvent(QMouseEvent* e) override {
        const int r = rowAt(e->position().toPoint().y());
        if (r >= 0 && clicked) clicked((*nodes_)[static_cast<std::size_t>(rows_[static_cast<std::size_t>(r)])].id);
    }

private:
    const std::vector<jobs::GraphNode>* nodes_ = nullptr;
    std::vector<int> rows_;
    std::vector<std::pair<std::string, int>> lanes_; ///< host, first row
    QDateTime t0_, t1_;
    int rowH_ = 14;
};

JobGraphPanel::JobGraphPanel(QWidget* parent)
    : QWidget(parent), debounce_(new QTimer(this)), id_(new QSpinBox), back_(new QToolButton), up_(new QToolButton),
      collapse_(new QCheckBox(tr("&Collapse by task"))), title_(new QLabel), problem_(new QLabel),
      tabs_(new QTabWidget), scene_(new QGraphicsScene(this)), view_(new ZoomView), timeline_(new TimelineView),
      statusChart_(new QChartView) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* bar = new QHBoxLayout;
    back_->setText(tr("Back"));
    back_->setShortcut(QKeySequence::Back);
    back_->setToolTip(tr("The job shown before (Alt+Left)"));
    up_->setText(tr("Up"));
    up_->setToolTip(tr("The super-job of this job"));
    bar->addWidget(back_);
    bar->addWidget(up_);
    bar->addWidget(new QLabel(tr("Job")));
    id_->setRange(0, std::numeric_limits<int>::max());
    id_->setSpecialValueText(tr("newest"));
    id_->setKeyboardTracking(false);
    bar->addWidget(id_);
    bar->addWidget(collapse_);
    collapse_->setToolTip(
        tr("One box per task type and layer, with its jobs' statuses as a bar (on by default above %1 "
           "jobs)")
            .arg(kCollapseAbove));
    title_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred); // long titles are cut, never widen the window
    bar->addWidget(title_, 1);
    layout->addLayout(bar);
    problem_->setStyleSheet("color:#c62828");
    problem_->setWordWrap(true);
    problem_->hide();
    layout->addWidget(problem_);

    view_->setObjectName("graph");
    view_->setScene(scene_);
    view_->setDragMode(QGraphicsView::ScrollHandDrag);
    view_->setRenderHint(QPainter::Antialiasing);
    view_->setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    view_->setViewportUpdateMode(QGraphicsView::BoundingRectViewportUpdate);
    view_->setBackgroundBrush(QColor(0xfa, 0xfa, 0xfa));
    view_->setToolTip(tr("Wheel or + / - to zoom, 0 to fit, drag to pan; click a job for its detail, double-click to "
                         "open its sub-jobs"));
    tabs_->addTab(view_, tr("&Graph"));
    auto* scroll = new QScrollArea;
    scroll->setWidget(timeline_);
    scroll->setWidgetResizable(true);
    tabs_->addTab(scroll, tr("&Timeline"));
    statusChart_->setRenderHint(QPainter::Antialiasing);
    tabs_->addTab(statusChart_, tr("&Status over time"));
    layout->addWidget(tabs_, 1);

    timeline_->clicked = [this](std::int64_t id) { emit jobSelected(id); };
    debounce_->setSingleShot(true);
    debounce_->setInterval(1000);
    connect(debounce_, &QTimer::timeout, this, &JobGraphPanel::refresh);
    connect(id_, &QSpinBox::valueChanged, this, [this](int v) {
        if (v != jobId_) showJob(v);
    });
    connect(collapse_, &QCheckBox::toggled, this, &JobGraphPanel::relayout);
    connect(back_, &QToolButton::clicked, this, [this] {
        if (trail_.empty()) return;
        const auto id = trail_.back();
        trail_.pop_back();
        load(id);
    });
    connect(up_, &QToolButton::clicked, this, [this] {
        if (job_ && job_->superId) showJob(*job_->superId);
    });
    connect(new QShortcut(QKeySequence::Refresh, this, nullptr, nullptr, Qt::WidgetWithChildrenShortcut),
            &QShortcut::activated, this, &JobGraphPanel::refresh);
    back_->setEnabled(false);
    up_->setEnabled(false);
    title_->setText(tr("Waiting for the database..."));
}

JobGraphPanel::~JobGraphPanel() = default;

void JobGraphPanel::setDatabase(const std::string& conninfo) {
    pool_ = std::make_shared<Background>(conninfo);
    delete listener_;
    listener_ = new NotificationListener(conninfo, {"paudm_jobs", "paudm_runners", jobs::kProgressChannel}, this);
    refreshOnNotification(listener_, debounce_); // at most one live refresh a second
    connect(listener_, &NotificationListener::connectionChanged, this, [this](bool ok, const QString& error) {
        problem_->setVisible(!ok);
        if (!ok)
            problem_->setText(tr("Lost the database (%1); reconnecting...").arg(error));
        else
            refresh();
    });
    load(jobId_);
}

void JobGraphPanel::showJob(std::int64_t id) {
    if (jobId_ && id != jobId_) trail_.push_back(jobId_);
    load(id);
}

void JobGraphPanel::refresh() {
    load(jobId_);
}

void JobGraphPanel::setCollapse(Qt::CheckState state) {
    collapse_->setChecked(state == Qt::Checked);
}

void JobGraphPanel::load(std::int64_t id) {
    if (!pool_) {
        jobId_ = id;
        return;
    }
    const int generation = ++generation_;
    pool_->query<Loaded>(
        this,
        [id](db::Connection& c) {
            Loaded l;
            l.id = id;
            if (l.id == 0) { // the newest top-level job that has sub-jobs
                const auto r = c.exec("SELECT j.id FROM job j WHERE j.super_id IS NULL AND EXISTS "
                                      "(SELECT 1 FROM job s WHERE s.super_id = j.id) ORDER BY j.id DESC LIMIT 1");
                if (r.size() == 0) return l;
                l.id = r.toInt(0, 0);
            }
            jobs::JobStore store(c);
            l.job = store.row(l.id);
            l.graph = store.graph(l.id);
            return l;
        },
        [this, generation](const Result<Loaded>& o) {
            if (generation != generation_) return;
            if (!o) {
                problem_->setText(QString::fromStdString(o.error().message()));
                problem_->show();
                return;
            }
            problem_->hide();
            showLoaded(*o);
        });
}

void JobGraphPanel::showLoaded(const Loaded& l) {
    const bool sameJob = l.id == jobId_ && loaded_;
    bool sameNodes = sameJob && l.graph.nodes.size() == graph_.nodes.size() && l.graph.edges == graph_.edges;
    for (std::size_t i = 0; sameNodes && i < l.graph.nodes.size(); ++i)
        sameNodes = l.graph.nodes[i].id == graph_.nodes[i].id;
    jobId_ = l.id;
    job_ = l.job;
    graph_ = l.graph;
    {
        QSignalBlocker block(id_);
        id_->setValue(static_cast<int>(jobId_));
    }
    back_->setEnabled(!trail_.empty());
    up_->setEnabled(job_ && job_->superId);
    std::map<std::string, int> counts;
    for (const auto& n : graph_.nodes)
        ++counts[n.status];
    QStringList parts;
    for (const char* s : jobs::kJobStatuses)
        if (counts.count(s))
            parts << QString("<span style='background:%1'>&nbsp;%2 %3&nbsp;</span>")
                         .arg(jobs::statusColour(s))
                         .arg(counts[s])
                         .arg(s);
    title_->setText(!job_
                        ? (jobId_ ? tr("Job %1 does not exist.").arg(jobId_) : tr("No job with sub-jobs yet."))
                        : tr(job_->subjobs ? "<b>%1 #%2</b> %3 · %4 sub-jobs, %5 dependencies &nbsp; %6"
                                           : "<b>%1 #%2</b> %3 · no sub-jobs: it and what depends on it (%4 jobs), %5 "
                                             "dependencies &nbsp; %6")
                              .arg(QString::fromStdString(job_->name))
                              .arg(jobId_)
                              .arg(QString::fromStdString(job_->status))
                              .arg(graph_.nodes.size())
                              .arg(graph_.edges.size())
                              .arg(parts.join(" ")));
    if (sameNodes) {
        recolour(); // live status: same boxes, new colours
    } else {
        if (!sameJob) {
            QSignalBlocker block(collapse_);
            collapse_->setChecked(graph_.nodes.size() > static_cast<std::size_t>(kCollapseAbove));
        }
        relayout();
    }
    timeline_->setNodes(&graph_.nodes);
    showStatusChart();
    loaded_ = true;
    emit loaded();
}

void JobGraphPanel::recolour() {
    scene_->update();
    timeline_->update();
}

void JobGraphPanel::relayout() {
    std::vector<LayoutNode> nodes;
    nodes.reserve(graph_.nodes.size());
    for (const auto& n : graph_.nodes)
        nodes.push_back({n.id, n.name});
    collapsedNow_ = collapse_->isChecked();
    layout_ = layoutGraph(nodes, graph_.edges, collapsedNow_);
    scene_->clear();
    // A tall layer (many independent jobs) wraps into several columns, so that the whole
    // graph keeps a shape that fits a screen instead of one endless column.
    const int maxRows = std::max(8, static_cast<int>(std::ceil(std::sqrt(2.0 * layout_.groups.size()))));
    // Columns of one layer sit close together; layers keep room for the arrows between them.
    constexpr double kColumnGap = kBoxW + 24;
    std::vector<int> sizes(static_cast<std::size_t>(layout_.layers), 0);
    std::vector<double> x0(static_cast<std::size_t>(layout_.layers) + 1, 0);
    for (const auto& group : layout_.groups)
        ++sizes[static_cast<std::size_t>(group.layer)];
    for (int l = 0; l < layout_.layers; ++l) {
        const int columns = (sizes[static_cast<std::size_t>(l)] + maxRows - 1) / maxRows;
        x0[static_cast<std::size_t>(l) + 1] = x0[static_cast<std::size_t>(l)] + (columns - 1) * kColumnGap + kLayerGap;
    }
    std::vector<QPointF> at(layout_.groups.size());
    for (std::size_t g = 0; g < layout_.groups.size(); ++g) {
        const auto& group = layout_.groups[g];
        at[g] = QPointF(x0[static_cast<std::size_t>(group.layer)] + (group.order / maxRows) * kColumnGap,
                        (group.order % maxRows) * kRowGap);
        auto* item = new GroupItem(this, static_cast<int>(g), [this](int gi, bool twice) {
            const auto& members = layout_.groups[static_cast<std::size_t>(gi)].members;
            // A group answers with its first unfinished or failed member: what needs a look.
            const jobs::GraphNode* pick = &graph_.nodes[static_cast<std::size_t>(members[0])];
            for (int m : members) {
                const auto& n = graph_.nodes[static_cast<std::size_t>(m)];
                if (n.status == "FAILED") {
                    pick = &n;
                    break;
                }
                if (!finished(n.status) && finished(pick->status)) pick = &n;
            }
            if (twice && members.size() == 1 && pick->subjobs > 0)
                showJob(pick->id);
            else
                emit jobSelected(pick->id);
        });
        item->setPos(at[g]);
        scene_->addItem(item);
    }
    // Thousands of boxes: straight arrows and no antialiasing keep a repaint within a frame
    // or two (curves are drawn for graphs one reads box by box).
    const bool many = layout_.edges.size() > 1000;
    view_->setRenderHint(QPainter::Antialiasing, !many);
    QPainterPath path;
    for (std::size_t e = 0; e < layout_.edges.size(); ++e) {
        const QPointF a = at[static_cast<std::size_t>(layout_.edges[e].first)] + QPointF(kBoxW, kBoxH / 2);
        const QPointF b = at[static_cast<std::size_t>(layout_.edges[e].second)] + QPointF(0, kBoxH / 2);
        const double dx = (b.x() - a.x()) / 2;
        path.moveTo(a);
        if (many)
            path.lineTo(b);
        else
            path.cubicTo(a + QPointF(dx, 0), b - QPointF(dx, 0), b);
        // An arrowhead at the child.
        path.moveTo(b);
        path.lineTo(b + QPointF(-7, -4));
        path.moveTo(b);
        path.lineTo(b + QPointF(-7, 4));
    }
    auto* edges = scene_->addPath(path, QPen(QColor(0x78, 0x78, 0x78), 1));
    edges->setZValue(-1);
    scene_->setSceneRect(scene_->itemsBoundingRect().adjusted(-20, -20, 20, 20));
    fitGraph();
}

void JobGraphPanel::fitGraph() {
    view_->resetTransform();
    const QRectF r = scene_->sceneRect();
    if (r.isEmpty()) return;
    // Fit, but never smaller than readable boxes for small graphs nor larger than 1:1.
    const double s = std::min({1.0, view_->viewport()->width() / r.width(), view_->viewport()->height() / r.height()});
    view_->scale(std::max(s, 0.02), std::max(s, 0.02));
    view_->centerOn(r.center());
}

void JobGraphPanel::showStatusChart() {
    // Jobs queued, running, done and failed at each time (Figure 9 of the paper), sampled
    // at 300 instants between the first queueing and the last change (or now).
    QDateTime t0, t1;
    bool live = false;
    for (const auto& n : graph_.nodes) {
        for (const QDateTime& t : {n.queued, n.started, n.ended})
            if (t.isValid()) {
                if (!t0.isValid() || t < t0) t0 = t;
                if (!t1.isValid() || t > t1) t1 = t;
            }
        live = live || (n.queued.isValid() && !finished(n.status));
    }
    auto* chart = new QChart;
    chart->setTitle(tr("Jobs per status over time"));
    chart->legend()->setAlignment(Qt::AlignBottom);
    if (t0.isValid()) {
        if (live) t1 = std::max(t1, QDateTime::currentDateTimeUtc());
        const qint64 span = std::max<qint64>(1, t0.msecsTo(t1));
        const char* names[] = {"QUEUED", "RUNNING", "DONE", "FAILED"};
        QLineSeries* series[4];
        for (int k = 0; k < 4; ++k) {
            series[k] = new QLineSeries;
            series[k]->setName(QString(names[k]).toLower());
            series[k]->setPen(QPen(QColor(jobs::statusColour(names[k])).darker(k == 0 ? 150 : 120), 2));
        }
        double top = 1;
        constexpr int kSamples = 300;
        for (int i = 0; i <= kSamples; ++i) {
            const QDateTime t = t0.addMSecs(span * i / kSamples);
            int q = 0, r = 0, d = 0, f = 0;
            for (const auto& n : graph_.nodes) {
                if (!n.queued.isValid() || n.queued > t) continue;
                if (n.ended.isValid() && n.ended <= t)
                    (n.status == "DONE" ? d : f) += 1;
                else if (n.started.isValid() && n.started <= t)
                    ++r;
                else
                    ++q;
            }
            const double x = static_cast<double>(t.toMSecsSinceEpoch());
            series[0]->append(x, q);
            series[1]->append(x, r);
            series[2]->append(x, d);
            series[3]->append(x, f);
            top = std::max<double>(
                {top, static_cast<double>(q), static_cast<double>(r), static_cast<double>(d), static_cast<double>(f)});
        }
        auto* x = new QDateTimeAxis;
        x->setFormat(span < 20000 ? "hh:mm:ss.zzz" : span < 600000 ? "hh:mm:ss" : "MM-dd hh:mm");
        x->setRange(t0.toLocalTime(), t1.toLocalTime());
        auto* y = new QValueAxis;
        y->setRange(0, top);
        y->applyNiceNumbers(); // whole-number ticks
        y->setLabelFormat("%d");
        y->setTitleText(tr("jobs"));
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        for (auto* s : series) {
            chart->addSeries(s);
            s->attachAxis(x);
            s->attachAxis(y);
        }
    }
    QChart* old = statusChart_->chart();
    statusChart_->setChart(chart);
    delete old;
}

} // namespace paudm::ui
