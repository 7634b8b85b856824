// The embedded PostgreSQL server: first start, restart, recovery from a crash, and the
// ways it must refuse clearly (socket taken, folder of someone else, folder not writable).
#include "testserver.h"

#include "db/connection.h"
#include "db/embedded_server.h"

#include <QtTest>

#include <QDir>
#include <QFile>
#include <QProcess>

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

using paudm::Error;
using paudm::db::Connection;
using paudm::db::EmbeddedServer;
using paudm::test::makeTempHome;

namespace {

bool waitUntilGone(qint64 pid, int ms) {
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms) {
        if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return true;
        QThread::msleep(50);
    }
    return false;
}

QString errorOf(const paudm::Result<void>& r) {
    return r ? QString() : QString::fromStdString(r.error().message());
}

} // namespace

class TestEmbeddedServer : public QObject {
    Q_OBJECT
    QStringList homes_;

    QString newHome(const QString& tag) {
        homes_ << makeTempHome(tag);
        // However this process ends, the clusters it starts go with it.
        paudm::test::cleanUpWhenThisProcessEnds(paudm::test::stopClusterCommand(homes_.back(), homes_.back()));
        return homes_.back();
    }

private slots:
    void cleanupTestCase() {
        for (const QString& h : homes_) {
            EmbeddedServer s(h);
            const QString cluster = s.clusterDir();
            (void)s.stop();
            if (cluster != h) QDir(cluster).removeRecursively();
            QDir(h).removeRecursively();
        }
    }

    void firstStartInitialisesAndServes() {
        const QString home = newHome("first");
        EmbeddedServer s(home);
        QVERIFY(!s.status().initialised);
        const auto r = s.start();
        QVERIFY2(r, qPrintable(errorOf(r)));
        const auto st = s.status();
        QVERIFY(st.initialised && st.running && st.pid > 0);
        QVERIFY(QFile::exists(home + "/run/.s.PGSQL.5432")); // Unix socket in the home
        QVERIFY(!st.guardModule.isEmpty());
        Connection c = Connection::open(s.uri());
        QCOMPARE(std::string(c.exec("SELECT current_database()").text(0, 0)), std::string("paudm"));
        // No TCP: listen_addresses is empty.
        QCOMPARE(std::string(c.exec("SHOW listen_addresses").text(0, 0)), std::string(""));
        // Starting again finds it running: same process.
        QVERIFY(s.start());
        QCOMPARE(s.status().pid, st.pid);
        // As root, the server runs as the unprivileged account.
        if (geteuid() == 0) QCOMPARE(st.serverAccount, QString("postgres"));
    }

    void stopAndRestartKeepData() {
        const QString home = newHome("restart");
        EmbeddedServer s(home);
        QVERIFY(s.start());
        {
            Connection c = Connection::open(s.uri());
            c.exec("CREATE TABLE kept (v int)");
            c.exec("INSERT INTO kept VALUES (42)");
        }
        QVERIFY(s.stop());
        QVERIFY(!s.status().running);
        QVERIFY(!QFile::exists(home + "/run/.s.PGSQL.5432"));
        QVERIFY(s.start());
        Connection c = Connection::open(s.uri());
        QCOMPARE(c.exec("SELECT v FROM kept").toInt(0, 0), 42);
    }

    void recoversFromCrashWithStalePidFile() {
        const QString home = newHome("crash");
        EmbeddedServer s(home);
        QVERIFY(s.start());
        const qint64 pid = s.status().pid;
        QVERIFY(::kill(static_cast<pid_t>(pid), SIGKILL) == 0); // the machine "crashes"
        QVERIFY(waitUntilGone(pid, 10000));
        QThread::msleep(500);                                    // let the orphaned backends notice and exit
        QVERIFY(QFile::exists(home + "/pgdata/postmaster.pid")); // left behind
        const auto r = s.start();
        QVERIFY2(r, qPrintable(errorOf(r)));
        QVERIFY(s.status().running);
        QVERIFY(Connection::open(s.uri()).isHealthy());
    }

    void stalePidFileWithReusedPid() {
        // After a reboot, the PID in postmaster.pid may belong to an unrelated process.
        const QString home = newHome("reused");
        EmbeddedServer s(home);
        QVERIFY(s.start());
        QVERIFY(s.stop());
        QProcess sleeper;
        sleeper.start("sleep", {"60"});
        QVERIFY(sleeper.waitForStarted());
        const QString pidFile = home + "/pgdata/postmaster.pid";
        {
            QFile f(pidFile);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray::number(sleeper.processId()) + "\n" + (home + "/pgdata").toLocal8Bit() + "\n");
        }
        const auto r = s.start();
        sleeper.kill();
        sleeper.waitForFinished();
        QVERIFY2(r, qPrintable(errorOf(r)));
        QVERIFY(Connection::open(s.uri()).isHealthy());
    }

    void socketInUseByAnotherServer() {
        const QString homeA = newHome("sockA");
        EmbeddedServer a(homeA);
        QVERIFY(a.start());
        const qint64 pidA = a.status().pid;
        // B's socket folder is A's: the same socket path, held by a live server of another cluster.
        const QString homeB = newHome("sockB");
        QVERIFY(QFile::link(homeA + "/run", homeB + "/run"));
        EmbeddedServer b(homeB);
        const auto r = b.start();
        QVERIFY(!r);
        const QString msg = errorOf(r);
        QVERIFY2(msg.contains(".s.PGSQL.5432") && msg.contains("in use by another PostgreSQL server"), qPrintable(msg));
        QVERIFY2(msg.contains(QString::number(pidA)), qPrintable(msg));
        // A is untouched.
        QCOMPARE(a.status().pid, pidA);
        QVERIFY(Connection::open(a.uri()).isHealthy());
        QVERIFY(!b.status().running);
    }

    void dataFolderOwnedBySomeoneElse() {
        if (geteuid() != 0) QSKIP("needs root to make a folder owned by another account");
        const passwd* nobody = getpwnam("nobody");
        QVERIFY(nobody);
        const QString home = newHome("owner");
        QVERIFY(QDir().mkpath(home + "/pgdata"));
        QVERIFY(::chown(QFile::encodeName(home + "/pgdata").constData(), nobody->pw_uid, nobody->pw_gid) == 0);
        EmbeddedServer s(home);
        const auto r = s.start();
        QVERIFY(!r);
        const QString msg = errorOf(r);
        QVERIFY2(msg.contains(home + "/pgdata") && msg.contains("owned by 'nobody'"), qPrintable(msg));
        QVERIFY(QDir(home + "/pgdata").isEmpty()); // nothing written into it
    }

    void homeNotWritable() {
        QString home;
        if (geteuid() == 0) {
            // root may write anywhere; what it cannot do is make a folder below a file.
            const QString base = newHome("notdir");
            QFile f(base + "/a-file");
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.close();
            home = base + "/a-file/paudm";
        } else {
            home = newHome("readonly");
            QVERIFY(::chmod(QFile::encodeName(home).constData(), 0500) == 0);
        }
        EmbeddedServer s(home);
        const auto r = s.start();
        QVERIFY(!r);
        QVERIFY2(errorOf(r).contains(home), qPrintable(errorOf(r)));
        if (geteuid() != 0) ::chmod(QFile::encodeName(home).constData(), 0700);
    }

    void rootHomeClosedToServerAccount() {
        if (geteuid() != 0) QSKIP("only root's server runs under another account");
        const QString home = newHome("closed");
        QVERIFY(::chmod(QFile::encodeName(home).constData(), 0700) == 0); // like /root
        EmbeddedServer s(home);
        paudm::test::cleanUpWhenThisProcessEnds(paudm::test::stopClusterCommand(s.clusterDir(), s.clusterDir()));
        const auto r = s.start();
        QVERIFY2(r, qPrintable(errorOf(r)));
        const QString cluster = s.clusterDir();
        QVERIFY2(cluster.startsWith("/var/lib/paudm/"), qPrintable(cluster));
        QVERIFY(QFile::exists(home + "/cluster")); // where the cluster went
        QVERIFY(Connection::open(s.uri()).isHealthy());
        // A new EmbeddedServer object for the same home finds the same cluster.
        QCOMPARE(EmbeddedServer(home).clusterDir(), cluster);
    }
};

QTEST_GUILESS_MAIN(TestEmbeddedServer)
#include "test_embedded_server.moc"
