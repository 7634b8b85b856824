#pragma once
// One job in full, as the Operations panel shows it beside the table: summary, configuration,
// input, output, log and traceback, attempts, the QC table with a plot of the sub-jobs'
// values, and the sub-job tree (each level loaded when opened).
#include "jobs/store.h"

#include <QTabWidget>

#include <memory>

class QChartView;
class QComboBox;
class QLabel;
class QPlainTextEdit;
class QTableWidget;
class QListWidget;
class QTreeWidget;
class QTreeWidgetItem;

namespace paudm::ui {

class Background;

struct JobView {
    jobs::JobDetail detail;
    std::vector<jobs::SubjobQc> subjobQc;
};

class JobDetailView : public QTabWidget {
    Q_OBJECT
public:
    explicit JobDetailView(QWidget* parent = nullptr);
    void setPool(std::shared_ptr<Background> pool) { pool_ = std::move(pool); }
    /// Shows a job (the same job again keeps the open tab and the open tree branches).
    void setJob(const JobView& job);
    void clear(const QString& why);
    std::int64_t jobId() const { return jobId_; }
    QTreeWidget* subjobTree() const { return tree_; }
    QTableWidget* qcTable() const { return qcTable_; }
    /// The QC plot's points (passing and failing) now shown, for tests.
    int plottedPoints() const { return plotted_; }

signals:
    /// A job was double-clicked in the tree or a dependency link was followed.
    void jobActivated(std::int64_t id);
    /// A FITS file the job read or wrote was double-clicked (Products tab): open it in the viewer.
    void fileWanted(const QString& path);

private:
    void showQcPlot();
    void loadSubjobs(QTreeWidgetItem* parent, std::int64_t superId);
    void fillSubjobs(QTreeWidgetItem* parent, const std::vector<jobs::JobRow>& rows, std::int64_t total);

    std::shared_ptr<Background> pool_;
    std::int64_t jobId_ = 0;
    QLabel* summary_;
    QPlainTextEdit *config_, *input_, *output_, *log_, *traceback_;
    QTableWidget* attempts_;
    QTableWidget* qcTable_;
    QComboBox* qcCheck_;
    QChartView* qcChart_;
    QLabel* qcNote_;
    QListWidget* products_;
    QTreeWidget* tree_;
    std::vector<jobs::SubjobQc> subjobQc_;
    int plotted_ = 0;
};

} // namespace paudm::ui
