#pragma once
// The task types of this build: the engine's built-in ones and every pipeline's. The
// programs install them (paudm, paudm-console); the engine itself knows none of the
// pipelines.
#include "jobs/task.h"

namespace paudm::pipelines {

/// noop, fail, crash, fanout, pixelsim, transfer, register, nightly and the rest.
const jobs::TaskRegistry& allTasks();

/// Makes allTasks() what jobs::TaskRegistry::standard() returns. Call it at the start of
/// main(), before any thread runs.
void installAllTasks();

} // namespace paudm::pipelines
