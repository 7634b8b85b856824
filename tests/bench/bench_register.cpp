// Reading the headers of raw mosaics: the register's reader (every keyword the mosaic and
// image rows need, the WCS footprint of each extension) against a bare cfitsio loop that
// only reads every header of every HDU as text. Runs alternate; medians of RUNS.
//   build/release/tests/bench/bench_register RUNS FILE...
// register_bench.sh runs it, then the whole register through the job engine.
#include "bench_util.h"
#include "pipelines/register/register.h"

#include <fitsio.h>

#include <QCoreApplication>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

using namespace paudm;

namespace {

/// Opens each file, moves to every HDU and reads its whole header: the floor of any
/// header-based registration.
std::size_t bareCfitsio(const std::vector<std::string>& files) {
    std::size_t cards = 0;
    for (const auto& path : files) {
        fitsfile* f = nullptr;
        int status = 0, hdus = 0;
        fits_open_diskfile(&f, path.c_str(), READONLY, &status);
        fits_get_num_hdus(f, &hdus, &status);
        for (int h = 1; h <= hdus && !status; ++h) {
            int type = 0, n = 0;
            char* header = nullptr;
            fits_movabs_hdu(f, h, &type, &status);
            fits_hdr2str(f, 1, nullptr, 0, &header, &n, &status);
            cards += static_cast<std::size_t>(n);
            if (header) fits_free_memory(header, &status);
        }
        fits_close_file(f, &status);
        if (status) {
            char text[FLEN_STATUS];
            fits_get_errstatus(status, text);
            std::fprintf(stderr, "%s: %s\n", path.c_str(), text);
            std::exit(1);
        }
    }
    return cards;
}

std::size_t ours(const std::vector<std::string>& files) {
    std::size_t images = 0;
    for (const auto& path : files) images += pipelines::reg::readMosaic(path).images.size();
    return images;
}

double seconds(const std::function<std::size_t()>& f, std::size_t& out) {
    return bench::seconds([&] { out = f(); });
}

using bench::median;

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_register RUNS FILE...\n");
        return 2;
    }
    const int runs = std::max(1, std::atoi(argv[1]));
    const std::vector<std::string> files(argv + 2, argv + argc);
    std::vector<double> bare, reader;
    std::size_t cards = 0, images = 0;
    try {
        for (int r = 0; r < runs; ++r) {
            if (r % 2) {
                reader.push_back(seconds([&] { return ours(files); }, images));
                bare.push_back(seconds([&] { return bareCfitsio(files); }, cards));
            } else {
                bare.push_back(seconds([&] { return bareCfitsio(files); }, cards));
                reader.push_back(seconds([&] { return ours(files); }, images));
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    const double b = median(bare), o = median(reader);
    std::printf("%zu mosaics: bare cfitsio header loop %.3f s (%zu cards, %.0f mosaics/s); register reader %.3f s "
                "(%zu image rows with footprints, %.0f mosaics/s); ratio %.2f\n",
                files.size(), b, cards, files.size() / b, o, images, files.size() / o, o / b);
    return 0;
}
