#pragma once
// The SQL browser (the paper's section 7.4): read-only queries on PAUdb as the role
// paudm_reader, with its statement timeout (the user may lower it, never raise it) and a
// row limit of the user's, at most 10,000, with a notice whenever the limit cut the result.
// Ctrl+Enter runs, Esc or Cancel stops the query on the server (PQcancel) and the window
// never waits for it. The result is a sortable table (copied as CSV or TSV, saved as CSV)
// or a histogram / scatter plot of its columns; a full export without the limit runs in
// the background (COPY through libpq, to CSV or a FITS binary table) with its progress and
// a Cancel of its own. Queries are remembered (History).
#include "common/error.h"
#include "sql/catalog.h"
#include "sql/query.h"

#include <QStringList>
#include <QWidget>

#include <atomic>
#include <memory>
#include <vector>

class QChartView;
class QComboBox;
class QElapsedTimer;
class QLabel;
class QProgressBar;
class QPushButton;
class QSortFilterProxyModel;
class QSpinBox;
class QTableView;
class QTabWidget;
class QTimer;
class QToolButton;

namespace paudm::ui {

class Background;
class ResultModel;
class SqlEditor;

class SqlPanel : public QWidget {
    Q_OBJECT
public:
    explicit SqlPanel(QWidget* parent = nullptr);
    ~SqlPanel() override;

    /// The read-only connection string (DatabaseTarget::readOnlyConninfo).
    void setDatabase(const std::string& readerConninfo);
    /// For completion and highlighting of table and column names.
    void setSchema(std::shared_ptr<const sql::Schema> schema);
    /// Puts `text` in the editor; `runNow` runs it (at once, or when connected).
    void setQuery(const QString& text, bool runNow = false);

    void run();
    /// Asks the server to cancel the running query; returns at once.
    void cancel();
    /// The whole result of the editor's query to `path` (.fits: FITS, else CSV).
    void startFullExport(const QString& path);
    void cancelExport();
    /// The rows shown, as CSV (RFC 4180), written off the GUI thread.
    void exportShown(const QString& path);
    /// The selected rows (all when none is selected) as CSV or TSV on the clipboard.
    void copyRows(char delimiter);

    bool hasLoaded() const { return loaded_; }
    bool isRunning() const { return running_; }
    bool isExporting() const { return exporting_; }
    QSize sizeHint() const override { return {560, 500}; }
    /// A dock shares the window's height with the others: it may be squeezed (its tables
    /// and editor scroll) rather than make the window taller than the screen.
    QSize minimumSizeHint() const override { return {420, 300}; }

    // For tests and the screenshot.
    SqlEditor* editor() const { return editor_; }
    QTableView* table() const { return table_; }
    ResultModel* model() const { return model_; }
    QLabel* notice() const { return notice_; }
    QLabel* status() const { return status_; }
    QLabel* problem() const { return problem_; }
    QSpinBox* limitBox() const { return limit_; }
    QSpinBox* timeoutBox() const { return timeout_; }
    QProgressBar* exportProgress() const { return progress_; }
    QTabWidget* views() const { return views_; }
    /// The remembered queries, newest first.
    QStringList historyEntries() const;
    QToolButton* historyButton() const { return history_; }
    QChartView* chartView() const { return chartView_; }
    QComboBox* plotKind() const { return plotKind_; }
    QComboBox* plotX() const { return plotX_; }
    QComboBox* plotY() const { return plotY_; }

signals:
    void loaded();
    void queryFinished(bool ok);
    void exportFinished(bool ok, const QString& message);

private:
    void showResult(const Result<sql::QueryResult>& r);
    void showProblem(const QString& message);
    void remember(const QString& text);
    void fillHistory();
    void fillPlotColumns();
    void drawPlot();
    void setBusy(bool busy);
    void markLoaded();
    void chooseFullExport();
    void chooseShownExport();
    void updateExportProgress();
    /// The timeout field as QueryOptions wants it: 0 when it is the role's own.
    int chosenTimeoutMs() const;
    /// Source rows in the order the table shows them: the selected ones, or all.
    std::vector<int> rowsInViewOrder(bool selectedOnly) const;

    bool loaded_ = false, running_ = false, exporting_ = false, runWhenConnected_ = false, roleKnown_ = false;
    int roleTimeoutMs_ = 0;
    SqlEditor* editor_;
    QPushButton* runButton_;
    QPushButton* cancelButton_;
    QSpinBox* limit_;
    QSpinBox* timeout_;
    QToolButton* history_;
    QStringList historyList_; ///< newest first; the settings hold a copy
    int historyGeneration_ = 0;
    std::shared_ptr<std::atomic<int>> historyLatest_ = std::make_shared<std::atomic<int>>(0);
    QToolButton* exportButton_;
    QLabel* notice_;
    QLabel* status_;
    QLabel* problem_;
    QTabWidget* views_;
    QTableView* table_;
    ResultModel* model_;
    QSortFilterProxyModel* sorted_;
    QComboBox* plotKind_;
    QComboBox* plotX_;
    QComboBox* plotY_;
    QSpinBox* bins_;
    QChartView* chartView_;
    QWidget* exportBar_;
    QLabel* exportText_;
    QProgressBar* progress_;
    QTimer* ticker_;
    std::unique_ptr<QElapsedTimer> clock_;
    std::shared_ptr<sql::ExportProgress> exportState_;
    QString exportPath_;
    std::unique_ptr<QElapsedTimer> exportClock_;
    std::unique_ptr<Background> queries_; ///< the query in flight (Cancel)
    std::unique_ptr<Background> exports_; ///< the full export (its own Cancel)
    std::unique_ptr<Background> files_;   ///< writing what is shown
};

} // namespace paudm::ui
