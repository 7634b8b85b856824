// core/db/connection: parameters, transactions, COPY, LISTEN/NOTIFY and errors, against
// a real PostgreSQL started by the embedded-server code.
#include "testserver.h"

#include "db/connection.h"

#include <QtTest>

#include <cmath>
#include <thread>

using paudm::Error;
using paudm::db::Connection;
using paudm::db::Param;
using paudm::db::Transaction;
using paudm::test::TestServer;

class TestConnection : public QObject {
    Q_OBJECT
    std::string conninfo_;

private slots:
    void initTestCase() {
        conninfo_ = TestServer::instance().freshDatabase("t_connection");
        Connection c = Connection::open(conninfo_);
        c.exec("CREATE TABLE item (id serial PRIMARY KEY, name text UNIQUE, x double precision, n bigint, "
               "flag boolean, note text)");
    }

    void parametersRoundTrip_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<double>("x");
        QTest::addColumn<qlonglong>("n");
        QTest::newRow("plain") << "NB455" << 455.0 << 1LL;
        QTest::newRow("quotes and injection") << "x'); DROP TABLE item; --" << -1.5 << -2LL;
        QTest::newRow("unicode") << QString::fromUtf8("Observatorio del Roque de los Muchachos – ñ ✓") << 1e-300 << 0LL;
        // 0.1 has no exact binary form: the text must round-trip to the same double.
        QTest::newRow("shortest repr") << "tab\there" << 0.1 << 9223372036854775807LL;
    }
    void parametersRoundTrip() {
        QFETCH(QString, text);
        QFETCH(double, x);
        QFETCH(qlonglong, n);
        Connection c = Connection::open(conninfo_);
        const auto r = c.query("SELECT $1::text, $2::float8, $3::int8, $4::text IS NULL", text.toStdString(), x,
                               static_cast<std::int64_t>(n), std::nullopt);
        QCOMPARE(QString::fromStdString(std::string(r.text(0, 0))), text);
        QCOMPARE(r.toDouble(0, 1), x); // exact, not fuzzy: the text form must be lossless
        QCOMPARE(r.toInt(0, 2), static_cast<std::int64_t>(n));
        QVERIFY(r.toBool(0, 3));
        QVERIFY(c.exec("SELECT to_regclass('item') IS NOT NULL").toBool(0, 0)); // nothing was injected
    }

    void specialDoubles() {
        Connection c = Connection::open(conninfo_);
        const auto r = c.query("SELECT $1::float8, $2::float8", NAN, -INFINITY);
        QVERIFY(std::isnan(r.toDouble(0, 0)));
        QCOMPARE(r.toDouble(0, 1), -INFINITY);
    }

    void transactionRollsBackUnlessCommitted() {
        Connection c = Connection::open(conninfo_);
        {
            Transaction t(c);
            c.query("INSERT INTO item (name) VALUES ($1)", "rolled back");
        } // no commit: destructor rolls back
        QCOMPARE(c.query("SELECT count(*) FROM item WHERE name = $1", "rolled back").toInt(0, 0), 0);
        {
            Transaction t(c);
            c.query("INSERT INTO item (name) VALUES ($1)", "kept");
            t.commit();
        }
        QCOMPARE(c.query("SELECT count(*) FROM item WHERE name = $1", "kept").toInt(0, 0), 1);
        c.exec("DELETE FROM item");
    }

    void errorsCarrySqlstate_data() {
        QTest::addColumn<QString>("sql");
        QTest::addColumn<QString>("sqlstate");
        QTest::newRow("undefined table") << "SELECT * FROM no_such_table" << "42P01";
        QTest::newRow("syntax") << "SELEC 1" << "42601";
        QTest::newRow("division by zero") << "SELECT 1/0" << "22012";
        QTest::newRow("unique violation") << "INSERT INTO item (name) VALUES ('dup'), ('dup')" << "23505";
    }
    void errorsCarrySqlstate() {
        QFETCH(QString, sql);
        QFETCH(QString, sqlstate);
        Connection c = Connection::open(conninfo_);
        try {
            c.exec(sql.toStdString());
            QFAIL("no error");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.code()), sqlstate);
            QVERIFY2(QString(e.what()).contains("SQLSTATE " + sqlstate), e.what());
            QVERIFY2(QString(e.what()).contains("dbname=t_connection"), e.what()); // names the target
        }
        QVERIFY(c.isHealthy()); // the connection survives a failed statement
    }

    void copyInAndOutRoundTrip() {
        Connection c = Connection::open(conninfo_);
        c.exec("DELETE FROM item");
        const int rows = 5000;
        int produced = 0;
        const auto sent = c.copyIn("COPY item (name, x, n, note) FROM STDIN", [&](std::string& buf) {
            for (int i = 0; i < 500 && produced < rows; ++i, ++produced) {
                Connection::appendCopyField(buf, "obj" + std::to_string(produced));
                buf += '\t';
                Connection::appendCopyField(buf, *paudm::db::toParam(produced * 0.25));
                buf += '\t';
                Connection::appendCopyField(buf, std::to_string(produced));
                buf += '\t';
                // Tabs, newlines and backslashes in data must survive the text format.
                Connection::appendCopyField(buf, produced % 2 ? Param("a\tb\nc\\d") : Param(std::nullopt));
                buf += '\n';
            }
            return produced < rows;
        });
        QCOMPARE(sent, static_cast<std::int64_t>(rows));
        const auto sums = c.exec("SELECT count(*), sum(x), sum(n), count(note), "
                                 "bool_and(note = E'a\\tb\\nc\\\\d') FROM item");
        QCOMPARE(sums.toInt(0, 0), rows);
        QCOMPARE(sums.toDouble(0, 1), 0.25 * (rows - 1) * rows / 2); // exact in binary
        QCOMPARE(sums.toInt(0, 2), static_cast<std::int64_t>(rows - 1) * rows / 2);
        QCOMPARE(sums.toInt(0, 3), rows / 2);
        QVERIFY(sums.toBool(0, 4));

        std::int64_t lines = 0;
        std::string first;
        const auto got = c.copyOut("COPY (SELECT name, note FROM item ORDER BY n) TO STDOUT", [&](std::string_view l) {
            if (lines++ == 1) first = l;
        });
        QCOMPARE(got, static_cast<std::int64_t>(rows));
        QCOMPARE(lines, static_cast<std::int64_t>(rows));
        QCOMPARE(QString::fromStdString(first), QString("obj1\ta\\tb\\nc\\\\d\n"));
    }

    void copyInAbortsOnProducerError() {
        Connection c = Connection::open(conninfo_);
        c.exec("DELETE FROM item");
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, c.copyIn("COPY item (name) FROM STDIN", [](std::string& buf) -> bool {
            buf += "one\n";
            throw std::runtime_error("producer failed");
        }));
        QCOMPARE(c.exec("SELECT count(*) FROM item").toInt(0, 0), 0); // nothing half written
        QVERIFY(c.isHealthy());
    }

    void listenNotify() {
        Connection listener = Connection::open(conninfo_);
        Connection sender = Connection::open(conninfo_);
        listener.listen("job events"); // a channel name that needs quoting
        std::thread t([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            sender.notify("job events", "42:DONE");
        });
        const auto got = listener.waitNotifications(std::chrono::seconds(10));
        t.join();
        QCOMPARE(got.size(), size_t(1));
        QCOMPARE(QString::fromStdString(got[0].channel), QString("job events"));
        QCOMPARE(QString::fromStdString(got[0].payload), QString("42:DONE"));
        // Nothing more arrives: a short wait returns empty.
        QVERIFY(listener.waitNotifications(std::chrono::milliseconds(50)).empty());
    }

    void unreachableServerNamesTargetNotPassword_data() {
        QTest::addColumn<QString>("conninfo");
        QTest::newRow("keywords") << "host=/nonexistent/socket/dir port=5999 dbname=paudb user=pau password=s3cr3t-pw";
        QTest::newRow("uri") << "postgresql://pau:s3cr3t-pw@127.0.0.1:1/paudb?connect_timeout=3";
        QTest::newRow("malformed") << "host=x password=s3cr3t-pw dbname";
    }
    void unreachableServerNamesTargetNotPassword() {
        QFETCH(QString, conninfo);
        try {
            Connection::open(conninfo.toStdString());
            QFAIL("connected to nothing");
        } catch (const Error& e) {
            const QString msg = e.what();
            QVERIFY2(!msg.contains("s3cr3t-pw"), qPrintable(msg));
            QVERIFY2(msg.contains("cannot connect"), qPrintable(msg));
            if (!QTest::currentDataTag() || QString(QTest::currentDataTag()) != "malformed")
                QVERIFY2(msg.contains("paudb"), qPrintable(msg)); // the target is named
            QVERIFY(!e.code().empty());
        }
        QVERIFY(!QString::fromStdString(paudm::db::describeConninfo(conninfo.toStdString())).contains("s3cr3t"));
    }

    void uriLeavesPasswordOut() {
        const std::string original = "host=/run/pg dbname='pau db' user=pau password=s3cr3t sslmode=disable";
        const std::string uri = paudm::db::conninfoToUri(original);
        QVERIFY2(uri.starts_with("postgresql:///pau%20db?"), uri.c_str());
        QVERIFY2(uri.find("s3cr3t") == std::string::npos, uri.c_str());
        QVERIFY2(uri.find("sslmode=disable") != std::string::npos, uri.c_str());
        // libpq reads the URI back as the same target.
        QCOMPARE(paudm::db::describeConninfo(uri), paudm::db::describeConninfo(original));
    }
};

QTEST_GUILESS_MAIN(TestConnection)
#include "test_connection.moc"
