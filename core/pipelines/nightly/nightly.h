#pragma once
// The nightly pipeline (the paper's section 6.1, step 2, and its Figure 6): for each
// registered obs set, a `nightly` job whose prolog queries PAUdb and creates
//   master_bias     one, from the obs set's bias frames;
//   master_flats    one per filter tray with flats, after the master bias;
//   single_epoch    one per science mosaic, after the master flat of its tray,
// and whose epilog aggregates their QC and says what could not be reduced. A night
// without its own bias or flats for a tray uses the newest earlier master of the same
// release; without any, the affected single_epoch jobs fail saying what is missing and
// the rest of the night is still reduced. Products go to red/<release>/<obs_set>/ (see
// products.h) and into PAUdb as rows of a `nightly` production.
#include "common/error.h"

#include <QJsonObject>

#include <optional>
#include <string>

namespace paudm::db {
class Connection;
}
namespace paudm::jobs {
class TaskRegistry;
}

namespace paudm::pipelines::nightly {

/// The release nightly jobs use when their configuration names none.
inline constexpr const char* kDefaultRelease = "R1";

/// The nightly configuration defaults (options of every step, QC ranges), as a job gets them.
QJsonObject nightlyDefaults();

/// The `nightly` production of a release, created if needed (one row per pipeline and
/// release; `inputProductionId`, when given, is recorded as what it took its input from).
int ensureProduction(db::Connection& c, const std::string& release, std::int64_t jobId,
                     std::optional<int> inputProductionId = std::nullopt);

/// The production of another release that reduced this obs set most recently (what a
/// reprocessing takes as its input), or nothing.
std::optional<int> previousProduction(db::Connection& c, const std::string& obsSet, const std::string& release);

/// Registers nightly, master_bias, master_flats and single_epoch.
void registerNightlyTasks(jobs::TaskRegistry& registry);

} // namespace paudm::pipelines::nightly
