#pragma once
// The Runners panel: every live runner (host, pid, threads, heartbeat age, jobs done, the
// jobs in its hands), dead ones shown as dead, the recently stopped; the queue's size; and
// runner threads inside the console (offline reprocessing on one machine) with a progress
// bar over the whole queue. Read off the GUI thread, refreshed on LISTEN paudm_runners and
// paudm_jobs; heartbeat ages tick every second without asking the database.
#include "common/error.h"
#include "jobs/store.h"
#include "keyedtablemodel.h"

#include <QElapsedTimer>
#include <QWidget>

#include <memory>

class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableView;
class QTimer;

namespace paudm::ui {

template <class T> class LiveLoad;
class RunnerHost;

class RunnerTableModel : public KeyedTableModel<jobs::RunnerRow, std::int64_t> {
    Q_OBJECT
public:
    enum Column { Id, State, Host, Pid, Threads, Heartbeat, Done, InHand, Tasks, Started, Batch, ColumnCount };
    using KeyedTableModel::KeyedTableModel;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    /// New rows, read `ageOffsetS` seconds ago (heartbeat ages grow from there).
    void setRunners(std::vector<jobs::RunnerRow> runners);
    /// Heartbeat ages as of now: repaints the ages and states, no query.
    void tick();

protected:
    std::int64_t keyOf(const jobs::RunnerRow& r) const override { return r.id; }

private:
    QElapsedTimer sinceLoad_;
    double ageOf(const jobs::RunnerRow& r) const;
};

class RunnersPanel : public QWidget {
    Q_OBJECT
public:
    RunnersPanel(RunnerHost* host, QWidget* parent = nullptr);
    ~RunnersPanel() override;
    void setDatabase(const std::string& conninfo);
    void refresh();
    bool hasLoaded() const { return loaded_; }
    RunnerTableModel* model() const { return model_; }

signals:
    void loaded();

private:
    struct Loaded {
        std::vector<jobs::RunnerRow> runners;
        jobs::QueueCounts queue;
    };
    void showLoaded(const Result<Loaded>& r);
    void startOrStop();
    void showHostState();

    RunnerHost* host_;
    std::string conninfo_;
    bool loaded_ = false;
    jobs::QueueCounts queue_;
    RunnerTableModel* model_;
    QTableView* view_;
    QLabel* summary_;
    QLabel* problem_;
    QSpinBox* threads_;
    QPushButton* startStop_;
    QProgressBar* progress_;
    QTimer* ticker_;
    std::unique_ptr<LiveLoad<Loaded>> live_;
};

} // namespace paudm::ui
