// The FITS viewer inside a running console process (the ViewerPanel, offscreen): the first
// view of one CCD of a raw mosaic (from open() to its first frame: reading the amplifiers,
// assembling, scaling, drawing), the whole mosaic in the focal-plane view, the redraw of a
// pan or zoom on a CCD, and the memory with the focal plane and a CCD open. Prints one line
// of key=value pairs (medians over ROUNDS).
//
//   bench_viewer RAW.fits [ROUNDS]
#include "viewer/imagecanvas.h"
#include "viewer/display.h"
#include "viewer/image_source.h"
#include "viewer/viewerpanel.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

long statusKb(const char* key) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::string(key).size()));
    return -1;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

bool waitLoaded(paudm::ui::ViewerPanel& panel) {
    QElapsedTimer t;
    t.start();
    // The event loop as the console runs it: asleep between events (a busy loop here would
    // take a core from the workers).
    while ((panel.isBusy() || !panel.hasLoaded()) && t.elapsed() < 60000) {
        QEventLoop loop;
        QTimer::singleShot(2, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return panel.hasLoaded() && !panel.isBusy() && panel.problem().isEmpty();
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_viewer RAW.fits [ROUNDS]\n");
        return 2;
    }
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const QString raw = QString::fromLocal8Bit(argv[1]);
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
    paudm::ui::ViewerPanel panel;
    panel.resize(1400, 900);
    panel.show();
    QCoreApplication::processEvents();

    // Where the first view's time goes, core call by core call (one round, after a warm-up).
    {
        (void)paudm::viewer::readRawCcd(raw.toStdString(), 2);
        auto ms = [](auto&& f) {
            QElapsedTimer t;
            t.start();
            f();
            return t.nsecsElapsed() / 1e6;
        };
        const std::string path = raw.toStdString();
        paudm::viewer::Plane p;
        const double list = ms([&] { (void)paudm::viewer::listHdus(path); });
        const double kind = ms([&] { (void)paudm::viewer::isRawMosaic(path); });
        const double read = ms([&] { p = paudm::viewer::readRawCcd(path, 3); });
        const auto& px = p.pixels;
        const double z = ms([&] { (void)paudm::viewer::zscale(px.data(), px.size()); });
        const double mm = ms([&] { (void)paudm::viewer::minMax(px.data(), px.size()); });
        const double pc = ms([&] { (void)paudm::viewer::percentiles(px.data(), px.size(), {99.5, 99, 98, 95, 90}, 500000); });
        const double hist = ms([&] { (void)paudm::viewer::histogram(px.data(), px.size(), {0, 1000}, 200, 500000); });
        const double fp1 = ms([&] { (void)paudm::viewer::readFocalPlane(path, 4096, 1, {}, true); });
        const double fp2 = ms([&] { (void)paudm::viewer::readFocalPlane(path, 4096, 2, {}, true); });
        std::printf("breakdown_ms focal_plane_1_thread=%.0f focal_plane_2_threads=%.0f\n", fp1, fp2);
        std::printf("breakdown_ms list_hdus=%.1f is_raw=%.1f read_ccd=%.1f zscale=%.1f minmax=%.1f percentiles=%.1f "
                    "histogram=%.1f\n",
                    list, kind, read, z, mm, pc, hist);
    }
    std::vector<double> ccd, focal, focalWork;
    for (int r = 0; r < rounds; ++r) {
        // A different CCD each round: its amplifiers are read from the file each time.
        panel.openCcd(raw, 1 + (r * 5) % 18);
        if (!waitLoaded(panel)) return std::fprintf(stderr, "CCD: %s\n", qPrintable(panel.problem())), 1;
        ccd.push_back(panel.lastOpenMs());
        panel.openFocalPlane(raw);
        if (!waitLoaded(panel)) return std::fprintf(stderr, "focal plane: %s\n", qPrintable(panel.problem())), 1;
        focal.push_back(panel.lastOpenMs());
        focalWork.push_back(panel.lastWorkMs());
    }
    const long focalRss = statusKb("VmRSS:");

    // Pan and zoom on a CCD: each step a new view, rendered and painted (repaint() draws
    // at once); the render time is the canvas's own, the paint the whole repaint.
    panel.openCcd(raw, 7);
    if (!waitLoaded(panel)) return 1;
    const long withCcdRss = statusKb("VmRSS:");
    paudm::ui::ImageCanvas* c = panel.canvas();
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> ux(1, c->image()->nx), uy(1, c->image()->ny), uz(0.1, 8);
    std::vector<double> render, paint;
    for (int i = 0; i < 300; ++i) {
        c->setView({ux(rng), uy(rng), i % 3 == 0 ? paudm::viewer::View::fit(c->image()->nx, c->image()->ny, c->width(), c->height()).zoom : uz(rng)});
        QElapsedTimer t;
        t.start();
        c->repaint();
        paint.push_back(t.nsecsElapsed() / 1e6);
        render.push_back(c->lastRenderMs());
    }
    std::sort(paint.begin(), paint.end());
    std::printf("ccd_first_view_ms=%.1f focal_plane_ms=%.1f redraw_render_ms=%.2f redraw_paint_ms=%.2f "
                "redraw_paint_p99_ms=%.2f redraw_paint_max_ms=%.2f canvas=%dx%d image=%ldx%ld rss_focal_mb=%.0f "
                "rss_focal_and_ccd_mb=%.0f peak_rss_mb=%.0f ccd_runs=",
                median(ccd), median(focal), median(render), median(paint), paint[paint.size() * 99 / 100], paint.back(),
                c->width(), c->height(), c->image()->nx, c->image()->ny, focalRss / 1024.0, withCcdRss / 1024.0,
                statusKb("VmHWM:") / 1024.0);
    for (double v : ccd) std::printf("%.0f,", v);
    std::printf(" focal_worker_ms=%.0f focal_runs=", median(focalWork));
    for (double v : focal) std::printf("%.0f,", v);
    std::printf("\n");
    return 0;
}
