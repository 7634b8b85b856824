#pragma once
// What the nightly pipeline's tests share: a night through the engine as `paudm night`
// runs it, the paudm command line on the test's database, the simulator's truth and the
// products read back.
#include "jobtest.h"

#include "fits/fits.h"
#include "jobs/store.h"
#include "pipelines/paucam.h"
#include "pipelines/pixelsim/simulator.h"
#include "reduction/image.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace paudm::test {

namespace fs = std::filesystem;

inline constexpr const char* kRelease = "R1";

inline QJsonObject readJson(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) throw Error("cannot read " + path);
    return QJsonDocument::fromJson(f.readAll()).object();
}

/// A reduced CCD: image, mask, header values.
struct ReducedCcd {
    reduction::FloatImage image;
    reduction::Mask mask;
    double skyLevel = 0;
};

inline ReducedCcd readReduced(const std::string& path) {
    auto f = fits::File::open(path);
    ReducedCcd r;
    const auto info = f.imageInfo();
    r.image = reduction::FloatImage(static_cast<int>(info.axes[0]), static_cast<int>(info.axes[1]));
    r.image.pixels = f.readImage<float>();
    r.skyLevel = f.requireDouble("SKYLEVEL");
    f.moveTo(3);
    r.mask = reduction::Mask(r.image.width, r.image.height);
    r.mask.pixels = f.readImage<std::uint8_t>();
    return r;
}

/// A night through the engine, as `paudm night` does it: transfer, register, nightly.
inline void runNight(const std::string& conninfo, const std::string& buffer, const std::string& archive) {
    db::Connection c = db::Connection::open(conninfo);
    jobs::NewJob t;
    t.name = "transfer";
    t.config = {{"buffer", QString::fromStdString(buffer)}, {"archive", QString::fromStdString(archive)}};
    jobs::JobStore(c).create(t, true);
    runUntilIdle(conninfo, 2, 600);
}

inline std::int64_t count(db::Connection& c, const std::string& sql) { return c.exec(sql).toInt(0, 0); }

inline QJsonObject jsonOf(db::Connection& c, const std::string& sql) {
    const auto r = c.exec(sql);
    if (r.size() == 0) return {};
    return QJsonDocument::fromJson(QByteArray(r.text(0, 0).data(), static_cast<int>(r.text(0, 0).size()))).object();
}

/// Every file under `dir` (hidden ones too), relative, with its modification time.
inline std::map<std::string, fs::file_time_type> filesUnder(const std::string& dir) {
    std::map<std::string, fs::file_time_type> out;
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        out[fs::relative(e.path(), dir).string()] = e.last_write_time();
    return out;
}

struct Run {
    int code = -1;
    QString out, err;
};

/// The paudm command line on the test's database.
inline Run runPaudm(const QStringList& args, const std::string& conninfo) {
    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("PAUDM_DB", QString::fromStdString(conninfo));
    p.setProcessEnvironment(env);
    p.start(PAUDM_EXE, args);
    if (!p.waitForFinished(600000)) return {};
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromLocal8Bit(p.readAllStandardOutput()),
            QString::fromLocal8Bit(p.readAllStandardError())};
}

/// Pixels of a simulated cosmic-ray track, as the simulator drew it (0-based).
inline std::vector<std::pair<int, int>> trackPixels(const QJsonObject& cr, int w, int h) {
    const double x = cr["x"].toDouble(), y = cr["y"].toDouble(), x1 = cr["x_end"].toDouble(), y1 = cr["y_end"].toDouble();
    const double len = std::hypot(x1 - x, y1 - y);
    const int steps = 1 + static_cast<int>(len * 2);
    std::vector<std::pair<int, int>> px;
    for (int s = 0; s < steps; ++s) {
        const double f = steps > 1 ? double(s) / (steps - 1) : 0;
        const int cx = static_cast<int>(std::lround(x + f * (x1 - x))), cy = static_cast<int>(std::lround(y + f * (y1 - y)));
        if (cx >= 1 && cy >= 1 && cx <= w && cy <= h) px.push_back({cx - 1, cy - 1});
    }
    return px;
}


/// The night most tests reduce: its own calibrations, the best seeing the simulator makes
/// (median 0.45" at 500 nm: about 1.5 px FWHM in the red), two narrow-band trays, small
/// CCDs, and a field as crowded as one at low galactic latitude (ten times COSMOS's stars)
/// so that small CCDs hold enough stars to measure.
inline pipelines::pixelsim::NightOptions crowdedNight(const QTemporaryDir& dir, const std::string& truth) {
    pipelines::pixelsim::NightOptions n;
    n.buffer = dir.filePath("bufferA").toStdString();
    n.night = "2026-11-24";
    n.truth = truth;
    n.geometry = pipelines::paucam::Geometry::Small;
    n.bias = 4;
    n.flatsPerTray = 4;
    n.trays = {"FT_NB455_NB525", "FT_NB535_NB605"};
    n.science = 4;
    n.seeing = 0.45;
    n.sky.starDensity = 20000;
    n.threads = 2;
    return n;
}

} // namespace paudm::test
