// Schema migrations: from empty, re-applied, a failing one, an edited one, and two
// migrators racing, on a real PostgreSQL.
#include "testserver.h"

#include "db/connection.h"
#include "db/migrations.h"

#include <QtTest>

#include <thread>

using paudm::Error;
using paudm::db::Connection;
using paudm::db::Migration;
using paudm::test::TestServer;

class TestMigrations : public QObject {
    Q_OBJECT
    static int bundledCount() { return static_cast<int>(paudm::db::bundledMigrations().size()); }

private slots:
    void bundledAreNumberedWithoutGaps() {
        const auto& all = paudm::db::bundledMigrations();
        QVERIFY(all.size() >= 4);
        for (size_t i = 0; i < all.size(); ++i) QCOMPARE(all[i].version, static_cast<int>(i + 1));
    }

    void fromEmptyThenIdempotent() {
        Connection c = Connection::open(TestServer::instance().freshDatabase("t_mig_empty"));
        QCOMPARE(paudm::db::schemaVersion(c), 0);
        const auto first = paudm::db::migrate(c);
        QCOMPARE(first.fromVersion, 0);
        QCOMPARE(first.toVersion, bundledCount());
        QCOMPARE(static_cast<int>(first.applied.size()), bundledCount());
        QCOMPARE(c.exec("SELECT count(*) FROM schema_migration").toInt(0, 0), bundledCount());

        const auto tablesBefore = c.exec("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").toInt(0, 0);
        const auto second = paudm::db::migrate(c);
        QVERIFY(second.applied.empty());
        QCOMPARE(second.fromVersion, bundledCount());
        QCOMPARE(second.toVersion, bundledCount());
        QCOMPARE(c.exec("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").toInt(0, 0), tablesBefore);
    }

    void failingMigrationRollsBack() {
        Connection c = Connection::open(TestServer::instance().freshDatabase("t_mig_fail"));
        std::vector<Migration> list = {
            {1, "0001_first.sql", "CREATE TABLE first_table (id int);"},
            // Creates a table, then fails: the table must not survive.
            {2, "0002_broken.sql", "CREATE TABLE half_done (id int); INSERT INTO half_done VALUES (1); SELECT 1/0;"},
            {3, "0003_after.sql", "CREATE TABLE after_table (id int);"},
        };
        try {
            paudm::db::migrate(c, list);
            QFAIL("the broken migration was applied");
        } catch (const Error& e) {
            const QString msg = e.what();
            QVERIFY2(msg.contains("0002_broken.sql"), qPrintable(msg)); // names the migration
            QVERIFY2(msg.contains("schema stays at version 1"), qPrintable(msg));
            QCOMPARE(QString::fromStdString(e.code()), QString("22012"));
        }
        QCOMPARE(paudm::db::schemaVersion(c), 1);
        QVERIFY(c.exec("SELECT to_regclass('first_table') IS NOT NULL").toBool(0, 0));
        QVERIFY(c.exec("SELECT to_regclass('half_done') IS NULL").toBool(0, 0));
        QVERIFY(c.exec("SELECT to_regclass('after_table') IS NULL").toBool(0, 0));

        // Fixed, it applies from where it stopped.
        list[1].sql = "CREATE TABLE half_done (id int);";
        const auto report = paudm::db::migrate(c, list);
        QCOMPARE(report.fromVersion, 1);
        QCOMPARE(report.toVersion, 3);
    }

    void editedMigrationIsRefused() {
        Connection c = Connection::open(TestServer::instance().freshDatabase("t_mig_edit"));
        std::vector<Migration> list = {{1, "0001_a.sql", "CREATE TABLE a (id int);"}};
        paudm::db::migrate(c, list);
        list[0].sql = "CREATE TABLE a (id bigint);";
        QVERIFY_THROWS_EXCEPTION(Error, paudm::db::migrate(c, list));
    }

    void newerDatabaseIsRefused() {
        Connection c = Connection::open(TestServer::instance().freshDatabase("t_mig_newer"));
        paudm::db::migrate(c, {{1, "0001_a.sql", "SELECT 1;"}, {2, "0002_b.sql", "SELECT 2;"}});
        try {
            paudm::db::migrate(c, {{1, "0001_a.sql", "SELECT 1;"}});
            QFAIL("an older program migrated a newer schema");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("newer than this program"), e.what());
        }
    }

    void concurrentMigratorsApplyOnce() {
        const std::string conninfo = TestServer::instance().freshDatabase("t_mig_race");
        std::vector<std::string> errors(4);
        std::vector<size_t> applied(4);
        std::vector<std::thread> threads;
        for (int i = 0; i < 4; ++i)
            threads.emplace_back([&, i] {
                try {
                    Connection c = Connection::open(conninfo);
                    applied[static_cast<size_t>(i)] = paudm::db::migrate(c).applied.size();
                } catch (const std::exception& e) {
                    errors[static_cast<size_t>(i)] = e.what();
                }
            });
        for (auto& t : threads) t.join();
        size_t total = 0;
        for (int i = 0; i < 4; ++i) {
            QVERIFY2(errors[static_cast<size_t>(i)].empty(), errors[static_cast<size_t>(i)].c_str());
            total += applied[static_cast<size_t>(i)];
        }
        QCOMPARE(static_cast<int>(total), bundledCount()); // each migration exactly once
        Connection c = Connection::open(conninfo);
        QCOMPARE(paudm::db::schemaVersion(c), bundledCount());
    }
};

QTEST_GUILESS_MAIN(TestMigrations)
#include "test_migrations.moc"
