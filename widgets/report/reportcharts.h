#pragma once
// The Nightly report's charts, built from a report (GUI objects: on the GUI thread): one
// quantity against another or against time, coloured by band, failing exposures ringed,
// the cuts on either axis dashed; and the pass rate per night and band (the paper's
// Figure 11).
#include "quality/report.h"

#include <QString>

#include <functional>
#include <string>

class QChart;

namespace paudm::ui::report {

/// What a chart does with its points: `hovered` with the exposure's index (or nothing when
/// the pointer leaves), `clicked` with it.
struct ChartHooks {
    std::function<void(std::optional<std::size_t>)> hovered;
    std::function<void(std::size_t)> clicked;
};

/// `y` against `x` ("time", or a quantity key). `compact`: a small chart of a grid (its
/// title the quantity, small labels, no legend, the whole selection's time range).
QChart* qualityChart(const quality::Report& r, const std::string& x, const std::string& y, bool compact,
                     const ChartHooks& hooks);
QChart* passRateChart(const quality::Report& r);

/// The bands of a report in order of first appearance (their colours' order).
std::vector<std::string> bandsOf(const quality::Report& r);
/// An exposure's tooltip: its file, time, band, numbers and verdict.
QString tooltipOf(const quality::Exposure& e, const quality::Verdict& v);

} // namespace paudm::ui::report
