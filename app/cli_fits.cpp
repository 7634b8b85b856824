// paudm fits info | header | stats: a FITS file's HDUs, headers and pixel statistics, as
// the viewer reads them (core/viewer), in the spirit of astropy's fitsinfo and fitsheader
// and IRAF's imstat.
#include "cli.h"

#include "fits/fits.h"
#include "viewer/display.h"
#include "viewer/image_source.h"

#include <QCommandLineParser>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace paudm::cli {

namespace {

const char* kFitsHelp =
    "paudm fits: what is in a FITS file, without a window.\n\n"
    "  paudm fits info FILE              each HDU: number, type, EXTNAME, BITPIX, size\n"
    "  paudm fits header FILE[EXT]       the header cards of one HDU (every HDU without EXT)\n"
    "  paudm fits stats FILE[EXT]        min, max, mean, median, standard deviation, blank\n"
    "                                    pixels and the viewer's zscale limits\n\n"
    "EXT is an HDU number (1 = primary) or an EXTNAME; without it, stats takes the first HDU\n"
    "with pixels. Any FITS file: every BITPIX, BZERO/BSCALE applied (the statistics are of the\n"
    "physical values), BLANK and NaN counted as blank, tile-compressed images, cubes (--plane).\n\n"
    "Examples:\n"
    "  paudm fits info archive/raw/20261124_001/paucam.43450010.fits\n"
    "  paudm fits header paucam.43450010.fits[CCD07A] --keyword 'DATE*' --keyword EXPTIME\n"
    "  paudm fits stats paucam.43450010.ccd07.fits --json";

std::string dims(const viewer::HduSummary& h) {
    if (h.type == "binary table" || h.type == "ascii table")
        return std::to_string(h.axes[0]) + " columns x " + std::to_string(h.axes[1]) + " rows";
    if (h.axes.empty()) return "(no data)";
    std::string d;
    for (std::size_t i = 0; i < h.axes.size(); ++i) d += (i ? " x " : "") + std::to_string(h.axes[i]);
    return d;
}

int info(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("paudm fits info FILE: each HDU's number (1 = primary), type, EXTNAME, BITPIX and size.");
    p.addHelpOption();
    p.addPositionalArgument("file", "A FITS file.");
    if (auto rc = parseOrEnd(p, "paudm fits info", args)) return *rc;
    if (p.positionalArguments().size() != 1) return usage(p, "one file, please");
    const std::string path = p.positionalArguments().first().toStdString();
    auto r = capture([&] { return viewer::listHdus(path); });
    if (!r) return failed(r.error().what());
    std::printf("%s: %zu HDU%s\n", path.c_str(), r->size(), r->size() == 1 ? "" : "s");
    std::printf("%5s  %-16s  %-12s  %6s  %s\n", "HDU", "type", "EXTNAME", "BITPIX", "size");
    for (const auto& h : *r)
        std::printf("%5d  %-16s  %-12s  %6s  %s\n", h.number, h.type.c_str(), h.extname.empty() ? "-" : h.extname.c_str(),
                    h.bitpix ? std::to_string(h.bitpix).c_str() : "-", dims(h).c_str());
    return 0;
}

int header(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("paudm fits header FILE[EXT]: the header cards of HDU EXT (number, 1 = primary, or "
                                "EXTNAME), or of every HDU.");
    p.addHelpOption();
    p.addPositionalArgument("file", "A FITS file, optionally with [HDU] or [EXTNAME].");
    p.addOption({{"k", "keyword"}, "Only cards of this keyword; * and ? as in the shell; may repeat.", "name"});
    if (auto rc = parseOrEnd(p, "paudm fits header", args)) return *rc;
    if (p.positionalArguments().size() != 1) return usage(p, "one file, please");
    std::vector<QRegularExpression> keys;
    for (const QString& k : p.values("keyword"))
        keys.emplace_back(QRegularExpression::wildcardToRegularExpression(k.toUpper()));
    const std::string spec = p.positionalArguments().first().toStdString();
    auto print = [&](const viewer::Plane& plane, bool title) {
        if (title) std::printf("# %s %s\n", plane.path.c_str(), plane.label.c_str());
        for (std::size_t i = 0; i + 80 <= plane.header.size(); i += 80) {
            QString card = QString::fromStdString(plane.header.substr(i, 80));
            if (!keys.empty()) {
                const QString keyword = card.left(8).trimmed();
                if (std::none_of(keys.begin(), keys.end(), [&](const auto& re) { return re.match(keyword).hasMatch(); }))
                    continue;
            }
            while (card.endsWith(' ')) card.chop(1);
            std::printf("%s\n", qPrintable(card));
        }
    };
    // Headers only: no pixels are read.
    auto r = capture([&] {
        const auto [path, ext] = fits::splitHduSpec(spec);
        std::vector<viewer::Plane> planes;
        if (!ext.empty()) {
            planes.push_back(viewer::readHeader(spec));
        } else {
            for (const auto& h : viewer::listHdus(path)) planes.push_back(viewer::readHeader(path + "[" + std::to_string(h.number) + "]"));
        }
        return planes;
    });
    if (!r) return failed(r.error().what());
    for (const auto& plane : *r) print(plane, r->size() > 1);
    return 0;
}

std::string number(double v) {
    if (!std::isfinite(v)) return "nan";
    char b[40];
    std::snprintf(b, sizeof b, "%.10g", v);
    return b;
}

int stats(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "paudm fits stats FILE[EXT]: statistics of one image's physical values (BZERO/BSCALE applied) over its\n"
        "finite pixels: min, max, mean, median, standard deviation (population, as numpy's std), the number of\n"
        "blank pixels (NaN or BLANK), and the zscale limits the viewer uses (IRAF's algorithm, as DS9 and\n"
        "astropy's ZScaleInterval: 1000 samples, contrast 0.25).");
    p.addHelpOption();
    p.addPositionalArgument("file", "A FITS file, optionally with [HDU] or [EXTNAME].");
    p.addOption({"plane", "For a cube: the plane (1 = first). Default 1.", "n", "1"});
    p.addOption({"json", "One JSON object: min, max, mean, median, std, blank, zscale_low, zscale_high, pixels, nx, "
                         "ny, hdu, extname."});
    if (auto rc = parseOrEnd(p, "paudm fits stats", args)) return *rc;
    if (p.positionalArguments().size() != 1) return usage(p, "one file, please");
    bool ok = false;
    const long planeNumber = p.value("plane").toLong(&ok);
    if (!ok || planeNumber < 1) return usage(p, "--plane wants a positive number");
    const std::string spec = p.positionalArguments().first().toStdString();
    auto r = capture([&] {
        viewer::Plane plane = viewer::readPlane(spec, planeNumber);
        if (plane.empty())
            throw Error(plane.path + " " + plane.note + " (paudm fits header " + plane.path + "[" +
                        std::to_string(plane.hdu) + "] shows its header)");
        const viewer::Statistics s = viewer::statistics(plane.pixels.data(), plane.pixels.size());
        return std::pair{std::move(plane), s};
    });
    if (!r) return failed(r.error().what());
    const auto& [plane, s] = *r;
    if (p.isSet("json")) {
        auto num = [](double v) { return std::isfinite(v) ? QJsonValue(v) : QJsonValue(); };
        QJsonObject o{{"min", num(s.min)},
                      {"max", num(s.max)},
                      {"mean", num(s.mean)},
                      {"median", num(s.median)},
                      {"std", num(s.std)},
                      {"blank", static_cast<qint64>(s.blank)},
                      {"zscale_low", num(s.zscale.low)},
                      {"zscale_high", num(s.zscale.high)},
                      {"pixels", static_cast<qint64>(s.pixels)},
                      {"nx", static_cast<qint64>(plane.nx)},
                      {"ny", static_cast<qint64>(plane.ny)},
                      {"hdu", plane.hdu},
                      {"plane", static_cast<qint64>(plane.plane)}};
        const QString label = QString::fromStdString(plane.label);
        const auto m = QRegularExpression(R"(EXTNAME=([^)]*))").match(label);
        o["extname"] = m.hasMatch() ? QJsonValue(m.captured(1)) : QJsonValue();
        std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
        return 0;
    }
    std::printf("%s %s%s: %ld x %ld, %zu pixels, %zu blank%s\n", plane.path.c_str(), plane.label.c_str(),
                plane.planes > 1 ? (" plane " + std::to_string(plane.plane) + "/" + std::to_string(plane.planes)).c_str() : "",
                plane.nx, plane.ny, s.pixels, s.blank, plane.units.empty() ? "" : (" (" + plane.units + ")").c_str());
    std::printf("  min %s  max %s  mean %s  median %s  std %s\n", number(s.min).c_str(), number(s.max).c_str(),
                number(s.mean).c_str(), number(s.median).c_str(), number(s.std).c_str());
    std::printf("  zscale %s .. %s\n", number(s.zscale.low).c_str(), number(s.zscale.high).c_str());
    return 0;
}

} // namespace

int fitsCommand(const QStringList& args, const Globals&) {
    const QString sub = args.value(0);
    if (sub == "info") return info(args.mid(1));
    if (sub == "header") return header(args.mid(1));
    if (sub == "stats") return stats(args.mid(1));
    if (sub == "--help" || sub == "-h" || sub.isEmpty()) {
        std::fprintf(sub.isEmpty() ? stderr : stdout, "%s\n", kFitsHelp);
        return sub.isEmpty() ? 2 : 0;
    }
    std::fprintf(stderr, "paudm fits: unknown subcommand '%s' (info, header or stats; see paudm fits --help)\n",
                 qPrintable(sub));
    return 2;
}

} // namespace paudm::cli
