#pragma once
// The Nightly report panel (the paper's section 7.3, Figures 10 and 11): a night or a range
// of nights, the quality of every science exposure against time (seeing, sky,
// transparency, zero point, airmass, astrometric rms, coloured by band, the cuts drawn and
// the failing exposures ringed), any two quantities against each other, the share that
// passes per night and band, and the exposures to schedule again with the cut each failed
// and by how much. Cut sets are versions in PAUdb: edited here and saved as a new version,
// compared with another version exposure by exposure. Everything is read off the GUI
// thread and follows the database live (LISTEN paudm_nightly, paudm_quality): a
// single_epoch job that finishes adds its point without a reload.
#include "common/error.h"
#include "quality/report.h"
#include "reportcharts.h"
#include "reportmodels.h"

#include <QWidget>

#include <memory>

class QChart;
class QChartView;
class QComboBox;
class QDateEdit;
class QLabel;
class QLineEdit;
class QTableView;
class QTabWidget;

namespace paudm::ui {

class Background;
template <class T> class LiveLoad;

class ReportPanel : public QWidget {
    Q_OBJECT
public:
    explicit ReportPanel(QWidget* parent = nullptr);
    ~ReportPanel() override;

    /// Starts reading (and listening to) this database.
    void setDatabase(const std::string& conninfo);
    /// Shows nights `from` to `to` (YYYY-MM-DD; empty `to`: one night; empty `from`: the
    /// latest night with reduced science).
    void showNights(const QString& from, const QString& to = {});
    /// Applies this cut set (NAME or NAME@VERSION; empty: the default).
    void showCuts(const QString& spec);
    void refresh();
    bool hasLoaded() const { return loaded_; }
    /// The size of the dock it shares with the job graph (its charts would ask for more).
    QSize sizeHint() const override { return {560, 700}; }
    const quality::Report* report() const { return report_.get(); }
    /// The views: against time, two quantities, pass rate, comparison.
    QTabWidget* views() const { return views_; }

signals:
    void loaded();
    /// The user asked for an exposure's single_epoch job (double-click, or a click on a point).
    void jobWanted(std::int64_t jobId);

private:
    struct Loaded {
        std::shared_ptr<const quality::Report> report;
        std::vector<quality::CutSet> cutSets;
        std::shared_ptr<const quality::Report> compared; ///< the same exposures under the comparison's cut set
        std::string latestNight;                 ///< when no night was asked for
        std::string warning;                     ///< a column typed for a plot that is not one
    };
    void showLoaded(const Result<Loaded>& result);
    void drawTimePlots();
    void drawScatter();
    void drawPassRates();
    /// The quantity a plot's box names: a listed one's key, or the column typed in it.
    QString quantityKey(const QComboBox* box) const;
    void fillCutSets(const std::vector<quality::CutSet>& sets);
    void editCuts();
    void exportCsv();
    void openJobOf(const quality::Exposure& e);
    /// What the charts' points do: the exposure's tooltip, its job on a click.
    report::ChartHooks hooks();

    std::string conninfo_;
    bool loaded_ = false;
    QString from_, to_, cutSpec_, compareSpec_;
    QStringList plotExtra_; ///< columns typed into the two-quantity plot's boxes
    std::shared_ptr<const quality::Report> report_;
    QDateEdit* fromEdit_;
    QDateEdit* toEdit_;
    QLineEdit* release_;
    QComboBox* cuts_;
    QComboBox* compare_;
    QLabel* summary_;
    QLabel* legend_ = nullptr;
    QLabel* problem_;
    QTabWidget* views_;
    std::vector<QChartView*> timeViews_;
    QChartView* scatterView_;
    QChartView* passView_ = nullptr;
    QComboBox* xQuantity_;
    QComboBox* yQuantity_;
    PassRateTableModel* rates_;
    FailingTableModel* failing_;
    FailingTableModel* changed_;
    QTableView* ratesView_;
    QTableView* failingView_;
    QTableView* changedView_;
    QLabel* changedSummary_;
    std::unique_ptr<LiveLoad<Loaded>> live_;
    std::unique_ptr<Background> actions_;
};

} // namespace paudm::ui
