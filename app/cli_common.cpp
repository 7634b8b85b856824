// What every command of the command line shares: messages, parsing, the database.
#include "cli.h"

#include "db/connection.h"
#include "db/database.h"

#include <QCommandLineParser>

#include <cstdio>

namespace paudm::cli {

int failed(const std::string& what) {
    std::fprintf(stderr, "paudm: %s\n", what.c_str());
    return 1;
}

int usage(const QCommandLineParser& p, const QString& problem) {
    std::fprintf(stderr, "paudm: %s\n\n%s", qPrintable(problem), qPrintable(p.helpText()));
    return 2;
}

std::optional<int> parseOrEnd(QCommandLineParser& p, const QString& command, const QStringList& args) {
    if (!p.parse(QStringList{command} + args)) return usage(p, p.errorText());
    if (p.isSet("help")) {
        std::fputs(qPrintable(p.helpText()), stdout);
        return 0;
    }
    return std::nullopt;
}

std::string shellQuoted(const std::string& word) {
    const bool plain = !word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                               "0123456789_-./:=@%+,") == std::string::npos;
    if (plain) return word;
    std::string out = "'";
    for (char ch : word) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return out + "'";
}

std::optional<db::Connection> openDatabase(const Globals& g, const char* purpose) {
    auto c = db::openAndMigrate(db::resolveTarget(g.db.toStdString()), purpose);
    if (!c) {
        std::fprintf(stderr, "paudm: %s\n", c.error().what());
        return std::nullopt;
    }
    return std::move(*c);
}

} // namespace paudm::cli
