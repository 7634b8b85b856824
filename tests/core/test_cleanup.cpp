// The suite cleans up after itself whatever happens: a test process that aborts with its
// embedded PostgreSQL running leaves neither the server nor its folder behind.
#include <QtTest>

#include <QFileInfo>
#include <QProcess>

#include <signal.h>

class TestCleanup : public QObject {
    Q_OBJECT
private slots:
    void abortedTestLeavesNoServer() {
        QProcess p;
        p.start(CRASH_WITH_SERVER_EXE, QStringList{});
        QVERIFY(p.waitForFinished(120000));
        QCOMPARE(p.exitStatus(), QProcess::CrashExit); // it did die by SIGABRT
        const QString out = QString::fromLocal8Bit(p.readAllStandardOutput());
        const QString home = out.section('\n', 0, 0).section(' ', 1);
        const qint64 pid = out.section('\n', 1, 1).section(' ', 1).toLongLong();
        QVERIFY2(!home.isEmpty() && pid > 0, qPrintable(out + p.readAllStandardError()));
        // The watchdog stops the server within a few seconds of the crash, then removes the folder.
        QTRY_VERIFY_WITH_TIMEOUT(::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH, 15000);
        QTRY_VERIFY_WITH_TIMEOUT(!QFileInfo::exists(home), 15000);
    }
};

QTEST_GUILESS_MAIN(TestCleanup)
#include "test_cleanup.moc"
