// The nightly report at a year's scale: 300 nights of 300 reduced science mosaics of 18
// CCDs (90,000 mosaic rows, 1,620,000 image rows, seeded by COPY), then the two things a
// user waits for: opening one night's report (the panel, `paudm report nightly`) and
// judging the whole year by a new version of the cuts. Medians of 5 runs.
//   build/release/tests/bench/bench_report "CONNINFO" [NIGHTS] [PER_NIGHT] [CCDS]
#include "bench_util.h"
#include "db/connection.h"
#include "db/migrations.h"
#include "quality/report.h"
#include "seed_nights.h"

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
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_report CONNINFO [NIGHTS] [PER_NIGHT] [CCDS]\n");
        return 2;
    }
    const int nights = argc > 2 ? std::atoi(argv[2]) : 300, perNight = argc > 3 ? std::atoi(argv[3]) : 300,
              ccds = argc > 4 ? std::atoi(argv[4]) : 18;
    try {
        db::Connection c = db::Connection::open(argv[1], "bench");
        db::migrate(c);
        if (c.query("SELECT count(*) FROM mosaic WHERE kind = 'red_science'").toInt(0, 0) == 0) {
            const auto a = std::chrono::steady_clock::now();
            test::seedNights(c, nights, perNight, ccds);
            c.exec("ANALYZE mosaic");
            c.exec("ANALYZE image");
            c.exec("ANALYZE obs_set");
            std::printf("seeded %d nights x %d mosaics x %d CCDs in %.1f s\n", nights, perNight, ccds,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
        }
        quality::Selection night;
        night.from = night.to = test::seededExposure(nights / 2, 0, perNight).night;
        quality::Selection year;
        year.from = test::seededExposure(0, 0, perNight).night;
        year.to = test::seededExposure(nights - 1, 0, perNight).night;
        std::size_t shown = 0;
        const double open = medianMs([&] { shown = quality::makeReport(c, night, "").exposures.size(); });
        std::printf("open one night's report (%zu exposures, cut set survey@1): %.0f ms (goal 200 ms)\n", shown, open);

        quality::CutSet v2 = quality::loadCutSet(c, "survey");
        for (auto& cut : v2.cuts)
            if (cut.quantity == "seeing") cut.max = 1.1;
        v2.cuts.push_back({"airmass", std::nullopt, 1.8});
        v2.name = "bench";
        quality::saveCutSet(c, v2);
        const quality::CutSet cuts = quality::loadCutSet(c, "bench");
        std::vector<quality::Exposure> exposures;
        const double load = medianMs([&] { exposures = quality::loadExposures(c, year); });
        std::vector<quality::Verdict> verdicts;
        const double judge = medianMs([&] { verdicts = quality::evaluate(cuts, exposures); });
        int passed = 0;
        for (const auto& v : verdicts) passed += v.pass;
        std::printf("re-evaluate a new cut set over the year (%zu exposures, %d pass): %.0f ms to read them + %.1f ms "
                    "to judge = %.0f ms (goal 2000 ms)\n",
                    exposures.size(), passed, load, judge, load + judge);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_report: %s\n", e.what());
        return 1;
    }
}
