#pragma once
// The FITS viewer (the paper's sections 7.4 and 7.5): any FITS file, raw or reduced, one
// HDU, one CCD of a raw mosaic with its amplifiers assembled, or a whole exposure as
// PAUCam's focal plane (a double click opens the CCD there). DS9's habits: zscale first,
// min/max, percentiles or the user's limits (typed, or dragged on the histogram), linear,
// sqrt, log and asinh stretches, grey, heat and viridis (inverted too), wheel zoom about
// the cursor, drag to pan, the magnifier (M), the pixel value and RA/Dec (sexagesimal and
// degrees, through wcslib) under the cursor, Shift+drag for a distance and an angle,
// blinking against a kept image (K keeps, B blinks). Overlays, each toggled: the image's
// detections and the reference stars in its footprint (from PAUdb), its mask planes, and
// DS9 region files (import and export, image or fk5). The header of the HDU, searchable.
// Save the view as PNG, or the visible part as a FITS cutout with its WCS moved.
//
// Files are read, scaled and measured on the console's worker threads; every error is a
// message in the panel. The archive tab lists the nights in PAUdb: night, obs set,
// exposure, raw or a release's reduced CCDs.
#include "viewer/display.h"
#include "viewer/image_source.h"
#include "viewer/overlay.h"

#include <QWidget>

#include <atomic>
#include <map>
#include <memory>
#include <optional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QSpinBox;
class QTabWidget;
class QTimer;
class QToolButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace paudm::ui {

class ArchiveTree;
class Background;
class HistogramView;
class ImageCanvas;
struct ViewerImage;

class ViewerPanel : public QWidget {
    Q_OBJECT
public:
    /// What one open produced on a worker thread (defined in the .cpp).
    struct Loaded;

    explicit ViewerPanel(QWidget* parent = nullptr);
    ~ViewerPanel() override;

    /// PAUdb, for the detections and reference stars overlays and the archive tab.
    void setDatabase(const std::string& conninfo);

    /// FILE, FILE[N] (1 = primary) or FILE[EXTNAME]. A raw mosaic without an HDU opens
    /// its CCD 1 assembled.
    void open(const QString& spec);
    void openCcd(const QString& path, int ccd);
    void openFocalPlane(const QString& path);
    void openPlane(long plane);

    /// Display limits: "zscale", "minmax", "99.5" (a percentage), ... or "user".
    void setScale(const QString& mode);
    void setLimits(double low, double high);
    void setStretch(viewer::Stretch s);
    void setColormap(viewer::Colormap c);
    void setInverted(bool on);
    void setOverlayVisible(const QString& layer, bool on);

    void keepForBlink();
    void setBlinking(bool on);
    void importRegions(const QString& path);
    void exportRegions(const QString& path, viewer::RegionSystem system);
    void savePng(const QString& path);
    void saveCutout(const QString& path);

    /// True once the file asked for is shown (or failed), or when nothing was asked for.
    bool hasLoaded() const { return loaded_; }
    bool isBusy() const { return busy_; }
    QString problem() const;
    viewer::Limits limits() const { return limits_; }
    ImageCanvas* canvas() const { return canvas_; }
    QLabel* readout() const { return readout_; }
    QPlainTextEdit* headerView() const { return header_; }
    QTreeWidget* archiveTree() const;
    QComboBox* hduBox() const { return hdu_; }
    const std::optional<viewer::FocalPlane>& focalPlane() const { return focal_; }
    /// The plane shown (pixels moved to the canvas's image): path, HDU, label, header.
    const viewer::Plane& plane() const { return *plane_; }
    /// Milliseconds from the open() call to the first frame of its image.
    double lastOpenMs() const { return lastOpenMs_; }
    /// Of which on the worker thread: reading, assembling and the scales.
    double lastWorkMs() const { return lastWorkMs_; }
    QSize sizeHint() const override { return {760, 560}; }
    QSize minimumSizeHint() const override { return {480, 320}; }

signals:
    void loaded();
    /// Detections and reference stars of the shown image were read (or there are none).
    void overlaysLoaded();

private:
    void start(std::function<std::shared_ptr<Loaded>(const std::shared_ptr<std::atomic<int>>&)> work, const QString& what);
    void display(const std::shared_ptr<Loaded>& l);
    void applyScale();
    void updateReadout(double x, double y, bool inside);
    void showMeasurement(double x1, double y1, double x2, double y2);
    void filterHeader();
    void loadOverlays();
    void fail(const QString& message);
    void finishLoading();

    std::unique_ptr<Background> files_;
    std::unique_ptr<Background> db_;
    std::string conninfo_;

    ImageCanvas* canvas_;
    HistogramView* histogram_;
    QComboBox* hdu_;
    QComboBox* ccd_;
    QSpinBox* planeBox_;
    QToolButton* focalButton_;
    QCheckBox* skySubtract_;
    QComboBox* scale_;
    QDoubleSpinBox* low_;
    QDoubleSpinBox* high_;
    QComboBox* stretch_;
    QComboBox* colormap_;
    QCheckBox* invert_;
    QLabel* zoomLabel_;
    QToolButton* overlaysButton_;
    QToolButton* blinkButton_;
    QLabel* title_;
    QLabel* readout_;
    QLabel* problem_;
    QProgressBar* progress_;
    QTimer* progressTimer_;
    QTimer* blinkTimer_;
    QLineEdit* headerSearch_;
    QPlainTextEdit* header_;
    ArchiveTree* archive_;
    QTabWidget* side_;

    std::shared_ptr<Loaded> current_;
    std::shared_ptr<const viewer::Plane> plane_;
    std::optional<viewer::FocalPlane> focal_;
    std::shared_ptr<std::atomic<int>> progressCount_;
    int generation_ = 0;
    bool loaded_ = true;
    bool busy_ = false;
    bool updatingControls_ = false;
    viewer::Limits limits_{0, 1};
    QString scaleMode_ = "zscale";
    viewer::Stretch stretch2_ = viewer::Stretch::Linear;
    viewer::Colormap map_ = viewer::Colormap::Grey;
    bool inverted_ = false;
    double lastOpenMs_ = 0;
    double lastWorkMs_ = 0;
    qint64 openStartedNs_ = 0;
    struct Partner {
        std::shared_ptr<const ViewerImage> image;
        viewer::Limits limits;
        QString label;
    };
    std::optional<Partner> partner_;
    bool showingPartner_ = false;
};

} // namespace paudm::ui
