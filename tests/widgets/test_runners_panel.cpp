// The Runners panel: live, dead and stopped runners as the database says, heartbeat ages,
// jobs in hand, and runner threads started and stopped inside the console, with the queue
// draining through them.
#include "jobtest.h"

#include "runnerhost.h"
#include "runners/runnerspanel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QtTest>

using namespace paudm;

namespace {
QString cell(const QAbstractItemModel* m, int row, int column) { return m->index(row, column).data().toString(); }
} // namespace

class TestRunnersPanel : public QObject {
    Q_OBJECT
private slots:
    void showsRunnersAndRunsTheQueueHere() {
        const std::string conninfo = test::freshJobDatabase("runners_panel");
        db::Connection c = db::Connection::open(conninfo);
        // A stopped runner (ran until idle), and a dead one: alive once, silent since.
        test::runUntilIdle(conninfo, 1);
        c.exec("INSERT INTO runner (host, pid, threads, lease_s, heartbeat) "
               "VALUES ('farm-node-7', 4242, 8, 30, now() - interval '5 minutes')");
        jobs::JobStore store(c);
        jobs::NewJob j;
        j.name = "fanout";
        j.config = {{"n", 30}};
        store.create(j, true);

        ui::RunnerHost host;
        ui::RunnersPanel panel(&host);
        QAbstractItemModelTester tester(panel.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        panel.resize(900, 500);
        panel.show();
        panel.setDatabase(conninfo);
        QTRY_VERIFY_WITH_TIMEOUT(panel.hasLoaded(), 10000);
        const auto* m = panel.model();
        QCOMPARE(m->rowCount(), 2);
        QCOMPARE(cell(m, 0, ui::RunnerTableModel::Host), QString("farm-node-7")); // newest first
        QCOMPARE(cell(m, 0, ui::RunnerTableModel::State), QString("dead"));
        QCOMPARE(cell(m, 0, ui::RunnerTableModel::Heartbeat), QString("5 min ago"));
        QCOMPARE(cell(m, 1, ui::RunnerTableModel::State), QString("stopped"));
        QCOMPARE(store.queueCounts().ready, std::int64_t(1)); // the fanout's prolog

        // Runner threads inside the console drain the queue: the prolog's 30 sub-jobs, then
        // its epilog. The panel hears the new runner by itself.
        jobs::RunnerOptions o = test::runnerOptions(conninfo, 2);
        o.untilIdle = true;
        QSignalSpy stopped(&host, &ui::RunnerHost::stopped);
        QVERIFY(host.start(o));
        QTRY_COMPARE_WITH_TIMEOUT(stopped.count(), 1, 60000);
        QCOMPARE(stopped.at(0).at(0).value<jobs::RunnerStats>().done, std::int64_t(32));
        QTRY_COMPARE_WITH_TIMEOUT(m->rowCount(), 3, 10000);
        QCOMPARE(cell(m, 0, ui::RunnerTableModel::State), QString("stopped"));
        QCOMPARE(cell(m, 0, ui::RunnerTableModel::Done), QString("32"));
        QCOMPARE(store.queueCounts().ready + store.queueCounts().running, std::int64_t(0));

        // A steady stream of notifications (hundreds of runners' heartbeats) still reloads
        // the panel once per interval: 2 s of a notification every 50 ms gives about six
        // loads at 300 ms, and none if each notification restarted the wait.
        QSignalSpy loads(&panel, &ui::RunnersPanel::loaded);
        for (int i = 0; i < 40; ++i) {
            c.exec("NOTIFY paudm_runners");
            QTest::qWait(50);
        }
        QVERIFY2(loads.count() >= 3, qPrintable(QString("%1 loads").arg(loads.count())));
    }
};

QTEST_MAIN(TestRunnersPanel)
#include "test_runners_panel.moc"
