// Background, the one way the console works off the GUI thread: results come back on the
// GUI thread with their error codes intact, Cancel stops a statement on the server, an
// interrupt stops even a connect to a server that never answers, a panel that is gone
// gets nothing, and the worker threads keep their connections between calls.
#include "testserver.h"

#include "background.h"

#include "db/connection.h"

#include <QtTest>

#include <QElapsedTimer>

#include <optional>
#include <set>

using paudm::Result;
using paudm::db::Connection;
using paudm::test::TestServer;
using paudm::ui::Background;

class TestBackground : public QObject {
    Q_OBJECT

private slots:
    void resultArrivesOnTheGuiThread() {
        Background b(TestServer::instance().conninfo());
        QObject context;
        std::optional<Result<int>> got;
        Qt::HANDLE on = nullptr;
        b.query<int>(
            &context, [](Connection& c) { return static_cast<int>(c.exec("SELECT 6 * 7").toInt(0, 0)); },
            [&](const Result<int>& r) {
                got = r;
                on = QThread::currentThreadId();
            });
        QVERIFY(!got); // asynchronous: nothing before the event loop turns
        QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 15000);
        QCOMPARE(**got, 42);
        QCOMPARE(on, QThread::currentThreadId());
    }

    // The console once flattened errors to text on their way back: it could not tell a
    // cancelled query from a failed one.
    void errorsKeepTheirSqlstate() {
        Background b(TestServer::instance().conninfo());
        QObject context;
        std::optional<Result<int>> got;
        b.query<int>(
            &context, [](Connection& c) { return static_cast<int>(c.exec("SELECT 1 / 0").toInt(0, 0)); },
            [&](const Result<int>& r) { got = r; });
        QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 15000);
        QVERIFY(!*got);
        QCOMPARE(got->error().code(), std::string("22012")); // division_by_zero
    }

    void cancelStopsTheStatementOnTheServer() {
        const std::string conninfo = TestServer::instance().conninfo();
        Background b(conninfo);
        QObject context;
        std::optional<Result<int>> got;
        b.query<int>(
            &context, [](Connection& c) { return static_cast<int>(c.exec("SELECT pg_sleep(30)::text::int").size()); },
            [&](const Result<int>& r) { got = r; });
        Connection watch = Connection::open(conninfo);
        QTRY_VERIFY_WITH_TIMEOUT(
            watch.exec("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'").toInt(0, 0) ==
                1,
            10000);
        QElapsedTimer t;
        t.start();
        b.cancelStatements();
        QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 5000);
        QVERIFY2(t.elapsed() < 1000, qPrintable(QString("%1 ms").arg(t.elapsed())));
        QVERIFY(!*got);
        QCOMPARE(got->error().code(), std::string(paudm::db::kQueryCanceled));
        // The server is not running it any more.
        QTRY_COMPARE_WITH_TIMEOUT(watch
                                      .exec("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT "
                                            "pg_sleep(30)%' AND state = 'active'")
                                      .toInt(0, 0),
                                  std::int64_t(0), 5000);
        // And the same Background goes on working.
        got.reset();
        b.query<int>(
            &context, [](Connection& c) { return static_cast<int>(c.exec("SELECT 1").toInt(0, 0)); },
            [&](const Result<int>& r) { got = r; });
        QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 15000);
        QVERIFY2(*got, *got ? "" : got->error().what());
    }

    void interruptStopsAConnectThatNeverEnds() {
        const paudm::test::SilentPort silent;
        Background b(silent.conninfo());
        QObject context;
        bool called = false;
        b.query<int>(
            &context, [](Connection& c) { return static_cast<int>(c.exec("SELECT 1").size()); },
            [&](const Result<int>&) { called = true; });
        QThread::msleep(300);
        QCOMPARE(b.running(), 1); // still connecting
        QElapsedTimer t;
        t.start();
        b.interrupt();
        QTRY_COMPARE_WITH_TIMEOUT(b.running(), 0, 1000);
        QVERIFY2(t.elapsed() < 500, qPrintable(QString("%1 ms").arg(t.elapsed())));
        QTest::qWait(100);
        QVERIFY(!called); // an interrupted call's answer is dropped
    }

    void goneContextGetsNothing() {
        Background b(TestServer::instance().conninfo());
        bool called = false;
        auto* context = new QObject;
        b.query<int>(
            context, [](Connection& c) { return static_cast<int>(c.exec("SELECT pg_sleep(0.2)").size()); },
            [&](const Result<int>&) { called = true; });
        delete context;
        QTRY_COMPARE_WITH_TIMEOUT(b.running(), 0, 5000);
        QTest::qWait(100);
        QVERIFY(!called);
    }

    // Live panels once opened a new connection at every refresh (up to three a second each).
    void workerThreadsKeepTheirConnections() {
        const std::string conninfo = TestServer::instance().freshDatabase("t_background_reuse");
        Background b(conninfo);
        QObject context;
        std::set<std::int64_t> backends;
        int answers = 0;
        for (int i = 0; i < 60; ++i) {
            b.query<std::int64_t>(
                &context, [](Connection& c) { return c.exec("SELECT pg_backend_pid()").toInt(0, 0); },
                [&](const Result<std::int64_t>& r) {
                    if (r) backends.insert(*r);
                    ++answers;
                });
            if (i % 10 == 9) QTRY_COMPARE_WITH_TIMEOUT(answers, i + 1, 15000);
        }
        QTRY_COMPARE_WITH_TIMEOUT(answers, 60, 15000);
        // At most one session per worker thread, whatever the number of calls.
        QVERIFY2(backends.size() <= static_cast<std::size_t>(std::max(4, QThread::idealThreadCount() + 2)),
                 qPrintable(QString("%1 sessions for 60 calls").arg(backends.size())));
    }
};

QTEST_MAIN(TestBackground)
#include "test_background.moc"
