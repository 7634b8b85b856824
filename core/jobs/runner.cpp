#include "jobs/runner.h"

#include "common/workers.h"
#include "db/connection.h"
#include "jobs/child_process.h"
#include "jobs/runner_commit.h"
#include "jobs/store.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QJsonDocument>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace paudm::jobs {

namespace {

using Clock = std::chrono::steady_clock;

std::string hostName() {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

using db::isTransient;


/// A claim in the runner's hands, as the control thread sees it.
struct InHand {
    std::int64_t jobId = 0;
    std::shared_ptr<std::atomic<bool>> cancelled, released;
};

/// A connection and the lock of whoever uses it. The runner's control thread and its
/// first worker share one (a pilot with one thread holds one connection, busy or idle);
/// every other worker has its own, closed while it waits for work.
struct Link {
    std::timed_mutex m;
    std::optional<db::Connection> c;
};

/// What job_queue_state says to a worker whose claim came back empty.
struct QueueState {
    bool readyNow = false;          ///< jobs of its tasks are claimable now (it lost a race for them)
    bool claims = false;            ///< a claim is in progress somewhere (it may create work)
    std::optional<double> nextReadyS; ///< when the first retry back-off of its tasks ends
};

constexpr std::int64_t kNoDeadline = std::numeric_limits<std::int64_t>::max();

std::int64_t nowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

} // namespace

std::string Runner::tasksRegex(const std::string& globs) {
    std::string alternatives;
    size_t start = 0;
    while (start <= globs.size()) {
        size_t end = globs.find(',', start);
        if (end == std::string::npos) end = globs.size();
        std::string one = globs.substr(start, end - start);
        while (!one.empty() && one.front() == ' ')
            one.erase(0, 1);
        while (!one.empty() && one.back() == ' ')
            one.pop_back();
        if (!one.empty()) {
            std::string re;
            for (char ch : one) {
                if (ch == '*')
                    re += ".*";
                else if (ch == '?')
                    re += '.';
                else if (std::string_view("\\^$.|+()[]{}").find(ch) != std::string_view::npos)
                    re += std::string("\\") + ch;
                else
                    re += ch;
            }
            alternatives += (alternatives.empty() ? "" : "|") + re;
        }
        start = end + 1;
    }
    return "^(" + alternatives + ")$";
}

struct Runner::Impl {
    RunnerOptions o;
    const TaskRegistry& registry;
    std::string regex;
    std::string host = hostName();
    std::int64_t runnerId = 0;

    std::atomic<bool> stop{false};        ///< workers: claim nothing more
    std::atomic<bool> workersDone{false}; ///< control: every worker has returned
    /// When the jobs still in hand are given back (steady clock, ns); kNoDeadline: never.
    std::atomic<std::int64_t> releaseAt{kNoDeadline};
    std::atomic<bool> releasing{false}; ///< the grace is over
    std::atomic<std::int64_t> done{0}, failed{0}, lost{0}, released{0}, started{0};
    std::atomic<int> finishedWorkers{0};
    std::mutex m;
    std::condition_variable wake;
    std::map<std::int64_t, InHand> running; ///< token -> the claim
    /// Counts the notifications that may mean work (new jobs, a retry, the queue gone
    /// idle): a waiting worker waits for it to change, so that none is missed between its
    /// claim and its wait.
    std::uint64_t wakeSeq = 0;
    std::atomic<bool> abortPending{false}; ///< an abort was announced: the control thread looks
    Link shared;                           ///< the control thread's and the first worker's
    /// Wakes the control thread from its wait on the server's socket: a notification the
    /// first worker's statements read on the shared connection never reaches that socket.
    int controlWake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

    /// Recent run time of each task (s), an exponential mean over its last jobs here.
    std::mutex costsM;
    std::map<std::string, double> costs;
    /// Interrupts connects made between batches, when the runner is told to stop.
    std::shared_ptr<db::Interrupter> connecting = std::make_shared<db::Interrupter>();
    /// Interrupts everything (a server that no longer answers), a few seconds after the
    /// grace of a stop is over.
    std::shared_ptr<db::Interrupter> hard = std::make_shared<db::Interrupter>();

    Impl(RunnerOptions opts, const TaskRegistry& r) : o(std::move(opts)), registry(r) {
        if (o.threads < 1) o.threads = 1;
        if (o.claimBatch < 1) o.claimBatch = kDefaultClaimCap;
        if (!(o.claimWindowS > 0)) o.claimWindowS = kDefaultClaimWindowS;
        if (o.leaseS < 1) o.leaseS = 1;
        if (o.tasks.empty()) {
            std::string all;
            for (const auto& n : registry.names())
                all += (all.empty() ? "" : ",") + n;
            regex = tasksRegex(all);
        } else {
            regex = tasksRegex(o.tasks);
        }
        if (o.taskExecutable.isEmpty()) {
            const QString here = QCoreApplication::instance() ? QCoreApplication::applicationDirPath() : QString();
            o.taskExecutable = QFileInfo(here + "/paudm").isExecutable() ? here + "/paudm" : QString("paudm");
        }
    }

    ~Impl() {
        if (controlWake >= 0) ::close(controlWake);
    }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    void wakeControl() const {
        const std::uint64_t one = 1;
        if (controlWake >= 0) (void)!::write(controlWake, &one, sizeof one);
    }

    void say(const std::string& line) const {
        if (o.verbose) std::fprintf(stderr, "runner %lld: %s\n", static_cast<long long>(runnerId), line.c_str());
    }

    void stopClaiming() {
        stop = true;
        connecting->interrupt();
        wake.notify_all();
    }

    /// Connects, retrying with back-off while the server is away (restarts, failovers),
    /// until `giveUp` says so. The connect itself is stopped by `through`; the connection
    /// is then attached to `hard`.
    std::optional<db::Connection> connect(const char* purpose, const std::shared_ptr<db::Interrupter>& through,
                                          const std::function<bool()>& giveUp, bool listening = false) {
        double wait = 0.1;
        for (;;) {
            if (giveUp() || through->interrupted() || hard->interrupted()) return std::nullopt;
            try {
                db::Connection c = db::Connection::open(o.conninfo, purpose, through);
                c.setInterrupter(hard);
                // A runner's claims and completions need not wait for the WAL flush: one
                // lost in a server crash only makes its job run again (a lost claim leaves
                // the job QUEUED; a lost completion leaves it RUNNING until its lease lapses),
                // which every task allows for. Tasks' own writes use their own connection,
                // with the server's setting. (Measured: 14 % more jobs/s on 2 threads.)
                c.exec("SET synchronous_commit = off");
                if (listening) listenAll(c);
                return c;
            } catch (const Error& e) {
                if (e.code() != db::kInterrupted) say(std::string("cannot connect, retrying: ") + e.what());
            }
            const auto until = Clock::now() + std::chrono::duration<double>(wait);
            while (Clock::now() < until) {
                if (giveUp()) return std::nullopt;
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            wait = std::min(wait * 2, 5.0);
        }
    }

    /// The channels the shared connection listens to.
    void listenAll(db::Connection& c) const {
        c.listen("paudm_jobs");
        c.listen("paudm_abort");
        if (o.untilIdle) c.listen(kIdleChannel);
    }

    /// Handles what the shared connection received (by whichever thread holds it).
    void dispatch(const std::vector<db::Notification>& notes) {
        bool work = false;
        for (const auto& n : notes) {
            if (n.channel == "paudm_abort")
                abortPending = true;
            else
                work = true;
        }
        if (work) wakeWorkers();
    }

    void wakeWorkers() {
        {
            std::lock_guard lock(m);
            ++wakeSeq;
        }
        wake.notify_all();
    }

    /// A job's run time, for the size of the next claims.
    void recordCost(const std::string& task, double seconds) {
        std::lock_guard lock(costsM);
        auto [it, fresh] = costs.try_emplace(task, seconds);
        if (!fresh) it->second = 0.7 * it->second + 0.3 * seconds;
    }

    /// Claims what keeps one thread busy for about claimWindowS: as many jobs of a task as
    /// its recent run time allows (the database weighs each job by its task, and a task
    /// this runner has not timed yet counts as the whole window: one job), at most
    /// claimBatch. A runner that knows nothing yet claims one job.
    std::vector<Claimed> claim(db::Connection& c) {
        std::vector<std::string> names;
        std::vector<std::optional<std::string>> costText;
        double fastest = 0;
        {
            std::lock_guard lock(costsM);
            for (const auto& [name, cost] : costs) {
                names.push_back(name);
                costText.push_back(std::to_string(std::max(cost, 1e-7)));
                fastest = names.size() == 1 ? cost : std::min(fastest, cost);
            }
        }
        int want = 1;
        if (!names.empty())
            want = static_cast<int>(std::clamp(o.claimWindowS / std::max(fastest, 1e-7), 1.0, double(o.claimBatch)));
        if (o.maxJobs > 0) want = static_cast<int>(std::min<std::int64_t>(want, o.maxJobs - started));
        if (want <= 0) return {};
        const auto r = c.query("SELECT id, name, phase, config, input, token, attempts, coalesce(timeout_s, 0), "
                               "coalesce(memory_limit_mb, 0) FROM job_claim($1, $2, $3, $4, $5, $6, $7, $8, "
                               "$9::real[])",
                               runnerId, want, o.leaseS, regex, host, static_cast<int>(::getpid()), o.claimWindowS,
                               names, costText);
        std::vector<Claimed> out;
        for (int i = 0; i < r.size(); ++i) {
            Claimed j;
            j.id = r.toInt(i, 0);
            j.name = r.text(i, 1);
            j.phase = r.text(i, 2) == "epilog" ? Phase::Epilog : Phase::Prolog;
            j.config = QJsonDocument::fromJson(QByteArray::fromStdString(std::string(r.text(i, 3)))).object();
            j.input = QJsonDocument::fromJson(QByteArray::fromStdString(std::string(r.text(i, 4)))).object();
            j.token = r.toInt(i, 5);
            j.attempt = static_cast<int>(r.toInt(i, 6));
            j.timeoutS = r.toDouble(i, 7);
            j.memoryLimitMb = static_cast<int>(r.toInt(i, 8));
            out.push_back(std::move(j));
        }
        started += static_cast<std::int64_t>(out.size());
        std::lock_guard lock(m);
        for (const Claimed& j : out) {
            // Claimed after the grace ran out (the claim was on its way): give it back too.
            if (releasing) {
                j.released->store(true);
                j.cancelled->store(true);
            }
            running[j.token] = {j.id, j.cancelled, j.released};
        }
        return out;
    }

    static TaskResult failure(const std::string& outcome, const std::string& error, bool retryable = true) {
        TaskResult r;
        r.ok = false;
        r.outcome = outcome;
        r.retryable = retryable;
        r.error = error;
        return r;
    }

    TaskResult execute(const Claimed& j) {
        if (j.released->load()) return failure(kReleasedOutcome, "given back before it started");
        const TaskType* type = registry.find(j.name);
        if (!type) return failure("FAILED", "this runner does not know task '" + j.name + "'", false);
        say("job " + std::to_string(j.id) + " " + j.name + (j.phase == Phase::Epilog ? " (epilog)" : "") +
            ", attempt " + std::to_string(j.attempt));
        TaskResult r;
        try {
            if (type->isolation == Isolation::ChildProcess) {
                ChildSpec spec;
                spec.executable = o.taskExecutable;
                spec.timeoutS = j.timeoutS > 0 ? j.timeoutS : type->timeoutS;
                spec.memoryLimitMb = j.memoryLimitMb > 0 ? j.memoryLimitMb : type->memoryLimitMb;
                spec.job = {{"task", QString::fromStdString(j.name)},
                            {"phase", j.phase == Phase::Epilog ? "epilog" : "prolog"},
                            {"job_id", static_cast<qint64>(j.id)},
                            {"attempt", j.attempt},
                            {"config", j.config},
                            {"input", j.input},
                            {"conninfo", QString::fromStdString(o.conninfo)},
                            {"memory_limit_mb", spec.memoryLimitMb}};
                try {
                    r = runInChildProcess(spec, *j.cancelled);
                } catch (...) {
                    r = failure("CRASHED", describeCurrentException());
                }
            } else {
                TaskContext ctx(j.id, j.attempt, j.phase, j.config, j.input, o.conninfo, j.cancelled.get());
                r = executeTask(*type, ctx);
            }
        } catch (...) {
            // executeTask catches what the task throws; this is whatever escaped around it
            // (out of memory building the context, say). The job fails; the runner goes on.
            r = failure("FAILED", "runner error around task '" + j.name + "': " + describeCurrentException());
        }
        if (j.released->load()) return failure(kReleasedOutcome, "stopped: the runner's grace period ran out");
        return r;
    }

    void commitOnce(db::Connection& c, std::vector<std::pair<Claimed, TaskResult>>& batch) {
        const CommitCounts n = commitResults(c, registry, batch);
        done += n.done;
        failed += n.failed;
        lost += n.lost;
        released += n.released;
    }

    void commit(std::optional<db::Connection>& c, std::vector<std::pair<Claimed, TaskResult>>& batch,
                bool listening) {
        bool recordedAsFailure = false;
        for (int attempt = 0;; ++attempt) {
            try {
                if (!c || !c->isHealthy()) {
                    c.reset();
                    c = connect("paudm runner", hard, [] { return false; }, listening);
                    if (!c) break; // interrupted: the leases lapse and the jobs run again elsewhere
                }
                commitOnce(*c, batch);
                break;
            } catch (...) {
                const Error e = currentExceptionAsError();
                if (e.code() == db::kInterrupted) break; // the leases lapse and the jobs run again elsewhere
                const bool transient = isTransient(e) || !c || !c->isHealthy();
                if (transient && attempt < 50) {
                    say(std::string("commit interrupted, retrying: ") + e.what());
                    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50 * (attempt + 1), 1000)));
                    continue;
                }
                say(std::string("commit failed: ") + e.what());
                if (recordedAsFailure) break; // the leases lapse and the jobs run again
                // Not retryable (e.g. a task produced an invalid sub-job): record that as the
                // job's failure rather than lose it.
                for (auto& [j, r] : batch) {
                    if (!r.ok && r.outcome == kReleasedOutcome) continue;
                    r = failure("FAILED", std::string("the runner could not commit the result: ") + e.what(), false);
                }
                recordedAsFailure = true;
            }
        }
        std::lock_guard lock(m);
        for (const auto& [j, r] : batch)
            running.erase(j.token);
    }

    /// True while another thread of this runner has jobs in hand (a cancelled one has no
    /// lease any more, but is still running until it notices).
    bool holdsJobs() {
        std::lock_guard lock(m);
        return !running.empty();
    }

    QueueState queueState(db::Connection& c) {
        const auto r = c.query("SELECT ready_now, claims, next_ready_s FROM job_queue_state($1)", regex);
        QueueState q;
        q.readyNow = r.toBool(0, 0);
        q.claims = r.toBool(0, 1);
        if (!r.isNull(0, 2)) q.nextReadyS = r.toDouble(0, 2);
        return q;
    }

    /// Opens the link's connection if it has none; false when the worker should end.
    bool ensureConnected(Link& link, bool isShared) {
        if (link.c && link.c->isHealthy()) return true;
        link.c.reset();
        link.c = connect("paudm runner", connecting, [this] { return stop.load(); }, isShared);
        if (link.c && isShared) wakeWorkers(); // what was announced while it was away is unknown
        return link.c.has_value();
    }

    /// A worker claims, runs and commits. With nothing to claim it waits, without asking
    /// the server again, for a notification (new or retried jobs, the queue gone idle) or
    /// the end of the first retry back-off. Workers other than the first close their
    /// connection while they wait: an idle runner holds the one it listens on.
    void worker(int index) {
        Link own;
        Link& link = index == 0 ? shared : own;
        const bool isShared = index == 0;
        bool workedSinceIdle = false; // committed jobs since it last found the queue idle
        int lostRaces = 0;
        std::minstd_rand jitter(static_cast<unsigned>(::getpid()) * 31u + static_cast<unsigned>(index));
        while (!stop) {
            if (o.maxJobs > 0 && started >= o.maxJobs) break;
            std::uint64_t seen;
            {
                std::lock_guard lock(m);
                seen = wakeSeq;
            }
            std::vector<Claimed> jobs;
            QueueState q;
            {
                std::unique_lock lk(link.m);
                if (!ensureConnected(link, isShared)) break;
                try {
                    jobs = claim(*link.c);
                    if (jobs.empty()) q = queueState(*link.c);
                    if (isShared) dispatch(link.c->takeNotifications());
                } catch (...) {
                    if (stop) break;
                    say("claim failed, reconnecting: " + describeCurrentException());
                    link.c.reset();
                    lk.unlock();
                    std::this_thread::sleep_for(std::chrono::milliseconds(500)); // no tight loop on a persistent error
                    continue;
                }
                if (jobs.empty() && !q.readyNow && !q.claims && !q.nextReadyS && !holdsJobs()) {
                    // Nothing left anywhere. Whoever sees it first tells the --until-idle
                    // runners that wait on others' claims, so that they end now too.
                    if (workedSinceIdle || o.untilIdle) (void)capture([&] { link.c->notify(kIdleChannel, ""); });
                    workedSinceIdle = false;
                    if (o.untilIdle) {
                        stopClaiming();
                        break;
                    }
                }
            }
            if (jobs.empty()) {
                if (q.readyNow && ++lostRaces < 20) {
                    // Another claim holds those rows for a moment: try again shortly.
                    std::this_thread::sleep_for(std::chrono::microseconds(500 + jitter() % 5000));
                    continue;
                }
                lostRaces = 0;
                if (!isShared) {
                    std::lock_guard lk(link.m);
                    link.c.reset();
                }
                std::unique_lock lock(m);
                auto woken = [&] { return stop || wakeSeq != seen; };
                if (q.nextReadyS)
                    wake.wait_for(lock, std::chrono::duration<double>(std::clamp(*q.nextReadyS, 0.0, 3600.0) + 0.01),
                                  woken);
                else if (q.readyNow)
                    wake.wait_for(lock, std::chrono::seconds(1), woken);
                else
                    wake.wait(lock, woken);
                continue;
            }
            lostRaces = 0;
            std::vector<std::pair<Claimed, TaskResult>> batch;
            batch.reserve(jobs.size());
            for (Claimed& j : jobs) {
                const auto t0 = Clock::now();
                TaskResult r = execute(j);
                recordCost(j.name, std::chrono::duration<double>(Clock::now() - t0).count());
                batch.emplace_back(std::move(j), std::move(r));
            }
            {
                std::unique_lock lk(link.m);
                commit(link.c, batch, isShared);
                if (isShared && link.c && link.c->isHealthy()) (void)capture([&] { dispatch(link.c->takeNotifications()); });
            }
            workedSinceIdle = true;
        }
        if (!isShared) own.c.reset();
    }

    /// The grace of a stop ran out: every job in hand is stopped and, once its worker
    /// notices, given back.
    void releaseInHand() {
        releasing = true;
        std::lock_guard lock(m);
        for (auto& [token, h] : running) {
            h.released->store(true);
            h.cancelled->store(true);
        }
        if (!running.empty()) say("grace period over: giving back " + std::to_string(running.size()) + " jobs");
    }

    /// Past the grace of a stop: the jobs in hand are given back; a few seconds later, a
    /// worker still blocked waits on a server that does not answer and is cut loose (its
    /// leases lapse; the jobs run again elsewhere).
    void checkDeadline() {
        const std::int64_t deadline = releaseAt;
        if (deadline == kNoDeadline || nowNs() < deadline) return;
        if (!releasing) releaseInHand();
        if (nowNs() >= deadline + std::int64_t(5'000'000'000)) hard->interrupt();
    }

    /// Heartbeats, aborts, reaping, progress announcements and notifications, on the
    /// connection it shares with the first worker: it takes it only for a moment, and
    /// waits for notifications on its socket without holding it.
    void control() {
        auto lastBeat = Clock::now() - std::chrono::hours(1);
        auto lastReap = lastBeat;
        // Observers (the console) hear at most once a second that this runner finished jobs:
        // completions are committed in batches without a notification of their own (that
        // serialised commits), and heartbeats alone would leave the console seconds late.
        std::int64_t announced = 0;
        auto lastAnnounce = lastBeat;
        // A runner with claims beats every third of its lease (its claims must not lapse);
        // one without beats every half lease, often enough to be seen alive, and says so
        // to nobody: a notification wakes every listening backend of the server (they
        // filter by channel themselves), which with hundreds of idle pilots was most of the
        // server's idle work. Reaping is for the same reason every half lease when busy,
        // every lease when idle (any runner's reap serves all).
        std::int64_t beatDone = -1;
        // Until the last worker returns, not merely until stop: jobs still in hand need their
        // heartbeats and their aborts.
        while (!workersDone) {
            checkDeadline();
            int socket = -1;
            {
                std::unique_lock lk(shared.m, std::defer_lock);
                if (!lk.try_lock_for(std::chrono::milliseconds(200))) continue;
                try {
                    if (!shared.c || !shared.c->isHealthy()) {
                        // Reconnected without holding the link: the first worker may need it
                        // meanwhile (and may reconnect it itself).
                        lk.unlock();
                        auto fresh = connect(
                            "paudm runner", hard,
                            [this] {
                                checkDeadline(); // the grace runs out even while the server is away
                                return workersDone.load();
                            },
                            true);
                        if (!fresh) {
                            if (workersDone || hard->interrupted()) break;
                            continue;
                        }
                        lk.lock();
                        if (!shared.c || !shared.c->isHealthy()) shared.c = std::move(fresh);
                        wakeWorkers();
                    }
                    db::Connection& c = *shared.c;
                    const auto notes = c.takeNotifications();
                    dispatch(notes);
                    if (workersDone) break;
                    bool lookForAborts = abortPending.exchange(false);
                    const auto now = Clock::now();
                    if (const std::int64_t finished = done + failed;
                        finished != announced && now - lastAnnounce >= std::chrono::seconds(1)) {
                        c.notify(kProgressChannel, std::to_string(finished));
                        announced = finished;
                        lastAnnounce = now;
                    }
                    const bool busy = holdsJobs();
                    const auto beatEvery = std::chrono::duration<double>(o.leaseS / (busy ? 3 : 2));
                    const auto reapEvery = std::chrono::duration<double>(std::max(1.0, o.leaseS / (busy ? 2 : 1)));
                    if (now - lastBeat >= beatEvery) {
                        // Only the claims a worker still holds: one whose result could not be
                        // committed lapses, and runs again elsewhere.
                        std::vector<std::int64_t> tokens;
                        {
                            std::lock_guard lock(m);
                            for (const auto& [t, h] : running)
                                tokens.push_back(t);
                        }
                        if (!tokens.empty())
                            c.query("UPDATE job_lease SET lease_expires = now() + make_interval(secs => $2) "
                                    "WHERE runner_id = $1 AND tokens && $3::bigint[]",
                                    runnerId, o.leaseS, tokens);
                        // Observers (the console's Runners panel) hear a heartbeat that has news.
                        const std::int64_t finished = done + failed;
                        c.query(finished != beatDone || !tokens.empty()
                                    ? "UPDATE runner SET heartbeat = now(), jobs_done = $2 WHERE id = $1 "
                                      "RETURNING pg_notify('paudm_runners', id::text)"
                                    : "UPDATE runner SET heartbeat = now(), jobs_done = $2 WHERE id = $1",
                                runnerId, finished);
                        beatDone = finished;
                        lastBeat = now;
                        lookForAborts = true; // also catch aborts whose notification was missed
                    }
                    if (lookForAborts) checkAborts(c);
                    if (now - lastReap >= reapEvery) {
                        const auto n = c.exec("SELECT job_reap_expired()").toInt(0, 0);
                        if (n > 0) {
                            say("requeued or failed " + std::to_string(n) + " jobs whose lease expired");
                            wakeWorkers();
                        }
                        lastReap = now;
                    }
                    dispatch(c.takeNotifications());
                    socket = notes.empty() ? c.socket() : -1;
                } catch (...) {
                    say("control connection: " + describeCurrentException());
                    shared.c.reset();
                    if (hard->interrupted()) break;
                    continue;
                }
            }
            if (socket >= 0) {
                pollfd p[2] = {{socket, POLLIN, 0}, {controlWake, POLLIN, 0}};
                if (::poll(p, controlWake >= 0 ? 2 : 1, 200) > 0 && (p[1].revents & POLLIN)) {
                    std::uint64_t n = 0;
                    (void)!::read(controlWake, &n, sizeof n);
                }
            }
        }
    }

    void checkAborts(db::Connection& c) {
        std::vector<std::int64_t> tokens;
        {
            std::lock_guard lock(m);
            for (const auto& [t, h] : running)
                tokens.push_back(t);
        }
        if (tokens.empty()) return;
        const auto r = c.query("SELECT t FROM unnest($1::bigint[]) t WHERE NOT EXISTS "
                               "(SELECT 1 FROM job_lease WHERE t = ANY (tokens))",
                               tokens);
        std::lock_guard lock(m);
        for (int i = 0; i < r.size(); ++i) {
            const auto it = running.find(r.toInt(i, 0));
            if (it != running.end()) it->second.cancelled->store(true);
        }
    }
};

Runner::Runner(RunnerOptions options, const TaskRegistry& registry)
    : d_(std::make_unique<Impl>(std::move(options), registry)) {}

Runner::~Runner() {
    requestStop();
}

void Runner::requestStop(double graceS) {
    d_->stopClaiming();
    if (graceS >= 0) {
        const std::int64_t at = nowNs() + static_cast<std::int64_t>(graceS * 1e9);
        std::int64_t current = d_->releaseAt;
        while (at < current && !d_->releaseAt.compare_exchange_weak(current, at)) {
        }
    }
}

RunnerStats Runner::stats() const {
    return {d_->runnerId, d_->done, d_->failed, d_->lost, d_->released};
}

int Runner::jobsInHand() const {
    std::lock_guard lock(d_->m);
    return static_cast<int>(d_->running.size());
}

Result<RunnerStats> Runner::run() {
    auto registered = capture([&] {
        db::Connection c = db::Connection::open(d_->o.conninfo, "paudm runner", d_->hard);
        c.exec("SET synchronous_commit = off");
        d_->runnerId =
            c.query("INSERT INTO runner (host, pid, threads, tasks, batch_job_id, lease_s) "
                    "VALUES ($1, $2, $3, nullif($4, ''), nullif($5, ''), $6) "
                    "RETURNING id, pg_notify('paudm_runners', id::text)",
                    d_->host, static_cast<int>(::getpid()), d_->o.threads, d_->o.tasks, d_->o.batchJobId, d_->o.leaseS)
                .toInt(0, 0);
        d_->listenAll(c);
        d_->shared.c = std::move(c);
    });
    if (!registered) return std::unexpected(registered.error().withContext("starting the runner"));
    d_->say("started with " + std::to_string(d_->o.threads) + " threads, tasks " + d_->regex);
    // The control thread and the workers are one group: none of them lets an exception
    // out (their loops catch everything), and run() returns only after all are joined.
    auto ran = capture([&] {
        runWorkers(d_->o.threads + 1, [this](int index, const WorkerGroup&) {
            if (index == 0) return d_->control();
            try {
                d_->worker(index - 1);
            } catch (...) {
                d_->say("worker stopped: " + describeCurrentException());
                d_->stopClaiming(); // the others finish what they hold; the pilot ends cleanly
            }
            // The last worker out lets the control thread go.
            if (d_->finishedWorkers.fetch_add(1) + 1 == d_->o.threads) {
                d_->stop = true;
                d_->workersDone = true;
                d_->wakeControl(); // stopping does not wait for its next look at the server
                (void)capture([&] {
                    std::lock_guard lk(d_->shared.m);
                    if (!d_->shared.c || !d_->shared.c->isHealthy())
                        d_->shared.c = db::Connection::open(d_->o.conninfo, "paudm runner", d_->hard);
                    d_->shared.c->query("UPDATE runner SET stopped = now(), heartbeat = now(), jobs_done = $2 WHERE id = $1 "
                            "RETURNING pg_notify('paudm_runners', id::text)",
                            d_->runnerId, static_cast<std::int64_t>(d_->done + d_->failed));
                });
            }
        });
    });
    {
        std::lock_guard lk(d_->shared.m);
        d_->shared.c.reset();
    }
    if (!ran) return std::unexpected(ran.error().withContext("runner"));
    return stats();
}

} // namespace paudm::jobs
