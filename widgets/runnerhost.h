#pragma once
// Runner threads inside the console (offline reprocessing on one machine, no farm): the
// same jobs::Runner that `paudm runner` uses, on a thread of its own so that the GUI
// thread never waits for it.
#include "jobs/runner.h"

#include <QObject>

#include <memory>
#include <thread>

namespace paudm::ui {

class RunnerHost : public QObject {
    Q_OBJECT
public:
    explicit RunnerHost(QObject* parent = nullptr);
    /// Gives back the runner's jobs in hand at once and waits for its thread (which then
    /// has nothing left to wait for: the window closes through stop() and `stopped` first).
    ~RunnerHost() override;

    /// Starts a runner with these options; false if one is running already.
    bool start(jobs::RunnerOptions options);
    /// Asks the runner to stop; `stopped` follows once its jobs in hand are committed, or,
    /// with a grace period, given back when it runs out (0: at once).
    void stop(double graceS = -1);
    bool isRunning() const { return runner_ != nullptr; }
    jobs::RunnerStats stats() const;
    int jobsInHand() const;

signals:
    /// The runner ended (stopped, went idle, or could not start: then `error` says why).
    void stopped(const paudm::jobs::RunnerStats& stats, const QString& error);

private:
    std::unique_ptr<jobs::Runner> runner_;
    std::thread thread_;
};

} // namespace paudm::ui

Q_DECLARE_METATYPE(paudm::jobs::RunnerStats)
