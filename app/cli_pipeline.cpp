#include "cli_pipeline.h"

#include "common/stop_signals.h"
#include "common/workers.h"
#include "db/connection.h"
#include "db/reconnecting.h"
#include "jobs/store.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace paudm::cli {

Result<jobs::RunnerStats> runJobsHere(const std::string& conninfo, const std::string& tasks, int threads,
                                      const std::function<std::string(db::Connection&)>& progress, const char* command) {
    jobs::RunnerOptions o;
    o.conninfo = conninfo;
    o.threads = threads;
    o.tasks = tasks;
    o.untilIdle = true;
    o.taskExecutable = QCoreApplication::applicationFilePath();
    jobs::Runner runner(o);
    // Ctrl-C: the jobs in hand finish (a file being copied, a mosaic being reduced) and the
    // rest waits for the next run; a second Ctrl-C gives them back at once.
    StopSignals onStop([&](int signo, int count) {
        runner.requestStop(count == 1 ? 20 : 0);
        std::fprintf(stderr, count == 1 ? "%s: %s: finishing the jobs in hand (again to stop now)\n"
                                        : "%s: %s: giving back the jobs in hand\n",
                     command, StopSignals::name(signo));
    });
    QElapsedTimer clock;
    clock.start();
    std::mutex m;
    std::condition_variable cv;
    bool finished = false;
    Result<jobs::RunnerStats> stats = std::unexpected(Error("the runner did not run"));
    // The runner, and beside it a progress line every second (on a connection of its own,
    // which may come and go with the server without troubling anyone).
    runWorkers(2, [&](int index, const WorkerGroup&) {
        if (index == 0) {
            struct Finish {
                std::mutex& m;
                std::condition_variable& cv;
                bool& finished;
                ~Finish() {
                    {
                        std::lock_guard lock(m);
                        finished = true;
                    }
                    cv.notify_all();
                }
            } finish{m, cv, finished};
            stats = runner.run();
            return;
        }
        db::ReconnectingConnection pc(conninfo, std::string(command) + " progress", std::chrono::seconds(2));
        std::string last;
        std::unique_lock lock(m);
        while (!finished) {
            cv.wait_for(lock, std::chrono::seconds(1));
            if (finished) break;
            auto line = capture([&] { return pc.run("progress", progress); });
            if (line && *line != last) {
                std::fprintf(stderr, "  [%5.1f s] %s\n", clock.elapsed() / 1000.0, line->c_str());
                last = *line;
            }
        }
    });
    return stats;
}

std::string errorOf(const jobs::JobDetail& d) {
    for (auto it = d.attempts.rbegin(); it != d.attempts.rend(); ++it)
        if (!it->error.empty()) return it->error;
    for (const auto& t : d.tags)
        if (t.name == "traceback" || t.name == "cancelled") return t.value;
    return {};
}

std::string nightlySummary(jobs::JobStore& store, std::int64_t nightlyId, bool& complete) {
    const auto d = store.show(nightlyId);
    if (!d) {
        complete = false;
        return format("  nightly job %lld: gone\n", static_cast<long long>(nightlyId));
    }
    const QJsonObject out = d->output;
    complete = d->row.status == "DONE" && out["complete"].toBool(false);
    if (d->row.status != "DONE") {
        std::string e = errorOf(*d);
        return format("  nightly job %lld: %s%s%s\n", static_cast<long long>(nightlyId), d->row.status.c_str(),
                      e.empty() ? "" : ": ", e.substr(0, e.find('\n')).c_str());
    }
    int flats = 0;
    bool bias = false;
    const QJsonObject masters = out["masters"].toObject();
    for (auto it = masters.begin(); it != masters.end(); ++it) {
        if (it.value().toString() != "DONE") continue;
        if (it.key() == "bias") bias = true;
        else ++flats;
    }
    std::string text = format("  nightly job %lld: %d of %d science mosaics reduced into red/%s (%s%d master flat%s)",
                              static_cast<long long>(nightlyId), out["science_reduced"].toInt(), out["science"].toInt(),
                              qPrintable(out["release"].toString()), bias ? "master bias, " : "no master bias, ", flats,
                              flats == 1 ? "" : "s");
    if (const int earlier = out["with_earlier_calibration"].toInt(); earlier > 0)
        text += format("; %d with a master of an earlier night", earlier);
    text += "\n";
    // The checks of its sub-jobs that did not pass, by level and name.
    const auto qc = store.connection().query(
        "SELECT q.level, q.check_name, count(*) FROM quality_control q JOIN job j ON j.id = q.job_id "
        "WHERE j.super_id = $1 AND q.level IN ('warn', 'fail') GROUP BY 1, 2 ORDER BY 1 DESC, 3 DESC, 2",
        nightlyId);
    for (const char* level : {"fail", "warn"}) {
        std::string names;
        for (int i = 0; i < qc.size(); ++i)
            if (qc.text(i, 0) == level)
                names += format("%s%s x%lld", names.empty() ? "" : ", ", std::string(qc.text(i, 1)).c_str(),
                                static_cast<long long>(qc.toInt(i, 2)));
        if (!names.empty()) text += format("    QC %s: %s\n", std::strcmp(level, "fail") == 0 ? "FAIL" : "warn", names.c_str());
    }
    for (const auto& v : out["not_reduced"].toArray()) {
        const QJsonObject f = v.toObject();
        text += format("    %s %s: %s: %s\n", qPrintable(f["task"].toString()), qPrintable(f["what"].toString()),
                       qPrintable(f["status"].toString()), qPrintable(f["error"].toString()));
    }
    return text;
}

std::string nightlyProgress(db::Connection& c, const std::vector<std::int64_t>& nightlyIds) {
    if (nightlyIds.empty()) return {};
    const auto r = c.query("SELECT count(*) FILTER (WHERE j.status IN ('DONE', 'FAILED', 'CANCELLED')), count(*), "
                           "(SELECT count(*) FROM job s WHERE s.super_id = ANY ($1) AND s.name = 'single_epoch' "
                           " AND s.status = 'DONE'), "
                           "(SELECT count(*) FROM job s WHERE s.super_id = ANY ($1) AND s.name = 'single_epoch'), "
                           "(SELECT count(*) FROM job s WHERE s.super_id = ANY ($1) AND s.status IN ('FAILED', 'CANCELLED')) "
                           "FROM job j WHERE j.id = ANY ($1)",
                           nightlyIds);
    std::string line = format("nightly %lld/%lld; science %lld/%lld reduced", static_cast<long long>(r.toInt(0, 0)),
                              static_cast<long long>(r.toInt(0, 1)), static_cast<long long>(r.toInt(0, 2)),
                              static_cast<long long>(r.toInt(0, 3)));
    if (const auto failed = r.toInt(0, 4)) line += format(" (%lld did not finish)", static_cast<long long>(failed));
    return line;
}

} // namespace paudm::cli
