// paudm simulate ...            one simulated PAUCam obs set into an observatory buffer
// paudm catalog simulate ...    the simulated sky's reference catalogues into PAUdb
#include "cli.h"

#include "db/connection.h"
#include "db/database.h"
#include "db/reconnecting.h"
#include "pipelines/pixelsim/simulator.h"

#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QJsonArray>

#include <cstdio>
#include <unistd.h>

namespace paudm::cli {

namespace pixelsim = pipelines::pixelsim;

namespace {

const char* kSimulateHelp = R"TXT(
Writes one observation set, as the PAUCam data acquisition leaves it in the observatory
buffer: a folder BUFFER/YYYYMMDD_NNN (NNN counts the obs sets of that night) holding one
raw mosaic per exposure (72 amplifier extensions, 16-bit, with overscan) and the obs-set
YAML listing every file with its kind, size and Adler32 checksum. The folder appears
complete or not at all. The truth (seeing, sky, transparency, zero points, pointing
errors, cosmic rays, bad columns, and the field's catalogues as CSV) goes to --truth,
which must not be inside the buffer.

The same --seed gives the same files, byte for byte. The sky itself has its own seed
(--sky-seed): nights simulated on overlapping fields see the same stars and galaxies,
which are also loaded into PAUdb's ref_star and ref_galaxy (catalogue 'pixelsim') unless
--no-db is given.

Examples:
  paudm simulate --out /data/buffer --night 2026-11-24 --truth /data/truth
  paudm simulate --out buffer --night 2026-11-24 --geometry small --bias 2 \
      --flats-per-tray 2 --trays NB455,NB535 --science 6 --no-db
)TXT";

int simulate(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription("paudm simulate: a simulated PAUCam night (pixelsim).\n" + QString(kSimulateHelp));
    p.addHelpOption();
    p.addOption({"out", "The observatory buffer folder (created if needed).", "buffer"});
    p.addOption({"night", "The night, as the date of its evening (YYYY-MM-DD).", "date"});
    p.addOption({"geometry", "full (real CCD size, ~300 MB a mosaic) or small (256 x 512 px CCDs). Default full.",
                 "name", "full"});
    p.addOption({"bias", "Bias frames. Default 5.", "n", "5"});
    p.addOption({"flats-per-tray", "Dome flats per filter tray. Default 5.", "n", "5"});
    p.addOption(
        {"science", "Science exposures, spread over the night and cycling through the trays. Default 20.", "n", "20"});
    p.addOption({"focus", "Focus exposures at dusk. Default 0.", "n", "0"});
    p.addOption({"trays",
                 "Filter trays, comma-separated: FT_NB455_NB525 (or NB455), ..., FT_NB775_NB845, "
                 "FT_u ... FT_Y (or u ... Y). Default: the five narrow-band trays.",
                 "list"});
    p.addOption({"flats-for", "Only these trays get flats (default: every tray), as --trays: a night for the "
                              "pipeline to reduce with an earlier night's master flats.",
                 "list"});
    p.addOption({"field", "Field centre in degrees. Default 150.1,2.2 (COSMOS). RA 'transit' takes the meridian at "
                          "midnight (a field up all night), e.g. transit,2.2.", "ra,dec"});
    p.addOption({"star-density", "Stars per square degree with 14 < r < 23 (default 2000, as in COSMOS; 40000 "
                                 "at low galactic latitude gives small-geometry CCDs stars enough for a PSF and "
                                 "a zero point each).", "n"});
    p.addOption({"seed", "Seed of the night (default: from the date).", "n"});
    p.addOption({"sky-seed", "Seed of the sky (default 1).", "n", "1"});
    p.addOption({"truth", "Folder for the truth (default: none written).", "dir"});
    p.addOption({"seeing", "The night's median seeing, FWHM in arcsec at 500 nm at the zenith (default: drawn "
                           "for the night, about 0.65).", "arcsec"});
    p.addOption({"max-airmass", "Observe the field only while it is below this airmass: the science exposures "
                                "are spread over that part of the night (default: from dusk to dawn, wherever the "
                                "field is).", "x"});
    p.addOption({"threads", "Exposures simulated at once. Default: the number of cores.", "n"});
    p.addOption({"operator", "Operator named in the YAML.", "name", "pixelsim"});
    p.addOption({"notes", "Notes for the YAML.", "text", "simulated night"});
    p.addOption({"no-db", "Do not load the field's reference catalogues into PAUdb."});
    p.addOption({"quiet", "No progress lines."});
    if (auto rc = parseOrEnd(p, "paudm simulate", args)) return *rc;
    if (!p.positionalArguments().isEmpty())
        return usage(p, "unexpected argument '" + p.positionalArguments().first() + "'");
    if (!p.isSet("out")) return usage(p, "--out BUFFER is required");
    if (!p.isSet("night")) return usage(p, "--night YYYY-MM-DD is required");

    QJsonObject config{{"buffer", p.value("out")},
                       {"night", p.value("night")},
                       {"geometry", p.value("geometry")},
                       {"bias", p.value("bias")},
                       {"flats_per_tray", p.value("flats-per-tray")},
                       {"science", p.value("science")},
                       {"focus", p.value("focus")},
                       {"sky_seed", p.value("sky-seed")},
                       {"operator", p.value("operator")},
                       {"notes", p.value("notes")},
                       {"threads", p.isSet("threads") ? p.value("threads")
                                                      : QString::number(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)))}};
    if (p.isSet("trays")) config["trays"] = p.value("trays");
    if (p.isSet("flats-for")) config["flat_trays"] = p.value("flats-for");
    if (p.isSet("truth")) config["truth"] = p.value("truth");
    if (p.isSet("seed")) config["seed"] = p.value("seed");
    if (p.isSet("seeing")) config["seeing"] = p.value("seeing");
    if (p.isSet("max-airmass")) config["max_airmass"] = p.value("max-airmass");
    if (p.isSet("star-density")) config["star_density"] = p.value("star-density");
    if (p.isSet("field")) {
        const QStringList parts = p.value("field").split(',');
        if (parts.size() != 2) return usage(p, "--field wants RA,DEC in degrees, e.g. 150.1,2.2");
        config["field_ra"] = parts[0].trimmed();
        config["field_dec"] = parts[1].trimmed();
    }
    auto options = capture([&] { return pixelsim::nightOptionsFromConfig(config); });
    if (!options) return failed(options.error().what());

    std::optional<db::Connection> conn;
    if (!p.isSet("no-db")) {
        conn = openDatabase(g, "paudm simulate");
        if (!conn) return 1;
    }
    const bool quiet = p.isSet("quiet");
    const bool tty = ::isatty(2);
    QElapsedTimer timer;
    timer.start();
    auto result = capture([&] {
        return pixelsim::simulateNight(*options, [&](int done, int total, const std::string& file) {
            if (quiet) return;
            std::fprintf(stderr, tty ? "\r  [%d/%d] %s   " : "  [%d/%d] %s\n", done, total, file.c_str());
            if (tty && done == total) std::fputc('\n', stderr);
        });
    });
    if (!result) return failed(result.error().what());
    std::int64_t bytes = 0;
    for (const auto& f : result->contents.files)
        bytes += f.size;
    std::printf("%s: %zu files, %.1f MB in %.1f s\n", result->folder.c_str(), result->contents.files.size(),
                bytes / 1e6, timer.elapsed() / 1000.0);
    if (!result->truthFolder.empty()) std::printf("truth: %s\n", result->truthFolder.c_str());
    if (conn) {
        // The simulation may have taken minutes: the connection opened at the start may be
        // gone (a server restart). Loading the sky is safe to repeat, so it simply runs again
        // on a new connection when its own is lost.
        conn.reset();
        db::ReconnectingConnection sky(db::resolveTarget(g.db.toStdString()).conninfo, "paudm simulate");
        auto loaded = capture([&] {
            return sky.run("loading the reference catalogues", [&](db::Connection& c) {
                return pixelsim::loadSky(c, pixelsim::skyForNight(*options), "pixelsim");
            });
        });
        if (!loaded) return failed(loaded.error().what());
        std::printf("reference catalogues: %lld stars and %lld galaxies added (catalogue 'pixelsim')\n",
                    static_cast<long long>(loaded->first), static_cast<long long>(loaded->second));
    }
    return 0;
}

int catalogSimulate(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "paudm catalog simulate: load the simulated sky's stars and galaxies around a field into PAUdb's\n"
        "ref_star and ref_galaxy (catalogue 'pixelsim'). Safe to repeat: objects already loaded stay as\n"
        "they are. The same sky seed always gives the same objects, wherever the field.");
    p.addHelpOption();
    p.addOption({"flats-for", "Only these trays get flats (default: every tray), as --trays: a night for the "
                              "pipeline to reduce with an earlier night's master flats.",
                 "list"});
    p.addOption({"field", "Field centre in degrees.", "ra,dec", "150.1,2.2"});
    p.addOption({"radius", "Radius in degrees. Default 1.", "deg", "1"});
    p.addOption({"seed", "Seed of the sky (default 1).", "n", "1"});
    if (auto rc = parseOrEnd(p, "paudm catalog simulate", args)) return *rc;
    const QStringList parts = p.value("field").split(',');
    bool ok1 = parts.size() == 2, ok2 = false, ok3 = false, ok4 = false;
    const double ra = ok1 ? parts[0].toDouble(&ok2) : 0, dec = ok1 ? parts[1].toDouble(&ok3) : 0;
    const double radius = p.value("radius").toDouble(&ok4);
    if (!ok1 || !ok2 || !ok3 || ra < 0 || ra >= 360 || dec < -90 || dec > 90)
        return usage(p, "--field wants RA,DEC in degrees (0 <= RA < 360, -90 <= Dec <= 90)");
    if (!ok4 || radius <= 0 || radius > 10) return usage(p, "--radius wants degrees, more than 0 and at most 10");
    bool ok5 = false;
    pixelsim::SkyOptions sky;
    sky.seed = p.value("seed").toULongLong(&ok5);
    if (!ok5) return usage(p, "--seed wants a non-negative whole number");
    auto conn = openDatabase(g, "paudm catalog simulate");
    if (!conn) return 1;
    auto loaded =
        capture([&] { return pixelsim::loadSky(*conn, pixelsim::generateSky(ra, dec, radius, sky), "pixelsim"); });
    if (!loaded) return failed(loaded.error().what());
    std::printf("%lld stars and %lld galaxies added (catalogue 'pixelsim')\n", static_cast<long long>(loaded->first),
                static_cast<long long>(loaded->second));
    return 0;
}

} // namespace

int simulateCommand(const QStringList& args, const Globals& g) {
    return simulate(args, g);
}

int catalogCommand(const QStringList& args, const Globals& g) {
    if (!args.isEmpty() && args.first() == "simulate") return catalogSimulate(args.mid(1), g);
    std::fputs("usage: paudm catalog simulate --field RA,DEC [--radius DEG] [--seed N]\n", stderr);
    return 2;
}

} // namespace paudm::cli
