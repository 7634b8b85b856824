#pragma once
// Plots of a query's result (QtCharts): a histogram of one numeric column, or a scatter
// plot of two. Derived quantities are columns of the query itself (SELECT g - r AS colour).
#include "sql/query.h"

#include <vector>

class QChart;

namespace paudm::ui {

struct Histogram {
    double low = 0, high = 0; ///< the edges of the first and last bins
    std::vector<int> counts;
    int skipped = 0; ///< NULL, NaN and non-numeric values, not counted
};

/// `bins` equal bins from the smallest to the largest finite value of `column` (the
/// largest falls in the last bin).
Histogram histogram(const sql::QueryResult& r, int column, int bins);

QChart* histogramChart(const sql::QueryResult& r, int column, int bins);
QChart* scatterChart(const sql::QueryResult& r, int x, int y);

} // namespace paudm::ui
