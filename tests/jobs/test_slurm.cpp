// Pilot runners on a real (single-node) Slurm: `paudm runner --submit-slurm 4` runs a
// fan-out of 200 jobs through four array tasks.
#include "jobtest.h"

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <unistd.h>

using paudm::db::Connection;
using paudm::jobs::JobStore;
using paudm::jobs::NewJob;
using namespace paudm::test;

class TestSlurm : public QObject {
    Q_OBJECT
    QTemporaryDir state_;
    QString slurmConf_;
    bool started_ = false;

    static QString script() { return QStringLiteral(PAUDM_SOURCE_DIR "/packaging/slurm/local-slurm.sh"); }

private slots:
    void initTestCase() {
        if (::geteuid() != 0) QSKIP("starting slurmctld and slurmd needs root");
        if (QStandardPaths::findExecutable("slurmctld", {"/usr/sbin", "/usr/bin"}).isEmpty())
            QSKIP("Slurm is not installed (packaging/install-deps.sh --slurm)");
        // Slurm's daemons stop with this process, however it ends.
        paudm::test::cleanUpWhenThisProcessEnds("'" + script().toStdString() + "' stop '" +
                                                state_.path().toStdString() + "' >/dev/null 2>&1");
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(script(), {"start", state_.path()});
        QVERIFY(p.waitForFinished(60000));
        const QString out = p.readAll();
        QVERIFY2(p.exitCode() == 0, qPrintable(out));
        slurmConf_ = out.section("SLURM_CONF=", 1).trimmed();
        QVERIFY2(QFile::exists(slurmConf_), qPrintable(out));
        started_ = true;
    }

    void cleanupTestCase() {
        if (!started_) return;
        QProcess p;
        p.start(script(), {"stop", state_.path()});
        p.waitForFinished(30000);
    }

    void fourPilotsRunTwoHundredJobs() {
        const auto db = freshJobDatabase("t_slurm");
        Connection c = Connection::open(db);
        NewJob fan;
        fan.name = "fanout";
        fan.config = {{"n", 200}, {"subjob_config", QJsonObject{{"sleep_s", 0.02}}}};
        const auto id = JobStore(c).create(fan, true);

        QProcess submit;
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert("SLURM_CONF", slurmConf_);
        env.insert("PAUDM_DB", QString::fromStdString(db));
        env.insert("PAUDM_HOME", state_.path());
        submit.setProcessEnvironment(env);
        submit.start(PAUDM_EXE, {"runner", "--submit-slurm", "4", "--until-idle", "--lease", "10"});
        QVERIFY(submit.waitForFinished(60000));
        QVERIFY2(submit.exitCode() == 0, submit.readAllStandardError().constData());
        const QString slurmJob = QString(submit.readAllStandardOutput()).trimmed();
        QVERIFY2(!slurmJob.isEmpty(), "sbatch printed no job id");

        QTRY_VERIFY_WITH_TIMEOUT(statusOf(c, id) == "DONE", 180000);
        // All four pilots came and went, and between them ran every claim: 200 sub-jobs,
        // the prolog and the epilog.
        QTRY_VERIFY_WITH_TIMEOUT(scalar(c, "SELECT count(*) FROM runner WHERE stopped IS NOT NULL") == 4, 120000);
        const auto r = c.query("SELECT batch_job_id, jobs_done FROM runner ORDER BY batch_job_id");
        QCOMPARE(r.size(), 4);
        std::int64_t total = 0;
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(QString::fromStdString(std::string(r.text(i, 0))), slurmJob + "_" + QString::number(i + 1));
            total += r.toInt(i, 1);
        }
        QCOMPARE(total, 202);
        QCOMPARE(scalar(c, "SELECT count(*) FROM job WHERE status = 'DONE'"), 201);
        QCOMPARE(scalar(c, "SELECT count(DISTINCT runner_id) FROM job_attempt"), 4); // every pilot took part
    }
};

QTEST_GUILESS_MAIN(TestSlurm)
#include "test_slurm.moc"
