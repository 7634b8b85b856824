// The schema browser and the SQL browser panels against the real embedded server, on the
// read-only role: Ctrl+Enter, the limit notice, refusals with the server's message, the
// timeout, Cancel within a second with the window never waiting, sorting by value, copies
// and exports (a full export with progress and its own Cancel), history, plots, completion,
// and the schema's keys followed by a click.
#include "testserver.h"

#include "background.h"
#include "db/connection.h"
#include "db/migrations.h"
#include "sql/resultchart.h"
#include "sql/resultmodel.h"
#include "sql/schemapanel.h"
#include "sql/sqleditor.h"
#include "sql/sqlpanel.h"

#include <QAbstractSeries>
#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QClipboard>
#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QProgressBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QTreeWidget>
#include <QtTest>

#include <cmath>

using namespace paudm;

namespace {

/// The longest the GUI thread went without running its event loop while `until` was false.
struct FrameWatch {
    QElapsedTimer clock;
    qint64 last = 0, worst = 0;
    QTimer timer;
    FrameWatch() {
        clock.start();
        timer.setInterval(5);
        QObject::connect(&timer, &QTimer::timeout, [this] {
            const qint64 now = clock.elapsed();
            worst = std::max(worst, now - last);
            last = now;
        });
        timer.start();
    }
};

} // namespace

class TestSqlPanel : public QObject {
    Q_OBJECT
    std::string admin_, reader_;
    QTemporaryDir dir_;

    std::string fingerprint() {
        db::Connection a = db::Connection::open(admin_);
        return std::string(a.exec("SELECT md5(concat_ws('|', (SELECT string_agg(p::text, ',') FROM project p), "
                                  "(SELECT count(*) FROM numbers), (SELECT count(*) FROM pg_class)))")
                               .text(0, 0));
    }

    static bool runAndWait(ui::SqlPanel& panel, const QString& text, bool expectOk = true) {
        QSignalSpy done(&panel, &ui::SqlPanel::queryFinished);
        panel.setQuery(text);
        panel.run();
        if (!done.wait(15000)) return false;
        return done.first().first().toBool() == expectOk;
    }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true); // history goes to a test settings file
        QSettings().remove("sql/history");
        QVERIFY(dir_.isValid());
        admin_ = test::TestServer::instance().freshDatabase("t_sql_panel");
        reader_ = test::TestServer::instance().readerConninfo("t_sql_panel");
        db::Connection a = db::Connection::open(admin_);
        db::migrate(a);
        a.exec("INSERT INTO project (name, description) VALUES ('PAUS', 'wide survey')");
        a.execScript("CREATE TABLE numbers (id int PRIMARY KEY, value double precision, label text); "
                     "INSERT INTO numbers SELECT g, g * 0.5, 'n' || g FROM generate_series(1, 12) g; "
                     "COMMENT ON TABLE numbers IS 'twelve numbers for the panel tests'; "
                     "GRANT SELECT ON numbers TO paudm_reader",
                     "test table");
    }

    void runsShowsAndRefuses() {
        ui::SqlPanel panel;
        panel.resize(900, 700);
        panel.show();
        QSignalSpy loaded(&panel, &ui::SqlPanel::loaded);
        panel.setDatabase(reader_);
        QVERIFY(loaded.wait(10000));
        QCOMPARE(panel.timeoutBox()->maximum(), 30); // the role's limit bounds the field

        // Ctrl+Enter in the editor runs the query.
        QSignalSpy done(&panel, &ui::SqlPanel::queryFinished);
        panel.editor()->setPlainText("SELECT id, value, label FROM numbers ORDER BY id");
        panel.editor()->setFocus();
        QTest::keyClick(panel.editor(), Qt::Key_Return, Qt::ControlModifier);
        QVERIFY(done.wait(10000));
        QVERIFY(done.first().first().toBool());
        QCOMPARE(panel.model()->rowCount(), 12);
        QVERIFY(panel.notice()->isHidden());

        // The notice exactly when the limit cut the result.
        panel.limitBox()->setValue(12);
        QVERIFY(runAndWait(panel, "SELECT * FROM numbers"));
        QVERIFY(panel.notice()->isHidden());
        panel.limitBox()->setValue(11);
        QVERIFY(runAndWait(panel, "SELECT * FROM numbers"));
        QVERIFY(!panel.notice()->isHidden());
        QVERIFY(panel.notice()->text().contains("first 11 rows"));
        QCOMPARE(panel.model()->rowCount(), 11);
        panel.limitBox()->setValue(1000);

        // Sorted by value, not by text: 12 before 9 descending; NULLs first ascending.
        QVERIFY(runAndWait(panel, "SELECT id, value FROM numbers UNION ALL SELECT NULL, NULL"));
        panel.table()->sortByColumn(0, Qt::DescendingOrder);
        QCOMPARE(panel.table()->model()->index(0, 0).data().toString(), QString("12"));
        QCOMPARE(panel.table()->model()->index(1, 0).data().toString(), QString("11"));
        panel.table()->sortByColumn(0, Qt::AscendingOrder);
        QCOMPARE(panel.table()->model()->index(0, 0).data().toString(), QString("NULL"));
        QCOMPARE(panel.table()->model()->index(1, 0).data().toString(), QString("1"));

        // Copy follows the view's order.
        panel.copyRows('\t');
        const QStringList lines = QApplication::clipboard()->text().split("\r\n");
        QCOMPARE(lines.at(0), QString("id\tvalue"));
        QCOMPARE(lines.at(1), QString("\t"));
        QCOMPARE(lines.at(2), QString("1\t0.5"));

        // Refusals: the server's message in the panel, nothing changed, the panel usable.
        const std::string before = fingerprint();
        for (const char* evil : {"DELETE FROM numbers", "DROP TABLE numbers", "SELECT 1; DELETE FROM numbers",
                                 "SET ROLE postgres", "SET statement_timeout = 0",
                                 "'); DELETE FROM numbers; --", "COPY numbers FROM PROGRAM 'true'"}) {
            QVERIFY2(runAndWait(panel, evil, false), evil);
            QVERIFY2(!panel.problem()->isHidden() && panel.problem()->text().contains("ERROR:"),
                     qPrintable(QString(evil) + ": " + panel.problem()->text()));
        }
        QCOMPARE(fingerprint(), before);
        QVERIFY(runAndWait(panel, "SELECT count(*) FROM numbers"));
        QCOMPARE(panel.model()->index(0, 0).data().toString(), QString("12"));

        // History: newest first, each once.
        const QStringList h = panel.historyEntries();
        QCOMPARE(h.first(), QString("SELECT count(*) FROM numbers"));
        QCOMPARE(h.count("SELECT * FROM numbers"), 1);
    }

    void timeoutAndCancelNeverBlockTheWindow() {
        // The history of the panel before is on disk (written off the GUI thread), and a
        // new panel starts with it.
        QTRY_COMPARE(QSettings().value("sql/history").toStringList().value(0), QString("SELECT count(*) FROM numbers"));
        ui::SqlPanel panel;
        QCOMPARE(panel.historyEntries().value(0), QString("SELECT count(*) FROM numbers"));
        panel.show();
        QSignalSpy loaded(&panel, &ui::SqlPanel::loaded);
        panel.setDatabase(reader_);
        QVERIFY(loaded.wait(10000));

        // A timeout the user lowered ends the query with a clear message.
        panel.timeoutBox()->setValue(1);
        QElapsedTimer t;
        t.start();
        QVERIFY(runAndWait(panel, "SELECT pg_sleep(5)", false));
        QVERIFY2(t.elapsed() < 3000, qPrintable(QString::number(t.elapsed())));
        QVERIFY2(panel.problem()->text().contains("statement timeout"), qPrintable(panel.problem()->text()));
        panel.timeoutBox()->setValue(30);

        // Cancel ends pg_sleep on the server within a second; the event loop never stalls.
        FrameWatch watch;
        QSignalSpy done(&panel, &ui::SqlPanel::queryFinished);
        panel.setQuery("SELECT pg_sleep(20)");
        panel.run();
        QVERIFY(panel.isRunning());
        QTest::qWait(400);
        QElapsedTimer c;
        c.start();
        QTest::keyClick(panel.editor(), Qt::Key_Escape); // Esc cancels
        QVERIFY(done.wait(5000));
        QVERIFY2(c.elapsed() < 1000, qPrintable(QString::number(c.elapsed())));
        QCOMPARE(done.first().first().toBool(), false);
        QVERIFY2(watch.worst < 100, qPrintable(QString::number(watch.worst)));
        QVERIFY(runAndWait(panel, "SELECT 42"));
        QCOMPARE(panel.model()->index(0, 0).data().toString(), QString("42"));
    }

    void exportsInTheBackground() {
        ui::SqlPanel panel;
        panel.show();
        QSignalSpy loaded(&panel, &ui::SqlPanel::loaded);
        panel.setDatabase(reader_);
        QVERIFY(loaded.wait(10000));

        // What is shown, in the view's order.
        QVERIFY(runAndWait(panel, "SELECT id, label FROM numbers ORDER BY id"));
        panel.table()->sortByColumn(0, Qt::DescendingOrder);
        QSignalSpy exported(&panel, &ui::SqlPanel::exportFinished);
        const QString shown = dir_.path() + "/shown.csv";
        panel.exportShown(shown);
        QVERIFY(exported.wait(5000));
        QVERIFY(exported.first().first().toBool());
        QFile f(shown);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("id,label\r\n12,n12\r\n11,n11\r\n10,n10\r\n9,n9\r\n8,n8\r\n7,n7\r\n6,n6\r\n5,n5\r\n"
                                         "4,n4\r\n3,n3\r\n2,n2\r\n1,n1\r\n"));

        // A long full export shows progress and stops on its Cancel, leaving no file.
        FrameWatch watch;
        exported.clear();
        const QString big = dir_.path() + "/big.csv";
        panel.setQuery("SELECT g, md5(g::text) FROM generate_series(1, 20000000) g");
        panel.startFullExport(big);
        QVERIFY(panel.isExporting());
        QTRY_VERIFY_WITH_TIMEOUT(panel.exportProgress()->maximum() == 1000 && panel.exportProgress()->value() > 0, 20000);
        panel.cancelExport();
        QVERIFY(exported.wait(5000));
        QCOMPARE(exported.first().first().toBool(), false);
        QVERIFY2(exported.first().at(1).toString().contains("cancelled"), qPrintable(exported.first().at(1).toString()));
        QVERIFY(!QFile::exists(big));
        QCOMPARE(QDir(dir_.path()).entryList({".tmp-*"}, QDir::Files | QDir::Hidden).size(), 0);
        QVERIFY2(watch.worst < 100, qPrintable(QString::number(watch.worst)));

        // One that finishes.
        exported.clear();
        const QString fits = dir_.path() + "/numbers.fits";
        panel.setQuery("SELECT * FROM numbers");
        panel.startFullExport(fits);
        QVERIFY(exported.wait(10000));
        QVERIFY2(exported.first().first().toBool(), qPrintable(exported.first().at(1).toString()));
        QVERIFY(exported.first().at(1).toString().contains("Exported 12 rows"));
        QVERIFY(QFile::exists(fits));
    }

    void plotsAreTheResultsNumbers() {
        ui::SqlPanel panel;
        panel.show();
        QSignalSpy loaded(&panel, &ui::SqlPanel::loaded);
        panel.setDatabase(reader_);
        QVERIFY(loaded.wait(10000));
        QVERIFY(runAndWait(panel, "SELECT id, value, value * value AS square, label FROM numbers UNION ALL "
                                  "SELECT NULL, 'NaN', NULL, 'none'"));
        const auto r = panel.model()->result();
        // Brute force: 12 values 0.5 .. 6 in 4 bins of width 1.375 -> 3 per bin; NaN skipped.
        const ui::Histogram h = ui::histogram(*r, 1, 4);
        QCOMPARE(h.counts, (std::vector<int>{3, 3, 3, 3}));
        QCOMPARE(h.skipped, 1);
        QCOMPARE(h.low, 0.5);
        QCOMPARE(h.high, 6.0);
        // Only numeric columns are offered; the plot tab draws them.
        QCOMPARE(panel.plotX()->count(), 3);
        panel.views()->setCurrentIndex(1);
        QVERIFY(panel.chartView()->chart());
        QCOMPARE(panel.chartView()->chart()->series().size(), 1);
        panel.plotKind()->setCurrentIndex(1);
        QVERIFY(panel.chartView()->chart()->title().contains("12 points"));
    }

    void completionAndSchema() {
        ui::SchemaPanel schema;
        schema.resize(1000, 700);
        schema.show();
        QSignalSpy loaded(&schema, &ui::SchemaPanel::loaded);
        schema.setDatabase(reader_);
        QVERIFY(loaded.wait(10000));
        QVERIFY(schema.schema());
        const int relations = static_cast<int>(schema.schema()->relations.size());
        QCOMPARE(schema.tree()->topLevelItemCount(), relations);

        // Search over descriptions; SQL-shaped input is just text to search for.
        schema.setSearch("twelve numbers");
        QCOMPARE(schema.tree()->topLevelItemCount(), 1);
        QCOMPARE(schema.tree()->topLevelItem(0)->text(0), QString("numbers"));
        const std::string before = fingerprint();
        schema.setSearch("'; DROP TABLE numbers; --");
        QCOMPARE(schema.tree()->topLevelItemCount(), 0);
        QCOMPARE(fingerprint(), before);
        schema.setSearch("");

        // A foreign key is a link to its table: dependency.parent_id -> job.
        QVERIFY(schema.showRelation("dependency"));
        QVERIFY(schema.detail()->toHtml().contains("rel:job"));
        emit schema.detail()->anchorClicked(QUrl("rel:job"));
        QCOMPARE(schema.currentRelation(), QString("job"));
        QVERIFY(schema.detail()->toPlainText().contains("Referenced by"));
        QCOMPARE(schema.tree()->currentItem()->text(0), QString("job"));

        // "Query it" asks the SQL browser for the table.
        QSignalSpy wanted(&schema, &ui::SchemaPanel::queryWanted);
        emit schema.detail()->anchorClicked(QUrl("query:numbers"));
        QCOMPARE(wanted.size(), 1);
        QVERIFY(wanted.first().first().toString().contains("FROM numbers"));

        ui::SqlEditor editor;
        editor.setSchema(schema.schema());
        QVERIFY(editor.completionsFor("", "numb").contains("numbers"));
        QCOMPARE(editor.completionsFor("numbers", "va"), QStringList{"value"});
        QCOMPARE(editor.completionsFor("numbers", ""), (QStringList{"id", "label", "value"}));
        QVERIFY(editor.completionsFor("", "sel").contains("select"));
    }

    void cleanupTestCase() {
        ui::Background::interruptEverything();
        QVERIFY(ui::Background::drain(2000));
    }
};

QTEST_MAIN(TestSqlPanel)
#include "test_sql_panel.moc"
