// The console's job queries on a job table of 1,000,000 rows: top-level listing, counts
// per status, a filter change, one super-job's sub-jobs. Medians of 5 runs each.
//   build/release/tests/bench/bench_job_queries "CONNINFO"     (seeds the table if it has fewer rows)
#include "bench_util.h"
#include "db/connection.h"
#include "db/migrations.h"
#include "jobs/store.h"
#include "seed_jobs.h"

#include <QCoreApplication>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

using namespace paudm;
using bench::medianMs;

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: bench_job_queries CONNINFO\n");
        return 2;
    }
    try {
        db::Connection c = db::Connection::open(argv[1], "bench");
        db::migrate(c);
        bench::seedMillionJobs(c);
        jobs::JobStore store(c);
        const auto total = c.exec("SELECT count(*) FROM job").toInt(0, 0);
        jobs::JobFilter top;
        top.topLevel = true;
        top.limit = 200;
        jobs::JobFilter failed = top;
        failed.statuses = {"FAILED"};
        jobs::JobFilter recent = top;
        recent.createdFrom = QDateTime::currentDateTimeUtc().addDays(-7);
        jobs::JobFilter subs;
        subs.superId = 500;
        subs.limit = 1000;
        std::printf("job table: %lld rows\n", static_cast<long long>(total));
        std::printf("top-level jobs, newest 200, with sub-job counts: %.1f ms\n", medianMs([&] { store.list(top); }));
        std::printf("counts per status of top-level jobs:            %.1f ms\n", medianMs([&] { store.countByStatus(top); }));
        std::printf("filter change: top-level FAILED:                %.1f ms\n", medianMs([&] { store.list(failed); }));
        std::printf("filter change: top-level of the last 7 days:    %.1f ms\n", medianMs([&] { store.list(recent); }));
        std::printf("sub-jobs of one job (999):                      %.1f ms\n", medianMs([&] { store.list(subs); }));
        std::printf("counts per status of all 1,000,000 jobs:        %.1f ms\n",
                    medianMs([&] { store.countByStatus(jobs::JobFilter{}); }));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_job_queries: %s\n", e.what());
        return 1;
    }
    return 0;
}
