// paudm-console: the PAUdm desktop console.
#include "connectionstatus.h"
#include "graph/jobgraphpanel.h"
#include "mainwindow.h"
#include "operations/operationspanel.h"
#include "report/reportpanel.h"
#include "runnerhost.h"
#include "sql/schemapanel.h"
#include "sql/sqlpanel.h"
#include "viewer/viewerpanel.h"
#include "transfer/transferpanel.h"

#include "background.h"

#include "common/stop_signals.h"
#include "db/database.h"
#include "fits/fits.h"

#include <QApplication>
#include "common/config.h"
#include "common/version.h"
#include "pipelines/tasks.h"

#include <QCommandLineParser>
#include <QDockWidget>
#include <QPixmap>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>

#include <cstdio>
#include <cstring>

namespace {

/// --screenshot needs no display: pick the offscreen platform before QApplication exists
/// when there is no display to draw on.
void chooseOffscreenIfHeadless(int argc, char** argv) {
    bool screenshot = false;
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--screenshot") == 0 || std::strncmp(argv[i], "--screenshot=", 13) == 0 ||
            // --help and --version print and exit: they work without a display too (man pages
            // are generated from them on build machines).
            std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0 ||
            std::strcmp(argv[i], "--version") == 0 || std::strcmp(argv[i], "-v") == 0)
            screenshot = true;
    if (screenshot && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY") &&
        qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
}

/// Qt's offscreen platform warns about window hints it cannot honour; that is expected
/// when rendering a screenshot and only noise for the user.
QtMessageHandler previousHandler = nullptr;

void quietOffscreenNoise(QtMsgType type, const QMessageLogContext& context, const QString& message) {
    if (message.contains("propagateSizeHints") || message.startsWith("QStandardPaths: XDG_RUNTIME_DIR")) return;
    if (previousHandler)
        previousHandler(type, context, message);
    else
        std::fprintf(stderr, "%s\n", qPrintable(message));
}

/// After the event loop: the window closed, every background call was interrupted; give
/// the worker threads a moment to return before the process ends (they need milliseconds;
/// one that does not is left behind rather than waited for).
int finish(int code) {
    paudm::ui::Background::interruptEverything();
    paudm::ui::Background::drain(500);
    return code;
}

} // namespace

int main(int argc, char** argv) {
    paudm::pipelines::installAllTasks(); // the engine runs the pipelines this program knows
    chooseOffscreenIfHeadless(argc, argv);
    if (qEnvironmentVariable("QT_QPA_PLATFORM") == "offscreen")
        previousHandler = qInstallMessageHandler(quietOffscreenNoise);
    QApplication app(argc, argv);
    QApplication::setApplicationName("paudm-console");
    QApplication::setOrganizationName("PAUdm");
    // --version: "paudm-console 0.1.0 (git ...)" and, on the next line, the libraries in use.
    QApplication::setApplicationVersion(QString::fromStdString(paudm::versionReport("").substr(1)));
    // The configuration files fill what the environment leaves unset (common/config.h).
    for (const std::string& problem : paudm::applyConfiguration())
        std::fprintf(stderr, "paudm-console: configuration: %s\n", problem.c_str());

    QCommandLineParser parser;
    parser.setApplicationDescription(
        "PAUdm console: transfer, jobs, images and quality of the PAU Survey.\n\n"
        "With neither --db nor PAUDM_DB the console starts (and the first time creates) a\n"
        "private PostgreSQL server under $PAUDM_HOME, shared with local 'paudm' commands.");
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({"db",
                      "PostgreSQL connection string, URI or service=NAME (default: $PAUDM_DB, else the "
                      "embedded server).",
                      "conninfo"});
    parser.addOption({"home", "PAUdm data folder (default: $PAUDM_HOME, else $XDG_DATA_HOME/paudm).", "dir"});
    parser.addOption({"buffer",
                      "The observatory buffer the Transfer panel shows (default: $PAUDM_BUFFER, else "
                      "$PAUDM_HOME/buffer).",
                      "dir"});
    parser.addOption({"archive", "The archive root (default: $PAUDM_ARCHIVE, else $PAUDM_HOME/archive).", "dir"});
    parser.addOption({"screenshot",
                      "Render the window to FILE.png once the database is connected, then exit "
                      "(works without a display).",
                      "file"});
    parser.addOption(
        {"panel",
         "With --screenshot: show this panel in front (" + paudm::ui::MainWindow::panelNames().join(", ") + ").",
         "name"});
    parser.addOption({"job",
                      "Show this job: its detail in Operations and its sub-jobs in the Job graph (default: the "
                      "newest job with sub-jobs in the graph).",
                      "id"});
    parser.addOption({"graph-view",
                      "The Job graph panel's view: graph, timeline or status (jobs per status over time).", "view",
                      "graph"});
    parser.addOption({"night", "Show this night (YYYY-MM-DD) in the Nightly report (default: the latest reduced).",
                      "date"});
    parser.addOption({"to", "With --night: the report's last night.", "date"});
    parser.addOption({"report-view", "The Nightly report's view: time, pair (two quantities), pass (pass rates) or "
                                     "compare.", "view", "time"});
    parser.addOption({"cuts", "The Nightly report's cut set, NAME or NAME@VERSION (default: the default one).", "spec"});
    parser.addOption({"query", "Run this read-only query in the SQL browser once connected (with --panel sql).",
                      "sql"});
    parser.addOption({"open", "Open this FITS file in the viewer: FILE, FILE[N] (1 = primary) or FILE[EXTNAME] (with "
                      "--panel viewer).", "file"});
    parser.addOption({"focal-plane", "With --open: the whole exposure as PAUCam's focal plane."});
    parser.addOption({"ccd", "With --open of a raw mosaic or a reduced CCD file: this CCD (1-18).", "n"});
    parser.addOption({"scale", "The viewer's display limits: zscale, minmax, or a percentage such as 99.5.", "mode"});
    parser.addOption({"stretch", "The viewer's stretch: linear, sqrt, log or asinh.", "name"});
    parser.addOption({"colormap", "The viewer's colour map: grey, heat or viridis.", "name"});
    parser.addOption({"table", "Show this table's columns, keys and indexes in the Schema panel.", "name"});
    parser.addOption({"obs-set", "Show this observation set's files in the Transfer panel, e.g. 20261123_1.", "name"});
    parser.addOption({"size", "Window size for --screenshot, WIDTHxHEIGHT (default 1400x900).", "size", "1400x900"});
    parser.addOption({"runner-threads",
                      "Run jobs inside the console with N runner threads (offline reprocessing "
                      "on one machine).",
                      "n", "0"});
    parser.process(app);

    if (parser.isSet("home")) qputenv("PAUDM_HOME", parser.value("home").toLocal8Bit());
    // The panels resolve them as every paudm command does: the option, else the variable.
    if (parser.isSet("buffer")) qputenv("PAUDM_BUFFER", parser.value("buffer").toLocal8Bit());
    if (parser.isSet("archive")) qputenv("PAUDM_ARCHIVE", parser.value("archive").toLocal8Bit());
    paudm::ui::ConnectionMonitor monitor(paudm::db::resolveTarget(parser.value("db").toStdString()));
    paudm::ui::MainWindow window(&monitor);
    // SIGTERM (the desktop session ending, a kill) and SIGINT close the window as the user
    // would, without questions: runner threads here give back their jobs.
    paudm::StopSignals onStop([&window](int, int) {
        QMetaObject::invokeMethod(
            &window, [&window] { window.closeWithoutAsking(); }, Qt::QueuedConnection);
    });

    if (parser.isSet("panel")) {
        QDockWidget* dock = window.panel(parser.value("panel"));
        if (!dock) {
            std::fprintf(stderr, "paudm-console: unknown panel '%s' (%s)\n", qPrintable(parser.value("panel")),
                         qPrintable(paudm::ui::MainWindow::panelNames().join(", ")));
            return 2;
        }
        dock->show();
        dock->raise();
    }

    if (parser.isSet("job")) {
        bool ok = false;
        const qint64 id = parser.value("job").toLongLong(&ok);
        if (!ok || id <= 0) {
            std::fprintf(stderr, "paudm-console: --job wants a job id (a positive number), not '%s'\n",
                         qPrintable(parser.value("job")));
            return 2;
        }
        window.operationsPanel()->showJob(id);
        window.graphPanel()->showJob(id);
    }
    if (parser.isSet("graph-view")) {
        const QStringList views{"graph", "timeline", "status"};
        const int view = views.indexOf(parser.value("graph-view"));
        if (view < 0) {
            std::fprintf(stderr, "paudm-console: --graph-view is graph, timeline or status, not '%s'\n",
                         qPrintable(parser.value("graph-view")));
            return 2;
        }
        window.graphPanel()->views()->setCurrentIndex(view);
    }
    if (parser.isSet("obs-set")) window.transferPanel()->showObsSet(parser.value("obs-set").toStdString());
    if (parser.isSet("night") || parser.isSet("to")) {
        const QDate from = QDate::fromString(parser.value("night"), Qt::ISODate),
                    to = parser.isSet("to") ? QDate::fromString(parser.value("to"), Qt::ISODate) : from;
        if (!from.isValid() || !to.isValid() || to < from) {
            std::fprintf(stderr, "paudm-console: --night (and --to) want nights YYYY-MM-DD, in order\n");
            return 2;
        }
        window.reportPanel()->showNights(from.toString(Qt::ISODate), to.toString(Qt::ISODate));
    }
    if (parser.isSet("cuts")) window.reportPanel()->showCuts(parser.value("cuts"));
    if (parser.isSet("query")) window.sqlPanel()->setQuery(parser.value("query"), true);
    if (parser.isSet("table")) window.schemaPanel()->showWhenLoaded(parser.value("table"));
    if (parser.isSet("scale") || parser.isSet("stretch") || parser.isSet("colormap")) {
        paudm::ui::ViewerPanel* v = window.viewerPanel();
        const QString scale = parser.value("scale");
        bool isNumber = false;
        const double percent = scale.toDouble(&isNumber);
        if (parser.isSet("scale") && scale != "zscale" && scale != "minmax" &&
            !(isNumber && (percent == 99.5 || percent == 99 || percent == 98 || percent == 95 || percent == 90))) {
            std::fprintf(stderr, "paudm-console: --scale is zscale, minmax, 99.5, 99, 98, 95 or 90, not '%s'\n",
                         qPrintable(scale));
            return 2;
        }
        if (parser.isSet("scale")) v->setScale(isNumber ? QString::number(percent) : scale);
        auto r = paudm::capture([&] {
            if (parser.isSet("stretch")) v->setStretch(paudm::viewer::parseStretch(parser.value("stretch").toStdString()));
            if (parser.isSet("colormap"))
                v->setColormap(paudm::viewer::parseColormap(parser.value("colormap").toStdString()));
        });
        if (!r) {
            std::fprintf(stderr, "paudm-console: %s\n", r.error().what());
            return 2;
        }
    }
    if (parser.isSet("open")) {
        paudm::ui::ViewerPanel* v = window.viewerPanel();
        if (!parser.isSet("panel")) {
            window.panel("viewer")->show();
            window.panel("viewer")->raise();
        }
        const QString file = parser.value("open");
        if (parser.isSet("focal-plane")) {
            v->openFocalPlane(paudm::fits::splitHduSpec(file.toStdString()).first.c_str());
        } else if (parser.isSet("ccd")) {
            const int ccd = parser.value("ccd").toInt();
            if (ccd < 1 || ccd > 18) {
                std::fprintf(stderr, "paudm-console: --ccd wants a CCD number from 1 to 18\n");
                return 2;
            }
            v->openCcd(file, ccd);
        } else {
            v->open(file);
        }
    }
    if (parser.isSet("report-view")) {
        const int view = QStringList{"time", "pair", "pass", "compare"}.indexOf(parser.value("report-view"));
        if (view < 0) {
            std::fprintf(stderr, "paudm-console: --report-view is time, pair, pass or compare, not '%s'\n",
                         qPrintable(parser.value("report-view")));
            return 2;
        }
        window.reportPanel()->views()->setCurrentIndex(view);
    }

    // Runner threads hosted by the console start once the database is there.
    paudm::ui::RunnerHost& runnerHost = *window.runnerHost();
    const int runnerThreads = parser.value("runner-threads").toInt();
    if (runnerThreads > 0) {
        QObject::connect(&monitor, &paudm::ui::ConnectionMonitor::changed, &runnerHost,
                         [&runnerHost, &monitor, &window, runnerThreads](const paudm::ui::ConnectionInfo& info) {
                             if (!info.ok || runnerHost.isRunning()) return;
                             paudm::jobs::RunnerOptions o;
                             o.conninfo = monitor.target().conninfo;
                             o.threads = runnerThreads;
                             o.taskExecutable = QCoreApplication::applicationDirPath() + "/paudm";
                             runnerHost.start(o);
                             window.statusBar()->showMessage(
                                 QObject::tr("running jobs here with %1 runner threads").arg(runnerThreads));
                         });
        QObject::connect(&runnerHost, &paudm::ui::RunnerHost::stopped, &window,
                         [&window](const paudm::jobs::RunnerStats& s, const QString& error) {
                             window.statusBar()->showMessage(
                                 error.isEmpty()
                                     ? QObject::tr("runner stopped: %1 jobs done, %2 failed").arg(s.done).arg(s.failed)
                                     : QObject::tr("runner stopped: %1").arg(error));
                         });
    }

    if (parser.isSet("screenshot")) {
        const QStringList wh = parser.value("size").split('x');
        const int w = wh.value(0).toInt(), h = wh.value(1).toInt();
        if (wh.size() != 2 || w < 200 || h < 150) {
            std::fprintf(stderr, "paudm-console: --size wants WIDTHxHEIGHT, e.g. 1400x900\n");
            return 2;
        }
        window.resize(w, h);
        const QString file = parser.value("screenshot");
        auto shoot = [&window, &monitor, file] {
            // Let queued layout and paint events settle before grabbing.
            QTimer::singleShot(200, &window, [&window, &monitor, file] {
                const bool saved = window.grab().save(file, "PNG");
                if (!saved) std::fprintf(stderr, "paudm-console: cannot write %s\n", qPrintable(file));
                if (!monitor.info().ok)
                    std::fprintf(stderr, "paudm-console: database: %s\n", qPrintable(monitor.info().error));
                QApplication::exit(saved ? 0 : 1);
            });
        };
        // Once connected, wait for the panels to show what they read (at most 10 s).
        QObject::connect(&monitor, &paudm::ui::ConnectionMonitor::changed, &window,
                         [&window, shoot](const paudm::ui::ConnectionInfo& info) {
                             if (!info.ok) return shoot();
                             QObject::connect(&window, &paudm::ui::MainWindow::panelsLoaded, &window, shoot,
                                              Qt::SingleShotConnection);
                             QTimer::singleShot(10000, &window, shoot);
                         });
        window.show();
        monitor.connectNow();
        return finish(QApplication::exec());
    }

    window.show();
    monitor.connectNow();
    return finish(QApplication::exec());
}
