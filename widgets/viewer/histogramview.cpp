#include "viewer/histogramview.h"

#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace paudm::ui {

namespace {
constexpr int kMargin = 6;
}

HistogramView::HistogramView(QWidget* parent) : QWidget(parent) {
    setMinimumHeight(70);
    setMouseTracking(true);
    setToolTip(tr("Pixel values (log counts). Drag the lines to set the display limits."));
}

void HistogramView::setData(std::vector<std::size_t> counts, viewer::Limits range, viewer::Limits limits) {
    counts_ = std::move(counts);
    range_ = range;
    limits_ = limits;
    update();
}

void HistogramView::setLimits(viewer::Limits limits) {
    limits_ = limits;
    update();
}

double HistogramView::pxOf(double v) const {
    const double span = range_.high - range_.low;
    return kMargin + (span > 0 ? (v - range_.low) / span : 0) * (width() - 2 * kMargin);
}

double HistogramView::valueAt(double px) const {
    return range_.low + (px - kMargin) / std::max(1, width() - 2 * kMargin) * (range_.high - range_.low);
}

void HistogramView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    const int h = height() - 2 * kMargin;
    if (!counts_.empty()) {
        const double top = std::log10(1.0 + static_cast<double>(*std::max_element(counts_.begin(), counts_.end())));
        const double bw = static_cast<double>(width() - 2 * kMargin) / counts_.size();
        p.setPen(Qt::NoPen);
        p.setBrush(palette().color(QPalette::Mid));
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            const double v = top > 0 ? std::log10(1.0 + static_cast<double>(counts_[i])) / top : 0;
            p.drawRect(QRectF(kMargin + i * bw, kMargin + h * (1 - v), std::max(1.0, bw), h * v));
        }
    }
    p.setRenderHint(QPainter::Antialiasing);
    for (const auto& [value, colour] : {std::pair{limits_.low, QColor(40, 120, 255)}, std::pair{limits_.high, QColor(230, 60, 40)}}) {
        const double x = pxOf(value);
        p.setPen(QPen(colour, 2));
        p.drawLine(QPointF(x, kMargin), QPointF(x, height() - kMargin));
    }
    p.setPen(palette().color(QPalette::Text));
    p.drawText(rect().adjusted(kMargin + 2, kMargin, -kMargin, 0), Qt::AlignLeft | Qt::AlignTop,
               QString::number(range_.low, 'g', 5));
    p.drawText(rect().adjusted(kMargin, kMargin, -kMargin - 2, 0), Qt::AlignRight | Qt::AlignTop,
               QString::number(range_.high, 'g', 5));
}

void HistogramView::mousePressEvent(QMouseEvent* e) {
    const double x = e->position().x();
    dragging_ = std::abs(x - pxOf(limits_.low)) <= std::abs(x - pxOf(limits_.high)) ? 1 : 2;
    mouseMoveEvent(e);
}

void HistogramView::mouseMoveEvent(QMouseEvent* e) {
    const double x = e->position().x();
    const bool nearLine = std::min(std::abs(x - pxOf(limits_.low)), std::abs(x - pxOf(limits_.high))) < 6;
    setCursor(dragging_ || nearLine ? Qt::SizeHorCursor : Qt::ArrowCursor);
    if (!dragging_) return;
    const double v = valueAt(x);
    if (dragging_ == 1) limits_.low = std::min(v, limits_.high);
    else limits_.high = std::max(v, limits_.low);
    update();
    emit limitsDragged(limits_.low, limits_.high);
}

void HistogramView::mouseReleaseEvent(QMouseEvent*) { dragging_ = 0; }

} // namespace paudm::ui
