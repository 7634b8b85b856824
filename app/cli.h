#pragma once
// The command-line front end: one function per command group, each taking the words
// after its name. Return value is the process exit code (0 ok, 1 failed, 2 usage).
#include <QStringList>

namespace paudm::cli {

struct Globals {
    QString db; ///< --db, may be empty
};

int dbCommand(const QStringList& args, const Globals& globals);
int jobsCommand(const QStringList& args, const Globals& globals);
int runnerCommand(const QStringList& args, const Globals& globals);

} // namespace paudm::cli
