// pixelsim timing: one full-size mosaic on one core beside the cfitsio write floor for a
// file of the same size, and a small-geometry night. Alternating runs, medians.
//
//   taskset -c 0 build/release/tests/bench/bench_pixelsim mosaic [runs]
//   build/release/tests/bench/bench_pixelsim night [runs]
#include "bench_util.h"
#include "fits/fits.h"
#include "pipelines/pixelsim/simulator.h"

#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace paudm;
using namespace paudm::pipelines;
using namespace paudm::pipelines::pixelsim;
using paudm::bench::median;
using paudm::bench::seconds;

namespace {

/// The floor: the same 72 uint16 extensions, pixels ready in memory, written by cfitsio
/// with checksums, fsynced and renamed, as pixelsim writes.
void writeFloor(const std::string& path, const std::vector<std::uint16_t>& pixels, long w, long h) {
    auto f = fits::File::create(path, true);
    f.appendEmptyImage();
    for (int e = 0; e < paucam::kExtensions; ++e) {
        f.appendImage<std::uint16_t>({w, h}, pixels);
        f.writeKey("EXTNAME", paucam::extName(e / 4 + 1, e % 4 + 1));
    }
    f.close();
}

} // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "mosaic";
    const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
    QTemporaryDir dir;
    if (mode == "mosaic") {
        NightOptions o;
        o.buffer = dir.filePath("buffer").toStdString();
        o.night = "2026-11-24";
        o.geometry = paucam::Geometry::Full;
        o.bias = o.flatsPerTray = 0;
        o.science = 1;
        o.trays = {"FT_NB615_NB685"};
        const NightPlan plan = planNight(o, 1);
        SkyCatalog sky;
        const double skyS = seconds([&] { sky = skyForNight(o); });
        const auto l = paucam::Layout::of(o.geometry);
        std::vector<std::uint16_t> pixels(static_cast<std::size_t>(l.rawWidth()) * l.ampHeight);
        for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint16_t>(2000 + (i * 2654435761u >> 24) % 200);
        std::vector<double> sim, floor;
        for (int r = 0; r < runs; ++r) {
            sim.push_back(seconds([&] { writeExposure(o, plan, plan.exposures[0], sky, dir.filePath("sim.fits").toStdString()); }));
            floor.push_back(seconds([&] { writeFloor(dir.filePath("floor.fits").toStdString(), pixels, l.rawWidth(), l.ampHeight); }));
            std::printf("run %d: pixelsim %.2f s, cfitsio floor %.2f s\n", r + 1, sim.back(), floor.back());
        }
        const double mb = 72.0 * pixels.size() * 2 / 1e6;
        std::printf("full-size science mosaic (%.0f MB, %zu stars and %zu galaxies in reach; sky generated once in %.2f s):\n"
                    "  pixelsim %.2f s   cfitsio write floor %.2f s   ratio %.2fx   (medians of %d)\n",
                    mb, sky.stars.size(), sky.galaxies.size(), skyS, median(sim), median(floor),
                    median(sim) / median(floor), runs);
    } else if (mode == "night") {
        for (int threads : {1, 2}) {
            std::vector<double> t;
            for (int r = 0; r < runs; ++r) {
                NightOptions o;
                o.buffer = dir.filePath(QString("night%1-%2").arg(threads).arg(r)).toStdString();
                o.truth = dir.filePath(QString("truth%1-%2").arg(threads).arg(r)).toStdString();
                o.night = "2026-11-24";
                o.geometry = paucam::Geometry::Small;
                o.bias = 2;
                o.flatsPerTray = 2;
                o.trays = {"FT_NB455_NB525", "FT_NB535_NB605"};
                o.science = 6;
                o.threads = threads;
                t.push_back(seconds([&] { simulateNight(o); }));
            }
            std::printf("small-geometry night (2 bias, 2 flats x 2 trays, 6 science, truth included), %d thread%s: "
                        "median %.2f s of %d\n", threads, threads > 1 ? "s" : "", median(t), runs);
        }
    } else {
        std::fprintf(stderr, "usage: bench_pixelsim mosaic|night [runs]\n");
        return 2;
    }
    return 0;
}
