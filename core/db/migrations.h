#pragma once
// Schema migrations: the numbered SQL files of schema/, compiled into the program.
//
// Each migration runs in its own transaction together with the row that records it in
// schema_migration, under an advisory lock, so concurrent starts (console + runners)
// apply each migration exactly once and a failing migration leaves the version unchanged.
#include "common/error.h"

#include <string>
#include <vector>

namespace paudm::db {

class Connection;

struct Migration {
    int version = 0;
    std::string name; ///< file name, e.g. "0001_paudb.sql"
    std::string sql;
};

/// The migrations shipped with this build, in version order.
const std::vector<Migration>& bundledMigrations();

struct MigrationReport {
    int fromVersion = 0;
    int toVersion = 0;
    std::vector<std::string> applied; ///< names, in order
};

/// Applies the pending migrations of `migrations` (sorted by version). Throws
/// paudm::Error naming the migration that failed; earlier ones stay applied.
MigrationReport migrate(Connection& c, const std::vector<Migration>& migrations = bundledMigrations());

/// The highest applied version, 0 for an empty database.
int schemaVersion(Connection& c);

} // namespace paudm::db
