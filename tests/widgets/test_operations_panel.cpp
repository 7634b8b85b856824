// The Operations and Job graph panels on a real database: pages fetched as the table
// scrolls (checked against the job table itself), filters, the QC flags, the detail of a
// job with its sub-jobs' QC plot and sub-job tree, live rows from notifications, and the
// layered graph of a diamond of 500 jobs, collapsed by task and not.
#include "jobtest.h"

#include "graph/jobgraphpanel.h"
#include "runnerhost.h"
#include "operations/jobdetailview.h"
#include "operations/jobtablemodel.h"
#include "operations/operationspanel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QGraphicsItem>
#include <QGraphicsView>
#include <QMessageBox>
#include <QPushButton>
#include <QTableWidget>
#include <QTreeWidget>
#include <QtTest>

using namespace paudm;

namespace {

std::vector<std::int64_t> idsOf(const ui::JobTableModel* m) {
    std::vector<std::int64_t> ids;
    for (int r = 0; r < m->rowCount(); ++r) ids.push_back(m->idAt(r));
    return ids;
}

std::vector<std::int64_t> idsFrom(db::Connection& c, const std::string& sql) {
    const auto r = c.exec(sql);
    std::vector<std::int64_t> ids;
    for (int i = 0; i < r.size(); ++i) ids.push_back(r.toInt(i, 0));
    return ids;
}

} // namespace

class TestOperationsPanel : public QObject {
    Q_OBJECT
private slots:
    void init() { QSettings().clear(); } // no filter or column choice left from another run

    void pagesFiltersDetailAndLiveRows() {
        const std::string conninfo = test::freshJobDatabase("operations_panel");
        db::Connection c = db::Connection::open(conninfo);
        jobs::JobStore store(c);
        // A fanout whose sub-job i records 1.0 + 0.5 i against [1, 4]: i = 7, 8, 9 fail.
        jobs::NewJob fan;
        fan.name = "fanout";
        fan.config = {{"n", 10}, {"subjob_config", QJsonObject{{"qc_value", 1.0}, {"qc_step", 0.5}, {"qc_min", 1.0}, {"qc_max", 4.0}}}};
        const auto fanId = store.create(fan, true);
        test::runUntilIdle(conninfo, 2);
        // 450 more top-level jobs; every ninth failed.
        c.exec("INSERT INTO job (name, status, description, ts_created) "
               "SELECT 'noop', CASE WHEN g % 9 = 0 THEN 'FAILED' ELSE 'DONE' END, 'seed ' || g, now() "
               "FROM generate_series(1, 450) g");

        ui::OperationsPanel panel;
        QAbstractItemModelTester tester(panel.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy pages(&panel, &ui::OperationsPanel::firstPageShown);
        panel.resize(1200, 800);
        panel.show();
        panel.setDatabase(conninfo);
        QTRY_VERIFY_WITH_TIMEOUT(panel.hasLoaded() && pages.count() == 1, 10000);
        auto* m = panel.model();
        // Pages, not all 451 rows: the first, and the one QAbstractItemModelTester asks for.
        QTRY_VERIFY_WITH_TIMEOUT(m->canFetchMore({}), 30000);
        QVERIFY(m->rowCount() == ui::JobTableModel::kPage || m->rowCount() == 2 * ui::JobTableModel::kPage);
        // Scrolling to the end fetches the next pages, until the last (51 rows) says done.
        for (;;) {
            QTRY_VERIFY_WITH_TIMEOUT(!m->fetching(), 30000);
            if (!m->canFetchMore({})) break;
            m->fetchMore({});
        }
        const auto shown = idsOf(m), truth = idsFrom(c, "SELECT id FROM job WHERE super_id IS NULL ORDER BY id DESC");
        QCOMPARE(shown.size(), truth.size());
        QVERIFY(shown == truth);

        // Status filter: the 50 failed seeds.
        jobs::JobFilter failed;
        failed.topLevel = true;
        failed.statuses = {"FAILED"};
        panel.setFilter(failed);
        QTRY_COMPARE_WITH_TIMEOUT(pages.count(), 2, 10000);
        QCOMPARE(idsOf(m), idsFrom(c, "SELECT id FROM job WHERE super_id IS NULL AND status = 'FAILED' ORDER BY id DESC"));
        QCOMPARE(m->rowCount(), 50);

        // Free text, as the database matches it independently: "seed 44" and "seed 440".."449".
        jobs::JobFilter text;
        text.topLevel = true;
        text.text = "Seed 44";
        panel.setFilter(text);
        QTRY_COMPARE_WITH_TIMEOUT(pages.count(), 3, 10000);
        QCOMPARE(m->rowCount(), 11);

        // QC red among all jobs: the three failing sub-jobs, and the parent whose only
        // (aggregate) check failed.
        jobs::JobFilter red;
        red.qc = "red";
        panel.setFilter(red);
        QTRY_COMPARE_WITH_TIMEOUT(pages.count(), 4, 10000);
        QCOMPARE(m->rowCount(), 4);
        QCOMPARE(m->idAt(m->rowCount() - 1), fanId); // the oldest of them
        for (int r = 0; r < m->rowCount(); ++r)
            QCOMPARE(m->index(r, ui::JobTableModel::Qc).data(Qt::DecorationRole).value<QColor>(), ui::qcColour("red"));

        // The detail: one QC check, ten sub-job values plotted, three outside; ten sub-jobs.
        QSignalSpy details(&panel, &ui::OperationsPanel::detailShown);
        panel.showJob(fanId);
        QTRY_VERIFY_WITH_TIMEOUT(!details.isEmpty(), 10000);
        QCOMPARE(details.last().at(0).value<std::int64_t>(), fanId);
        QCOMPARE(panel.detail()->qcTable()->rowCount(), 1);
        QCOMPARE(panel.detail()->qcTable()->item(0, 4)->text(), QString("FAIL"));
        QCOMPARE(panel.detail()->plottedPoints(), 10);
        QTRY_COMPARE_WITH_TIMEOUT(panel.detail()->subjobTree()->topLevelItemCount(), 10, 10000);
        QCOMPARE(panel.detail()->subjobTree()->topLevelItem(0)->text(0).toLongLong(), fanId + 1); // oldest first

        // Live: a job queued elsewhere appears on top without a reload by hand.
        jobs::JobFilter top;
        top.topLevel = true;
        panel.setFilter(top);
        QTRY_COMPARE_WITH_TIMEOUT(pages.count(), 5, 10000);
        jobs::NewJob noop;
        noop.name = "noop";
        const auto newId = store.create(noop, true);
        QTRY_COMPARE_WITH_TIMEOUT(m->idAt(0), newId, 10000);
        QCOMPARE(m->index(0, ui::JobTableModel::Status).data().toString(), QString("QUEUED"));
        QCOMPARE(pages.count(), 5); // a refresh, not a new first page

        // Bulk retry of the filter: the question names how many jobs, then they are retried.
        panel.setFilter(failed);
        QTRY_COMPARE_WITH_TIMEOUT(pages.count(), 6, 10000);
        QString asked;
        QTimer answer;
        connect(&answer, &QTimer::timeout, [&] {
            if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
                asked = box->text();
                box->button(QMessageBox::Yes)->click();
            }
        });
        answer.start(50);
        QAction* retryAll = nullptr;
        for (QAction* a : panel.actions())
            if (a->text().startsWith("Retry matching")) retryAll = a;
        QVERIFY(retryAll);
        retryAll->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(test::scalar(c, "SELECT count(*) FROM job WHERE super_id IS NULL AND status = 'FAILED'"), 0, 10000);
        QVERIFY2(asked.startsWith("Retry 50 jobs"), qPrintable(asked)); // the dry run's count
        QTRY_COMPARE_WITH_TIMEOUT(m->rowCount(), 0, 10000); // the table follows
    }

    void completionsReachTheTableWithinSeconds() {
        // A runner commits completions in batches without a notification each, and beats
        // its heart only every lease / 3 (20 s here): the table must still show a job done
        // within a couple of seconds, from the runner's progress announcement.
        const std::string conninfo = test::freshJobDatabase("operations_live");
        db::Connection c = db::Connection::open(conninfo);
        jobs::NewJob slow;
        slow.name = "noop";
        slow.config = {{"sleep_s", 2.0}};
        const auto id = jobs::JobStore(c).create(slow, true);
        ui::OperationsPanel panel;
        panel.show();
        panel.setDatabase(conninfo);
        QTRY_VERIFY_WITH_TIMEOUT(panel.hasLoaded() && panel.model()->rowCount() == 1, 10000);
        ui::RunnerHost host;
        jobs::RunnerOptions o = test::runnerOptions(conninfo, 1);
        o.untilIdle = false;
        o.leaseS = 60;
        QVERIFY(host.start(o));
        auto status = [&] { return panel.model()->index(0, ui::JobTableModel::Status).data().toString(); };
        QTRY_COMPARE_WITH_TIMEOUT(status(), QString("RUNNING"), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(test::statusOf(c, id), std::string("DONE"), 10000);
        QElapsedTimer sinceDone;
        sinceDone.start();
        QTRY_COMPARE_WITH_TIMEOUT(status(), QString("DONE"), 5000); // the next heartbeat is ~18 s away
        QVERIFY2(sinceDone.elapsed() < 5000, qPrintable(QString::number(sinceDone.elapsed())));
        QSignalSpy stopped(&host, &ui::RunnerHost::stopped);
        host.stop();
        QTRY_COMPARE_WITH_TIMEOUT(stopped.count(), 1, 20000);
    }

    void graphOfADiamondOf500() {
        const std::string conninfo = test::freshJobDatabase("graph_panel");
        db::Connection c = db::Connection::open(conninfo);
        jobs::JobStore store(c);
        // 0 -> (1 .. 498) -> 499, sub-job 250 a `fail` job: 500 nodes, 996 edges, 3 layers.
        jobs::NewJob fan;
        fan.name = "fanout";
        fan.config = {{"n", 500}, {"shape", "diamond"}, {"fail_index", 250}, {"subjob_max_attempts", 1}};
        const auto id = store.create(fan, true);
        test::runUntilIdle(conninfo, 2);

        ui::JobGraphPanel panel;
        QSignalSpy loaded(&panel, &ui::JobGraphPanel::loaded);
        panel.resize(1000, 700);
        panel.show();
        panel.setDatabase(conninfo);
        panel.showJob(id);
        QTRY_VERIFY_WITH_TIMEOUT(!loaded.isEmpty() && panel.jobId() == id, 10000);
        QCOMPARE(panel.graph().nodes.size(), size_t(500));
        QCOMPARE(panel.graph().edges.size(), size_t(996));
        // Collapsed by default above 300 jobs: noop (first), noop x497 and fail (middle),
        // noop (last), and the four arrows between those groups.
        QVERIFY(panel.collapsed());
        QCOMPARE(panel.boxes(), 4);
        QCOMPARE(panel.arrows(), 4);
        QCOMPARE(panel.layout().layers, 3);
        // Expanded: one box per job, every arrow pointing to a later layer.
        panel.setCollapse(Qt::Unchecked);
        QCOMPARE(panel.boxes(), 500);
        QCOMPARE(panel.arrows(), 996);
        QCOMPARE(panel.layout().widest, 498);
        for (const auto& [a, b] : panel.layout().edges)
            QVERIFY(panel.layout().groups[static_cast<std::size_t>(a)].layer < panel.layout().groups[static_cast<std::size_t>(b)].layer);
        int failedNodes = 0;
        for (const auto& n : panel.graph().nodes) failedNodes += n.status == "FAILED";
        QCOMPARE(failedNodes, 1);
        QVERIFY(!panel.grab().isNull()); // paints without a display

        // Live: a status changed elsewhere (and announced) recolours the same boxes.
        const auto last = panel.graph().nodes.back().id;
        c.exec("UPDATE job SET status = 'FAILED' WHERE id = " + std::to_string(last));
        c.exec("NOTIFY paudm_jobs, 'ended'");
        QTRY_COMPARE_WITH_TIMEOUT(panel.graph().nodes.back().status, std::string("FAILED"), 10000);
        QCOMPARE(panel.boxes(), 500); // the same layout, not a new one

        // A click on a box asks for that job's detail.
        QSignalSpy selected(&panel, &ui::JobGraphPanel::jobSelected);
        auto* view = panel.findChild<QGraphicsView*>("graph"); // not the charts' views
        QVERIFY(view);
        QGraphicsItem* box = nullptr;
        for (QGraphicsItem* item : view->scene()->items())
            if (item->boundingRect().width() < 400) box = item; // a box, not the path of all arrows
        QVERIFY(box);
        view->resetTransform(); // 1:1, as after zooming in
        view->centerOn(box);
        const QPoint at = view->mapFromScene(box->sceneBoundingRect().center());
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, at);
        QTRY_COMPARE_WITH_TIMEOUT(selected.count(), 1, 5000);
        QVERIFY(std::any_of(panel.graph().nodes.begin(), panel.graph().nodes.end(),
                            [&](const auto& n) { return n.id == selected.at(0).at(0).value<std::int64_t>(); }));
    }
};

QTEST_MAIN(TestOperationsPanel)
#include "test_operations_panel.moc"
