// The console: its panels, the connection made off the GUI thread, and the offscreen
// screenshot that documentation and later tests rely on.
#include "testserver.h"

#include "background.h"
#include "connectionstatus.h"
#include "mainwindow.h"
#include "runnerhost.h"

#include "db/connection.h"
#include "jobs/store.h"

#include "db/database.h"
#include "db/embedded_server.h"
#include "db/migrations.h"

#include <QtTest>

#include <QDockWidget>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QToolBar>

#include <signal.h>

using paudm::test::TestServer;
using paudm::ui::ConnectionMonitor;
using paudm::ui::MainWindow;

namespace {

paudm::db::DatabaseTarget externalTarget(const std::string& conninfo) {
    paudm::db::DatabaseTarget t;
    t.kind = paudm::db::DatabaseTarget::Kind::External;
    t.conninfo = conninfo;
    return t;
}

} // namespace

class TestConsole : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QCoreApplication::setOrganizationName("PAUdm-tests"); }

    void hasEveryPanelOfTheDesign() {
        ConnectionMonitor monitor(externalTarget(TestServer::instance().conninfo()));
        MainWindow w(&monitor);
        const QStringList names = MainWindow::panelNames();
        QCOMPARE(names,
                 (QStringList{"operations", "graph", "transfer", "runners", "viewer", "report", "apertures", "schema", "sql"}));
        for (const QString& n : names) {
            QDockWidget* d = w.panel(n);
            QVERIFY2(d && d->widget(), qPrintable(n));
            QVERIFY(!d->toggleViewAction()->shortcut().isEmpty()); // Alt+1..9
        }
        QVERIFY(!w.panel("nonsense"));
    }

    void connectsWithoutBlockingTheGuiThread() {
        ConnectionMonitor monitor(externalTarget(TestServer::instance().conninfo()));
        MainWindow w(&monitor);
        QSignalSpy spy(&monitor, &ConnectionMonitor::changed);
        monitor.connectNow();
        // connectNow() only starts the work: the result arrives later, through the event loop.
        QVERIFY(!monitor.finished());
        QTRY_VERIFY_WITH_TIMEOUT(monitor.finished(), 60000);
        QCOMPARE(spy.count(), 1);
        const auto& info = monitor.info();
        QVERIFY2(info.ok, qPrintable(info.error));
        QCOMPARE(info.schemaVersion, static_cast<int>(paudm::db::bundledMigrations().size()));
        QCOMPARE(info.schemaVersion, info.knownSchemaVersion);
        QVERIFY(info.serverVersion.startsWith("15") || info.serverVersion.toDouble() >= 15);
        QVERIFY(!info.embedded);
    }

    void unreachableServerIsReportedNotHung() {
        ConnectionMonitor monitor(externalTarget("host=/nonexistent/dir dbname=paudb user=pau password=s3cr3t"));
        MainWindow w(&monitor);
        w.show();
        auto* banner = w.findChild<QToolBar*>("banner");
        QVERIFY(banner);
        QVERIFY2(!banner->isVisible(), "banner shown before any connection attempt");
        monitor.connectNow();
        QTRY_VERIFY_WITH_TIMEOUT(monitor.finished(), 30000);
        QVERIFY(banner->isVisible()); // no database: said across the top, not only in the status bar
        QVERIFY(!monitor.info().ok);
        QVERIFY2(monitor.info().error.contains("/nonexistent/dir"), qPrintable(monitor.info().error));
        QVERIFY(!monitor.info().error.contains("s3cr3t"));
    }

    void lostServerPutsUpTheBannerUntilItIsBack() {
        // A server of its own, to stop under the running console.
        const QString home = paudm::test::makeTempHome("console_lost");
        paudm::db::EmbeddedServer server(home);
        QVERIFY(server.start());
        {
            paudm::db::Connection c = paudm::db::Connection::open(server.uri());
            paudm::db::migrate(c);
        }
        ConnectionMonitor monitor(externalTarget(server.uri()));
        MainWindow w(&monitor);
        QSignalSpy loaded(&w, &MainWindow::panelsLoaded);
        w.show();
        monitor.connectNow();
        QTRY_VERIFY_WITH_TIMEOUT(!loaded.isEmpty(), 30000);
        auto* banner = w.findChild<QToolBar*>("banner");
        QVERIFY(!banner->isVisible());
        QVERIFY(server.stop());
        QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible(), 15000); // said across the top, by itself
        QVERIFY(server.start());
        QTRY_VERIFY_WITH_TIMEOUT(!banner->isVisible(), 20000); // back without a click
        QVERIFY(server.stop());
        const QString cluster = server.clusterDir();
        if (cluster != home) QDir(cluster).removeRecursively();
        QDir(home).removeRecursively();
    }

    void hostsRunnerThreads() {
        const std::string db = TestServer::instance().freshDatabase("t_console_runner");
        paudm::db::Connection c = paudm::db::Connection::open(db);
        paudm::db::migrate(c);
        paudm::jobs::NewJob fan;
        fan.name = "fanout";
        fan.config = {{"n", 20}, {"subjob_config", QJsonObject{{"sleep_s", 0.02}}}};
        const auto id = paudm::jobs::JobStore(c).create(fan, true);
        paudm::ui::RunnerHost host;
        QSignalSpy stopped(&host, &paudm::ui::RunnerHost::stopped);
        paudm::jobs::RunnerOptions o;
        o.conninfo = db;
        o.threads = 2;
        o.untilIdle = true;
        QVERIFY(host.start(o));
        QVERIFY(host.isRunning());
        QVERIFY(!host.start(o)); // one at a time
        // The GUI thread keeps turning its event loop while the jobs run.
        QTRY_COMPARE_WITH_TIMEOUT(stopped.count(), 1, 60000);
        QVERIFY(!host.isRunning());
        const auto stats = stopped.at(0).at(0).value<paudm::jobs::RunnerStats>();
        QCOMPARE(stats.done, 22); // 20 sub-jobs, the prolog and the epilog
        QVERIFY(stopped.at(0).at(1).toString().isEmpty());
        QCOMPARE(std::string(c.query("SELECT status FROM job WHERE id = $1", id).text(0, 0)), std::string("DONE"));
    }

    // Once, closing the console while the server did not answer waited on the GUI thread for
    // every listener's 10 s connect and every load in flight: tens of seconds.
    void closesWithinASecondWhenTheServerDoesNotAnswer() {
        paudm::test::SilentPort silent;
        QTemporaryDir dir;
        QProcess p;
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert("PAUDM_DB", QString::fromStdString(silent.conninfo()));
        env.insert("QT_QPA_PLATFORM", "offscreen");
        env.insert("XDG_CONFIG_HOME", dir.path());
        p.setProcessEnvironment(env);
        p.start(PAUDM_CONSOLE_EXE, QStringList{});
        QVERIFY(p.waitForStarted(10000));
        QThread::msleep(1500); // connecting: the server took the connection and says nothing
        QCOMPARE(p.state(), QProcess::Running);
        QElapsedTimer t;
        t.start();
        ::kill(static_cast<pid_t>(p.processId()), SIGTERM); // the session ending: close the window
        QVERIFY(p.waitForFinished(10000));
        const qint64 ms = t.elapsed();
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 0);
        QVERIFY2(ms < 1000, qPrintable(QString("closed %1 ms after SIGTERM").arg(ms)));
    }

    // The same inside the process, for the monitor and the panels' loads in flight.
    void closingTheWindowInterruptsEverything() {
        paudm::test::SilentPort silent;
        auto* monitor = new ConnectionMonitor(externalTarget(silent.conninfo()));
        auto* w = new MainWindow(monitor);
        w->show();
        monitor->connectNow();
        QThread::msleep(300);
        QElapsedTimer t;
        t.start();
        w->close();
        delete w;
        delete monitor;
        QVERIFY2(paudm::ui::Background::drain(1000), "a worker thread is still busy");
        QVERIFY2(t.elapsed() < 1000, qPrintable(QString("%1 ms").arg(t.elapsed())));
    }

    void screenshotOffscreen() {
        QTemporaryDir dir;
        const QString png = dir.filePath("console.png");
        QProcess p;
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert("PAUDM_HOME", TestServer::instance().home()); // the embedded server of this test
        env.remove("PAUDM_DB");
        env.remove("DISPLAY");
        env.remove("QT_QPA_PLATFORM");             // the console must pick offscreen by itself
        env.insert("XDG_CONFIG_HOME", dir.path()); // no remembered layout
        p.setProcessEnvironment(env);
        p.start(PAUDM_CONSOLE_EXE, {"--screenshot", png, "--panel", "sql"});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        QImage img(png);
        QCOMPARE(img.size(), QSize(1400, 900));
        // Not a blank image: many distinct colours.
        QSet<QRgb> colours;
        for (int y = 0; y < img.height(); y += 7)
            for (int x = 0; x < img.width(); x += 7)
                colours.insert(img.pixel(x, y));
        QVERIFY2(colours.size() > 20, qPrintable(QString::number(colours.size())));
        // The status bar shows the green "connected" dot (#008800) in its right half.
        bool green = false;
        for (int y = img.height() - 30; y < img.height() && !green; ++y)
            for (int x = img.width() / 2; x < img.width() && !green; ++x) {
                const QColor c = img.pixelColor(x, y);
                green = c.green() > 100 && c.red() < 60 && c.blue() < 60;
            }
        QVERIFY2(green, "no connected indicator in the status bar");
    }
};

QTEST_MAIN(TestConsole)
#include "test_console.moc"
