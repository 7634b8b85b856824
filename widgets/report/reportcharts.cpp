#include "reportcharts.h"

#include "reportstyle.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QValueAxis>

#include <cmath>

namespace paudm::ui::report {

namespace q = quality;

namespace {

/// An exposure's time on a QDateTimeAxis, which labels in local time: shifted by the local
/// offset from UTC, so that the labels read UTC, as the observatory's logs do.
double msecsOf(double mjd) {
    const auto utc = static_cast<qint64>(std::llround((mjd - 40587.0) * 86400000.0));
    return static_cast<double>(utc - QDateTime::fromMSecsSinceEpoch(utc).offsetFromUtc() * qint64(1000));
}

QScatterSeries* ringSeries() {
    auto* s = new QScatterSeries;
    s->setName(QObject::tr("fails a cut"));
    s->setMarkerSize(13);
    s->setColor(Qt::transparent);
    s->setBorderColor(kBad);
    s->setPen(QPen(kBad, 2));
    return s;
}

/// The index of the series' point nearest `p` on the screen.
int nearest(QScatterSeries* s, const QPointF& p) {
    const auto pts = s->points();
    const QPointF at = s->chart()->mapToPosition(p, s);
    int best = -1;
    double bestD = INFINITY;
    for (int i = 0; i < pts.size(); ++i) {
        const QPointF d = s->chart()->mapToPosition(pts[i], s) - at;
        if (std::hypot(d.x(), d.y()) < bestD) bestD = std::hypot(d.x(), d.y()), best = i;
    }
    return best;
}

struct Range {
    double lo = INFINITY, hi = -INFINITY;
    void add(double v) { lo = std::min(lo, v), hi = std::max(hi, v); }
    bool any() const { return lo <= hi; }
    /// Padded by `fraction` of the span, or by `flat` when there is no span.
    std::pair<double, double> padded(double fraction, double flat) const {
        const double p = (hi - lo) * fraction + (hi == lo ? flat : 0);
        return {lo - p, hi + p};
    }
};

} // namespace

std::vector<std::string> bandsOf(const q::Report& r) {
    std::vector<std::string> bands;
    for (const auto& e : r.exposures)
        if (std::find(bands.begin(), bands.end(), e.band) == bands.end()) bands.push_back(e.band);
    return bands;
}

QString tooltipOf(const q::Exposure& e, const q::Verdict& v) {
    QStringList lines{QString("<b>%1</b> %2 UTC  ·  %3").arg(text(e.file), text(e.timeUtc), text(e.band))};
    for (const auto& qq : q::standardQuantities()) {
        const auto it = e.values.find(qq.key);
        if (it != e.values.end()) lines << QString("%1: %2").arg(text(qq.key)).arg(it->second, 0, 'g', 4);
    }
    lines << (v.pass ? QString("<span style='color:#2e7d32'>passes</span>")
                     : QString("<span style='color:#c62828'>%1</span>").arg(reasons(v).toHtmlEscaped()));
    return lines.join("<br>");
}

QChart* qualityChart(const q::Report& r, const std::string& xs, const std::string& ys, bool compact,
                     const ChartHooks& hooks) {
    auto* chart = new QChart;
    chart->setTitle(compact ? axisTitle(ys) : QObject::tr("%1 against %2").arg(axisTitle(ys), axisTitle(xs)));
    const bool againstTime = xs == "time";
    const auto bands = bandsOf(r);
    std::vector<QScatterSeries*> series;
    for (std::size_t b = 0; b < bands.size(); ++b) {
        auto* s = new QScatterSeries;
        s->setName(text(bands[b]));
        s->setMarkerSize(compact ? 7 : 8);
        s->setColor(bandColour(b));
        s->setBorderColor(s->color().darker(130));
        series.push_back(s);
    }
    series.push_back(ringSeries());
    // Which exposure each point is, per series (for hover and click).
    std::vector<std::vector<std::size_t>> members(series.size());
    Range xr, yr;
    if (againstTime && compact) // one time range for every chart of a grid, so that they line up
        for (const auto& e : r.exposures) xr.add(msecsOf(e.mjd));
    for (std::size_t k = 0; k < r.exposures.size(); ++k) {
        const auto& e = r.exposures[k];
        const auto a = e.values.find(xs), b = e.values.find(ys);
        if ((!againstTime && a == e.values.end()) || b == e.values.end()) continue;
        const double xv = againstTime ? msecsOf(e.mjd) : a->second;
        const auto band = static_cast<std::size_t>(std::find(bands.begin(), bands.end(), e.band) - bands.begin());
        series[band]->append(xv, b->second);
        members[band].push_back(k);
        if (!r.verdicts[k].pass) series.back()->append(xv, b->second), members.back().push_back(k);
        xr.add(xv), yr.add(b->second);
    }
    const bool any = yr.any();
    QAbstractAxis* x = nullptr;
    if (againstTime) {
        auto* t = new QDateTimeAxis;
        t->setFormat(r.selection.from == r.selection.to ? "HH:mm" : "MM-dd HH:mm");
        t->setTitleText(QObject::tr("UTC"));
        x = t;
    } else {
        auto* v = new QValueAxis;
        v->setTitleText(axisTitle(xs));
        x = v;
    }
    auto* y = new QValueAxis;
    y->setLabelFormat("%.3g");
    if (compact) {
        QFont small = x->labelsFont();
        small.setPointSizeF(small.pointSizeF() * 0.85);
        x->setLabelsFont(small);
        y->setLabelsFont(small);
        if (auto* t = qobject_cast<QDateTimeAxis*>(x)) t->setTickCount(3);
        y->setTickCount(5);
        chart->setMargins(QMargins(2, 2, 2, 2));
        chart->legend()->setVisible(false); // the grid has one legend for all
    } else {
        y->setTitleText(axisTitle(ys));
        chart->legend()->setAlignment(Qt::AlignRight);
    }
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    // The cuts on either quantity, dashed across the chart (inside its ranges).
    struct Limit {
        bool onY;
        double value;
    };
    std::vector<Limit> limits;
    if (any)
        for (const auto& cut : r.cuts.cuts) {
            const bool onY = cut.quantity == ys, onX = !againstTime && cut.quantity == xs;
            if (onY || onX)
                for (const auto& lim : {cut.min, cut.max})
                    if (lim) limits.push_back({onY, *lim}), (onY ? yr : xr).add(*lim);
        }
    const auto [x0, x1] = xr.padded(0.05, againstTime ? 6e5 : 0.01);
    const auto [y0, y1] = yr.padded(0.08, std::max(1e-3, std::fabs(yr.lo) * 0.05));
    for (const Limit& l : limits) {
        auto* line = new QLineSeries;
        line->setName(QObject::tr("cut"));
        line->setPen(QPen(kBad, 1.2, Qt::DashLine));
        if (l.onY) line->append({QPointF(x0, l.value), QPointF(x1, l.value)});
        else line->append({QPointF(l.value, y0), QPointF(l.value, y1)});
        chart->addSeries(line);
        line->attachAxis(x);
        line->attachAxis(y);
        for (QLegendMarker* m : chart->legend()->markers(line)) m->setVisible(false);
    }
    for (std::size_t b = 0; b < series.size(); ++b) {
        QScatterSeries* s = series[b];
        chart->addSeries(s);
        s->attachAxis(x);
        s->attachAxis(y);
        const std::vector<std::size_t>& idx = members[b];
        if (hooks.hovered)
            QObject::connect(s, &QScatterSeries::hovered, s, [hooks, idx, s](const QPointF& p, bool on) {
                const int i = on ? nearest(s, p) : -1;
                hooks.hovered(i >= 0 && i < static_cast<int>(idx.size()) ? std::optional(idx[static_cast<std::size_t>(i)])
                                                                          : std::nullopt);
            });
        if (hooks.clicked)
            QObject::connect(s, &QScatterSeries::clicked, s, [hooks, idx, s](const QPointF& p) {
                const int i = nearest(s, p);
                if (i >= 0 && i < static_cast<int>(idx.size())) hooks.clicked(idx[static_cast<std::size_t>(i)]);
            });
    }
    if (any) {
        if (againstTime)
            x->setRange(QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(x0)),
                        QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(x1)));
        else
            x->setRange(x0, x1);
        y->setRange(y0, y1);
    } else {
        chart->setTitle(chart->title() + QObject::tr(" — not measured"));
    }
    return chart;
}

QChart* passRateChart(const q::Report& r) {
    auto* chart = new QChart;
    chart->setTitle(QObject::tr("Science exposures that pass %1 (%)").arg(text(r.cuts.label())));
    std::vector<std::string> nights;
    for (const auto& p : r.rates)
        if (std::find(nights.begin(), nights.end(), p.night) == nights.end()) nights.push_back(p.night);
    std::sort(nights.begin(), nights.end());
    const auto bands = bandsOf(r);
    auto* series = new QBarSeries;
    for (std::size_t b = 0; b < bands.size(); ++b) {
        auto* set = new QBarSet(text(bands[b]));
        set->setColor(bandColour(b));
        for (const auto& n : nights) {
            double share = 0;
            for (const auto& p : r.rates)
                if (p.night == n && p.band == bands[b] && p.exposures) share = 100.0 * p.passed / p.exposures;
            *set << share;
        }
        series->append(set);
    }
    chart->addSeries(series);
    auto* x = new QBarCategoryAxis;
    for (const auto& n : nights) x->append(text(n));
    auto* y = new QValueAxis;
    y->setRange(0, 100);
    y->setLabelFormat("%.0f");
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    series->attachAxis(x);
    series->attachAxis(y);
    chart->legend()->setAlignment(Qt::AlignBottom);
    return chart;
}

} // namespace paudm::ui::report
