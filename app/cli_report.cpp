// paudm report: the nightly report without a window, and the quality cut sets it applies.
#include "cli.h"

#include "common/atomic_file.h"
#include "common/error.h"
#include "db/connection.h"
#include "quality/report.h"

#include <QCommandLineParser>
#include <QFile>

#include <cstdio>

namespace paudm::cli {

namespace {

constexpr const char* kHelp =
    "paudm report: the nightly report (the quality of each science exposure against the survey's cuts).\n\n"
    "  paudm report nightly --night D [--to D2] [--release R] [--cuts NAME[@VERSION]] [--format csv|json|html] [--out FILE]\n"
    "      The science exposures of night D (to D2), judged by a cut set (default: the default one).\n"
    "      csv: the failing exposures, one row per failed cut (night, time, exposure, band, cut, value,\n"
    "      limit, by how much, why), for re-scheduling; json: every exposure with its numbers, statuses\n"
    "      and verdict, and the pass rates per night and band; html: a page with the pass rates, the\n"
    "      plots against time and the failing list, for the morning mail.\n"
    "  paudm report compare A B --night D [--to D2] [--release R]\n"
    "      The exposures whose verdict differs between cut sets A and B (NAME or NAME@VERSION).\n"
    "  paudm report cuts list | show [NAME[@VERSION]] | default NAME[@VERSION]\n"
    "  paudm report cuts save NAME --definition FILE.json [--note TEXT] [--default]\n"
    "      Cut sets are kept in PAUdb as versions: saving a changed definition makes NAME's next\n"
    "      version (what changed is recorded with who and when); an unchanged one saves nothing.\n\n"
    "A definition: {\"cuts\": [{\"quantity\": \"seeing\", \"max\": 1.3}, {\"quantity\": \"transparency\", \"min\": 0.8}],\n"
    "               \"statuses\": {\"astro\": [\"ok\"]}}\n"
    "Quantities: seeing, sky, transparency, zero_point (medians of the CCDs), airmass, astro_rms,\n"
    "extinction, exp_time, or any numeric column as mosaic.COLUMN or image.COLUMN (the median of the\n"
    "CCDs). Statuses (the first word must be one of those listed): detrend, astro, photo, psf.\n\n"
    "Examples:\n"
    "  paudm report nightly --night 2026-11-24 --format html --out report.html\n"
    "  paudm report nightly --night 2026-11-01 --to 2026-11-30 --cuts survey@1 --format csv --out failing.csv\n"
    "  paudm report cuts save strict --definition strict.json --note \"seeing under 1.1 for the deep fields\"\n"
    "  paudm report compare survey@1 strict --night 2026-11-01 --to 2026-11-30";

void addSelection(QCommandLineParser& p) {
    p.addOption({"night", "First night (YYYY-MM-DD).", "date"});
    p.addOption({"to", "Last night (default: the first).", "date"});
    p.addOption({"release", "Only this release (default: every release).", "name"});
}

std::optional<quality::Selection> selection(const QCommandLineParser& p, int& rc) {
    if (!p.isSet("night")) {
        rc = usage(p, "--night D is required");
        return std::nullopt;
    }
    quality::Selection s;
    s.from = p.value("night").toStdString();
    s.to = p.isSet("to") ? p.value("to").toStdString() : s.from;
    s.release = p.value("release").toStdString();
    return s;
}

int output(const QCommandLineParser& p, const std::string& text) {
    if (!p.isSet("out")) {
        std::fputs(text.c_str(), stdout);
        return 0;
    }
    auto r = capture([&] { writeFileAtomically(p.value("out").toStdString(), text); });
    return r ? 0 : failed(r.error().what());
}

void printCutSet(const quality::CutSet& s) {
    std::printf("%s%s  by %s, %s: %s%s\n  %s\n", s.label().c_str(), s.isDefault ? " (default)" : "", s.author.c_str(),
                s.created.c_str(), s.changes.c_str(), s.note.empty() ? "" : (" — " + s.note).c_str(),
                quality::toJson(s).c_str());
}

int nightly(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription(kHelp);
    p.addHelpOption();
    addSelection(p);
    p.addOption({"cuts", "Cut set NAME or NAME@VERSION (default: the default one).", "spec"});
    p.addOption({"format", "csv (the failing list), json or html. Default csv.", "format", "csv"});
    p.addOption({"out", "Write to FILE (default: standard output).", "file"});
    if (auto rc = parseOrEnd(p, "paudm report nightly", args)) return *rc;
    const QString format = p.value("format");
    if (format != "csv" && format != "json" && format != "html") return usage(p, "--format is csv, json or html");
    int rc = 0;
    const auto s = selection(p, rc);
    if (!s) return rc;
    auto c = openDatabase(g, "paudm report");
    if (!c) return 1;
    auto r = capture([&] { return quality::makeReport(*c, *s, p.value("cuts").toStdString()); });
    if (!r) return failed(r.error().what());
    const std::string text = format == "csv" ? quality::failingCsv(*r) : format == "json" ? quality::reportJson(*r)
                                                                                          : quality::reportHtml(*r);
    int passed = 0;
    for (const auto& v : r->verdicts) passed += v.pass;
    std::fprintf(stderr, "%s: %d of %zu science exposures pass %s\n",
                 (s->from + (s->to != s->from ? " to " + s->to : "")).c_str(), passed, r->exposures.size(),
                 r->cuts.label().c_str());
    return output(p, text);
}

int compare(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription(kHelp);
    p.addHelpOption();
    addSelection(p);
    p.addPositionalArgument("a", "A cut set, NAME or NAME@VERSION.");
    p.addPositionalArgument("b", "The other.");
    if (auto rc = parseOrEnd(p, "paudm report compare", args)) return *rc;
    if (p.positionalArguments().size() != 2) return usage(p, "two cut sets, please");
    int rc = 0;
    const auto s = selection(p, rc);
    if (!s) return rc;
    auto c = openDatabase(g, "paudm report");
    if (!c) return 1;
    auto r = capture([&] {
        // One read of the exposures, with the columns either cut set tests, judged twice.
        const auto cutsA = quality::loadCutSet(*c, p.positionalArguments()[0].toStdString());
        const auto cutsB = quality::loadCutSet(*c, p.positionalArguments()[1].toStdString());
        auto sel = *s;
        sel.extra = quality::columnQuantities(cutsB);
        const auto a = quality::makeReport(*c, sel, cutsA);
        const auto b = quality::rejudged(a, cutsB);
        std::printf("%s vs %s: %zu exposures\n", a.cuts.label().c_str(), b.cuts.label().c_str(), a.exposures.size());
        std::printf("changes: %s\n", quality::describeChanges(a.cuts, b.cuts).c_str());
        const auto changed = quality::changedVerdicts(a.verdicts, b.verdicts);
        std::printf("%zu change verdict\n", changed.size());
        for (std::size_t k : changed) {
            const auto& e = b.exposures[k];
            // The one that fails it, and why.
            const bool bFails = !b.verdicts[k].pass;
            std::string why;
            for (const auto& f : (bFails ? b : a).verdicts[k].failures) why += (why.empty() ? "" : "; ") + f.reason;
            std::printf("  %s %s %s %s: fails only %s: %s\n", e.night.c_str(), e.timeUtc.c_str(), e.file.c_str(),
                        e.band.c_str(), (bFails ? b : a).cuts.label().c_str(), why.c_str());
        }
        return 0;
    });
    return r ? 0 : failed(r.error().what());
}

int cuts(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription(kHelp);
    p.addHelpOption();
    p.addPositionalArgument("action", "list, show, save or default.");
    p.addPositionalArgument("name", "NAME or NAME@VERSION.");
    p.addOption({"definition", "For save: the JSON file of the cuts.", "file"});
    p.addOption({"note", "For save: why this version.", "text"});
    p.addOption({"default", "For save: make the saved version the default."});
    if (auto rc = parseOrEnd(p, "paudm report cuts", args)) return *rc;
    const QStringList pos = p.positionalArguments();
    const QString action = pos.value(0);
    if (action != "list" && action != "show" && action != "save" && action != "default")
        return usage(p, "report cuts wants list, show, save or default");
    if ((action == "save" || action == "default") && pos.size() != 2) return usage(p, "name the cut set");
    std::string definition;
    if (action == "save") {
        if (!p.isSet("definition")) return usage(p, "save wants --definition FILE.json");
        QFile f(p.value("definition"));
        if (!f.open(QIODevice::ReadOnly))
            return failed("cannot read " + p.value("definition").toStdString() + ": " + f.errorString().toStdString());
        definition = f.readAll().toStdString();
    }
    auto c = openDatabase(g, "paudm report");
    if (!c) return 1;
    auto r = capture([&] {
        if (action == "list") {
            for (const auto& s : quality::listCutSets(*c)) printCutSet(s);
        } else if (action == "show") {
            printCutSet(quality::loadCutSet(*c, pos.value(1).toStdString()));
        } else if (action == "default") {
            const auto s = quality::setDefaultCutSet(*c, pos.value(1).toStdString());
            std::printf("%s is the default\n", s.label().c_str());
        } else {
            quality::CutSet s;
            s.name = pos.value(1).toStdString();
            s.note = p.value("note").toStdString();
            quality::definitionFromJson(s, definition);
            bool created = false;
            const auto saved = quality::saveCutSet(*c, s, p.isSet("default"), &created);
            if (!created)
                std::printf("%s unchanged: nothing saved%s\n", saved.label().c_str(), saved.isDefault ? " (the default)" : "");
            else
                std::printf("saved %s: %s%s\n", saved.label().c_str(), saved.changes.c_str(),
                            saved.isDefault ? " (the default)" : "");
        }
        return 0;
    });
    return r ? 0 : failed(r.error().what());
}

} // namespace

int reportCommand(const QStringList& args, const Globals& g) {
    const QString sub = args.value(0);
    if (sub == "nightly") return nightly(args.mid(1), g);
    if (sub == "compare") return compare(args.mid(1), g);
    if (sub == "cuts") return cuts(args.mid(1), g);
    std::fprintf(stderr, "%s\n", kHelp);
    return sub.isEmpty() || sub == "--help" || sub == "-h" ? (sub.isEmpty() ? 2 : 0) : 2;
}

} // namespace paudm::cli
