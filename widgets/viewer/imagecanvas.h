#pragma once
// The FITS viewer's drawing surface: one image (a CCD, an HDU, a cube plane or a whole
// focal plane) shown through core/viewer's colour table, zoomed and panned as in DS9:
// the wheel zooms about the cursor (1/64 to 32x), a left drag pans, a middle click centres,
// Shift+drag measures a distance and an angle, F fits, 1 shows 1:1, + and - zoom, the arrows
// pan, M toggles the magnifier. Overlays (viewer::Shape, in image coordinates) and the mask
// planes are drawn on top, each layer toggled. Only the visible part is rendered, and only
// when the view, the image or the colours change: moving the cursor costs nothing.
#include "viewer/display.h"
#include "viewer/overlay.h"
#include "wcs/wcs.h"

#include <QImage>
#include <QMap>
#include <QSet>
#include <QWidget>

#include <memory>
#include <optional>

namespace paudm::ui {

/// What the canvas shows: pixels and what goes with them, shared with the worker that made it.
struct ViewerImage {
    long nx = 0, ny = 0;
    std::vector<float> pixels;
    std::vector<std::uint8_t> mask; ///< empty, or nx * ny mask bytes
    std::optional<wcs::Wcs> wcs;
    std::string units;
};

class ImageCanvas : public QWidget {
    Q_OBJECT
public:
    explicit ImageCanvas(QWidget* parent = nullptr);

    void setImage(std::shared_ptr<const ViewerImage> image, bool keepView = false);
    const std::shared_ptr<const ViewerImage>& image() const { return image_; }
    void setColours(viewer::Limits limits, viewer::Stretch stretch, viewer::Colormap map, bool inverted);

    const viewer::View& view() const { return view_; }
    void setView(const viewer::View& v);
    void zoomToFit();
    void zoomTo(double zoom); ///< about the centre of the widget
    static constexpr double kMinZoom = 1.0 / 64, kMaxZoom = 32;

    void setOverlay(const QString& layer, std::vector<viewer::Shape> shapes);
    const std::vector<viewer::Shape>& overlay(const QString& layer) const;
    QStringList overlayLayers() const { return overlays_.keys(); }
    void setLayerVisible(const QString& layer, bool visible);
    bool layerVisible(const QString& layer) const { return !hidden_.contains(layer); }
    void setMaskBits(std::uint8_t bits);
    std::uint8_t maskBits() const { return maskBits_; }
    void setMagnifier(bool on);
    bool magnifier() const { return magnifier_; }

    /// The view as drawn (image, mask, overlays), for Save PNG.
    QImage snapshot();
    /// Image pixels [x0, x1] x [y0, y1] (FITS) that the widget shows now.
    void visibleBox(long& x0, long& y0, long& x1, long& y1) const;
    /// How long the last full render took (ms), for the benchmarks.
    double lastRenderMs() const { return lastRenderMs_; }
    QSize sizeHint() const override { return {640, 480}; }

signals:
    /// The cursor over image point (x, y) (FITS); `inside` false when it left the image.
    void hovered(double x, double y, bool inside);
    /// The zoom or centre changed.
    void viewChanged();
    /// A double click at image point (x, y): the focal plane opens the CCD there.
    void activated(double x, double y);
    /// A finished Shift+drag: from (x1, y1) to (x2, y2), image points.
    void measured(double x1, double y1, double x2, double y2);

protected:
    void paintEvent(QPaintEvent*) override;
    void resizeEvent(QResizeEvent*) override;
    void wheelEvent(QWheelEvent*) override;
    void mousePressEvent(QMouseEvent*) override;
    void mouseMoveEvent(QMouseEvent*) override;
    void mouseReleaseEvent(QMouseEvent*) override;
    void mouseDoubleClickEvent(QMouseEvent*) override;
    void keyPressEvent(QKeyEvent*) override;
    void leaveEvent(QEvent*) override;

private:
    void renderImage();
    void drawOverlays(QPainter& p);
    void drawMagnifier(QPainter& p);
    QPointF toScreen(double x, double y) const;
    void toImage(QPointF screen, double& x, double& y) const;
    void zoomAbout(double factor, QPointF screen);

    std::shared_ptr<const ViewerImage> image_;
    std::unique_ptr<viewer::ColourTable> colours_;
    viewer::View view_;
    bool haveView_ = false;
    QImage rendered_;
    bool dirty_ = true;
    QMap<QString, std::vector<viewer::Shape>> overlays_;
    QSet<QString> hidden_;
    std::uint8_t maskBits_ = 0;
    bool magnifier_ = false;
    QPointF cursor_{-1, -1};
    bool panning_ = false, measuring_ = false;
    QPointF pressAt_, measureFrom_;
    viewer::View pressView_;
    double lastRenderMs_ = 0;
};

} // namespace paudm::ui
