#pragma once
// The Transfer panel: obs sets in the buffer and the archive (transfer state, quarantined
// files, registration, what holds each one in the buffer), the files of the selected obs
// set, and the volume and rate transferred per day. Everything is read off the GUI thread
// and refreshed when the database announces a change (LISTEN paudm_transfer, paudm_jobs).
#include "common/error.h"
#include "keyedtablemodel.h"
#include "transfer/overview.h"

#include <QAbstractTableModel>
#include <QWidget>

#include <memory>

class QChartView;
class QLabel;
class QTableView;
class QTimer;
class QPushButton;

namespace paudm::ui {

class Background;
template <class T> class LiveLoad;

class ObsSetTableModel : public KeyedTableModel<transfer::ObsSetState, std::string> {
    Q_OBJECT
public:
    enum Column { Name, Transfer, Registered, Buffer, Files, Size, Verified, Quarantined, Failed, Rate, ColumnCount };
    using KeyedTableModel::KeyedTableModel;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    /// Replaces the rows, keyed by obs set (see KeyedTableModel).
    void setStates(std::vector<transfer::ObsSetState> states) { setRows(std::move(states)); }
    const transfer::ObsSetState* state(int r) const { return row(r); }

protected:
    std::string keyOf(const transfer::ObsSetState& s) const override { return s.obsSet; }
};

class FileTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Kind, Size, Status, Attempt, Rate, Checksum, Error, ColumnCount };
    using QAbstractTableModel::QAbstractTableModel;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    void setFiles(std::vector<transfer::FileState> files);

private:
    std::vector<transfer::FileState> rows_;
};

class TransferPanel : public QWidget {
    Q_OBJECT
public:
    explicit TransferPanel(QWidget* parent = nullptr);
    ~TransferPanel() override;

    /// Starts reading (and listening to) this database, with this buffer and archive.
    void setSource(const transfer::RetentionOptions& options);
    /// Shows this obs set's files (once it is loaded, if it is not yet).
    void showObsSet(const std::string& name);
    /// Reads everything again now (F5).
    void refresh();
    bool hasLoaded() const { return loaded_; }
    ObsSetTableModel* obsSetModel() const { return sets_; }
    FileTableModel* fileModel() const { return files_; }

signals:
    /// A load finished (the first one, and every later one).
    void loaded();
    /// Open this file (a raw mosaic in the archive or the buffer) in the FITS viewer.
    void fileWanted(const QString& path);

private:
    std::string preferred_; ///< obs set to show first (--obs-set)
    struct Loaded {
        transfer::TransferOverview overview;
        std::vector<transfer::FileState> files;
        std::string filesOf;
    };
    void showLoaded(const Result<Loaded>& result);
    void showChart(const std::vector<transfer::DayVolume>& days);
    void transferNow();
    void whatCanBeFreed();
    std::string selectedObsSet() const;

    transfer::RetentionOptions options_;
    bool loaded_ = false;
    ObsSetTableModel* sets_;
    FileTableModel* files_;
    QTableView* setView_;
    QTableView* fileView_;
    QChartView* chart_;
    QLabel* source_;
    QLabel* summary_;
    QLabel* problem_;
    QPushButton* transferButton_;
    QPushButton* freeButton_;
    std::unique_ptr<LiveLoad<Loaded>> live_;
    std::unique_ptr<Background> actions_; ///< the buttons' work
};

} // namespace paudm::ui
