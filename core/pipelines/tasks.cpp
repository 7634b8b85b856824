// The task types of this build, in one registry.
#include "jobs/task.h"
#include "pipelines/nightly/nightly.h"
#include "pipelines/pixelsim/simulator.h"
#include "pipelines/register/register.h"
#include "transfer/transfer.h"

namespace paudm::jobs {

const TaskRegistry& TaskRegistry::standard() {
    static const TaskRegistry registry = [] {
        TaskRegistry r;
        registerBuiltinTasks(r);
        pipelines::pixelsim::registerPixelsimTask(r);
        transfer::registerTransferTask(r);
        pipelines::reg::registerRegisterTasks(r);
        pipelines::nightly::registerNightlyTasks(r);
        return r;
    }();
    return registry;
}

} // namespace paudm::jobs
