#include "mainwindow.h"

#include "background.h"
#include "connectionstatus.h"
#include "graph/jobgraphpanel.h"
#include "notifications.h"
#include "operations/jobdetailview.h"
#include "operations/operationspanel.h"
#include "report/reportpanel.h"
#include "runnerhost.h"
#include "runners/runnerspanel.h"
#include "sql/schemapanel.h"
#include "sql/sqlpanel.h"
#include "transfer/transferpanel.h"
#include "viewer/viewerpanel.h"

#include "archive/layout.h"
#include "common/version.h"
#include "transfer/retention.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QGuiApplication>
#include <QKeySequence>
#include <QLabel>
#include <QLayout>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>
#include <QVBoxLayout>

namespace paudm::ui {

namespace {

struct PanelSpec {
    const char* name;
    const char* title;
    const char* purpose;
    Qt::DockWidgetArea area;
};

// The panels of the design, in menu order. Each will grow into its own widget; until
// then it says what it will show.
const PanelSpec kPanels[] = {
    {"operations", "Operations", "Jobs, their status, QC, logs and tracebacks", Qt::LeftDockWidgetArea},
    {"graph", "Job graph", "Sub-jobs and dependencies of a job, with live status and timeline",
     Qt::RightDockWidgetArea},
    {"transfer", "Transfer", "Observation sets in the buffer and the archive, rates and retention",
     Qt::LeftDockWidgetArea},
    {"runners", "Runners", "Live runners, the queue, and runner threads inside the console", Qt::LeftDockWidgetArea},
    {"viewer", "FITS viewer", "Mosaics and CCDs with detections, reference stars and apertures", Qt::LeftDockWidgetArea},
    {"report", "Nightly report", "Seeing, sky, transparency and zero point through the night, against the cuts",
     Qt::RightDockWidgetArea},
    {"apertures", "Aperture inspector", "One object's narrow-band fluxes and the measurements behind them",
     Qt::RightDockWidgetArea},
    {"schema", "Schema", "Tables and columns of PAUdb with their descriptions, keys and indexes",
     Qt::RightDockWidgetArea},
    {"sql", "SQL browser", "Read-only queries, as a table or a plot, CSV and FITS exports", Qt::RightDockWidgetArea},
};

QWidget* placeholder(const QString& title, const QString& purpose) {
    auto* w = new QWidget;
    auto* layout = new QVBoxLayout(w);
    auto* label = new QLabel(
        QStringLiteral("<h3>%1</h3><p style='color:#666'>%2</p>").arg(title.toHtmlEscaped(), purpose.toHtmlEscaped()));
    label->setAlignment(Qt::AlignCenter);
    label->setWordWrap(true);
    layout->addWidget(label);
    return w;
}

} // namespace

MainWindow::MainWindow(ConnectionMonitor* monitor, QWidget* parent)
    : QMainWindow(parent), monitor_(monitor), indicator_(new ConnectionIndicator(this)) {
    setWindowTitle(tr("PAUdm console"));
    setObjectName("MainWindow");
    setDockNestingEnabled(true);
    // No central widget: the panels share the whole window.
    auto* centre = new QWidget;
    centre->hide();
    setCentralWidget(centre);

    auto* fileMenu = menuBar()->addMenu(tr("&File"));
    auto* quit = fileMenu->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    auto* panelsMenu = menuBar()->addMenu(tr("&Panels"));
    auto* helpMenu = menuBar()->addMenu(tr("&Help"));
    helpMenu->addAction(tr("&About PAUdm console"), this, [this] {
        QMessageBox::about(this, tr("About PAUdm console"),
                           tr("<h3>PAUdm console</h3><p>Data management of the PAU Survey: transfer, jobs, "
                              "images and their quality.</p><pre>%1</pre><p>Database: %2</p>")
                               .arg(QString::fromStdString(versionReport("paudm-console")).toHtmlEscaped(),
                                    QString::fromStdString(monitor_->target().describe()).toHtmlEscaped()));
    });
    int key = 1;
    for (const PanelSpec& p : kPanels) {
        QDockWidget* dock = addPanel(p.name, tr(p.title), tr(p.purpose), p.area);
        QAction* toggle = dock->toggleViewAction();
        toggle->setShortcut(QKeySequence(Qt::ALT | static_cast<Qt::Key>(Qt::Key_0 + key++)));
        panelsMenu->addAction(toggle);
    }
    transferPanel_ = new TransferPanel;
    panels_["transfer"]->setWidget(transferPanel_);
    runnerHost_ = new RunnerHost(this);
    runnersPanel_ = new RunnersPanel(runnerHost_);
    panels_["runners"]->setWidget(runnersPanel_);
    operationsPanel_ = new OperationsPanel;
    panels_["operations"]->setWidget(operationsPanel_);
    graphPanel_ = new JobGraphPanel;
    panels_["graph"]->setWidget(graphPanel_);
    reportPanel_ = new ReportPanel;
    panels_["report"]->setWidget(reportPanel_);
    schemaPanel_ = new SchemaPanel;
    panels_["schema"]->setWidget(schemaPanel_);
    sqlPanel_ = new SqlPanel;
    panels_["sql"]->setWidget(sqlPanel_);
    viewerPanel_ = new ViewerPanel;
    panels_["viewer"]->setWidget(viewerPanel_);
    connect(schemaPanel_, &SchemaPanel::schemaLoaded, sqlPanel_, &SqlPanel::setSchema);
    // "Query it" in the schema: the query in the SQL browser, run.
    connect(schemaPanel_, &SchemaPanel::queryWanted, this, [this](const QString& text) {
        sqlPanel_->setQuery(text, true);
        panels_["sql"]->show();
        panels_["sql"]->raise();
    });
    // A job's products, and a file of the Transfer panel, in the viewer.
    auto openInViewer = [this](const QString& path) {
        viewerPanel_->open(path);
        panels_["viewer"]->show();
        panels_["viewer"]->raise();
    };
    connect(operationsPanel_->detail(), &JobDetailView::fileWanted, this, openInViewer);
    connect(transferPanel_, &TransferPanel::fileWanted, this, openInViewer);
    // An exposure's job from the report: its detail in Operations.
    connect(reportPanel_, &ReportPanel::jobWanted, this, [this](std::int64_t id) {
        operationsPanel_->showJob(id);
        panels_["operations"]->show();
        panels_["operations"]->raise();
    });
    // The graph beside the operations table (not behind it): a click on a node shows its
    // detail there, a double-click on a job there opens its graph here.
    connect(graphPanel_, &JobGraphPanel::jobSelected, operationsPanel_, &OperationsPanel::showJob);
    connect(operationsPanel_, &OperationsPanel::graphWanted, this, [this](std::int64_t id) {
        graphPanel_->showJob(id);
        panels_["graph"]->show();
        panels_["graph"]->raise();
    });
    auto livePanelLoaded = [this] {
        if (transferPanel_->hasLoaded() && runnersPanel_->hasLoaded() && operationsPanel_->hasLoaded() &&
            graphPanel_->hasLoaded() && reportPanel_->hasLoaded() && schemaPanel_->hasLoaded() &&
            sqlPanel_->hasLoaded() && viewerPanel_->hasLoaded())
            emit panelsLoaded();
    };
    connect(transferPanel_, &TransferPanel::loaded, this, livePanelLoaded);
    connect(runnersPanel_, &RunnersPanel::loaded, this, livePanelLoaded);
    connect(operationsPanel_, &OperationsPanel::loaded, this, livePanelLoaded);
    connect(graphPanel_, &JobGraphPanel::loaded, this, livePanelLoaded);
    connect(reportPanel_, &ReportPanel::loaded, this, livePanelLoaded);
    connect(schemaPanel_, &SchemaPanel::loaded, this, livePanelLoaded);
    connect(sqlPanel_, &SqlPanel::loaded, this, livePanelLoaded);
    connect(viewerPanel_, &ViewerPanel::loaded, this, livePanelLoaded);
    tabifyDockWidget(panels_["operations"], panels_["runners"]);
    tabifyDockWidget(panels_["operations"], panels_["transfer"]);
    // The viewer in the wider area: an image wants the room.
    tabifyDockWidget(panels_["operations"], panels_["viewer"]);
    tabifyDockWidget(panels_["graph"], panels_["report"]);
    tabifyDockWidget(panels_["graph"], panels_["apertures"]);
    tabifyDockWidget(panels_["graph"], panels_["schema"]);
    tabifyDockWidget(panels_["graph"], panels_["sql"]);
    panels_["operations"]->raise();
    panels_["graph"]->raise();
    resizeDocks({panels_["operations"], panels_["graph"]}, {820, 560}, Qt::Horizontal);

    // A banner across the top when there is no database: the status bar alone is too
    // easy to miss, and every panel is empty without it.
    banner_ = new QToolBar(tr("Database problem"), this);
    banner_->setObjectName("banner");
    banner_->setMovable(false);
    banner_->setFloatable(false);
    banner_->toggleViewAction()->setVisible(false);
    banner_->setStyleSheet("QToolBar { background: #fbe3e3; border-bottom: 1px solid #d88; }");
    bannerText_ = new QLabel;
    bannerText_->setWordWrap(true);
    bannerText_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    bannerText_->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    banner_->addWidget(bannerText_);
    auto* retry = new QPushButton(tr("&Retry"));
    connect(retry, &QPushButton::clicked, monitor_, [this] {
        banner_->hide();
        indicator_->showConnecting(QString::fromStdString(monitor_->target().describe()));
        monitor_->connectNow();
    });
    retry_ = banner_->addWidget(retry);
    addToolBar(Qt::TopToolBarArea, banner_);
    banner_->hide();

    statusBar()->addPermanentWidget(indicator_);
    indicator_->showConnecting(QString::fromStdString(monitor_->target().describe()));
    connect(monitor_, &ConnectionMonitor::changed, this, &MainWindow::showConnection);
    if (monitor_->finished()) showConnection(monitor_->info());

    QSettings settings;
    restoreGeometry(settings.value("mainwindow/geometry").toByteArray());
    restoreState(settings.value("mainwindow/state").toByteArray());
    // The minimum size was last computed while the docks were added one below the other,
    // before they were tabbed: compute it again, or the window cannot be made (or open)
    // smaller than all the right-hand panels stacked.
    layout()->activate();
}

MainWindow::~MainWindow() = default;

void MainWindow::showConnection(const ConnectionInfo& info) {
    indicator_->show(info);
    if (info.ok) {
        banner_->hide();
        transfer::RetentionOptions o;
        o.conninfo = monitor_->target().conninfo;
        o.buffer = transfer::resolveBuffer();
        o.archive = archive::ArchiveLayout::resolve();
        transferPanel_->setSource(o);
        runnersPanel_->setDatabase(o.conninfo);
        operationsPanel_->setDatabase(o.conninfo);
        graphPanel_->setDatabase(o.conninfo);
        reportPanel_->setDatabase(o.conninfo);
        // The schema and the SQL browser read as the read-only role, as the paper's pages did.
        schemaPanel_->setDatabase(monitor_->target().readOnlyConninfo);
        sqlPanel_->setDatabase(monitor_->target().readOnlyConninfo);
        viewerPanel_->setDatabase(monitor_->target().readOnlyConninfo);
        // Watch the server for the whole window: a lost connection puts the banner up
        // until the listener (which retries by itself) is back, and every panel reloads.
        delete watch_;
        watch_ = new NotificationListener(o.conninfo, {"paudm_runners"}, this);
        connect(watch_, &NotificationListener::connectionChanged, this, [this](bool ok, const QString& error) {
            if (ok) {
                if (lost_) indicator_->show(monitor_->info());
                lost_ = false;
                banner_->hide();
                return;
            }
            lost_ = true;
            bannerText_->setText(tr("<b>Lost the database.</b> %1<br><span style='color:#555'>Reconnecting by "
                                    "itself; the panels show what they last read.</span>")
                                     .arg(error.toHtmlEscaped()));
            retry_->setVisible(false);
            banner_->show();
        });
        return;
    }
    bannerText_->setText(tr("<b>No database.</b> %1<br><span style='color:#555'>%2</span>")
                             .arg(info.error.toHtmlEscaped().replace('\n', "<br>"),
                                  tr("Check the server, or choose another with --db / PAUDM_DB, then retry.")));
    retry_->setVisible(true);
    banner_->show();
}

QStringList MainWindow::panelNames() {
    QStringList names;
    for (const PanelSpec& p : kPanels)
        names << p.name;
    return names;
}

QDockWidget* MainWindow::panel(const QString& name) const {
    // Earlier names: "nightly" for the report, "fits" for the viewer.
    return panels_.value(name == "nightly" ? QString("report") : name == "fits" ? QString("viewer") : name);
}

QDockWidget* MainWindow::addPanel(const QString& name, const QString& title, const QString& purpose,
                                  Qt::DockWidgetArea area) {
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName("panel-" + name); // saveState() keys docks by object name
    dock->setWidget(placeholder(title, purpose));
    addDockWidget(area, dock);
    panels_.insert(name, dock);
    return dock;
}

void MainWindow::closeWithoutAsking() {
    askBeforeClosing_ = false;
    if (!close() && !closeWhenRunnerStops_) QApplication::quit();
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (runnerHost_->isRunning()) {
        // Runner threads here hold jobs: never wait for them on the GUI thread. The window
        // closes once the runner has stopped (its `stopped` comes back here).
        if (closeWhenRunnerStops_) {
            event->ignore();
            return;
        }
        double grace = 0; // give the jobs back at once: they run again later
        const int inHand = runnerHost_->jobsInHand();
        if (inHand > 0 && askBeforeClosing_ && QGuiApplication::platformName() != "offscreen") {
            QMessageBox box(QMessageBox::Question, tr("Jobs are running here"),
                            tr("The console's runner has %n job(s) in hand.", nullptr, inHand), QMessageBox::NoButton,
                            this);
            box.setInformativeText(tr("Give them back: they stop now and run again later (here or on any runner). "
                                      "Or let them finish first, and the console closes when they are done."));
            QPushButton* giveBack = box.addButton(tr("&Give back and close"), QMessageBox::AcceptRole);
            QPushButton* finish = box.addButton(tr("&Finish, then close"), QMessageBox::ActionRole);
            box.addButton(QMessageBox::Cancel);
            box.setDefaultButton(giveBack);
            box.exec();
            if (box.clickedButton() == finish)
                grace = -1;
            else if (box.clickedButton() != giveBack) {
                event->ignore();
                return;
            }
        }
        closeWhenRunnerStops_ = true;
        connect(
            runnerHost_, &RunnerHost::stopped, this, [this] { close(); }, Qt::SingleShotConnection);
        runnerHost_->stop(grace);
        statusBar()->showMessage(grace < 0 ? tr("Closing when the jobs in hand are done...")
                                           : tr("Giving back the jobs in hand, then closing..."));
        event->ignore();
        return;
    }
    QSettings settings;
    settings.setValue("mainwindow/geometry", saveGeometry());
    settings.setValue("mainwindow/state", saveState());
    // Every query, connect and load in flight ends now (even against a server that does
    // not answer), so that the worker threads are free and the process can end at once.
    Background::interruptEverything();
    stopAllListening();
    event->accept();
}

} // namespace paudm::ui
