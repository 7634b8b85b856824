#pragma once
// The command-line front end: one function per command group, each taking the words
// after its name. Return value is the process exit code (0 ok, 1 failed, 2 usage).
#include <QStringList>

#include <optional>
#include <string>

class QCommandLineParser;

namespace paudm::db {
class Connection;
}

namespace paudm::cli {

struct Globals {
    QString db; ///< --db, may be empty
};

int dbCommand(const QStringList& args, const Globals& globals);
int jobsCommand(const QStringList& args, const Globals& globals);
int runnerCommand(const QStringList& args, const Globals& globals);
int simulateCommand(const QStringList& args, const Globals& globals);
int catalogCommand(const QStringList& args, const Globals& globals);
int transferCommand(const QStringList& args, const Globals& globals);
int bufferCommand(const QStringList& args, const Globals& globals);
int nightCommand(const QStringList& args, const Globals& globals);
int reduceCommand(const QStringList& args, const Globals& globals);
int detectCommand(const QStringList& args, const Globals& globals);
int reprocessCommand(const QStringList& args, const Globals& globals);
int reportCommand(const QStringList& args, const Globals& globals);
int sqlCommand(const QStringList& args, const Globals& globals);
int fitsCommand(const QStringList& args, const Globals& globals);

// ---- shared by the commands
/// A word as a POSIX shell reads it back (single-quoted when it needs to be), for the
/// commands we print for the user to run next.
std::string shellQuoted(const std::string& word);
/// Prints "paudm: <what>" on stderr; returns 1.
int failed(const std::string& what);
/// Prints the problem and the command's help on stderr; returns 2.
int usage(const QCommandLineParser& p, const QString& problem);
/// Parses a command's words; returns the exit code when the command should end here
/// (a usage error, or --help printed).
std::optional<int> parseOrEnd(QCommandLineParser& p, const QString& command, const QStringList& args);
/// Opens the database (starting the embedded server, applying migrations); prints the
/// error and returns nothing when that fails.
std::optional<db::Connection> openDatabase(const Globals& g, const char* purpose);

} // namespace paudm::cli
