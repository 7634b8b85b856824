#pragma once
// Running one task part in a child process (`paudm __task`), with a time limit, a memory
// limit and cancellation; its stdout and stderr come back as tags.
#include "jobs/task.h"

#include <QString>

#include <atomic>

namespace paudm::jobs {

struct ChildSpec {
    QString executable;
    QJsonObject job; ///< task, phase, job_id, attempt, config, input, conninfo
    double timeoutS = 0;
    int memoryLimitMb = 0;
};

TaskResult runInChildProcess(const ChildSpec& spec, const std::atomic<bool>& cancelled);

} // namespace paudm::jobs
