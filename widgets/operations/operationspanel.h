#pragma once
// The Operations panel: top-level jobs (or all jobs) under a filter (task, status, QC flag,
// creation dates, free text), pies of jobs per task and per status (a click on a slice
// filters by it), the selected job in full, and the actions: submit, retry, abort, and
// retry or abort everything the filter matches after saying how many jobs that touches.
// Every query runs in a worker thread; pages load as the table scrolls; the panel follows
// the database live (LISTEN paudm_jobs, paudm_runners) without polling.
#include "jobs/store.h"

#include <QElapsedTimer>
#include <QWidget>

#include <memory>

class QAction;
class QChartView;
class QCheckBox;
class QComboBox;
class QDateEdit;
class QLabel;
class QLineEdit;
class QSplitter;
class QTableView;
class QTimer;

namespace paudm::ui {

class Background;
class JobDetailView;
class JobTableModel;
class NotificationListener;

class OperationsPanel : public QWidget {
    Q_OBJECT
public:
    explicit OperationsPanel(QWidget* parent = nullptr);
    ~OperationsPanel() override;
    void setDatabase(const std::string& conninfo);
    bool hasLoaded() const { return loaded_; }
    JobTableModel* model() const { return model_; }
    JobDetailView* detail() const { return detail_; }
    /// The filter the widgets describe (what the table, the pies and bulk actions use).
    jobs::JobFilter filter() const;
    /// Sets the filter widgets (and so reloads): for the command line and tests.
    void setFilter(const jobs::JobFilter& f);
    /// Selects a job (showing its detail), loading pages until it is in the table if the
    /// filter holds it.
    void showJob(std::int64_t id);
    /// Milliseconds from the last filter change to its first page on screen.
    qint64 lastFilterMs() const { return lastFilterMs_; }

public slots:
    void refresh();

signals:
    /// The table, its counts and pies show the database (after each connection or filter).
    void loaded();
    /// A new filter's first page is in the table.
    void firstPageShown(qint64 ms);
    /// The detail pane shows job `id`.
    void detailShown(std::int64_t id);
    /// Open this job in the Job graph panel.
    void graphWanted(std::int64_t id);

private:
    struct Summary {
        std::int64_t matching = 0;
        std::vector<std::pair<std::string, std::int64_t>> byTask, byStatus;
    };
    void filterChanged();
    void loadFirstPage();
    void loadMore(std::int64_t beforeId);
    void loadSummary();
    void loadDetail();
    void showSummary(const Summary& s);
    void showProblem(const QString& text);
    void submit();
    void retrySelected();
    void abortSelected();
    void bulk(bool abort);
    void selectionChanged();
    void saveSettings() const;
    void restoreSettings();
    std::int64_t selectedId() const;
    void fillPie(QChartView* view, const QString& title,
                 const std::vector<std::pair<std::string, std::int64_t>>& counts, bool byStatus);

    std::shared_ptr<Background> pool_;     ///< details and actions
    std::shared_ptr<Background> listPool_; ///< pages and counts: cancelled when the filter changes
    std::string conninfo_;
    NotificationListener* listener_ = nullptr;
    QTimer* debounce_;     ///< notifications in a burst: one refresh
    QTimer* textDebounce_; ///< typing: one query when the typing pauses
    bool loaded_ = false;
    bool restoring_ = false;
    int generation_ = 0; ///< bumps at each filter change: late answers for older filters are dropped
    bool refreshing_ = false, refreshAgain_ = false;
    std::int64_t wanted_ = 0; ///< showJob() target not yet in the table
    QElapsedTimer sinceFilter_;
    qint64 lastFilterMs_ = -1;

    QComboBox *task_, *status_, *qc_;
    QCheckBox *fromOn_, *toOn_, *subjobs_;
    QDateEdit *from_, *to_;
    QLineEdit* text_;
    QLabel* summary_;
    QLabel* problem_;
    JobTableModel* model_;
    QTableView* view_;
    QChartView *taskPie_, *statusPie_;
    JobDetailView* detail_;
    QSplitter *split_, *leftSplit_;
    QAction *retry_, *abort_, *graph_;
};

} // namespace paudm::ui
