// The Operations panel on a job table of 1,000,000 rows (seed_jobs.h), offscreen: time from
// connecting to the first page on screen, from each filter change to its first page (the
// goal: under 300 ms), per page while scrolling, and the memory the loaded rows take.
//   build/release/tests/bench/bench_operations "CONNINFO" [ROUNDS]
#include "db/connection.h"
#include "db/migrations.h"
#include "graph/jobgraphpanel.h"
#include "operations/jobtablemodel.h"
#include "operations/operationspanel.h"
#include "seed_jobs.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QSignalSpy>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace paudm;

namespace {

long rssKb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

struct Case {
    const char* what;
    jobs::JobFilter filter;
};

} // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setOrganizationName("PAUdm-bench"); // leave the user's remembered filters alone
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_operations CONNINFO [ROUNDS]\n");
        return 2;
    }
    const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    try {
        {
            db::Connection c = db::Connection::open(argv[1], "bench");
            db::migrate(c);
            bench::seedMillionJobs(c);
            std::printf("job table: %lld rows, %lld QC entries\n",
                        static_cast<long long>(c.exec("SELECT count(*) FROM job").toInt(0, 0)),
                        static_cast<long long>(c.exec("SELECT count(*) FROM quality_control").toInt(0, 0)));
        }
        ui::OperationsPanel panel;
        panel.setFilter([] {
            jobs::JobFilter f;
            f.topLevel = true;
            return f;
        }());
        panel.resize(1400, 900);
        panel.show();
        QSignalSpy pages(&panel, &ui::OperationsPanel::firstPageShown);
        QSignalSpy loaded(&panel, &ui::OperationsPanel::loaded);
        QElapsedTimer t;
        t.start();
        panel.setDatabase(argv[1]);
        if (!pages.wait(10000)) throw std::runtime_error("no first page in 10 s");
        const qint64 open = t.elapsed();
        if (loaded.isEmpty() && !loaded.wait(10000)) throw std::runtime_error("no counts in 10 s");
        const qint64 counted = t.elapsed();
        std::printf("open: first page %lld ms, counts and pies %lld ms\n", static_cast<long long>(open),
                    static_cast<long long>(counted));

        auto all = [](auto change) {
            jobs::JobFilter f;
            change(f);
            return f;
        };
        const std::vector<Case> cases = {
            {"top-level, status FAILED", all([](auto& f) { f.topLevel = true; f.statuses = {"FAILED"}; })},
            {"top-level, text \"night 5\"", all([](auto& f) { f.topLevel = true; f.text = "night 5"; })},
            {"top-level, created in the last 7 days", all([](auto& f) {
                 f.topLevel = true;
                 f.createdFrom = QDateTime::currentDateTimeUtc().addDays(-7);
             })},
            {"all 1M jobs, status FAILED", all([](auto& f) { f.statuses = {"FAILED"}; })},
            {"all 1M jobs, task noop, text \"part 998\"", all([](auto& f) { f.task = "noop"; f.text = "part 998"; })},
            {"all 1M jobs, QC red", all([](auto& f) { f.qc = "red"; })},
            {"all 1M jobs, QC green, RUNNING", all([](auto& f) { f.qc = "green"; f.statuses = {"RUNNING"}; })},
            {"all 1M jobs, no filter", all([](auto&) {})},
        };
        std::vector<std::vector<double>> ms(cases.size());
        std::vector<int> rows(cases.size());
        for (int r = 0; r < rounds; ++r)
            for (std::size_t k = 0; k < cases.size(); ++k) {
                const int before = static_cast<int>(pages.count());
                panel.setFilter(cases[k].filter);
                while (pages.count() == before)
                    if (!pages.wait(20000)) throw std::runtime_error(std::string("no page for ") + cases[k].what);
                ms[k].push_back(static_cast<double>(panel.lastFilterMs()));
                rows[k] = panel.model()->rowCount();
                loaded.wait(50); // let the counts of this filter land before the next change
            }
        std::printf("\n| filter change (median of %d) | first page on screen | rows shown |\n| --- | --- | --- |\n", rounds);
        for (std::size_t k = 0; k < cases.size(); ++k)
            std::printf("| %s | %.0f ms | %d |\n", cases[k].what, median(ms[k]), rows[k]);

        // Scrolling through all jobs: page by page, as the view asks.
        auto* m = panel.model();
        std::vector<double> pageMs;
        const long rssBefore = rssKb();
        for (int p = 0; p < 100 && m->canFetchMore({}); ++p) {
            QElapsedTimer pt;
            pt.start();
            const int n = m->rowCount();
            m->fetchMore({});
            while (m->rowCount() == n && m->fetching()) QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
            pageMs.push_back(static_cast<double>(pt.elapsed()));
        }
        std::sort(pageMs.begin(), pageMs.end());
        std::printf("\nscrolling: %zu more pages of %d rows (to %d rows): median %.0f ms, 95th percentile %.0f ms a page\n",
                    pageMs.size(), ui::JobTableModel::kPage, m->rowCount(), median(pageMs),
                    pageMs.empty() ? 0.0 : pageMs[pageMs.size() * 95 / 100]);
        std::printf("memory: %ld MB resident with the panel open; +%ld MB for the %d rows loaded by scrolling\n",
                    rssBefore / 1024, (rssKb() - rssBefore) / 1024, m->rowCount());

        // The Job graph panel on a super-job of 5,000 sub-jobs: a diamond (one first job,
        // 4,998 in the middle of two task types, one last), spread over an hour.
        std::int64_t superId = 0;
        {
            db::Connection c = db::Connection::open(argv[1], "bench");
            auto r = c.exec("SELECT id FROM job WHERE description = 'graph bench' AND super_id IS NULL");
            if (r.size() == 0) {
                db::Transaction t(c);
                superId = c.exec("INSERT INTO job (name, status, description) VALUES ('fanout', 'DONE', 'graph bench') "
                                 "RETURNING id").toInt(0, 0);
                c.query(R"sql(
                    INSERT INTO job (super_id, name, status, description, ts_queued, ts_started, ts_ended)
                    SELECT $1, CASE WHEN g IN (1, 5000) THEN 'noop' ELSE (ARRAY['noop', 'register_mosaic'])[1 + g % 2] END,
                           (ARRAY['DONE', 'DONE', 'DONE', 'FAILED', 'RUNNING', 'QUEUED'])[1 + g % 6], 'graph bench part',
                           now() - interval '1 hour', now() - interval '1 hour' + g * interval '0.5 s',
                           now() - interval '1 hour' + g * interval '0.5 s' + interval '20 s'
                    FROM generate_series(1, 5000) g)sql",
                        superId);
                c.query(R"sql(
                    WITH s AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM job WHERE super_id = $1),
                         first AS (SELECT id FROM s WHERE k = 1), last AS (SELECT id FROM s WHERE k = 5000)
                    INSERT INTO dependency (super_id, parent_id, child_id)
                    SELECT $1, (SELECT id FROM first), s.id FROM s WHERE s.k BETWEEN 2 AND 4999
                    UNION ALL SELECT $1, s.id, (SELECT id FROM last) FROM s WHERE s.k BETWEEN 2 AND 4999)sql",
                        superId);
                t.commit();
            } else {
                superId = r.toInt(0, 0);
            }
        }
        std::vector<double> loadMs, expandMs, paintCollapsedMs, paintExpandedMs;
        for (int r = 0; r < rounds; ++r) {
            ui::JobGraphPanel graph;
            graph.resize(1000, 800);
            graph.show();
            QSignalSpy graphLoaded(&graph, &ui::JobGraphPanel::loaded);
            QElapsedTimer gt;
            gt.start();
            graph.setDatabase(argv[1]);
            graph.showJob(superId);
            while (!(graph.hasLoaded() && graph.jobId() == superId && graph.graph().nodes.size() == 5000))
                if (!graphLoaded.wait(20000)) throw std::runtime_error("graph not loaded in 20 s");
            loadMs.push_back(static_cast<double>(gt.elapsed()));
            const int collapsedBoxes = graph.boxes();
            gt.restart();
            (void)graph.grab();
            paintCollapsedMs.push_back(static_cast<double>(gt.elapsed()));
            gt.restart();
            graph.setCollapse(Qt::Unchecked);
            expandMs.push_back(static_cast<double>(gt.elapsed()));
            gt.restart();
            (void)graph.grab();
            paintExpandedMs.push_back(static_cast<double>(gt.elapsed()));
            if (r == 0)
                std::printf("\ngraph of %zu sub-jobs, %zu dependencies: %d boxes collapsed by task, %d expanded\n",
                            graph.graph().nodes.size(), graph.graph().edges.size(), collapsedBoxes, graph.boxes());
        }
        std::printf("| job graph (median of %d) | time |\n| --- | --- |\n", rounds);
        std::printf("| open: query, layout (collapsed), timeline, status chart | %.0f ms |\n", median(loadMs));
        std::printf("| paint, collapsed | %.0f ms |\n", median(paintCollapsedMs));
        std::printf("| expand to 5,000 boxes (layout and scene) | %.0f ms |\n", median(expandMs));
        std::printf("| paint, expanded (fitted: colour only) | %.0f ms |\n", median(paintExpandedMs));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_operations: %s\n", e.what());
        return 1;
    }
    return 0;
}
