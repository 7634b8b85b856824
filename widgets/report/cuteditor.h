#pragma once
// The Nightly report's cut editor: one row per quantity (min, max; empty: no limit), the
// accepted values of each status, the name to save under, a note, and whether the saved
// version becomes the default. It checks the definition as a saved one would be; saving
// (to the database) is the caller's, off the GUI thread.
#include "quality/report.h"

#include <optional>

class QWidget;

namespace paudm::ui {

struct EditedCuts {
    quality::CutSet cuts;
    bool makeDefault = false;
};

/// Shows the editor on `current` (modal); nothing if the user cancelled.
std::optional<EditedCuts> editCutSet(const quality::CutSet& current, QWidget* parent);

} // namespace paudm::ui
