#pragma once
// The console's main window: the panels of the design as docks around an empty centre,
// the connection indicator in the status bar. The layout is remembered between runs.
#include <QMainWindow>

#include <QMap>

class QAction;
class QDockWidget;
class QLabel;
class QToolBar;

namespace paudm::ui {

class ConnectionIndicator;
struct ConnectionInfo;
class ConnectionMonitor;
class NotificationListener;
class TransferPanel;
class OperationsPanel;
class JobGraphPanel;
class RunnerHost;
class RunnersPanel;
class ReportPanel;
class SchemaPanel;
class SqlPanel;
class ViewerPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(ConnectionMonitor* monitor, QWidget* parent = nullptr);
    ~MainWindow() override;

    /// The dock of a panel by its command-line name (operations, graph, transfer, runners, viewer,
    /// report, apertures, schema, sql; "nightly" and "fits" are old names of report and viewer), or nullptr.
    QDockWidget* panel(const QString& name) const;
    static QStringList panelNames();
    /// Runner threads inside the console (the Runners panel and --runner-threads share them).
    RunnerHost* runnerHost() const { return runnerHost_; }
    OperationsPanel* operationsPanel() const { return operationsPanel_; }
    JobGraphPanel* graphPanel() const { return graphPanel_; }
    TransferPanel* transferPanel() const { return transferPanel_; }
    ReportPanel* reportPanel() const { return reportPanel_; }
    SchemaPanel* schemaPanel() const { return schemaPanel_; }
    SqlPanel* sqlPanel() const { return sqlPanel_; }
    ViewerPanel* viewerPanel() const { return viewerPanel_; }
    /// Closes without asking anything (SIGTERM, the session ending): the console's runner,
    /// if one runs, gives back its jobs in hand at once.
    void closeWithoutAsking();

signals:
    /// The live panels finished loading what they show (after each connection).
    void panelsLoaded();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    QDockWidget* addPanel(const QString& name, const QString& title, const QString& purpose, Qt::DockWidgetArea area);
    void showConnection(const ConnectionInfo& info);

    ConnectionMonitor* monitor_;
    ConnectionIndicator* indicator_;
    QToolBar* banner_; ///< full-width notice when there is no database
    QLabel* bannerText_;
    QAction* retry_ = nullptr;
    NotificationListener* watch_ = nullptr; ///< the server, for the whole window
    bool lost_ = false;
    QMap<QString, QDockWidget*> panels_;
    bool closeWhenRunnerStops_ = false;
    bool askBeforeClosing_ = true;
    TransferPanel* transferPanel_ = nullptr;
    OperationsPanel* operationsPanel_ = nullptr;
    JobGraphPanel* graphPanel_ = nullptr;
    RunnerHost* runnerHost_ = nullptr;
    RunnersPanel* runnersPanel_ = nullptr;
    ReportPanel* reportPanel_ = nullptr;
    SchemaPanel* schemaPanel_ = nullptr;
    SqlPanel* sqlPanel_ = nullptr;
    ViewerPanel* viewerPanel_ = nullptr;
};

} // namespace paudm::ui
