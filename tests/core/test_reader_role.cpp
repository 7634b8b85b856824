// The SQL browser's role reads everything and can change nothing, including its own
// statement timeout.
#include "testserver.h"

#include "db/connection.h"
#include "db/embedded_server.h"
#include "db/migrations.h"

#include <QtTest>

using paudm::Error;
using paudm::db::Connection;
using paudm::test::TestServer;

class TestReaderRole : public QObject {
    Q_OBJECT
    std::string db_;

    static QString sqlstateOf(Connection& c, const std::string& sql) {
        try {
            c.execScript(sql, "test statement");
        } catch (const Error& e) {
            return QString::fromStdString(e.code());
        }
        return "accepted";
    }

    /// A reader session that has switched off its read-only default (which it may do):
    /// what stops it then must be the privileges themselves.
    Connection writableReader() {
        Connection r = Connection::open(TestServer::instance().readerConninfo(db_), "test reader");
        r.exec("SET default_transaction_read_only = off");
        return r;
    }

private slots:
    void initTestCase() {
        db_ = "t_reader";
        Connection admin = Connection::open(TestServer::instance().freshDatabase(db_));
        paudm::db::migrate(admin);
        admin.exec("INSERT INTO project (name, description) VALUES ('PAUS', 'wide survey')");
    }

    void readsEveryTable() {
        Connection r = Connection::open(TestServer::instance().readerConninfo(db_), "test reader");
        QCOMPARE(std::string(r.exec("SELECT name FROM project").text(0, 0)), std::string("PAUS"));
        QCOMPARE(r.exec("SELECT count(*) FROM job").toInt(0, 0), 0);
        QCOMPARE(std::string(r.exec("SHOW statement_timeout").text(0, 0)), std::string("30s"));
        QCOMPARE(std::string(r.exec("SHOW default_transaction_read_only").text(0, 0)), std::string("on"));
    }

    void cannotWrite_data() {
        QTest::addColumn<QString>("sql");
        QTest::newRow("insert") << "INSERT INTO project (name) VALUES ('evil')";
        QTest::newRow("update") << "UPDATE project SET description = 'x'";
        QTest::newRow("delete") << "DELETE FROM project";
        QTest::newRow("truncate") << "TRUNCATE job";
        QTest::newRow("create table") << "CREATE TABLE evil (id int)";
        QTest::newRow("create temp table") << "CREATE TEMP TABLE evil (id int)";
        QTest::newRow("copy to program") << "COPY (SELECT 1) TO PROGRAM 'touch /tmp/paudm-evil'";
        QTest::newRow("copy from file") << "COPY project FROM '/etc/passwd'";
        QTest::newRow("alter") << "ALTER TABLE project ADD COLUMN evil int";
    }
    void cannotWrite() {
        QFETCH(QString, sql);
        Connection r = writableReader();
        // 42501 insufficient_privilege; 42809 for TRUNCATE/ALTER on a table it does not own
        // is reported as 42501 too in PostgreSQL 15.
        QCOMPARE(sqlstateOf(r, sql.toStdString()), QString("42501"));
        Connection admin = Connection::open(TestServer::instance().conninfo(db_));
        QCOMPARE(admin.exec("SELECT count(*) FROM project").toInt(0, 0), 1); // nothing changed
    }

    void cannotGrantItselfMore() {
        Connection r = writableReader();
        // Not the owner: PostgreSQL only warns that no privileges were granted.
        r.execScript("GRANT INSERT ON project TO paudm_reader", "test statement");
        QVERIFY(!r.exec("SELECT has_table_privilege('paudm_reader', 'project', 'INSERT')").toBool(0, 0));
        QVERIFY(r.exec("SELECT has_table_privilege('paudm_reader', 'project', 'SELECT')").toBool(0, 0));
    }

    void readOnlyByDefault() {
        Connection r = Connection::open(TestServer::instance().readerConninfo(db_), "test reader");
        QCOMPARE(sqlstateOf(r, "INSERT INTO project (name) VALUES ('evil')"), QString("25006"));
    }

    void cannotSetRole() {
        Connection r = Connection::open(TestServer::instance().readerConninfo(db_), "test reader");
        const std::string su = paudm::db::EmbeddedServer::superuserRole();
        QCOMPARE(sqlstateOf(r, "SET ROLE " + r.quoteIdentifier(su)), QString("42501"));
        QCOMPARE(sqlstateOf(r, "SET SESSION AUTHORIZATION " + r.quoteIdentifier(su)), QString("42501"));
    }

    void cannotRaiseTimeout_data() {
        QTest::addColumn<QString>("sql");
        QTest::newRow("SET to 0") << "SET statement_timeout = 0";
        QTest::newRow("SET above") << "SET statement_timeout = '10min'";
        QTest::newRow("SET SESSION") << "SET SESSION statement_timeout = 0";
        QTest::newRow("set_config") << "SELECT set_config('statement_timeout', '0', false)";
        QTest::newRow("in a transaction") << "BEGIN; SET LOCAL statement_timeout = 0; SELECT 1; COMMIT";
    }
    void cannotRaiseTimeout() {
        QFETCH(QString, sql);
        Connection r = Connection::open(TestServer::instance().readerConninfo(db_), "test reader");
        QCOMPARE(sqlstateOf(r, sql.toStdString()), QString("42501"));
        r.exec("ROLLBACK"); // leave the aborted transaction, if the statement opened one
        QCOMPARE(std::string(r.exec("SHOW statement_timeout").text(0, 0)), std::string("30s"));
    }

    void mayLowerTimeout() {
        Connection r = Connection::open(TestServer::instance().readerConninfo(db_), "test reader");
        r.exec("SET statement_timeout = '5s'");
        QCOMPARE(std::string(r.exec("SHOW statement_timeout").text(0, 0)), std::string("5s"));
    }

    void timeoutFromConnectionOptionsIsRefused() {
        // A session that asks for no timeout at connection time cannot run a statement:
        // the first one (our session set-up) is refused.
        try {
            Connection r = Connection::open(TestServer::instance().readerConninfo(db_) +
                                                " options='-c statement_timeout=0'",
                                            "test reader");
            QFAIL("a reader session without timeout was usable");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.code()), QString("42501"));
        }
    }

    void timeoutActuallyFires() {
        Connection r = Connection::open(TestServer::instance().readerConninfo(db_), "test reader");
        r.exec("SET statement_timeout = '300ms'");
        QCOMPARE(sqlstateOf(r, "SELECT pg_sleep(5)"), QString("57014")); // query_canceled
    }

    void othersAreNotGuarded() {
        Connection admin = Connection::open(TestServer::instance().conninfo(db_));
        admin.exec("SET statement_timeout = 0");
        QCOMPARE(std::string(admin.exec("SHOW statement_timeout").text(0, 0)), std::string("0"));
    }
};

QTEST_GUILESS_MAIN(TestReaderRole)
#include "test_reader_role.moc"
