#include "resultchart.h"

#include "resultmodel.h"

#include <QAreaSeries>
#include <QChart>
#include <QLineSeries>
#include <QScatterSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace paudm::ui {

namespace {

QString name(const sql::QueryResult& r, int c) {
    return QString::fromStdString(r.columns[static_cast<size_t>(c)].name);
}

QChart* emptyChart(const QString& title) {
    auto* chart = new QChart;
    chart->setTitle(title);
    chart->legend()->hide();
    chart->setMargins(QMargins(4, 4, 4, 4));
    return chart;
}

QValueAxis* axis(const QString& title, double low, double high) {
    auto* a = new QValueAxis;
    a->setTitleText(title);
    if (!(high > low)) {
        low -= 0.5;
        high += 0.5;
    }
    a->setRange(low, high);
    a->applyNiceNumbers();
    return a;
}

} // namespace

Histogram histogram(const sql::QueryResult& r, int column, int bins) {
    Histogram h;
    bins = std::max(1, bins);
    std::vector<double> v;
    v.reserve(r.rows.size());
    for (const auto& row : r.rows) {
        const double d = numericValue(row[static_cast<size_t>(column)]);
        if (std::isfinite(d))
            v.push_back(d);
        else
            ++h.skipped;
    }
    h.counts.assign(static_cast<size_t>(bins), 0);
    if (v.empty()) return h;
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    h.low = *lo;
    h.high = *hi > *lo ? *hi : *lo + 1;
    const double width = (h.high - h.low) / bins;
    for (double d : v) {
        int b = static_cast<int>((d - h.low) / width);
        h.counts[static_cast<size_t>(std::clamp(b, 0, bins - 1))]++;
    }
    return h;
}

QChart* histogramChart(const sql::QueryResult& r, int column, int bins) {
    const Histogram h = histogram(r, column, bins);
    QChart* chart = emptyChart(QObject::tr("%1: %2 values%3")
                                   .arg(name(r, column))
                                   .arg(static_cast<qlonglong>(r.rows.size()) - h.skipped)
                                   .arg(h.skipped ? QObject::tr(", %1 NULL or not a number").arg(h.skipped) : QString()));
    // Bars as one stepped outline filled to zero: a continuous x axis, not categories.
    auto* upper = new QLineSeries;
    const double width = h.counts.empty() ? 1 : (h.high - h.low) / static_cast<double>(h.counts.size());
    int peak = 0;
    for (size_t b = 0; b < h.counts.size(); ++b) {
        const double x0 = h.low + width * static_cast<double>(b), x1 = x0 + width;
        upper->append(x0, 0);
        upper->append(x0, h.counts[b]);
        upper->append(x1, h.counts[b]);
        upper->append(x1, 0);
        peak = std::max(peak, h.counts[b]);
    }
    auto* area = new QAreaSeries(upper);
    area->setColor(QColor(0x42, 0x7a, 0xc0));
    area->setBorderColor(QColor(0x1a, 0x4f, 0x9c));
    chart->addSeries(area);
    QValueAxis* x = axis(name(r, column), h.low, h.high);
    QValueAxis* y = axis(QObject::tr("count"), 0, std::max(1, peak) * 1.05);
    y->setLabelFormat("%d");
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    area->attachAxis(x);
    area->attachAxis(y);
    return chart;
}

QChart* scatterChart(const sql::QueryResult& r, int xc, int yc) {
    auto* points = new QScatterSeries;
    points->setMarkerSize(5);
    points->setColor(QColor(0x1a, 0x4f, 0x9c));
    points->setBorderColor(Qt::transparent);
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    int skipped = 0;
    QList<QPointF> list;
    for (const auto& row : r.rows) {
        const double x = numericValue(row[static_cast<size_t>(xc)]), y = numericValue(row[static_cast<size_t>(yc)]);
        if (!std::isfinite(x) || !std::isfinite(y)) {
            ++skipped;
            continue;
        }
        list.append({x, y});
        x0 = std::min(x0, x);
        x1 = std::max(x1, x);
        y0 = std::min(y0, y);
        y1 = std::max(y1, y);
    }
    points->replace(list);
    QChart* chart = emptyChart(QObject::tr("%1 against %2: %3 points%4")
                                   .arg(name(r, yc), name(r, xc))
                                   .arg(list.size())
                                   .arg(skipped ? QObject::tr(", %1 without both values").arg(skipped) : QString()));
    chart->addSeries(points);
    if (list.isEmpty()) x0 = x1 = y0 = y1 = 0;
    QValueAxis* x = axis(name(r, xc), x0, x1);
    QValueAxis* y = axis(name(r, yc), y0, y1);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    points->attachAxis(x);
    points->attachAxis(y);
    return chart;
}

} // namespace paudm::ui
