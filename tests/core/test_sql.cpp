// The SQL browser's engine (core/sql) against the real embedded server, on the read-only
// role: what it refuses, the row limit and its notice, the timeout, Cancel, a fresh session
// per query, the schema as the catalog has it, and CSV and FITS exports read back by
// independent parsers (Python's csv module, astropy).
#include "testserver.h"

#include "common/error.h"
#include "db/connection.h"
#include "db/migrations.h"
#include "sql/catalog.h"
#include "sql/query.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <thread>

using paudm::Error;
using paudm::db::Connection;
using paudm::test::TestServer;
namespace sql = paudm::sql;

namespace {

/// Values that break naive CSV and FITS writers, with what PostgreSQL holds for each.
constexpr const char* kAwkwardRows =
    "INSERT INTO sql_awkward (id, label, ratio, flag, tags, counts, small, note) VALUES "
    "(1, 'plain', 1.5, true, '{a,b}', '{1,2,3}', 7, 'x'), "
    "(2, 'comma, inside', -0.25, false, '{\"with,comma\",\"with \\\"quote\\\"\"}', '{}', -32767, ''), "
    "(3, 'a \"quoted\" word', NULL, NULL, NULL, NULL, NULL, NULL), "
    "(4, E'two\\nlines', 1e300, true, '{NULL,x}', '{-9223372036854775807}', 0, E'cr\\r\\nlf'), "
    "(5, 'non-ASCII: é ñ 日本 ✓', 3.0e-300, false, '{日本}', '{0}', 1, E'tab\\there, back\\\\slash'), "
    "(6, '', 0, true, '{\"\"}', '{42}', 2, 'NULL'), "
    "(7, NULL, 'NaN', false, '{}', NULL, 3, ' leading and trailing ')";

QString python() {
    return QFile::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

/// Runs a Python script on `file` and returns its standard output parsed as JSON.
QJsonDocument readWithPython(const char* script, const QString& file) {
    QProcess p;
    p.start(python(), {"-c", script, file});
    if (!p.waitForFinished(120000)) return {};
    const QByteArray out = p.readAllStandardOutput();
    if (p.exitCode() != 0) qWarning("%s", p.readAllStandardError().constData());
    return QJsonDocument::fromJson(out);
}

// Python's csv module, the RFC 4180 reader everyone has; it cannot tell NULL from the
// empty string, so the raw field (quoted or not) is reported beside it.
constexpr const char* kReadCsv = R"PY(
import csv, json, sys, io
raw = open(sys.argv[1], 'rb').read()
assert raw.endswith(b'\r\n'), 'records must end with CRLF'
text = raw.decode('utf-8')
rows = list(csv.reader(io.StringIO(text, newline='')))
print(json.dumps({'header': rows[0], 'rows': rows[1:], 'quoted_empty': text.count('""')}))
)PY";

// astropy reads the FITS table: values, nulls (TNULLn, NaN, undefined logical), column
// formats, and fitsverify-level sanity through astropy's own checks.
constexpr const char* kReadFits = R"PY(
import json, sys, math
import numpy as np
from astropy.io import fits
with fits.open(sys.argv[1]) as h:
    h.verify('exception')
    t = h['QUERY']
    out = {'formats': {c.name: c.format for c in t.columns}, 'rows': []}
    raw = t.data
    for r in range(len(raw)):
        row = {}
        for c in t.columns:
            v = raw.field(c.name)[r]
            if c.format.endswith('L'):
                row[c.name] = bool(v)  # the undefined logical reads as False: see logicalIsUndefined
            elif c.format[-1] in 'IJK':
                row[c.name] = None if (c.null is not None and int(v) == c.null) else int(v)
            elif c.format[-1] in 'ED':
                row[c.name] = None if math.isnan(float(v)) else repr(float(v))
            else:
                row[c.name] = v if isinstance(v, str) else v.decode('utf-8')
        out['rows'].append(row)
    out['nulls'] = {c.name: c.null for c in t.columns if c.null is not None}
print(json.dumps(out))
)PY";

} // namespace

class TestSql : public QObject {
    Q_OBJECT
    std::string db_;
    QTemporaryDir dir_;

    Connection reader() { return Connection::open(TestServer::instance().readerConninfo(db_), "test sql"); }
    Connection admin() { return Connection::open(TestServer::instance().conninfo(db_), "test admin"); }

    /// Everything a refused statement could have touched: rows, relations, roles and
    /// their settings, as one digest.
    std::string fingerprint() {
        Connection a = admin();
        return std::string(
            a.exec("SELECT md5(concat_ws('|', "
                   " (SELECT string_agg(p::text, ',' ORDER BY p.name) FROM project p), "
                   " (SELECT string_agg(s::text, ',' ORDER BY s.id) FROM sql_awkward s), "
                   " (SELECT string_agg(relname || relkind::text, ',' ORDER BY relname) FROM pg_class "
                   "   WHERE relnamespace = 'public'::regnamespace), "
                   " (SELECT string_agg(rolname || rolsuper::text, ',' ORDER BY rolname) FROM pg_roles), "
                   " (SELECT string_agg(array_to_string(setconfig, ';'), ',') FROM pg_db_role_setting), "
                   " (SELECT count(*) FROM job)))")
                .text(0, 0));
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        db_ = "t_sql";
        Connection a = Connection::open(TestServer::instance().freshDatabase(db_));
        paudm::db::migrate(a);
        a.exec("INSERT INTO project (name, description) VALUES ('PAUS', 'wide survey')");
        a.execScript("CREATE TABLE sql_awkward (id int PRIMARY KEY, label text, ratio double precision, flag boolean, "
                     "tags text[], counts bigint[], small smallint, note varchar(40)); "
                     "COMMENT ON TABLE sql_awkward IS 'values that break naive writers'; "
                     "COMMENT ON COLUMN sql_awkward.ratio IS 'a ratio, sometimes NaN'; "
                     "GRANT SELECT ON sql_awkward TO paudm_reader",
                     "test table");
        a.execScript(kAwkwardRows, "test rows");
    }

    // ---- what the read-only role refuses, with the server's own message

    void refused_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("states"); // acceptable SQLSTATEs, comma-separated
        QTest::newRow("insert") << "INSERT INTO project (name) VALUES ('evil')" << "25006";
        QTest::newRow("update") << "UPDATE project SET description = 'x'" << "25006";
        QTest::newRow("delete") << "DELETE FROM sql_awkward" << "25006";
        QTest::newRow("truncate") << "TRUNCATE sql_awkward" << "25006";
        QTest::newRow("create table") << "CREATE TABLE evil (id int)" << "25006";
        QTest::newRow("create temp") << "CREATE TEMP TABLE evil (id int)" << "25006,42501";
        QTest::newRow("drop") << "DROP TABLE sql_awkward" << "25006";
        QTest::newRow("alter") << "ALTER TABLE project ADD COLUMN evil int" << "25006";
        QTest::newRow("grant") << "GRANT INSERT ON project TO paudm_reader" << "25006";
        QTest::newRow("copy to program") << "COPY (SELECT 1) TO PROGRAM 'touch /tmp/paudm-sql-evil'" << "25006,42501";
        QTest::newRow("copy from program") << "COPY project FROM PROGRAM 'echo evil'" << "25006,42501";
        QTest::newRow("copy from file") << "COPY project FROM '/etc/passwd'" << "25006,42501";
        QTest::newRow("read a server file") << "SELECT pg_read_file('/etc/passwd')" << "42501";
        QTest::newRow("set role") << "SET ROLE postgres" << "42501,22023,42704";
        QTest::newRow("session authorization") << "SET SESSION AUTHORIZATION postgres" << "42501,22023,42704";
        QTest::newRow("timeout off") << "SET statement_timeout = 0" << "42501";
        QTest::newRow("timeout above") << "SET statement_timeout = '10min'" << "42501";
        QTest::newRow("timeout by set_config") << "SELECT set_config('statement_timeout', '0', false)" << "42501";
        QTest::newRow("two statements") << "SELECT 1; DELETE FROM project" << "42601";
        QTest::newRow("injection tail") << "SELECT * FROM project WHERE name = 'x'; DROP TABLE project; --'" << "42601";
        QTest::newRow("quote injection") << "'; DROP TABLE project; --" << "42601";
        QTest::newRow("break out of COPY") << "SELECT 1) TO PROGRAM 'touch /tmp/paudm-sql-evil' --" << "42601";
        QTest::newRow("break out of a cursor") << "SELECT 1; CLOSE paudm_query; DELETE FROM project" << "42601";
        QTest::newRow("writing CTE") << "WITH d AS (DELETE FROM project RETURNING *) SELECT * FROM d" << "25006,0A000";
        QTest::newRow("DO block") << "DO $$ BEGIN DELETE FROM project; END $$" << "25006";
        QTest::newRow("lock") << "LOCK TABLE project IN ACCESS EXCLUSIVE MODE" << "25006,42501";
        QTest::newRow("sequence") << "SELECT nextval('job_id_seq')" << "25006,42501";
        QTest::newRow("commit then write") << "COMMIT; INSERT INTO project (name) VALUES ('evil')" << "42601";
    }
    void refused() {
        QFETCH(QString, text);
        QFETCH(QString, states);
        const std::string before = fingerprint();
        Connection r = reader();
        for (int how = 0; how < 2; ++how) {
            try {
                if (how == 0)
                    sql::runQuery(r, text.toStdString());
                else if (sql::isQuery(text.toStdString()))
                    sql::exportQuery(r, text.toStdString(), (dir_.path() + "/refused.csv").toStdString(),
                                     sql::ExportFormat::Csv);
                else
                    continue;
                QFAIL(qPrintable((how ? "exported: " : "accepted: ") + text));
            } catch (const Error& e) {
                QVERIFY2(states.split(',').contains(QString::fromStdString(e.code())),
                         qPrintable(QString::fromStdString(e.code()) + ": " + e.what()));
                // The server's message, not a paraphrase of ours.
                QVERIFY2(QString(e.what()).contains("ERROR:"), e.what());
            }
        }
        QVERIFY(!QFile::exists(dir_.path() + "/refused.csv"));
        QVERIFY(!QFile::exists("/tmp/paudm-sql-evil"));
        QCOMPARE(fingerprint(), before);
        // The session is usable after the refusal.
        QCOMPARE(sql::runQuery(r, "SELECT count(*) FROM project").rows.at(0).at(0), sql::Value("1"));
    }

    void optionsOutOfRangeAreRefusedBeforeTheServer() {
        Connection r = reader();
        for (int limit : {0, -5, sql::kMaxRows + 1}) {
            try {
                sql::runQuery(r, "SELECT 1", {limit, 0});
                QFAIL("a limit out of range was accepted");
            } catch (const Error& e) {
                QVERIFY2(QString(e.what()).contains("1 to 10,000"), e.what());
            }
        }
        try {
            sql::runQuery(r, "SELECT 1", {10, 60000});
            QFAIL("a timeout above the role's was accepted");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("above the read-only role's limit of 30 s"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, sql::runQuery(r, "  -- nothing\n /* here */ "));
    }

    // ---- the row limit and its notice

    void limitNoticeExactlyWhenCut_data() {
        QTest::addColumn<int>("limit");
        QTest::addColumn<bool>("cut");
        QTest::newRow("more than the rows") << 8 << false;
        QTest::newRow("exactly the rows") << 7 << false; // 7 rows, limit 7: nothing was left out
        QTest::newRow("one fewer") << 6 << true;
        QTest::newRow("one") << 1 << true;
    }
    void limitNoticeExactlyWhenCut() {
        QFETCH(int, limit);
        QFETCH(bool, cut);
        Connection r = reader();
        const sql::QueryResult res = sql::runQuery(r, "SELECT * FROM sql_awkward ORDER BY id", {limit, 0});
        QCOMPARE(res.truncated, cut);
        QCOMPARE(static_cast<int>(res.rows.size()), std::min(limit, 7));
        QCOMPARE(QString::fromStdString(res.summary()).contains("the result has more"), cut);
    }

    void theLargestLimit() {
        Connection r = reader();
        auto res = sql::runQuery(r, "SELECT g FROM generate_series(1, 10000) g", {sql::kMaxRows, 0});
        QVERIFY(!res.truncated);
        QCOMPARE(static_cast<int>(res.rows.size()), 10000);
        res = sql::runQuery(r, "SELECT g FROM generate_series(1, 10001) g", {sql::kMaxRows, 0});
        QVERIFY(res.truncated);
        QCOMPARE(res.rows.back().at(0), sql::Value("10000"));
        // A cursor stops the server after limit + 1 rows: a billion-row series returns at once.
        QElapsedTimer t;
        t.start();
        res = sql::runQuery(r, "SELECT generate_series(1, 1000000000) AS g", {100, 0}); // streamed (ProjectSet)
        QVERIFY(res.truncated);
        QVERIFY2(t.elapsed() < 5000, qPrintable(QString::number(t.elapsed())));
    }

    void typesAreTheServers() {
        Connection r = reader();
        const auto res = sql::runQuery(r, "SELECT id, ratio, flag, tags, small, note, now() AS t, 1.5::numeric AS n "
                                          "FROM sql_awkward WHERE id = 1");
        const std::vector<std::pair<const char*, sql::ValueKind>> want{
            {"integer", sql::ValueKind::Integer},      {"double precision", sql::ValueKind::Real},
            {"boolean", sql::ValueKind::Boolean},      {"text[]", sql::ValueKind::Array},
            {"smallint", sql::ValueKind::Integer},     {"character varying", sql::ValueKind::Text},
            {"timestamp with time zone", sql::ValueKind::Time}, {"numeric", sql::ValueKind::Numeric}};
        QCOMPARE(res.columns.size(), want.size());
        for (size_t i = 0; i < want.size(); ++i) {
            QCOMPARE(QString::fromStdString(res.columns[i].typeName), QString(want[i].first));
            QVERIFY(res.columns[i].kind == want[i].second);
        }
    }

    void statementsWithoutCursorsWork() {
        Connection r = reader();
        auto res = sql::runQuery(r, "SHOW statement_timeout");
        QCOMPARE(res.rows.at(0).at(0), sql::Value("30s"));
        res = sql::runQuery(r, "EXPLAIN SELECT * FROM project");
        QVERIFY(!res.rows.empty());
        res = sql::runQuery(r, "SET search_path = nowhere");
        QVERIFY(!res.returnsRows);
    }

    // ---- timeout, cancel, fresh sessions

    void timeoutEndsTheQueryWithAClearMessage() {
        Connection r = reader();
        QElapsedTimer t;
        t.start();
        try {
            sql::runQuery(r, "SELECT pg_sleep(5)", {10, 300});
            QFAIL("pg_sleep(5) outlived a 300 ms timeout");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.code()), QString("57014"));
            QVERIFY2(QString(e.what()).contains("statement timeout"), e.what());
        }
        QVERIFY2(t.elapsed() < 2500, qPrintable(QString::number(t.elapsed())));
        // The role's own 30 s applies when the user sets none.
        QCOMPARE(sql::runQuery(r, "SELECT 1").timeoutMs, 30000);
        QCOMPARE(sql::roleTimeoutMs(r), 30000);
    }

    void cancelStopsTheServerWithinASecond() {
        Connection r = reader();
        std::string code;
        QElapsedTimer t;
        t.start();
        std::thread worker([&] {
            try {
                sql::runQuery(r, "SELECT pg_sleep(20)");
            } catch (const Error& e) {
                code = e.code();
            } catch (...) { // nothing may leave the thread
                code = "not a paudm::Error";
            }
        });
        QTest::qWait(300);
        QVERIFY(r.cancelQuery());
        const qint64 asked = t.elapsed();
        worker.join();
        QCOMPARE(QString::fromStdString(code), QString("57014"));
        QVERIFY2(t.elapsed() - asked < 1000, qPrintable(QString::number(t.elapsed() - asked)));
        QCOMPARE(sql::runQuery(r, "SELECT 2").rows.at(0).at(0), sql::Value("2")); // still usable
    }

    void eachQueryStartsAFreshSession() {
        Connection r = reader();
        sql::runQuery(r, "SET search_path = nowhere");
        sql::runQuery(r, "SET statement_timeout = '1s'");
        QCOMPARE(sql::runQuery(r, "SHOW search_path").rows.at(0).at(0), sql::Value("\"$user\", public"));
        QCOMPARE(sql::runQuery(r, "SHOW statement_timeout").rows.at(0).at(0), sql::Value("30s"));
        // A query may open no transaction that outlives it.
        sql::runQuery(r, "SELECT 1");
        QCOMPARE(sql::runQuery(r, "SELECT count(*) FROM sql_awkward").rows.at(0).at(0), sql::Value("7"));
    }

    // ---- the schema from the catalog

    void schemaIsTheCatalogs() {
        Connection r = reader();
        const sql::Schema s = sql::loadSchema(r);
        const sql::Relation* job = s.find("job");
        QVERIFY(job);
        QCOMPARE(QString::fromStdString(job->kind), QString("table"));
        QVERIFY(!job->comment.empty());
        QCOMPARE(job->primaryKey, std::vector<std::string>{"id"});
        // Independent: information_schema, as the admin sees it.
        Connection a = admin();
        QCOMPARE(static_cast<int>(job->columns.size()),
                 a.exec("SELECT count(*) FROM information_schema.columns WHERE table_name = 'job'").toInt(0, 0));
        QCOMPARE(static_cast<int>(s.relations.size()),
                 a.exec("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = 'public' AND c.relkind IN ('r','v','m','p','f')")
                     .toInt(0, 0));
        const int fks = a.exec("SELECT count(*) FROM information_schema.table_constraints "
                               "WHERE constraint_type = 'FOREIGN KEY' AND table_schema = 'public'")
                            .toInt(0, 0);
        int seen = 0;
        for (const auto& rel : s.relations) seen += static_cast<int>(rel.foreignKeys.size());
        QCOMPARE(seen, fks);
        // The job dependency table's keys point at job, and job lists them back.
        const sql::Relation* awkward = s.find("sql_awkward");
        QVERIFY(awkward);
        QCOMPARE(QString::fromStdString(awkward->comment), QString("values that break naive writers"));
        QCOMPARE(QString::fromStdString(awkward->column("ratio")->comment), QString("a ratio, sometimes NaN"));
        QCOMPARE(QString::fromStdString(awkward->column("tags")->type), QString("text[]"));
        QCOMPARE(QString::fromStdString(awkward->column("note")->type), QString("character varying(40)"));
        QVERIFY(awkward->column("id")->notNull && awkward->column("id")->primaryKey);
        int referencing = 0;
        for (const auto& fk : job->referencedBy) {
            QCOMPARE(QString::fromStdString(fk.refTable), QString("job"));
            const sql::Relation* from = s.find(fk.table);
            QVERIFY(from);
            for (const auto& col : fk.columns) QVERIFY(!from->column(col)->references.empty());
            ++referencing;
        }
        QCOMPARE(referencing, a.exec("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = 'job'::regclass")
                                  .toInt(0, 0));
        QVERIFY(!job->indexes.empty() && job->indexes.front().primary);
    }

    void searchFindsNamesAndDescriptions() {
        Connection r = reader();
        const sql::Schema s = sql::loadSchema(r);
        // Independent count: the columns whose name or comment mention both words.
        Connection a = admin();
        const int want =
            a.exec("SELECT count(*) FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid "
                   "JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = 'public' AND c.relkind IN ('r','v','m','p','f') AND t.attnum > 0 "
                   "AND NOT t.attisdropped AND (t.attname || ' ' || coalesce(col_description(c.oid, t.attnum), '')) "
                   "ILIKE '%zero%' AND (t.attname || ' ' || coalesce(col_description(c.oid, t.attnum), '')) ILIKE '%point%'")
                .toInt(0, 0);
        QVERIFY(want > 0);
        int got = 0;
        for (const auto& m : sql::searchSchema(s, "Zero  POINT")) got += static_cast<int>(m.columns.size());
        QCOMPARE(got, want);
        QVERIFY(sql::searchSchema(s, "naive writers").size() == 1);
        QVERIFY(sql::searchSchema(s, "'; DROP TABLE project; --").empty());
        QCOMPARE(sql::searchSchema(s, "").size(), s.relations.size());
    }

    // ---- formats and exports, read back independently

    void csvOfWhatIsShownRoundTrips() {
        Connection r = reader();
        const auto res = sql::runQuery(r, "SELECT * FROM sql_awkward ORDER BY id");
        const QString file = dir_.path() + "/shown.csv";
        {
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray::fromStdString(sql::toDelimited(res)));
        }
        checkCsv(file);
    }

    void fullCsvExportRoundTrips() {
        Connection r = reader();
        const QString file = dir_.path() + "/full.csv";
        sql::ExportProgress progress;
        const auto e = sql::exportQuery(r, "SELECT * FROM sql_awkward ORDER BY id;  ", file.toStdString(),
                                        sql::exportFormatFor(file.toStdString()), {}, &progress);
        QCOMPARE(e.rows, std::int64_t(7));
        QCOMPARE(progress.rows.load(), std::int64_t(8)); // with the header
        QCOMPARE(progress.estimatedRows.load() > 0, true);
        QCOMPARE(e.bytes, QFileInfo(file).size());
        checkCsv(file);
        // Nothing left beside it.
        QCOMPARE(QDir(dir_.path()).entryList({".tmp-*", ".spool-*"}, QDir::Files | QDir::Hidden).size(), 0);
    }

    void fitsExportRoundTrips() {
        Connection r = reader();
        const QString file = dir_.path() + "/full.fits";
        QCOMPARE(sql::exportFormatFor(file.toStdString()), sql::ExportFormat::Fits);
        const auto e = sql::exportQuery(r, "SELECT *, id * 10000000000 AS big, 1 AS \"?column?\", 2 AS \"?column?\" "
                                           "FROM sql_awkward ORDER BY id",
                                        file.toStdString(), sql::ExportFormat::Fits);
        QCOMPARE(e.rows, std::int64_t(7));
        const QJsonObject got = readWithPython(kReadFits, file).object();
        QVERIFY2(!got.isEmpty(), "astropy could not read the table");
        const QJsonObject formats = got["formats"].toObject();
        QCOMPARE(formats["id"].toString(), QString("1J"));
        QCOMPARE(formats["small"].toString(), QString("1I"));
        QCOMPARE(formats["big"].toString(), QString("1K"));
        QCOMPARE(formats["ratio"].toString(), QString("1D"));
        QCOMPARE(formats["flag"].toString(), QString("1L"));
        QVERIFY(formats.contains("_column_") && formats.contains("_column__2"));
        // Widest label: 'non-ASCII: é ñ 日本 ✓' in UTF-8 bytes.
        QCOMPARE(formats["label"].toString(), QString("%1A").arg(QByteArray("non-ASCII: é ñ 日本 ✓").size()));

        Connection a = admin();
        const auto want = a.exec("SELECT id, coalesce(label, ''), ratio::text, small, tags::text, coalesce(note, '') "
                                 "FROM sql_awkward ORDER BY id");
        const QJsonArray rows = got["rows"].toArray();
        QCOMPARE(rows.size(), 7);
        for (int i = 0; i < 7; ++i) {
            const QJsonObject row = rows[i].toObject();
            QCOMPARE(row["id"].toInt(), static_cast<int>(want.toInt(i, 0)));
            QCOMPARE(row["label"].toString(), QString::fromStdString(std::string(want.text(i, 1))));
            // FITS pads strings with blanks and readers strip them: trailing blanks are not kept.
            QCOMPARE(row["note"].toString(), QString::fromStdString(std::string(want.text(i, 5))).replace(QRegularExpression(" +$"), ""));
            QCOMPARE(row["big"].toDouble(), static_cast<double>(want.toInt(i, 0)) * 1e10);
            if (want.isNull(i, 2) || want.text(i, 2) == "NaN")
                QVERIFY2(row["ratio"].isNull(), qPrintable(QString::number(i)));
            else
                QCOMPARE(row["ratio"].toString().toDouble(), std::stod(std::string(want.text(i, 2))));
            if (want.isNull(i, 3))
                QVERIFY(row["small"].isNull());
            else
                QCOMPARE(row["small"].toInt(), static_cast<int>(want.toInt(i, 3)));
            if (!want.isNull(i, 4)) QCOMPARE(row["tags"].toString(), QString::fromStdString(std::string(want.text(i, 4))));
        }
        QCOMPARE(got["nulls"].toObject()["small"].toInt(), -32768);
        // The undefined logical is written as FITS says (a zero byte), read with cfitsio.
        QVERIFY(logicalIsUndefined(file, "flag", 3));
    }

    void failedExportLeavesNothing() {
        Connection r = reader();
        const QString file = dir_.path() + "/failed.csv";
        try {
            sql::exportQuery(r, "SELECT 1 / (g - 50000) FROM generate_series(1, 100000) g", file.toStdString(),
                             sql::ExportFormat::Csv);
            QFAIL("a division by zero was exported");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.code()), QString("22012"));
        }
        QVERIFY(!QFile::exists(file));
        QCOMPARE(QDir(dir_.path()).entryList({".tmp-*", ".spool-*"}, QDir::Files | QDir::Hidden).size(), 0);
        try {
            sql::exportQuery(r, "SHOW search_path", file.toStdString(), sql::ExportFormat::Csv);
            QFAIL("SHOW was exported");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("needs a query"), e.what());
        }
    }

    void jsonAndTextFormats() {
        Connection r = reader();
        const auto res = sql::runQuery(r, "SELECT id, label, ratio, flag FROM sql_awkward WHERE id IN (3, 7) ORDER BY id");
        QJsonParseError pe;
        const QJsonDocument d = QJsonDocument::fromJson(QByteArray::fromStdString(sql::toJson(res)), &pe);
        QVERIFY2(pe.error == QJsonParseError::NoError, qPrintable(pe.errorString()));
        const QJsonArray a = d.array();
        QCOMPARE(a.size(), 2);
        QCOMPARE(a[0].toObject()["id"].toInt(), 3);
        QCOMPARE(a[0].toObject()["label"].toString(), QString("a \"quoted\" word"));
        QVERIFY(a[0].toObject()["ratio"].isNull());
        QCOMPARE(a[1].toObject()["ratio"].toString(), QString("NaN")); // not a JSON number
        QCOMPARE(a[1].toObject()["flag"].toBool(true), false);
        const QString table = QString::fromStdString(sql::toTextTable(res));
        QVERIFY2(table.contains(" id | label") && table.contains("(2 rows)"), qPrintable(table));
    }

private:
    void checkCsv(const QString& file) {
        const QJsonObject got = readWithPython(kReadCsv, file).object();
        QVERIFY2(!got.isEmpty(), "Python's csv module could not read the file");
        QCOMPARE(got["header"].toArray().size(), 8);
        QCOMPARE(got["header"].toArray()[1].toString(), QString("label"));
        Connection a = admin();
        const auto want = a.exec("SELECT * FROM sql_awkward ORDER BY id");
        const QJsonArray rows = got["rows"].toArray();
        QCOMPARE(rows.size(), want.size());
        for (int i = 0; i < want.size(); ++i)
            for (int c = 0; c < want.columns(); ++c)
                QCOMPARE(rows[i].toArray()[c].toString(), QString::fromStdString(want.optText(i, c).value_or("")));
        // NULL and the empty string differ on disk: '' is written "" (rows 2, 6 and the {""} array).
        const QByteArray raw = [&] {
            QFile f(file);
            f.open(QIODevice::ReadOnly);
            return f.readAll();
        }();
        QVERIFY(raw.contains("\r\n6,\"\",0,t,"));
        QVERIFY(raw.contains("\r\n7,,NaN,f,{},,3,"));
        QVERIFY(raw.contains("\"two\nlines\""));
    }

    static bool logicalIsUndefined(const QString& file, const char* column, int row) {
        // astropy maps the undefined logical to False; cfitsio's byte is the truth.
        QProcess p;
        p.start(python(), {"-c",
                           "import sys\nfrom astropy.io import fits\n"
                           "h = fits.open(sys.argv[1])\nd = h['QUERY'].data\n"
                           "import numpy as np\n"
                           "raw = np.frombuffer(d.tobytes(), dtype=np.uint8).reshape(len(d), -1)\n"
                           "start = sum(d.dtype[k].itemsize for k in range([c.name for c in d.columns].index(sys.argv[2])))\n"
                           "print(raw[int(sys.argv[3]) - 1, start])",
                           file, column, QString::number(row)});
        p.waitForFinished(60000);
        return p.readAllStandardOutput().trimmed() == "0";
    }
};

QTEST_GUILESS_MAIN(TestSql)
#include "test_sql.moc"
