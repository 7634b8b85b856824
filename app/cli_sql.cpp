// paudm sql: the SQL browser without a window, on the same read-only role and limits.
#include "cli.h"

#include "common/atomic_file.h"
#include "common/error.h"
#include "db/connection.h"
#include "db/database.h"
#include "sql/query.h"

#include <QCommandLineParser>
#include <QFile>
#include <QTextStream>

#include <cstdio>
#include <iostream>
#include <iterator>

namespace paudm::cli {

namespace {

constexpr const char* kHelp =
    "paudm sql: one read-only query on PAUdb, as the console's SQL browser runs it.\n\n"
    "  paudm sql \"QUERY\" [--limit N] [--format table|csv|json] [--out FILE] [--timeout SECONDS]\n"
    "      At most N rows (default 1,000, at most 10,000); when the result has more, stderr says so\n"
    "      and the exit code stays 0. csv is RFC 4180 (CRLF, NULL as an empty field, the empty string\n"
    "      as \"\"); json is an array of objects; table is aligned for a terminal.\n"
    "  paudm sql \"QUERY\" --all --out FILE.csv|FILE.fits\n"
    "      The whole result, without the row limit, streamed to FILE (a FITS binary table for .fits);\n"
    "      the file appears only when complete.\n"
    "  QUERY - reads the query from standard input.\n\n"
    "The query runs as the role paudm_reader: it may read every table and change nothing; its\n"
    "statement timeout (30 s on the embedded server) may be lowered with --timeout, never raised.\n"
    "One statement per query. The tables and their columns: paudm-console --panel schema.\n\n"
    "Examples:\n"
    "  paudm sql \"SELECT night, count(*) FROM mosaic JOIN obs_set USING (obs_set_id) GROUP BY 1 ORDER BY 1\"\n"
    "  paudm sql \"SELECT * FROM image WHERE psf_fwhm > 1.3\" --format csv --out bad_seeing.csv\n"
    "  paudm sql \"SELECT * FROM detection\" --all --out detections.fits";

/// The read-only connection of the target: the admin one first, so that the embedded
/// server runs and the schema (with the role) is there.
std::optional<db::Connection> openReader(const Globals& g) {
    const db::DatabaseTarget target = db::resolveTarget(g.db.toStdString());
    auto admin = db::openAndMigrate(target, "paudm sql");
    if (!admin) {
        std::fprintf(stderr, "paudm: %s\n", admin.error().what());
        return std::nullopt;
    }
    auto reader = capture([&] { return db::Connection::open(target.readOnlyConninfo, "paudm sql"); });
    if (!reader) {
        std::fprintf(stderr, "paudm: the read-only connection: %s\n", reader.error().what());
        return std::nullopt;
    }
    return std::move(*reader);
}

} // namespace

int sqlCommand(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription(kHelp);
    p.addHelpOption();
    p.addPositionalArgument("query", "The SQL query, or - for standard input.");
    p.addOption({"limit", "At most N rows (1 to 10,000; default 1,000).", "n", QString::number(sql::kDefaultRows)});
    p.addOption({"format", "table, csv or json (default: table on a terminal, csv with --out).", "format"});
    p.addOption({"out", "Write to FILE (atomically) instead of standard output.", "file"});
    p.addOption({"timeout", "Statement timeout in seconds, at most the role's (default: the role's).", "seconds"});
    p.addOption({"all", "With --out: the whole result, without the row limit (CSV, or FITS for .fits)."});
    if (auto rc = parseOrEnd(p, "sql", args)) return *rc;
    if (p.positionalArguments().size() != 1) return usage(p, "give one query (quoted), or - to read it from stdin");
    std::string text = p.positionalArguments().first().toStdString();
    if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());

    sql::QueryOptions o;
    bool ok = false;
    o.limit = p.value("limit").toInt(&ok);
    if (!ok) return usage(p, "--limit wants a number of rows, not '" + p.value("limit") + "'");
    if (p.isSet("timeout")) {
        const double s = p.value("timeout").toDouble(&ok);
        if (!ok || s <= 0) return usage(p, "--timeout wants a positive number of seconds, not '" + p.value("timeout") + "'");
        o.timeoutMs = static_cast<int>(s * 1000 + 0.5);
    }
    const QString format = p.value("format");
    if (p.isSet("format") && format != "table" && format != "csv" && format != "json" && !(p.isSet("all") && format == "fits"))
        return usage(p, "--format is table, csv or json (with --all: csv or fits), not '" + format + "'");
    if (p.isSet("all") && !p.isSet("out")) return usage(p, "--all writes a file: give --out FILE.csv or FILE.fits");

    auto reader = openReader(g);
    if (!reader) return 1;

    if (p.isSet("all")) {
        const std::string out = p.value("out").toStdString();
        const sql::ExportFormat f = format == "fits"  ? sql::ExportFormat::Fits
                                    : format == "csv" ? sql::ExportFormat::Csv
                                                      : sql::exportFormatFor(out);
        auto r = capture([&] { return sql::exportQuery(*reader, text, out, f, o); });
        if (!r) return failed(r.error().what());
        std::fprintf(stderr, "paudm: %lld rows to %s (%.1f MB, %.1f s)\n", static_cast<long long>(r->rows), out.c_str(),
                     static_cast<double>(r->bytes) / 1e6, r->seconds);
        return 0;
    }

    auto r = capture([&] { return sql::runQuery(*reader, text, o); });
    if (!r) return failed(r.error().what());
    const QString f = !format.isEmpty() ? format : (p.isSet("out") ? "csv" : "table");
    const std::string shown = f == "csv" ? sql::toDelimited(*r) : f == "json" ? sql::toJson(*r) : sql::toTextTable(*r);
    if (r->truncated)
        std::fprintf(stderr, "paudm: the result has more than %d rows; only the first %d are shown (--limit, at most %d; "
                             "--all --out FILE for everything)\n",
                     r->limit, r->limit, sql::kMaxRows);
    if (!p.isSet("out")) {
        std::fwrite(shown.data(), 1, shown.size(), stdout);
        return 0;
    }
    auto w = capture([&] { writeFileAtomically(p.value("out").toStdString(), shown); });
    return w ? 0 : failed(w.error().what());
}

} // namespace paudm::cli
