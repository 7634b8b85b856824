#include "viewer/imagecanvas.h"

#include <QElapsedTimer>
#include <QKeyEvent>
#include <QPainter>
#include <QPainterPath>
#include <QWheelEvent>

#include <cmath>
#include <numbers>

namespace paudm::ui {

namespace {

constexpr std::uint32_t kOutside = 0xff1c1c1c;
constexpr int kMagnifierSize = 180;

// Mask planes as the reduction sets them (reduction::MaskBit): bad pixels red, saturation
// and bleed trails magenta, cosmic rays cyan, no data yellow; half transparent.
constexpr std::uint32_t kMaskColours[8] = {0x99ff3030, 0x99ff30ff, 0x9930e0ff, 0x99ffd000,
                                           0x99ffffff, 0x99ffffff, 0x99ffffff, 0x99ffffff};

} // namespace

ImageCanvas::ImageCanvas(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMinimumSize(200, 150);
    colours_ = std::make_unique<viewer::ColourTable>(viewer::Limits{0, 1}, viewer::Stretch::Linear,
                                                     viewer::Colormap::Grey, false);
}

void ImageCanvas::setImage(std::shared_ptr<const ViewerImage> image, bool keepView) {
    image_ = std::move(image);
    if (!keepView || !haveView_) {
        haveView_ = false;
        if (image_ && width() > 0) {
            view_ = viewer::View::fit(image_->nx, image_->ny, width(), height());
            haveView_ = true;
        }
    }
    dirty_ = true;
    update();
    emit viewChanged();
}

void ImageCanvas::setColours(viewer::Limits limits, viewer::Stretch stretch, viewer::Colormap map, bool inverted) {
    colours_ = std::make_unique<viewer::ColourTable>(limits, stretch, map, inverted);
    dirty_ = true;
    update();
}

void ImageCanvas::setView(const viewer::View& v) {
    view_ = v;
    view_.zoom = std::clamp(view_.zoom, kMinZoom, kMaxZoom);
    haveView_ = true;
    dirty_ = true;
    update();
    emit viewChanged();
}

void ImageCanvas::zoomToFit() {
    if (!image_) return;
    setView(viewer::View::fit(image_->nx, image_->ny, width(), height()));
}

void ImageCanvas::zoomTo(double zoom) {
    viewer::View v = view_;
    v.zoom = zoom;
    setView(v);
}

void ImageCanvas::setOverlay(const QString& layer, std::vector<viewer::Shape> shapes) {
    overlays_[layer] = std::move(shapes);
    update();
}

const std::vector<viewer::Shape>& ImageCanvas::overlay(const QString& layer) const {
    static const std::vector<viewer::Shape> none;
    const auto it = overlays_.find(layer);
    return it == overlays_.end() ? none : *it;
}

void ImageCanvas::setLayerVisible(const QString& layer, bool visible) {
    if (visible) hidden_.remove(layer);
    else hidden_.insert(layer);
    update();
}

void ImageCanvas::setMaskBits(std::uint8_t bits) {
    maskBits_ = bits;
    dirty_ = true;
    update();
}

void ImageCanvas::setMagnifier(bool on) {
    magnifier_ = on;
    update();
}

QPointF ImageCanvas::toScreen(double x, double y) const {
    double ox, oy;
    view_.toOutput(x, y, width(), height(), ox, oy);
    return {ox, oy};
}

void ImageCanvas::toImage(QPointF s, double& x, double& y) const { view_.toImage(s.x(), s.y(), width(), height(), x, y); }

void ImageCanvas::visibleBox(long& x0, long& y0, long& x1, long& y1) const {
    double ax, ay, bx, by;
    toImage({0, static_cast<double>(height())}, ax, ay);
    toImage({static_cast<double>(width()), 0}, bx, by);
    const long nx = image_ ? image_->nx : 0, ny = image_ ? image_->ny : 0;
    x0 = std::clamp(static_cast<long>(std::floor(ax + 0.5)), 1L, std::max(1L, nx));
    y0 = std::clamp(static_cast<long>(std::floor(ay + 0.5)), 1L, std::max(1L, ny));
    x1 = std::clamp(static_cast<long>(std::floor(bx + 0.5)), 1L, std::max(1L, nx));
    y1 = std::clamp(static_cast<long>(std::floor(by + 0.5)), 1L, std::max(1L, ny));
}

void ImageCanvas::renderImage() {
    QElapsedTimer clock;
    clock.start();
    if (rendered_.size() != size()) rendered_ = QImage(size(), QImage::Format_ARGB32);
    auto* out = reinterpret_cast<std::uint32_t*>(rendered_.bits());
    if (!image_ || image_->pixels.empty()) {
        rendered_.fill(QColor::fromRgba(kOutside));
    } else {
        // One QImage line is width() pixels of 4 bytes: the buffer is contiguous.
        viewer::render(image_->pixels.data(), image_->nx, image_->ny, *colours_, view_, width(), height(), out, kOutside);
        if (maskBits_ && !image_->mask.empty())
            viewer::renderMask(image_->mask.data(), image_->nx, image_->ny, maskBits_, kMaskColours, view_, width(),
                               height(), out);
    }
    dirty_ = false;
    lastRenderMs_ = clock.nsecsElapsed() / 1e6;
}

void ImageCanvas::paintEvent(QPaintEvent*) {
    if (!haveView_ && image_) {
        view_ = viewer::View::fit(image_->nx, image_->ny, width(), height());
        haveView_ = true;
    }
    if (dirty_ || rendered_.size() != size()) renderImage();
    QPainter p(this);
    p.drawImage(0, 0, rendered_);
    drawOverlays(p);
    if (measuring_) {
        p.setRenderHint(QPainter::Antialiasing);
        p.setPen(QPen(QColor(255, 220, 0), 1.5));
        p.drawLine(measureFrom_, cursor_);
    }
    if (magnifier_) drawMagnifier(p);
}

void ImageCanvas::drawOverlays(QPainter& p) {
    p.setRenderHint(QPainter::Antialiasing);
    const QRectF area = rect().adjusted(-50, -50, 50, 50);
    for (auto it = overlays_.cbegin(); it != overlays_.cend(); ++it) {
        if (hidden_.contains(it.key())) continue;
        for (const viewer::Shape& s : *it) {
            const QPointF c = toScreen(s.x, s.y);
            const double reach = std::max({s.a, s.b, 3.0}) * view_.zoom + 20;
            if (s.kind != viewer::Shape::Kind::Line &&
                !area.adjusted(-reach, -reach, reach, reach).contains(c))
                continue;
            const QColor colour(QString::fromStdString(s.colour));
            p.setPen(QPen(colour.isValid() ? colour : QColor(Qt::green), 1.2));
            p.setBrush(Qt::NoBrush);
            auto polygon = [&](const viewer::Shape& shape) {
                QPolygonF poly;
                for (const auto& [x, y] : viewer::outline(shape, 48)) poly << toScreen(x, y);
                p.drawPolygon(poly);
            };
            switch (s.kind) {
            case viewer::Shape::Kind::Circle:
            case viewer::Shape::Kind::Ellipse:
            case viewer::Shape::Kind::Box: polygon(s); break;
            case viewer::Shape::Kind::Annulus: {
                viewer::Shape inner = s;
                inner.kind = viewer::Shape::Kind::Circle;
                polygon(inner);
                viewer::Shape outer = inner;
                outer.a = s.b;
                polygon(outer);
                break;
            }
            case viewer::Shape::Kind::Point:
                p.drawLine(c + QPointF(-4, -4), c + QPointF(4, 4));
                p.drawLine(c + QPointF(-4, 4), c + QPointF(4, -4));
                break;
            case viewer::Shape::Kind::Line: p.drawLine(c, toScreen(s.x2, s.y2)); break;
            case viewer::Shape::Kind::Text: break;
            }
            if (!s.text.empty()) {
                const double dy = s.kind == viewer::Shape::Kind::Text ? 0 : -(std::max(s.a, s.b) * view_.zoom + 3);
                p.drawText(c + QPointF(4, dy), QString::fromStdString(s.text));
            }
        }
    }
}

void ImageCanvas::drawMagnifier(QPainter& p) {
    if (!image_ || image_->pixels.empty() || cursor_.x() < 0) return;
    double x, y;
    toImage(cursor_, x, y);
    viewer::View m{x, y, std::clamp(view_.zoom * 6, 4.0, 64.0)};
    QImage mag(kMagnifierSize, kMagnifierSize, QImage::Format_ARGB32);
    viewer::render(image_->pixels.data(), image_->nx, image_->ny, *colours_, m, kMagnifierSize, kMagnifierSize,
                   reinterpret_cast<std::uint32_t*>(mag.bits()), kOutside);
    const QRect box(width() - kMagnifierSize - 8, 8, kMagnifierSize, kMagnifierSize);
    p.drawImage(box.topLeft(), mag);
    p.setPen(QPen(QColor(255, 220, 0), 1));
    p.drawRect(box.adjusted(0, 0, -1, -1));
    const QPointF c = box.center() + QPointF(0.5, 0.5);
    p.drawLine(c + QPointF(-8, 0), c + QPointF(-3, 0));
    p.drawLine(c + QPointF(3, 0), c + QPointF(8, 0));
    p.drawLine(c + QPointF(0, -8), c + QPointF(0, -3));
    p.drawLine(c + QPointF(0, 3), c + QPointF(0, 8));
}

QImage ImageCanvas::snapshot() {
    QImage out(size(), QImage::Format_ARGB32);
    render(&out);
    return out;
}

void ImageCanvas::resizeEvent(QResizeEvent*) {
    dirty_ = true;
}

void ImageCanvas::zoomAbout(double factor, QPointF screen) {
    // Keep the image point under `screen` where it is.
    double x, y;
    toImage(screen, x, y);
    viewer::View v = view_;
    v.zoom = std::clamp(view_.zoom * factor, kMinZoom, kMaxZoom);
    v.centreX = x - (screen.x() - width() / 2.0) / v.zoom;
    v.centreY = y + (screen.y() - height() / 2.0) / v.zoom;
    setView(v);
}

void ImageCanvas::wheelEvent(QWheelEvent* e) {
    const double notches = e->angleDelta().y() / 120.0;
    if (notches == 0) return;
    zoomAbout(std::pow(1.25, notches), e->position());
    e->accept();
}

void ImageCanvas::mousePressEvent(QMouseEvent* e) {
    setFocus();
    if (e->button() == Qt::MiddleButton) {
        double x, y;
        toImage(e->position(), x, y);
        viewer::View v = view_;
        v.centreX = x, v.centreY = y;
        setView(v);
        return;
    }
    if (e->button() != Qt::LeftButton) return;
    if (e->modifiers() & Qt::ShiftModifier) {
        measuring_ = true;
        measureFrom_ = e->position();
    } else {
        panning_ = true;
        pressAt_ = e->position();
        pressView_ = view_;
        setCursor(Qt::ClosedHandCursor);
    }
}

void ImageCanvas::mouseMoveEvent(QMouseEvent* e) {
    cursor_ = e->position();
    if (panning_) {
        viewer::View v = pressView_;
        const QPointF d = e->position() - pressAt_;
        v.centreX -= d.x() / v.zoom;
        v.centreY += d.y() / v.zoom;
        setView(v);
    } else if (measuring_ || magnifier_) {
        update();
    }
    double x, y;
    toImage(cursor_, x, y);
    const bool inside = image_ && x >= 0.5 && y >= 0.5 && x < image_->nx + 0.5 && y < image_->ny + 0.5;
    emit hovered(x, y, inside);
}

void ImageCanvas::mouseReleaseEvent(QMouseEvent* e) {
    if (measuring_ && e->button() == Qt::LeftButton) {
        measuring_ = false;
        double x1, y1, x2, y2;
        toImage(measureFrom_, x1, y1);
        toImage(e->position(), x2, y2);
        update();
        emit measured(x1, y1, x2, y2);
    }
    if (panning_) {
        panning_ = false;
        unsetCursor();
    }
}

void ImageCanvas::mouseDoubleClickEvent(QMouseEvent* e) {
    double x, y;
    toImage(e->position(), x, y);
    emit activated(x, y);
}

void ImageCanvas::keyPressEvent(QKeyEvent* e) {
    const double step = 0.1 * std::min(width(), height()) / view_.zoom;
    viewer::View v = view_;
    switch (e->key()) {
    case Qt::Key_F: zoomToFit(); return;
    case Qt::Key_1: zoomTo(1); return;
    case Qt::Key_Plus:
    case Qt::Key_Equal: zoomAbout(2, rect().center()); return;
    case Qt::Key_Minus: zoomAbout(0.5, rect().center()); return;
    case Qt::Key_M: setMagnifier(!magnifier_); return;
    case Qt::Key_Left: v.centreX -= step; break;
    case Qt::Key_Right: v.centreX += step; break;
    case Qt::Key_Up: v.centreY += step; break;
    case Qt::Key_Down: v.centreY -= step; break;
    default: QWidget::keyPressEvent(e); return;
    }
    setView(v);
}

void ImageCanvas::leaveEvent(QEvent*) {
    cursor_ = {-1, -1};
    if (magnifier_) update();
    emit hovered(0, 0, false);
}

} // namespace paudm::ui
