// Schema migrations: from empty, re-applied, a failing one, an edited one, and two
// migrators racing, on a real PostgreSQL.
#include "testserver.h"

#include "db/connection.h"
#include "db/migrations.h"

#include <QtTest>

#include <QRegularExpression>

#include <map>
#include <thread>

using paudm::Error;
using paudm::db::Connection;
using paudm::db::Migration;
using paudm::db::Repeatable;
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
        const std::string conninfo = TestServer::instance().freshDatabase("t_mig_empty");
        Connection c = Connection::open(conninfo);
        QCOMPARE(paudm::db::schemaVersion(c), 0);
        const auto first = paudm::db::migrate(c);
        QCOMPARE(first.fromVersion, 0);
        QCOMPARE(first.toVersion, bundledCount());
        QCOMPARE(static_cast<int>(first.applied.size()), bundledCount());
        QCOMPARE(c.exec("SELECT count(*) FROM schema_migration").toInt(0, 0), bundledCount());

        const auto tablesBefore = c.exec("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").toInt(0, 0);
        // Up to date is seen without the migration lock, which another migrator may hold
        // (every runner checks at start): with the lock taken elsewhere, the check still
        // returns, where waiting for the lock would fail after lock_timeout.
        Connection holder = Connection::open(conninfo);
        holder.exec("SELECT pg_advisory_lock(5782997186950681153)"); // migrations.cpp's kMigrationLock
        c.exec("SET lock_timeout = '2s'");
        const auto second = paudm::db::migrate(c);
        QVERIFY(second.applied.empty());
        QCOMPARE(second.fromVersion, bundledCount());
        QCOMPARE(second.toVersion, bundledCount());
        QCOMPARE(c.exec("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").toInt(0, 0), tablesBefore);
    }

    void failingMigrationRollsBack() {
        Connection c = Connection::open(TestServer::instance().freshDatabase("t_mig_fail"));
        std::vector<Migration> list = {
            {1, "0001_first.sql", "CREATE TABLE first_table (id int);", {}},
            // Creates a table, then fails: the table must not survive.
            {2, "0002_broken.sql", "CREATE TABLE half_done (id int); INSERT INTO half_done VALUES (1); SELECT 1/0;", {}},
            {3, "0003_after.sql", "CREATE TABLE after_table (id int);", {}},
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
        std::vector<Migration> list = {{1, "0001_a.sql", "CREATE TABLE a (id int);", {}}};
        paudm::db::migrate(c, list);
        list[0].sql = "CREATE TABLE a (id bigint);";
        QVERIFY_THROWS_EXCEPTION(Error, paudm::db::migrate(c, list));
    }

    void rewrittenMigrationIsAcceptedUnderItsFormerChecksum() {
        Connection c = Connection::open(TestServer::instance().freshDatabase("t_mig_rewritten"));
        const std::string before = "CREATE TABLE a (id int); CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';";
        paudm::db::migrate(c, {{1, "0001_a.sql", before, {}}});
        const std::string then(c.exec("SELECT checksum FROM schema_migration").text(0, 0));
        // The function moved to a repeatable file: the new text is accepted only when the
        // old checksum is declared, and the record then holds the new one.
        const std::vector<Migration> moved = {{1, "0001_a.sql", "CREATE TABLE a (id int);", {}}};
        QVERIFY_THROWS_EXCEPTION(Error, paudm::db::migrate(c, moved));
        const std::vector<Migration> declared = {{1, "0001_a.sql", "CREATE TABLE a (id int);", {then}}};
        QVERIFY(paudm::db::migrate(c, declared).applied.empty());
        QVERIFY(std::string(c.exec("SELECT checksum FROM schema_migration").text(0, 0)) != then);
        QVERIFY(paudm::db::migrate(c, moved).applied.empty()); // exact from now on
    }

    void repeatableIsAppliedAgainOnlyWhenItChanges() {
        Connection c = Connection::open(TestServer::instance().freshDatabase("t_mig_repeat"));
        const std::vector<Migration> tables = {{1, "0001_t.sql", "CREATE TABLE t (v int); INSERT INTO t VALUES (2);", {}}};
        std::vector<Repeatable> fns = {{"f.sql", "CREATE OR REPLACE FUNCTION twice() RETURNS int LANGUAGE sql AS "
                                                 "'SELECT 2 * v FROM t';"}};
        auto r = paudm::db::migrate(c, tables, fns);
        QCOMPARE(r.reapplied, std::vector<std::string>{"f.sql"});
        QCOMPARE(c.exec("SELECT twice()").toInt(0, 0), 4);
        QVERIFY(paudm::db::migrate(c, tables, fns).reapplied.empty()); // unchanged: not applied again
        fns[0].sql = "CREATE OR REPLACE FUNCTION twice() RETURNS int LANGUAGE sql AS 'SELECT 2 * v + 1 FROM t';";
        QCOMPARE(paudm::db::migrate(c, tables, fns).reapplied, std::vector<std::string>{"f.sql"});
        QCOMPARE(c.exec("SELECT twice()").toInt(0, 0), 5);
        // A broken one rolls back and says which file; the working definition stays.
        fns[0].sql = "CREATE OR REPLACE FUNCTION twice() RETURNS int LANGUAGE sql AS 'SELECT nonsense FROM t';";
        try {
            paudm::db::migrate(c, tables, fns);
            QFAIL("a broken repeatable migration was applied");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("schema/functions/f.sql"), e.what());
        }
        QCOMPARE(c.exec("SELECT twice()").toInt(0, 0), 5);
    }

    /// The point of schema/functions: every function, view and trigger of the schema is
    /// written once in the tree, and no versioned migration defines one.
    void everyDefinitionIsWrittenOnce() {
        const QRegularExpression def(R"(CREATE\s+(?:OR\s+REPLACE\s+)?(FUNCTION|VIEW|TRIGGER)\s+(\w+)\s*(\([^)]*\))?)",
                                     QRegularExpression::CaseInsensitiveOption);
        std::map<std::string, int> seen;
        for (const auto& m : paudm::db::bundledMigrations()) {
            const auto it = def.globalMatch(QString::fromStdString(m.sql));
            QVERIFY2(!it.hasNext(), qPrintable(QString::fromStdString(m.name) + " defines " + def.match(QString::fromStdString(m.sql)).captured(0)));
        }
        QVERIFY(paudm::db::bundledRepeatables().size() >= 2);
        for (const auto& r : paudm::db::bundledRepeatables()) {
            auto it = def.globalMatch(QString::fromStdString(r.sql));
            while (it.hasNext()) {
                const auto m = it.next();
                // Overloads differ by their arguments' types.
                QString args = m.captured(3);
                args.remove(QRegularExpression(R"(\b\w+\s+(?=\w))"));
                seen[(m.captured(1).toUpper() + " " + m.captured(2) + args).toStdString()] += 1;
            }
        }
        QVERIFY(seen.size() >= 25);
        for (const auto& [name, n] : seen) QVERIFY2(n == 1, name.c_str());
        // And the database has each of them, from a fresh migration.
        Connection c = Connection::open(TestServer::instance().freshDatabase("t_mig_once"));
        paudm::db::migrate(c);
        const auto functions = c.exec("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                                      "WHERE n.nspname = 'public' AND p.proname LIKE 'job%'").toInt(0, 0);
        std::int64_t written = 0;
        for (const auto& [name, n] : seen) written += name.starts_with("FUNCTION job");
        QCOMPARE(functions, written);
    }

    void newerDatabaseIsRefused() {
        Connection c = Connection::open(TestServer::instance().freshDatabase("t_mig_newer"));
        paudm::db::migrate(c, {{1, "0001_a.sql", "SELECT 1;", {}}, {2, "0002_b.sql", "SELECT 2;", {}}});
        try {
            paudm::db::migrate(c, {{1, "0001_a.sql", "SELECT 1;", {}}});
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
