// The SQL browser's full export as the console runs it: the SqlPanel's background export
// (COPY through libpq into a temporary file renamed into place) of one query, while the
// GUI thread's event loop is watched. Prints the wall time, rows, the longest and the 99th
// percentile gap between two turns of the event loop, and the process's peak memory.
//
//   bench_sql_export READER_CONNINFO QUERY OUT.csv|OUT.fits
#include "background.h"
#include "sql/sqlpanel.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

long peakRssKb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: bench_sql_export READER_CONNINFO QUERY OUT\n");
        return 2;
    }
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    paudm::ui::SqlPanel panel;
    panel.resize(900, 700);
    panel.show();
    const QString query = QString::fromLocal8Bit(argv[2]), out = QString::fromLocal8Bit(argv[3]);
    QFile::remove(out);

    QElapsedTimer clock;
    std::vector<qint64> gaps;
    qint64 last = 0;
    QTimer frames;
    frames.setInterval(5);
    QObject::connect(&frames, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed() / 1000;
        if (last) gaps.push_back(now - last);
        last = now;
    });
    bool ok = false;
    QString message;
    QObject::connect(&panel, &paudm::ui::SqlPanel::loaded, [&] {
        panel.setQuery(query);
        clock.start();
        frames.start();
        panel.startFullExport(out);
    });
    QObject::connect(&panel, &paudm::ui::SqlPanel::exportFinished, [&](bool done, const QString& m) {
        ok = done;
        message = m;
        app.quit();
    });
    panel.setDatabase(argv[1]);
    app.exec();
    const double seconds = static_cast<double>(clock.nsecsElapsed()) / 1e9;
    paudm::ui::Background::interruptEverything();
    paudm::ui::Background::drain(1000);
    if (!ok) {
        std::fprintf(stderr, "bench_sql_export: %s\n", qPrintable(message));
        return 1;
    }
    std::sort(gaps.begin(), gaps.end());
    const double worst = gaps.empty() ? 0 : static_cast<double>(gaps.back()) / 1000.0;
    const double p99 = gaps.empty() ? 0 : static_cast<double>(gaps[gaps.size() * 99 / 100]) / 1000.0;
    std::printf("seconds=%.3f worst_frame_ms=%.1f p99_frame_ms=%.1f peak_rss_mb=%.1f %s\n", seconds, worst, p99,
                static_cast<double>(peakRssKb()) / 1024.0, qPrintable(message));
    return 0;
}
