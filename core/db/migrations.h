#pragma once
// Schema migrations, compiled into the program:
//   - versioned: the numbered SQL files of schema/ (tables, indexes, data), each applied
//     once, in order, and never edited afterwards (a checksum says so);
//   - repeatable: the files of schema/functions/ (functions, views, triggers), each the
//     one current definition of what it holds, applied after the versioned ones whenever
//     its text differs from what the database last applied (as Flyway's and Sqitch's
//     repeatable migrations). So the tree holds every function once, as it is now.
//     A change there that an older program must not undo comes with a numbered
//     migration (a comment-only one will do): an older program then refuses the
//     database instead of applying its own, older definitions again.
//
// Each migration runs in its own transaction together with the row that records it in
// schema_migration (schema_repeatable), under an advisory lock, so concurrent starts
// (console + runners) apply each exactly once and a failing one changes nothing.
//
// A versioned file may be rewritten only without changing what it does, when definitions
// move out of it into schema/functions; its checksum as first applied is then listed in
// schema/rewritten.txt, and databases that applied the old text are accepted.
#include "common/error.h"

#include <string>
#include <vector>

namespace paudm::db {

class Connection;

struct Migration {
    int version = 0;
    std::string name; ///< file name, e.g. "0001_paudb.sql"
    std::string sql;
    /// Checksums of earlier texts of this migration that did the same (schema/rewritten.txt).
    std::vector<std::string> formerChecksums;
};

struct Repeatable {
    std::string name; ///< file name under schema/functions, e.g. "job_engine.sql"
    std::string sql;
};

/// The migrations shipped with this build, in version order.
const std::vector<Migration>& bundledMigrations();
/// The repeatable migrations shipped with this build, in name order.
const std::vector<Repeatable>& bundledRepeatables();

struct MigrationReport {
    int fromVersion = 0;
    int toVersion = 0;
    std::vector<std::string> applied;    ///< names, in order
    std::vector<std::string> reapplied;  ///< repeatable migrations (re)applied, in order
};

/// Applies the pending bundled migrations, then the repeatable ones that changed.
MigrationReport migrate(Connection& c);
/// The same with given lists (`migrations` sorted by version, `repeatables` by name).
/// Throws paudm::Error naming the migration that failed; earlier ones stay applied.
MigrationReport migrate(Connection& c, const std::vector<Migration>& migrations,
                        const std::vector<Repeatable>& repeatables = {});

/// The highest applied version, 0 for an empty database.
int schemaVersion(Connection& c);

} // namespace paudm::db
