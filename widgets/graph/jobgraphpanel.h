#pragma once
// The Job graph panel: one job's sub-jobs and their dependencies laid out in layers and
// coloured by live status (zoom with the wheel, drag to pan, click for the detail,
// double-click to open a sub-job's own sub-jobs), collapsed by task type when large so that
// thousands of nodes stay readable; the timeline (queued and running segments, one lane
// per runner host); and the number of jobs in each status over time (the paper's Figure 9).
#include "graphlayout.h"
#include "jobs/store.h"

#include <QWidget>

#include <memory>

class QChartView;
class QCheckBox;
class QGraphicsScene;
class QGraphicsView;
class QLabel;
class QSpinBox;
class QTabWidget;
class QTimer;
class QToolButton;

namespace paudm::ui {

class Background;
class NotificationListener;
class TimelineView;

class JobGraphPanel : public QWidget {
    Q_OBJECT
public:
    explicit JobGraphPanel(QWidget* parent = nullptr);
    ~JobGraphPanel() override;
    void setDatabase(const std::string& conninfo);
    /// Shows this job's sub-jobs (0: the newest top-level job with sub-jobs).
    void showJob(std::int64_t id);
    std::int64_t jobId() const { return jobId_; }
    bool hasLoaded() const { return loaded_; }
    /// What is drawn now, for tests: boxes (nodes or task groups) and arrows.
    int boxes() const { return static_cast<int>(layout_.groups.size()); }
    int arrows() const { return static_cast<int>(layout_.edges.size()); }
    const GraphLayout& layout() const { return layout_; }
    const jobs::JobGraph& graph() const { return graph_; }
    bool collapsed() const { return collapsedNow_; }
    void setCollapse(Qt::CheckState state);
    QTabWidget* views() const { return tabs_; }

public slots:
    void refresh();

signals:
    void loaded();
    /// A node was clicked: show this job's detail.
    void jobSelected(std::int64_t id);

private:
    struct Loaded {
        std::int64_t id = 0;
        jobs::JobGraph graph;
        std::optional<jobs::JobRow> job;
    };
    void load(std::int64_t id);
    void showLoaded(const Loaded& l);
    void relayout();
    void recolour();
    void fitGraph();
    void showStatusChart();

    std::shared_ptr<Background> pool_;
    NotificationListener* listener_ = nullptr;
    QTimer* debounce_;
    std::int64_t jobId_ = 0;
    std::optional<jobs::JobRow> job_;
    std::vector<std::int64_t> trail_; ///< the jobs opened before this one, for Back
    bool loaded_ = false;
    bool collapsedNow_ = false;
    int generation_ = 0;
    jobs::JobGraph graph_;
    GraphLayout layout_;

    QSpinBox* id_;
    QToolButton* back_;
    QToolButton* up_;
    QCheckBox* collapse_;
    QLabel* title_;
    QLabel* problem_;
    QTabWidget* tabs_;
    QGraphicsScene* scene_;
    QGraphicsView* view_;
    TimelineView* timeline_;
    QChartView* statusChart_;
};

} // namespace paudm::ui
