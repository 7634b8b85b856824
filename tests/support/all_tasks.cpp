// Every task type of the build, installed before main() as paudm and paudm-console install
// them at their start: for the tests that run pipelines in-process.
#include "pipelines/tasks.h"

namespace {
const bool installed = (paudm::pipelines::installAllTasks(), true);
} // namespace
