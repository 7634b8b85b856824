#include "runnerhost.h"

#include "common/workers.h"

#include <QMetaObject>
#include <QPointer>

namespace paudm::ui {

RunnerHost::RunnerHost(QObject* parent) : QObject(parent) {}

RunnerHost::~RunnerHost() {
    if (runner_) runner_->requestStop(0);
    if (thread_.joinable()) thread_.join();
}

bool RunnerHost::start(jobs::RunnerOptions options) {
    if (runner_) return false;
    if (thread_.joinable()) thread_.join(); // the previous run has ended
    runner_ = std::make_unique<jobs::Runner>(std::move(options));
    jobs::Runner* runner = runner_.get();
    QPointer<RunnerHost> self(this);
    // Back on the GUI thread: forget the runner, then tell the world. (The object outlives
    // the thread: its destructor joins it.)
    auto report = [self](const jobs::RunnerStats& stats, const QString& error) {
        QMetaObject::invokeMethod(
            self.data(),
            [self, stats, error] {
                if (!self) return;
                self->runner_.reset();
                emit self->stopped(stats, error);
            },
            Qt::QueuedConnection);
    };
    thread_ = startGuardedThread(
        [runner, report] {
            auto result = runner->run();
            report(result ? *result : runner->stats(),
                   result ? QString() : QString::fromStdString(result.error().message()));
        },
        [runner, report](const Error& e) { report(runner->stats(), QString::fromStdString(e.message())); });
    return true;
}

void RunnerHost::stop(double graceS) {
    if (runner_) runner_->requestStop(graceS);
}

int RunnerHost::jobsInHand() const {
    return runner_ ? runner_->jobsInHand() : 0;
}

jobs::RunnerStats RunnerHost::stats() const {
    return runner_ ? runner_->stats() : jobs::RunnerStats{};
}

} // namespace paudm::ui
