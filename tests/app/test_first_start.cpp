// The README's main command, as a new user runs it: a fresh clone of this source tree, a
// fresh HOME (closed to others, as root's is), no PAUDM_HOME and no PAUDM_DB. It must set
// up, build, start the embedded database, simulate a night, run the morning routine and
// render the console, all at the first attempt. (Once, as root, the first run failed and
// the second worked; a suite run in the developer's tree could not see it.)
#include "testserver.h"

#include <QtTest>

#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>

#include <sys/stat.h>

class TestFirstStart : public QObject {
    Q_OBJECT
private slots:
    void readmeMainCommandWorksTheFirstTime() {
        const QString source = QStringLiteral(PAUDM_SOURCE_DIR);
        if (!QFileInfo::exists(source + "/.git")) QSKIP("the source tree is not a git checkout: nothing to clone");
        QTemporaryDir scratch;
        QVERIFY(scratch.isValid());
        const QString clone = scratch.filePath("paudm"), home = scratch.filePath("home");
        QVERIFY(QDir().mkpath(home));
        QVERIFY(::chmod(QFile::encodeName(home).constData(), 0700) == 0);

        QProcess git;
        git.setProcessChannelMode(QProcess::MergedChannels);
        git.start("git", {"clone", "--quiet", "--no-hardlinks", source, clone});
        QVERIFY(git.waitForFinished(120000));
        QVERIFY2(git.exitCode() == 0, git.readAll().constData());

        // Whatever happens here, the database the clone starts goes with this process.
        const QString data = home + "/.local/share/paudm";
        paudm::test::cleanUpWhenThisProcessEnds(
            "c=$(cat '" + data.toStdString() + "/cluster' 2>/dev/null || echo '" + data.toStdString() + "'); " +
            "p=$(head -n 1 \"$c/pgdata/postmaster.pid\" 2>/dev/null); [ -n \"$p\" ] && kill -QUIT \"$p\"; sleep 1; " +
            "case \"$c\" in /var/lib/paudm/*) rm -rf \"$c\";; esac");

        QProcess run;
        QProcessEnvironment env;
        for (const char* keep : {"PATH", "LANG", "TERM", "USER", "LOGNAME"})
            if (qEnvironmentVariableIsSet(keep)) env.insert(keep, qEnvironmentVariable(keep));
        env.insert("HOME", home);
        run.setProcessEnvironment(env); // no PAUDM_*, no XDG_*, no DISPLAY: a new user's shell
        run.setWorkingDirectory(clone);
        run.setProcessChannelMode(QProcess::MergedChannels);
        run.start("bash", {"-c", "packaging/run.sh"});
        QVERIFY(run.waitForFinished(1500 * 1000));
        const QString log = QString::fromLocal8Bit(run.readAll());
        QVERIFY2(run.exitStatus() == QProcess::NormalExit && run.exitCode() == 0, qPrintable(log.right(6000)));
        QVERIFY2(log.contains("night complete"), qPrintable(log.right(6000)));
        // run.sh's night: 24 science mosaics, every one reduced.
        QVERIFY2(log.contains("24 of 24 science mosaics reduced"), qPrintable(log.right(6000)));
        const QImage shot(clone + "/paudm-console.png");
        QVERIFY2(!shot.isNull(), qPrintable(log.right(3000)));
        QCOMPARE(shot.size(), QSize(1400, 900));

        // The second command a new user types works too.
        QProcess status;
        status.setProcessEnvironment(env);
        status.start(clone + "/build/release/app/paudm", {"db", "status"});
        QVERIFY(status.waitForFinished(60000));
        QVERIFY2(status.exitCode() == 0, status.readAllStandardOutput().constData());
        QProcess stop;
        stop.setProcessEnvironment(env);
        stop.start(clone + "/build/release/app/paudm", {"db", "stop"});
        QVERIFY(stop.waitForFinished(60000));
    }
};

QTEST_GUILESS_MAIN(TestFirstStart)
#include "test_first_start.moc"
