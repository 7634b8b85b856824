#include "runnerhost.h"

#include <QMetaObject>
#include <QPointer>

namespace paudm::ui {

RunnerHost::RunnerHost(QObject* parent) : QObject(parent) {}

RunnerHost::~RunnerHost() {
    if (runner_) runner_->requestStop();
    if (thread_.joinable()) thread_.join();
}

bool RunnerHost::start(jobs::RunnerOptions options) {
    if (runner_) return false;
    if (thread_.joinable()) thread_.join(); // the previous run has ended
    runner_ = std::make_unique<jobs::Runner>(std::move(options));
    jobs::Runner* runner = runner_.get();
    QPointer<RunnerHost> self(this);
    thread_ = std::thread([runner, self] {
        auto result = runner->run();
        const jobs::RunnerStats stats = result ? *result : runner->stats();
        const QString error = result ? QString() : QString::fromStdString(result.error().message());
        // Back on the GUI thread: forget the runner, then tell the world.
        QMetaObject::invokeMethod(
            self.data(),
            [self, stats, error] {
                if (!self) return;
                self->runner_.reset();
                emit self->stopped(stats, error);
            },
            Qt::QueuedConnection);
    });
    return true;
}

void RunnerHost::stop() {
    if (runner_) runner_->requestStop();
}

jobs::RunnerStats RunnerHost::stats() const { return runner_ ? runner_->stats() : jobs::RunnerStats{}; }

} // namespace paudm::ui
