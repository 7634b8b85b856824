#pragma once
// Which database a process talks to, decided once at start:
//   --db CONNINFO  >  $PAUDM_DB  >  the embedded server under $PAUDM_HOME.
#include "common/error.h"

#include <QString>

#include <memory>
#include <optional>
#include <string>

namespace paudm::db {

class Connection;
class EmbeddedServer;
class Interrupter;

struct DatabaseTarget {
    enum class Kind { Embedded, External };
    Kind kind = Kind::Embedded;
    std::string conninfo;         ///< for External: as given; for Embedded: the socket URI
    std::string readOnlyConninfo; ///< the SQL browser's connection (read-only role)
    QString home;                 ///< $PAUDM_HOME (also used by External, for local files)
    int port = 5432;              ///< the embedded server's socket port ($PAUDM_PORT)

    bool isEmbedded() const { return kind == Kind::Embedded; }
    /// The embedded server of this target's home and port (meaningful when isEmbedded()).
    EmbeddedServer embeddedServer() const;
    /// For display: "embedded (<home>)" or the external target without password.
    std::string describe() const;
};

/// Decides the target from the command-line value (may be empty) and the environment.
/// For an external server, the read-only connection uses the same parameters with
/// user=paudm_reader unless $PAUDM_DB_READONLY gives one.
DatabaseTarget resolveTarget(const std::string& cliDb = {});

/// Starts the embedded server if the target is embedded (no-op otherwise), connects,
/// and applies pending migrations. The one call the CLI and the console make at start.
/// `stop` (may be null) interrupts it: the console closing while a server starts.
Result<Connection> openAndMigrate(const DatabaseTarget& target, const std::string& purpose,
                                  const std::shared_ptr<Interrupter>& stop = {});

} // namespace paudm::db
