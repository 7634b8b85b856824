#pragma once
// How the console's row tables look and select: whole rows, one at a time, no row numbers,
// the last column stretched, alternating rows, no wrapping (one line per row).
#include <QHeaderView>
#include <QTableView>

namespace paudm::ui {

inline void setUpRowTable(QTableView* v) {
    v->setSelectionBehavior(QAbstractItemView::SelectRows);
    v->setSelectionMode(QAbstractItemView::SingleSelection);
    v->verticalHeader()->hide();
    v->horizontalHeader()->setStretchLastSection(true);
    v->setAlternatingRowColors(true);
    v->setWordWrap(false);
}

} // namespace paudm::ui
