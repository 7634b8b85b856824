#include "viewer/viewerpanel.h"

#include "archive/layout.h"
#include "common/atomic_file.h"
#include "background.h"
#include "db/connection.h"
#include "fits/fits.h"
#include "viewer/archivetree.h"
#include "viewer/histogramview.h"
#include "viewer/imagecanvas.h"
#include "viewer/overlay.h"
#include "wcs/wcs.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTimer>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <cmath>
#include <cstdio>
#include <numbers>

namespace paudm::ui {

namespace {

constexpr double kPercents[] = {99.5, 99, 98, 95, 90};
constexpr std::size_t kSamples = 500000; ///< pixels sampled for percentiles and the histogram
constexpr int kBins = 200;

const char* kLayerDetections = "detections";
const char* kLayerReference = "reference";
const char* kLayerRegions = "regions";

std::int64_t monotonicNs() {
    static QElapsedTimer clock = [] {
        QElapsedTimer c;
        c.start();
        return c;
    }();
    return clock.nsecsElapsed();
}


} // namespace

struct ViewerPanel::Loaded {
    std::shared_ptr<viewer::Plane> plane; ///< its pixels moved to `image`
    std::shared_ptr<ViewerImage> image;
    std::optional<viewer::FocalPlane> focal; ///< its pixels moved to `image`
    std::vector<viewer::HduSummary> hdus;
    bool rawMosaic = false;
    int ccd = 0; ///< a raw mosaic's CCD, or a reduced file's
    std::vector<std::pair<int, std::string>> siblings;
    viewer::Limits zscale, minmax;
    std::map<double, viewer::Limits> percentiles;
    std::vector<std::size_t> histogram;
    viewer::Limits histRange;
    double readMs = 0;
};

ViewerPanel::ViewerPanel(QWidget* parent)
    : QWidget(parent), files_(std::make_unique<Background>()), canvas_(new ImageCanvas),
      histogram_(new HistogramView), hdu_(new QComboBox), ccd_(new QComboBox), planeBox_(new QSpinBox),
      focalButton_(new QToolButton), skySubtract_(new QCheckBox(tr("sky off"))), scale_(new QComboBox), low_(new QDoubleSpinBox), high_(new QDoubleSpinBox),
      stretch_(new QComboBox), colormap_(new QComboBox), invert_(new QCheckBox(tr("Invert"))), zoomLabel_(new QLabel),
      overlaysButton_(new QToolButton), blinkButton_(new QToolButton), title_(new QLabel), readout_(new QLabel),
      problem_(new QLabel), progress_(new QProgressBar), progressTimer_(new QTimer(this)), blinkTimer_(new QTimer(this)),
      headerSearch_(new QLineEdit), header_(new QPlainTextEdit), archive_(new ArchiveTree), side_(new QTabWidget) {
    // ---- navigation row: open, HDU, CCD, plane, focal plane
    auto* openButton = new QToolButton;
    openButton->setText(tr("Open…"));
    openButton->setToolTip(tr("Open a FITS file (Ctrl+O)"));
    auto* openAction = new QAction(tr("Open FITS file"), this);
    openAction->setShortcut(QKeySequence::Open);
    openAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addAction(openAction);
    connect(openAction, &QAction::triggered, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Open a FITS file"), QString(),
                                                       tr("FITS files (*.fits *.fit *.fts *.fits.fz *.fz);;All files (*)"));
        if (!f.isEmpty()) open(f);
    });
    connect(openButton, &QToolButton::clicked, openAction, &QAction::trigger);
    hdu_->setToolTip(tr("HDU of the file (number, EXTNAME, size)"));
    hdu_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(hdu_, &QComboBox::activated, this, [this](int i) {
        if (updatingControls_ || !plane_) return;
        open(QString::fromStdString(plane_->path) + "[" + QString::number(hdu_->itemData(i).toInt()) + "]");
    });
    ccd_->setToolTip(tr("CCD of the exposure: a raw mosaic's amplifiers assembled, or a reduced file's sibling"));
    connect(ccd_, &QComboBox::activated, this, [this](int i) {
        if (updatingControls_ || !plane_) return;
        openCcd(QString::fromStdString(plane_->path), ccd_->itemData(i).toInt());
    });
    planeBox_->setPrefix(tr("plane "));
    planeBox_->setToolTip(tr("Plane of a cube"));
    planeBox_->setVisible(false);
    connect(planeBox_, &QSpinBox::valueChanged, this, [this](int v) {
        if (!updatingControls_) openPlane(v);
    });
    focalButton_->setText(tr("Focal plane"));
    focalButton_->setToolTip(tr("The whole exposure: 18 CCDs where they sit in PAUCam (Ctrl+Shift+F); double-click a "
                                "CCD to open it"));
    auto* focalAction = new QAction(tr("Focal plane"), this);
    focalAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F));
    focalAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addAction(focalAction);
    connect(focalAction, &QAction::triggered, this, [this] {
        if (plane_) openFocalPlane(QString::fromStdString(plane_->path));
    });
    connect(focalButton_, &QToolButton::clicked, focalAction, &QAction::trigger);
    skySubtract_->setChecked(true);
    skySubtract_->setToolTip(tr("In the focal plane, take each CCD's median off it: narrow-band and broad-band CCDs "
                                "differ a hundredfold in sky, and one scale would show one kind only"));
    connect(skySubtract_, &QCheckBox::toggled, this, [this] {
        if (focal_) openFocalPlane(QString::fromStdString(focal_->path));
    });

    // ---- display row: scale, limits, stretch, colours, zoom, overlays, blink, save
    scale_->addItem(tr("zscale"), "zscale");
    scale_->addItem(tr("min max"), "minmax");
    for (double p : kPercents) scale_->addItem(QString::number(p) + " %", QString::number(p));
    scale_->addItem(tr("user"), "user");
    for (QComboBox* c : {scale_, stretch_, colormap_}) c->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    scale_->setToolTip(tr("Display limits: IRAF's zscale, the extremes, a central percentage, or your own"));
    connect(scale_, &QComboBox::activated, this, [this](int i) { setScale(scale_->itemData(i).toString()); });
    for (QDoubleSpinBox* b : {low_, high_}) {
        b->setRange(-1e30, 1e30);
        b->setDecimals(3);
        b->setKeyboardTracking(false);
        b->setMinimumWidth(96);
        b->setButtonSymbols(QAbstractSpinBox::NoButtons);
        connect(b, &QDoubleSpinBox::valueChanged, this, [this] {
            if (!updatingControls_) setLimits(low_->value(), high_->value());
        });
    }
    low_->setToolTip(tr("Lower display limit"));
    high_->setToolTip(tr("Upper display limit"));
    for (auto s : {viewer::Stretch::Linear, viewer::Stretch::Sqrt, viewer::Stretch::Log, viewer::Stretch::Asinh})
        stretch_->addItem(QString::fromStdString(viewer::stretchName(s)), static_cast<int>(s));
    connect(stretch_, &QComboBox::activated, this,
            [this](int i) { setStretch(static_cast<viewer::Stretch>(stretch_->itemData(i).toInt())); });
    for (auto c : {viewer::Colormap::Grey, viewer::Colormap::Heat, viewer::Colormap::Viridis})
        colormap_->addItem(QString::fromStdString(viewer::colormapName(c)), static_cast<int>(c));
    connect(colormap_, &QComboBox::activated, this,
            [this](int i) { setColormap(static_cast<viewer::Colormap>(colormap_->itemData(i).toInt())); });
    connect(invert_, &QCheckBox::toggled, this, &ViewerPanel::setInverted);
    auto* fit = new QToolButton;
    fit->setText(tr("Fit"));
    fit->setToolTip(tr("Show the whole image (F)"));
    connect(fit, &QToolButton::clicked, canvas_, &ImageCanvas::zoomToFit);
    auto* one = new QToolButton;
    one->setText(tr("1:1"));
    one->setToolTip(tr("One image pixel per screen pixel (1); the wheel zooms about the cursor, + and - by 2"));
    connect(one, &QToolButton::clicked, this, [this] { canvas_->zoomTo(1); });
    zoomLabel_->setMinimumWidth(60);

    overlaysButton_->setText(tr("Overlays"));
    overlaysButton_->setPopupMode(QToolButton::InstantPopup);
    auto* overlays = new QMenu(overlaysButton_);
    auto layerToggle = [this, overlays](const QString& text, const char* layer, const QKeySequence& key, bool on) {
        QAction* a = overlays->addAction(text);
        a->setCheckable(true);
        a->setChecked(on);
        a->setShortcut(key);
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        addAction(a);
        connect(a, &QAction::toggled, this, [this, layer](bool v) { setOverlayVisible(layer, v); });
        return a;
    };
    layerToggle(tr("Detections (PAUdb)"), kLayerDetections, QKeySequence(Qt::Key_D), true);
    layerToggle(tr("Reference stars (PAUdb)"), kLayerReference, QKeySequence(Qt::Key_R), true);
    layerToggle(tr("Regions"), kLayerRegions, QKeySequence(), true);
    QAction* mask = overlays->addAction(tr("Mask planes (bad red, saturated magenta, cosmic rays cyan, no data yellow)"));
    mask->setCheckable(true);
    connect(mask, &QAction::toggled, this, [this](bool v) { canvas_->setMaskBits(v ? 0x0f : 0); });
    overlays->addSeparator();
    overlays->addAction(tr("Import DS9 regions…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Import DS9 regions"), {}, tr("DS9 regions (*.reg);;All files (*)"));
        if (!f.isEmpty()) importRegions(f);
    });
    overlays->addAction(tr("Export overlays as DS9 regions (fk5)…"), this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export DS9 regions"), {}, tr("DS9 regions (*.reg)"));
        if (!f.isEmpty()) exportRegions(f, viewer::RegionSystem::Fk5);
    });
    overlays->addAction(tr("Export overlays as DS9 regions (image)…"), this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export DS9 regions"), {}, tr("DS9 regions (*.reg)"));
        if (!f.isEmpty()) exportRegions(f, viewer::RegionSystem::Image);
    });
    overlays->addSeparator();
    QAction* magnifier = overlays->addAction(tr("Magnifier (M)"));
    magnifier->setCheckable(true);
    connect(magnifier, &QAction::toggled, canvas_, &ImageCanvas::setMagnifier);
    overlaysButton_->setMenu(overlays);

    blinkButton_->setText(tr("Blink"));
    blinkButton_->setCheckable(true);
    blinkButton_->setToolTip(tr("Alternate with the image kept for blinking (K keeps the one shown, B blinks)"));
    connect(blinkButton_, &QToolButton::toggled, this, &ViewerPanel::setBlinking);
    auto* keep = new QAction(tr("Keep for blinking"), this);
    keep->setShortcut(QKeySequence(Qt::Key_K));
    keep->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addAction(keep);
    connect(keep, &QAction::triggered, this, &ViewerPanel::keepForBlink);
    auto* blink = new QAction(tr("Blink"), this);
    blink->setShortcut(QKeySequence(Qt::Key_B));
    blink->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addAction(blink);
    connect(blink, &QAction::triggered, blinkButton_, &QToolButton::toggle);
    blinkTimer_->setInterval(600);
    connect(blinkTimer_, &QTimer::timeout, this, [this] {
        if (!partner_ || !current_) return;
        showingPartner_ = !showingPartner_;
        const auto& img = showingPartner_ ? partner_->image : std::shared_ptr<const ViewerImage>(current_->image);
        canvas_->setImage(img, true);
        const viewer::Limits l = showingPartner_ ? partner_->limits : limits_;
        canvas_->setColours(l, stretch2_, map_, inverted_);
        title_->setText(showingPartner_ ? tr("blink: %1").arg(partner_->label)
                                        : QString::fromStdString(plane_ ? plane_->path + " " + plane_->label : ""));
    });

    auto* save = new QToolButton;
    save->setText(tr("Save"));
    save->setPopupMode(QToolButton::InstantPopup);
    auto* saveMenu = new QMenu(save);
    QAction* png = saveMenu->addAction(tr("View as PNG…"), this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Save the view"), {}, tr("PNG images (*.png)"));
        if (!f.isEmpty()) savePng(f);
    });
    png->setShortcut(QKeySequence::Save);
    png->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addAction(png);
    saveMenu->addAction(tr("Visible part as FITS cutout…"), this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Save a cutout"), {}, tr("FITS files (*.fits)"));
        if (!f.isEmpty()) saveCutout(f);
    });
    save->setMenu(saveMenu);

    auto* nav = new QHBoxLayout;
    nav->setContentsMargins(0, 0, 0, 0);
    nav->addWidget(openButton);
    nav->addWidget(hdu_);
    nav->addWidget(ccd_);
    nav->addWidget(planeBox_);
    nav->addWidget(focalButton_);
    nav->addWidget(skySubtract_);
    nav->addWidget(title_, 1);
    nav->addWidget(progress_);
    progress_->setMaximumWidth(140);
    progress_->setVisible(false);
    title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* display = new QHBoxLayout;
    display->setContentsMargins(0, 0, 0, 0);
    display->addWidget(scale_);
    display->addWidget(low_);
    display->addWidget(high_);
    display->addWidget(stretch_);
    display->addWidget(colormap_);
    display->addWidget(invert_);
    display->addSpacing(8);
    display->addWidget(fit);
    display->addWidget(one);
    display->addWidget(zoomLabel_);
    display->addStretch(1);
    display->addWidget(overlaysButton_);
    display->addWidget(blinkButton_);
    display->addWidget(save);

    // ---- side: histogram and header; archive
    auto* headerPage = new QWidget;
    auto* hl = new QVBoxLayout(headerPage);
    hl->setContentsMargins(0, 0, 0, 0);
    hl->addWidget(histogram_);
    headerSearch_->setPlaceholderText(tr("Search the header (keyword or text)"));
    headerSearch_->setClearButtonEnabled(true);
    hl->addWidget(headerSearch_);
    header_->setReadOnly(true);
    header_->setLineWrapMode(QPlainTextEdit::NoWrap);
    header_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    hl->addWidget(header_, 1);
    connect(headerSearch_, &QLineEdit::textChanged, this, &ViewerPanel::filterHeader);
    connect(histogram_, &HistogramView::limitsDragged, this, &ViewerPanel::setLimits);
    connect(archive_, &ArchiveTree::focalPlaneWanted, this, &ViewerPanel::openFocalPlane);
    connect(archive_, &ArchiveTree::ccdWanted, this, &ViewerPanel::openCcd);
    connect(archive_, &ArchiveTree::fileWanted, this, &ViewerPanel::open);
    side_->addTab(headerPage, tr("Header"));
    side_->addTab(archive_, tr("Archive"));

    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(canvas_);
    split->addWidget(side_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setSizes({700, 260});
    side_->setMinimumWidth(220);

    readout_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    readout_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    // One line of fixed height: the readout changes with every mouse move, the canvas's
    // size must not.
    readout_->setFixedHeight(QFontMetrics(readout_->font()).height() + 6);
    readout_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
    readout_->setText(tr("Open a FITS file (Ctrl+O) or pick an exposure in the Archive tab."));
    problem_->setStyleSheet("color: #b00020");
    problem_->setWordWrap(true);
    problem_->setVisible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(nav);
    layout->addLayout(display);
    layout->addWidget(problem_);
    layout->addWidget(split, 1);
    layout->addWidget(readout_);

    connect(canvas_, &ImageCanvas::hovered, this, &ViewerPanel::updateReadout);
    connect(canvas_, &ImageCanvas::measured, this, &ViewerPanel::showMeasurement);
    connect(canvas_, &ImageCanvas::viewChanged, this, [this] {
        const double z = canvas_->view().zoom;
        zoomLabel_->setText(z >= 1 ? QString("%1x").arg(z, 0, 'g', 3) : QString("1/%1").arg(1 / z, 0, 'g', 3));
    });
    connect(canvas_, &ImageCanvas::activated, this, [this](double x, double y) {
        if (!focal_) return;
        const int ccd = focal_->ccdAt(x, y);
        if (!ccd) return;
        for (const auto& c : focal_->ccds)
            if (c.ccd == ccd) {
                if (focal_->raw)
                    openCcd(QString::fromStdString(c.source), ccd);
                else
                    open(QString::fromStdString(c.source));
            }
    });
    progressTimer_->setInterval(100);
    connect(progressTimer_, &QTimer::timeout, this, [this] {
        if (progressCount_) progress_->setValue(progressCount_->load());
    });
    hdu_->setVisible(false);
    ccd_->setVisible(false);
    focalButton_->setEnabled(false);
    plane_ = std::make_shared<viewer::Plane>();
}

ViewerPanel::~ViewerPanel() = default;

QTreeWidget* ViewerPanel::archiveTree() const { return archive_; }

QString ViewerPanel::problem() const { return problem_->isVisible() ? problem_->text() : QString(); }

void ViewerPanel::setDatabase(const std::string& conninfo) {
    if (conninfo == conninfo_) return;
    conninfo_ = conninfo;
    db_ = std::make_unique<Background>(conninfo);
    archive_->setDatabase(conninfo);
    if (current_) loadOverlays();
}

void ViewerPanel::fail(const QString& message) {
    problem_->setText(message);
    problem_->setVisible(true);
}

void ViewerPanel::finishLoading() {
    busy_ = false;
    progress_->setVisible(false);
    progressTimer_->stop();
    if (!loaded_) {
        loaded_ = true;
        emit loaded();
    }
}

// ---------------------------------------------------------------- loading

namespace {
void measureScales(ViewerPanel::Loaded& l);
} // namespace

void ViewerPanel::start(std::function<std::shared_ptr<Loaded>(const std::shared_ptr<std::atomic<int>>&)> work,
                        const QString& what) {
    const int generation = ++generation_;
    loaded_ = false;
    busy_ = true;
    openStartedNs_ = monotonicNs();
    problem_->setVisible(false);
    progressCount_ = std::make_shared<std::atomic<int>>(0);
    progress_->setFormat(what + " %p%");
    progress_->setRange(0, 0);
    progress_->setVisible(true);
    progressTimer_->start();
    auto counter = progressCount_;
    files_->run<std::shared_ptr<Loaded>>(
        this,
        [work = std::move(work), counter](Work&) {
            QElapsedTimer clock;
            clock.start();
            auto l = work(counter);
            measureScales(*l);
            l->readMs = clock.nsecsElapsed() / 1e6;
            return l;
        },
        [this, generation](const Result<std::shared_ptr<Loaded>>& r) {
            if (generation != generation_) return; // a newer open() won
            if (!r) {
                fail(QString::fromStdString(r.error().what()));
                finishLoading();
                return;
            }
            display(*r);
        });
}

namespace {

std::shared_ptr<ViewerImage> imageOf(viewer::Plane& p) {
    auto img = std::make_shared<ViewerImage>();
    img->nx = p.nx, img->ny = p.ny, img->units = p.units;
    img->pixels = std::move(p.pixels);
    p.pixels.clear();
    if (!p.header.empty()) {
        try {
            img->wcs = wcs::Wcs::fromHeader(p.header, p.path + " " + p.label);
        } catch (const Error&) {
            // No celestial WCS: the readout shows pixels only.
        }
    }
    return img;
}

/// Everything the scale controls need, computed once per image off the GUI thread.
void measureScales(ViewerPanel::Loaded& l) {
    if (!l.image || l.image->pixels.empty()) return;
    const auto& px = l.image->pixels;
    l.zscale = viewer::zscale(px.data(), px.size());
    l.minmax = viewer::minMax(px.data(), px.size());
    const std::vector<double> percents(std::begin(kPercents), std::end(kPercents));
    const auto limits = viewer::percentiles(px.data(), px.size(), percents, kSamples);
    for (std::size_t i = 0; i < percents.size(); ++i) l.percentiles[percents[i]] = limits[i];
    // The histogram spans the zscale range and as much again on either side (within the
    // image's values): where the limits are set, not the few bright stars far above.
    const double span = std::max(l.zscale.high - l.zscale.low, 1e-6 * std::max(1.0, std::abs(l.zscale.high)));
    l.histRange = {std::max(l.minmax.low, l.zscale.low - span), std::min(l.minmax.high, l.zscale.high + span)};
    if (!(l.histRange.high > l.histRange.low)) l.histRange = {l.zscale.low - 1, l.zscale.high + 1};
    l.histogram = viewer::histogram(px.data(), px.size(), l.histRange, kBins, kSamples);
}

int ccdOfSiblings(const std::vector<std::pair<int, std::string>>& siblings, const std::string& path) {
    for (const auto& [ccd, file] : siblings)
        if (QFileInfo(QString::fromStdString(file)) == QFileInfo(QString::fromStdString(path))) return ccd;
    return 0;
}

} // namespace

void ViewerPanel::open(const QString& spec) {
    const std::string s = spec.toStdString();
    start(
        [s](const std::shared_ptr<std::atomic<int>>&) {
            auto l = std::make_shared<Loaded>();
            const auto [path, ext] = fits::splitHduSpec(s);
            l->hdus = viewer::listHdus(path);
            l->rawMosaic = viewer::isRawMosaic(path);
            viewer::Plane p;
            if (l->rawMosaic && ext.empty()) {
                p = viewer::readRawCcd(path, 1);
                l->ccd = 1;
            } else {
                p = viewer::readPlane(s);
                l->siblings = viewer::reducedSiblings(path);
                l->ccd = ccdOfSiblings(l->siblings, path);
            }
            l->image = imageOf(p);
            if (l->ccd && !l->rawMosaic && p.hdu == 1)
                l->image->mask = viewer::readMask(path, l->image->nx, l->image->ny);
            l->plane = std::make_shared<viewer::Plane>(std::move(p));
            return l;
        },
        tr("reading"));
}

void ViewerPanel::openCcd(const QString& path, int ccd) {
    const std::string p = path.toStdString();
    start(
        [p, ccd](const std::shared_ptr<std::atomic<int>>&) {
            auto l = std::make_shared<Loaded>();
            l->rawMosaic = viewer::isRawMosaic(p);
            viewer::Plane plane;
            std::string file = p;
            if (l->rawMosaic) {
                plane = viewer::readRawCcd(p, ccd);
            } else {
                l->siblings = viewer::reducedSiblings(p);
                file.clear();
                for (const auto& [c, f] : l->siblings)
                    if (c == ccd) file = f;
                if (file.empty()) throw Error(p + ": no CCD " + std::to_string(ccd) + " beside it");
                plane = viewer::readPlane(file);
            }
            l->hdus = viewer::listHdus(file);
            l->ccd = ccd;
            l->image = imageOf(plane);
            if (!l->rawMosaic) l->image->mask = viewer::readMask(file, l->image->nx, l->image->ny);
            l->plane = std::make_shared<viewer::Plane>(std::move(plane));
            return l;
        },
        tr("CCD %1").arg(ccd));
}

void ViewerPanel::openPlane(long plane) {
    if (!plane_ || plane_->path.empty()) return;
    const std::string spec = plane_->path + "[" + std::to_string(plane_->hdu) + "]";
    start(
        [spec, plane](const std::shared_ptr<std::atomic<int>>&) {
            auto l = std::make_shared<Loaded>();
            viewer::Plane p = viewer::readPlane(spec, plane);
            l->hdus = viewer::listHdus(p.path);
            l->image = imageOf(p);
            l->plane = std::make_shared<viewer::Plane>(std::move(p));
            return l;
        },
        tr("plane %1").arg(plane));
}

void ViewerPanel::openFocalPlane(const QString& path) {
    const std::string p = path.toStdString();
    const bool subtract = skySubtract_->isChecked();
    start(
        [p, subtract](const std::shared_ptr<std::atomic<int>>& counter) {
            auto l = std::make_shared<Loaded>();
            viewer::FocalPlane fp = viewer::readFocalPlane(
                p, 4096, 2,
                [counter](int done, int) {
                    counter->store(done);
                    return true;
                },
                subtract);
            l->rawMosaic = viewer::reducedSiblings(p).empty();
            l->hdus = viewer::listHdus(p);
            l->image = std::make_shared<ViewerImage>();
            l->image->nx = fp.nx, l->image->ny = fp.ny, l->image->units = fp.units;
            l->image->pixels = std::move(fp.pixels);
            fp.pixels.clear();
            auto plane = std::make_shared<viewer::Plane>();
            plane->path = p;
            plane->label = "focal plane (18 CCDs, binned " + std::to_string(fp.binning) + " x " +
                           std::to_string(fp.binning) + (fp.skySubtracted ? ", each CCD's sky subtracted)" : ")");
            plane->header = fp.header;
            plane->nx = fp.nx, plane->ny = fp.ny;
            l->plane = plane;
            l->focal = std::move(fp);
            return l;
        },
        tr("focal plane"));
    progress_->setRange(0, 18);
}

void ViewerPanel::display(const std::shared_ptr<Loaded>& l) {
    setBlinking(false);
    const bool sameGeometry = current_ && current_->image && l->image && current_->image->nx == l->image->nx &&
                              current_->image->ny == l->image->ny && !l->focal == !focal_;
    current_ = l;
    plane_ = l->plane;
    focal_ = l->focal;
    // Controls: HDU list, CCD list, plane, focal plane.
    updatingControls_ = true;
    hdu_->clear();
    for (const auto& h : l->hdus) {
        QString text = QString::number(h.number);
        if (!h.extname.empty()) text += " " + QString::fromStdString(h.extname);
        if (!h.hasPixels()) text += h.axes.empty() ? tr(" (no data)") : QString(" (%1)").arg(QString::fromStdString(h.type));
        else text += QString(" %1x%2").arg(h.axes[0]).arg(h.axes.size() > 1 ? h.axes[1] : 1);
        hdu_->addItem(text, h.number);
    }
    // An assembled CCD or the focal plane is no one HDU of the file.
    hdu_->setCurrentIndex(l->plane->hdu ? hdu_->findData(l->plane->hdu) : -1);
    hdu_->setPlaceholderText(tr("HDU…"));
    hdu_->setVisible(l->hdus.size() > 1);
    ccd_->clear();
    if (l->rawMosaic && !l->hdus.empty()) {
        for (int c = 1; c <= 18; ++c) ccd_->addItem(tr("CCD %1").arg(c), c);
    } else {
        for (const auto& [c, f] : l->siblings) ccd_->addItem(tr("CCD %1").arg(c), c);
    }
    ccd_->setPlaceholderText(tr("CCD…"));
    ccd_->setCurrentIndex(l->focal ? -1 : ccd_->findData(l->ccd));
    ccd_->setVisible(ccd_->count() > 0);
    focalButton_->setEnabled(l->rawMosaic || !l->siblings.empty() || l->focal);
    planeBox_->setVisible(l->plane->planes > 1);
    planeBox_->setRange(1, static_cast<int>(std::max(1L, l->plane->planes)));
    planeBox_->setValue(static_cast<int>(l->plane->plane));
    updatingControls_ = false;

    title_->setText(QString::fromStdString(l->plane->path + "  " + l->plane->label));
    title_->setToolTip(title_->text());
    header_->setPlainText({});
    filterHeader();
    if (!l->plane->note.empty()) fail(QString::fromStdString(l->plane->note) + tr("; its header is on the right."));
    canvas_->setImage(l->image, sameGeometry);
    canvas_->setOverlay(kLayerDetections, {});
    canvas_->setOverlay(kLayerReference, {});
    histogram_->setData(l->histogram, l->histRange, limits_);
    applyScale();
    canvas_->repaint();
    lastOpenMs_ = (monotonicNs() - openStartedNs_) / 1e6;
    lastWorkMs_ = l->readMs;
    finishLoading();
    loadOverlays();
}

// ---------------------------------------------------------------- display

void ViewerPanel::applyScale() {
    if (current_ && current_->image && !current_->image->pixels.empty()) {
        if (scaleMode_ == "zscale") limits_ = current_->zscale;
        else if (scaleMode_ == "minmax") limits_ = current_->minmax;
        else if (scaleMode_ != "user") {
            const auto it = current_->percentiles.find(scaleMode_.toDouble());
            if (it != current_->percentiles.end()) limits_ = it->second;
        }
    }
    updatingControls_ = true;
    scale_->setCurrentIndex(std::max(0, scale_->findData(scaleMode_)));
    const double span = std::abs(limits_.high - limits_.low);
    const int decimals = span > 0 ? std::clamp(3 - static_cast<int>(std::floor(std::log10(span))), 0, 8) : 3;
    low_->setDecimals(decimals);
    high_->setDecimals(decimals);
    low_->setSingleStep(span > 0 ? span / 50 : 1);
    high_->setSingleStep(span > 0 ? span / 50 : 1);
    low_->setValue(limits_.low);
    high_->setValue(limits_.high);
    updatingControls_ = false;
    histogram_->setLimits(limits_);
    canvas_->setColours(limits_, stretch2_, map_, inverted_);
}

void ViewerPanel::setScale(const QString& mode) {
    scaleMode_ = mode;
    applyScale();
}

void ViewerPanel::setLimits(double low, double high) {
    scaleMode_ = "user";
    limits_ = {low, high};
    applyScale();
}

void ViewerPanel::setStretch(viewer::Stretch s) {
    stretch2_ = s;
    stretch_->setCurrentIndex(stretch_->findData(static_cast<int>(s)));
    applyScale();
}

void ViewerPanel::setColormap(viewer::Colormap c) {
    map_ = c;
    colormap_->setCurrentIndex(colormap_->findData(static_cast<int>(c)));
    applyScale();
}

void ViewerPanel::setInverted(bool on) {
    inverted_ = on;
    invert_->setChecked(on);
    applyScale();
}

void ViewerPanel::setOverlayVisible(const QString& layer, bool on) { canvas_->setLayerVisible(layer, on); }

void ViewerPanel::filterHeader() {
    if (!plane_) return;
    const QString want = headerSearch_->text().trimmed();
    QStringList lines;
    const std::string& h = plane_->header;
    for (std::size_t i = 0; i + 80 <= h.size(); i += 80) {
        QString card = QString::fromStdString(h.substr(i, 80));
        while (card.endsWith(' ')) card.chop(1);
        if (want.isEmpty() || card.contains(want, Qt::CaseInsensitive)) lines << card;
    }
    header_->setPlainText(lines.join('\n'));
}

void ViewerPanel::updateReadout(double x, double y, bool inside) {
    if (!current_ || !current_->image || current_->image->pixels.empty()) return;
    const auto& img = showingPartner_ && partner_ ? *partner_->image : *current_->image;
    if (!inside) {
        readout_->setText(tr("%1 x %2 pixels%3").arg(img.nx).arg(img.ny).arg(
            img.units.empty() ? QString() : QString(" (%1)").arg(QString::fromStdString(img.units))));
        return;
    }
    const long ix = static_cast<long>(std::floor(x + 0.5)), iy = static_cast<long>(std::floor(y + 0.5));
    const float v = img.pixels[static_cast<std::size_t>((iy - 1) * img.nx + (ix - 1))];
    QString text = QString("x %1  y %2  value %3%4")
                       .arg(x, 8, 'f', 1)
                       .arg(y, 8, 'f', 1)
                       .arg(std::isfinite(v) ? QString::number(v, 'g', 7) : tr("blank"))
                       .arg(img.units.empty() ? QString() : " " + QString::fromStdString(img.units));
    if (!img.mask.empty()) {
        const std::uint8_t m = img.mask[static_cast<std::size_t>((iy - 1) * img.nx + (ix - 1))];
        if (m) text += tr("  mask %1").arg(m);
    }
    if (focal_) {
        const int ccd = focal_->ccdAt(x, y);
        for (const auto& c : focal_->ccds)
            if (c.ccd == ccd)
                text += tr("   CCD %1, sky %2%3 (double-click opens it)")
                            .arg(ccd)
                            .arg(c.sky, 0, 'g', 6)
                            .arg(focal_->skySubtracted ? tr(", subtracted") : QString());
    } else if (img.wcs) {
        const wcs::Sky s = img.wcs->pixelToSky({x, y});
        text += QString("   RA %1  Dec %2   (%3, %4)")
                    .arg(QString::fromStdString(viewer::sexagesimalRa(s.ra)), QString::fromStdString(viewer::sexagesimalDec(s.dec)))
                    .arg(s.ra, 0, 'f', 6)
                    .arg(s.dec, 0, 'f', 6);
    }
    readout_->setText(text);
}

void ViewerPanel::showMeasurement(double x1, double y1, double x2, double y2) {
    const double px = std::hypot(x2 - x1, y2 - y1);
    const double angle = std::atan2(y2 - y1, x2 - x1) * 180 / std::numbers::pi;
    QString text = tr("distance %1 px, angle %2° from +x").arg(px, 0, 'f', 2).arg(angle, 0, 'f', 2);
    if (current_ && current_->image && current_->image->wcs && !focal_) {
        const auto& w = *current_->image->wcs;
        const wcs::Sky a = w.pixelToSky({x1, y1}), b = w.pixelToSky({x2, y2});
        const double d = std::numbers::pi / 180;
        // Great-circle distance (haversine) and position angle, east of north.
        const double h = std::pow(std::sin((b.dec - a.dec) * d / 2), 2) +
                         std::cos(a.dec * d) * std::cos(b.dec * d) * std::pow(std::sin((b.ra - a.ra) * d / 2), 2);
        const double sep = 2 * std::asin(std::sqrt(h)) / d * 3600;
        double pa = std::atan2(std::sin((b.ra - a.ra) * d) * std::cos(b.dec * d),
                               std::cos(a.dec * d) * std::sin(b.dec * d) -
                                   std::sin(a.dec * d) * std::cos(b.dec * d) * std::cos((b.ra - a.ra) * d)) /
                    d;
        if (pa < 0) pa += 360;
        text += tr(" = %1\" on the sky, position angle %2° (east of north)").arg(sep, 0, 'f', 3).arg(pa, 0, 'f', 2);
    }
    readout_->setText(text);
}

// ---------------------------------------------------------------- overlays from PAUdb

namespace {

struct DbOverlays {
    std::vector<viewer::Shape> detections, reference;
};

} // namespace

void ViewerPanel::loadOverlays() {
    if (!db_ || !current_ || !current_->image || current_->image->pixels.empty() || focal_) {
        emit overlaysLoaded();
        return;
    }
    const std::string path = plane_->path;
    const bool reduced = current_->ccd && !current_->rawMosaic && plane_->hdu == 1;
    const std::optional<wcs::Wcs> w = current_->image->wcs; // a copy for the worker
    const long nx = current_->image->nx, ny = current_->image->ny;
    const int generation = generation_;
    db_->run<DbOverlays>(
        this,
        [path, reduced, w, nx, ny](Work& work) {
            DbOverlays o;
            db::Connection& c = work.db();
            if (reduced) {
                const QFileInfo fi(QString::fromStdString(path));
                const db::Rows id = c.query(
                    "SELECT i.id FROM image i JOIN mosaic m ON m.id = i.mosaic_id "
                    "WHERE i.filename = $1 AND $2 LIKE '%' || m.archivepath ORDER BY i.id DESC LIMIT 1",
                    fi.fileName().toStdString(), fi.absolutePath().toStdString());
                if (id.size()) {
                    const db::Rows d = c.query("SELECT x, y, flags, class_star FROM detection WHERE image_id = $1 "
                                               "AND x IS NOT NULL ORDER BY flux_auto DESC NULLS LAST LIMIT 50000",
                                               id.toInt(0, 0));
                    for (int i = 0; i < d.size(); ++i) {
                        viewer::Shape s;
                        s.kind = viewer::Shape::Kind::Circle;
                        s.x = d.toDouble(i, 0), s.y = d.toDouble(i, 1), s.a = 6;
                        s.colour = d.isNull(i, 2) || d.toInt(i, 2) == 0 ? "lime" : "orange";
                        s.layer = kLayerDetections;
                        o.detections.push_back(s);
                    }
                }
            }
            if (w) {
                const auto box = w->footprint(nx, ny);
                if (box) {
                    const db::Rows r =
                        box->raMin <= box->raMax
                            ? c.query("SELECT ra, dec, source_id FROM ref_star WHERE dec BETWEEN $1 AND $2 AND ra "
                                      "BETWEEN $3 AND $4 LIMIT 20000",
                                      box->decMin, box->decMax, box->raMin, box->raMax)
                            : c.query("SELECT ra, dec, source_id FROM ref_star WHERE dec BETWEEN $1 AND $2 AND (ra >= $3 "
                                      "OR ra <= $4) LIMIT 20000",
                                      box->decMin, box->decMax, box->raMin, box->raMax);
                    for (int i = 0; i < r.size(); ++i) {
                        const wcs::Pixel p = w->skyToPixel({r.toDouble(i, 0), r.toDouble(i, 1)});
                        if (p.x < 0.5 || p.y < 0.5 || p.x > nx + 0.5 || p.y > ny + 0.5) continue;
                        viewer::Shape s;
                        s.kind = viewer::Shape::Kind::Circle;
                        s.x = p.x, s.y = p.y, s.a = 10;
                        s.colour = "magenta";
                        s.layer = kLayerReference;
                        o.reference.push_back(s);
                    }
                }
            }
            return o;
        },
        [this, generation](const Result<DbOverlays>& r) {
            if (generation != generation_) return;
            if (!r) {
                fail(tr("overlays from PAUdb: %1").arg(QString::fromStdString(r.error().what())));
            } else {
                canvas_->setOverlay(kLayerDetections, r->detections);
                canvas_->setOverlay(kLayerReference, r->reference);
                QStringList found;
                if (!r->detections.empty()) found << tr("%1 detections").arg(r->detections.size());
                if (!r->reference.empty()) found << tr("%1 reference stars").arg(r->reference.size());
                if (!found.isEmpty())
                    readout_->setText(tr("%1 from PAUdb (D and R toggle them)").arg(found.join(tr(" and "))));
            }
            emit overlaysLoaded();
        });
}

// ---------------------------------------------------------------- regions, blink, saving

void ViewerPanel::importRegions(const QString& path) {
    const std::string p = path.toStdString();
    const std::optional<wcs::Wcs> w = current_ && current_->image ? current_->image->wcs : std::nullopt;
    files_->run<std::vector<viewer::Shape>>(
        this,
        [p, w](Work&) {
            QFile f(QString::fromStdString(p));
            if (!f.open(QIODevice::ReadOnly)) throw Error("cannot read " + p + ": " + f.errorString().toStdString());
            try {
                return viewer::readRegions(f.readAll().toStdString(), w ? &*w : nullptr, kLayerRegions);
            } catch (const Error& e) {
                throw Error(p + ": " + e.message());
            }
        },
        [this, path](const Result<std::vector<viewer::Shape>>& r) {
            if (!r) return fail(QString::fromStdString(r.error().what()));
            canvas_->setOverlay(kLayerRegions, *r);
            readout_->setText(tr("%1 regions from %2").arg(r->size()).arg(path));
        });
}

void ViewerPanel::exportRegions(const QString& path, viewer::RegionSystem system) {
    std::vector<viewer::Shape> all;
    for (const QString& layer : canvas_->overlayLayers())
        if (canvas_->layerVisible(layer))
            for (const auto& s : canvas_->overlay(layer)) all.push_back(s);
    const std::string p = path.toStdString();
    const std::optional<wcs::Wcs> w = current_ && current_->image ? current_->image->wcs : std::nullopt;
    files_->run<std::size_t>(
        this,
        [p, all, system, w](Work&) {
            const std::string text = viewer::writeRegions(all, system, w ? &*w : nullptr);
            AtomicFile out(p);
            out.write(text);
            out.commit();
            return all.size();
        },
        [this, path](const Result<std::size_t>& r) {
            if (!r) return fail(QString::fromStdString(r.error().what()));
            readout_->setText(tr("%1 shapes written to %2").arg(*r).arg(path));
        });
}

void ViewerPanel::keepForBlink() {
    if (!current_ || !current_->image) return;
    partner_ = Partner{current_->image, limits_, title_->text()};
    readout_->setText(tr("kept for blinking: %1 (open another image, then B)").arg(partner_->label));
}

void ViewerPanel::setBlinking(bool on) {
    if (on && !partner_) {
        readout_->setText(tr("keep an image for blinking first (K), then open the other one"));
        on = false;
    }
    blinkButton_->blockSignals(true);
    blinkButton_->setChecked(on);
    blinkButton_->blockSignals(false);
    if (on) {
        blinkTimer_->start();
    } else {
        blinkTimer_->stop();
        if (showingPartner_ && current_) {
            showingPartner_ = false;
            canvas_->setImage(current_->image, true);
            canvas_->setColours(limits_, stretch2_, map_, inverted_);
        }
    }
}

void ViewerPanel::savePng(const QString& path) {
    const QImage shot = canvas_->snapshot();
    files_->run<bool>(
        this,
        [shot, path](Work&) {
            // Written beside, then renamed: a failed write leaves no half PNG.
            const QString tmp = path + ".part";
            if (!shot.save(tmp, "PNG")) throw Error("cannot write " + path.toStdString());
            if (std::rename(tmp.toLocal8Bit().constData(), path.toLocal8Bit().constData()) != 0)
                throw Error("cannot rename " + tmp.toStdString() + " to " + path.toStdString());
            return true;
        },
        [this, path](const Result<bool>& r) {
            if (!r) return fail(QString::fromStdString(r.error().what()));
            readout_->setText(tr("view saved to %1").arg(path));
        });
}

void ViewerPanel::saveCutout(const QString& path) {
    if (!current_ || !current_->image || current_->image->pixels.empty()) return fail(tr("no image to cut out of"));
    long x0, y0, x1, y1;
    canvas_->visibleBox(x0, y0, x1, y1);
    auto image = current_->image;
    auto plane = plane_;
    const std::string p = path.toStdString();
    files_->run<std::string>(
        this,
        [p, image, plane, x0, y0, x1, y1](Work&) {
            viewer::Plane copy = *plane;
            copy.pixels = image->pixels;
            viewer::writeCutout(p, copy, x0, y0, x1, y1);
            return "[" + std::to_string(x0) + ":" + std::to_string(x1) + "," + std::to_string(y0) + ":" +
                   std::to_string(y1) + "]";
        },
        [this, path](const Result<std::string>& r) {
            if (!r) return fail(QString::fromStdString(r.error().what()));
            readout_->setText(tr("cutout %1 saved to %2").arg(QString::fromStdString(*r), path));
        });
}

} // namespace paudm::ui
