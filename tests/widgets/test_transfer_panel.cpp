// The Transfer panel on a real transfer: what its models show against the ledger, the
// incremental updates checked by QAbstractItemModelTester, and a live refresh when the
// database announces a change (no refresh called).
#include "jobtest.h"

#include "pipelines/pixelsim/simulator.h"
#include "transfer/transfer.h"
#include "transfer/transferpanel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace paudm;

namespace {

void flipBit(const std::string& path, std::streamoff offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(offset);
    char c;
    f.get(c);
    f.seekp(offset);
    f.put(static_cast<char>(c ^ 0x01));
}

QString cell(const QAbstractItemModel* m, int row, int column) { return m->index(row, column).data().toString(); }

transfer::ObsSetState state(const std::string& name, const std::string& status) {
    transfer::ObsSetState s;
    s.obsSet = name;
    s.status = status;
    return s;
}

} // namespace

class TestTransferPanel : public QObject {
    Q_OBJECT
private slots:
    void incrementalUpdatesKeepTheModelConsistent() {
        ui::ObsSetTableModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        m.setStates({state("20261120_001", "DONE"), state("20261119_001", "DONE")});
        QCOMPARE(m.rowCount(), 2);
        QPersistentModelIndex kept = m.index(1, 0); // 20261119_001
        // A new night arrives on top, one changes, one goes: the kept row follows its obs set.
        m.setStates({state("20261121_001", "RUNNING"), state("20261119_001", "INCOMPLETE")});
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(cell(&m, 0, ui::ObsSetTableModel::Name), QString("20261121_001"));
        QCOMPARE(cell(&m, 0, ui::ObsSetTableModel::Transfer), QString("RUNNING"));
        QVERIFY(kept.isValid());
        QCOMPARE(kept.row(), 1);
        QCOMPARE(cell(&m, kept.row(), ui::ObsSetTableModel::Transfer), QString("INCOMPLETE"));
        // Order changes (a move), then everything goes.
        m.setStates({state("20261119_001", "DONE"), state("20261121_001", "DONE")});
        QCOMPARE(kept.row(), 0);
        m.setStates({});
        QCOMPARE(m.rowCount(), 0);
    }

    void showsTheLedgerAndFollowsItLive() {
        QTemporaryDir dir;
        const std::string conninfo = test::freshJobDatabase("transfer_panel");
        pipelines::pixelsim::NightOptions o;
        o.buffer = dir.filePath("buffer").toStdString();
        o.night = "2026-11-18";
        o.geometry = pipelines::paucam::Geometry::Small;
        o.bias = 2;
        o.flatsPerTray = 0;
        o.science = 2;
        const auto night = pipelines::pixelsim::simulateNight(o);
        const std::string victim = night.contents.files[1].name;
        flipBit(night.folder + "/" + victim, 90'000);
        transfer::TransferOptions t;
        t.buffer = o.buffer;
        t.archive = archive::ArchiveLayout(dir.filePath("archive").toStdString());
        t.ledger = conninfo;
        transfer::transferBuffer(t);

        ui::TransferPanel panel;
        QAbstractItemModelTester setTester(panel.obsSetModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester fileTester(panel.fileModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        transfer::RetentionOptions r;
        r.conninfo = conninfo;
        r.buffer = o.buffer;
        r.archive = t.archive;
        panel.resize(900, 700);
        panel.show();
        panel.setSource(r);
        QTRY_VERIFY_WITH_TIMEOUT(panel.hasLoaded(), 10000);
        const auto* sets = panel.obsSetModel();
        QCOMPARE(sets->rowCount(), 1);
        QCOMPARE(cell(sets, 0, ui::ObsSetTableModel::Name), QString::fromStdString(night.obsSet));
        QCOMPARE(cell(sets, 0, ui::ObsSetTableModel::Transfer), QString("INCOMPLETE"));
        QCOMPARE(cell(sets, 0, ui::ObsSetTableModel::Files), QString("4"));
        QCOMPARE(cell(sets, 0, ui::ObsSetTableModel::Verified), QString("3"));
        QCOMPARE(cell(sets, 0, ui::ObsSetTableModel::Quarantined), QString("1"));
        QCOMPARE(cell(sets, 0, ui::ObsSetTableModel::Registered), QString("no"));
        QVERIFY2(cell(sets, 0, ui::ObsSetTableModel::Buffer).contains("archive copy"),
                 qPrintable(cell(sets, 0, ui::ObsSetTableModel::Buffer)));
        // The files of the (only, so selected) obs set, the quarantined one named.
        const auto* files = panel.fileModel();
        QCOMPARE(files->rowCount(), 4);
        int quarantined = 0;
        for (int i = 0; i < files->rowCount(); ++i)
            if (cell(files, i, ui::FileTableModel::Status) == "QUARANTINED") {
                ++quarantined;
                QCOMPARE(cell(files, i, ui::FileTableModel::Name), QString::fromStdString(victim));
                QVERIFY(cell(files, i, ui::FileTableModel::Checksum).contains("expected"));
            }
        QCOMPARE(quarantined, 1);

        // The file is sent again and transferred by someone else: the panel follows the
        // ledger's notification by itself.
        flipBit(night.folder + "/" + victim, 90'000);
        transfer::transferBuffer(t);
        QTRY_COMPARE_WITH_TIMEOUT(cell(sets, 0, ui::ObsSetTableModel::Transfer), QString("DONE"), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(cell(sets, 0, ui::ObsSetTableModel::Verified), QString("4"), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(cell(panel.fileModel(), 1, ui::FileTableModel::Status) == "VERIFIED", 10000);
    }
};

QTEST_MAIN(TestTransferPanel)
#include "test_transfer_panel.moc"
