#pragma once
// The viewer's histogram: the pixel values' distribution (log counts) over a range a little
// wider than the display limits, with the two limits as lines the user drags.
#include "viewer/display.h"

#include <QWidget>

#include <vector>

namespace paudm::ui {

class HistogramView : public QWidget {
    Q_OBJECT
public:
    explicit HistogramView(QWidget* parent = nullptr);
    /// Counts over `range` (equal bins) and the limits drawn on them.
    void setData(std::vector<std::size_t> counts, viewer::Limits range, viewer::Limits limits);
    void setLimits(viewer::Limits limits);
    viewer::Limits limits() const { return limits_; }
    viewer::Limits range() const { return range_; }
    QSize sizeHint() const override { return {260, 110}; }

signals:
    /// While a limit line is dragged, and when it is let go.
    void limitsDragged(double low, double high);

protected:
    void paintEvent(QPaintEvent*) override;
    void mousePressEvent(QMouseEvent*) override;
    void mouseMoveEvent(QMouseEvent*) override;
    void mouseReleaseEvent(QMouseEvent*) override;

private:
    double valueAt(double px) const;
    double pxOf(double value) const;
    std::vector<std::size_t> counts_;
    viewer::Limits range_{0, 1}, limits_{0, 1};
    int dragging_ = 0; ///< 1 low, 2 high
};

} // namespace paudm::ui
