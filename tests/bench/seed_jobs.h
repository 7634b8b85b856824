#pragma once
// The job table the console benchmarks run on: 1,000 top-level jobs with 999 sub-jobs each
// (1,000,000 rows), mixed statuses, and QC entries on a tenth of the sub-jobs (one in
// ten of them failed). Seeded by SQL in the server, once: kept if it is there.
#include "db/connection.h"

#include <cstdio>

namespace paudm::bench {

inline void seedMillionJobs(db::Connection& c) {
    if (c.exec("SELECT count(*) FROM job").toInt(0, 0) >= 1000000) return;
    std::fprintf(stderr, "seeding 1,000 top-level jobs with 999 sub-jobs each, and their QC...\n");
    c.execScript(R"sql(
        SET client_min_messages = warning;
        TRUNCATE job, job_ready, job_lease CASCADE;
        INSERT INTO job (id, name, status, description, ts_created, ts_queued, ts_started, ts_ended, unfinished_subjobs)
        SELECT g, 'fanout', (ARRAY['DONE','DONE','DONE','FAILED','STANDBY'])[1 + g % 5], 'night ' || g,
               now() - (1000 - g) * interval '1 hour', now(), now(), now(), 0
        FROM generate_series(1, 1000) g;
        INSERT INTO job (id, super_id, name, status, description, ts_created, ts_queued, ts_started, ts_ended)
        SELECT 1000 + (s - 1) * 999 + k, s, 'noop',
               (ARRAY['DONE','DONE','DONE','DONE','FAILED','QUEUED','RUNNING'])[1 + (s + k) % 7],
               'part ' || k || ' of 999', now() - (1000 - s) * interval '1 hour', now(), now(), now()
        FROM generate_series(1, 1000) s, generate_series(1, 999) k;
        INSERT INTO quality_control (job_id, check_name, value, min_value, max_value, qc_pass, time)
        SELECT id, 'seeing', 0.5 + ((id / 10) % 20) * 0.1, 0.5, 2.2, (id / 10) % 20 < 18, now()
        FROM job WHERE super_id IS NOT NULL AND id % 10 = 0;
        SELECT setval('job_id_seq', (SELECT max(id) FROM job));)sql",
                 "seeding");
    c.exec("VACUUM ANALYZE job");
    c.exec("VACUUM ANALYZE quality_control");
}

} // namespace paudm::bench
