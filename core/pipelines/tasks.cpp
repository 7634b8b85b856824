// The task types of this build, in one registry.
#include "pipelines/tasks.h"

#include "pipelines/nightly/nightly.h"
#include "pipelines/pixelsim/simulator.h"
#include "pipelines/register/register.h"
#include "transfer/transfer.h"

namespace paudm::pipelines {

const jobs::TaskRegistry& allTasks() {
    static const jobs::TaskRegistry registry = [] {
        jobs::TaskRegistry r;
        jobs::registerBuiltinTasks(r);
        pixelsim::registerPixelsimTask(r);
        transfer::registerTransferTask(r);
        reg::registerRegisterTasks(r);
        nightly::registerNightlyTasks(r);
        return r;
    }();
    return registry;
}

void installAllTasks() {
    jobs::TaskRegistry::installStandard(&allTasks());
}

} // namespace paudm::pipelines
