#pragma once
// The embedded PostgreSQL server: a private cluster, made with Debian's initdb and run
// with pg_ctl, that listens only on a Unix socket in the user's PAUdm folder and is
// shared by the console and local runners.
//
// Layout under the cluster folder (normally $PAUDM_HOME):
//   pgdata/   the cluster (owned by the server account)
//   run/      the Unix socket
//   log/      postgresql.log
// When the caller is root, PostgreSQL refuses to run as root, so the server runs as the
// unprivileged `postgres` account; if that account cannot reach $PAUDM_HOME (root's home
// is 0700) the cluster lives under /var/lib/paudm/<id>, and $PAUDM_HOME/cluster says where.
#include "common/error.h"

#include <QString>

#include <memory>
#include <optional>
#include <string>

namespace paudm::db {

class Interrupter;

struct ServerStatus {
    bool initialised = false;
    bool running = false;
    qint64 pid = 0;
    QString dataDir;
    QString socketDir;
    QString logFile;
    QString serverAccount;
    QString binDir;
    int port = 0;
    QString guardModule; ///< the module the server is configured to load, or empty
};

class EmbeddedServer {
public:
    /// `home` is $PAUDM_HOME; see defaultHome().
    explicit EmbeddedServer(QString home, int port = 5432);

    /// $PAUDM_HOME, or the user's XDG data folder + "/paudm".
    static QString defaultHome();
    /// The folder with pg_ctl and initdb: $PAUDM_PG_BINDIR, else the newest
    /// /usr/lib/postgresql/<major>/bin, else `pg_config --bindir`.
    static Result<QString> findBinDir();

    /// Initialises the cluster the first time, removes a stale postmaster.pid, starts the
    /// server unless it runs already, and creates the database. Safe to call from
    /// several processes at once. `stop` (may be null) gives up waiting for initdb and
    /// pg_ctl, and for the first connection.
    Result<void> start(const std::shared_ptr<Interrupter>& stop = {});
    Result<void> stop();
    ServerStatus status() const;

    /// libpq URI of the database for the calling OS user (peer authentication), usable
    /// as is by psql; readOnly selects the SQL browser's role.
    std::string uri(bool readOnly = false) const;
    std::string databaseName() const { return "paudm"; }
    /// The role name the calling OS user has in the embedded cluster.
    static std::string superuserRole();
    static constexpr const char* readerRole = "paudm_reader";
    /// The statement timeout of readerRole (must match schema/0004_reader_role.sql).
    static constexpr int kReaderTimeoutMs = 30000;
    /// The server module that enforces it (paudm_guard.so), or empty if not found:
    /// $PAUDM_PG_GUARD, the build tree, then the installed library folder.
    static QString guardModulePath();

    QString home() const { return home_; }
    QString clusterDir() const;

private:
    Result<void> initialise(const QString& binDir, const Interrupter* stop);
    Result<void> removeStaleLocks() const;
    Result<void> ensureDatabase(const std::shared_ptr<Interrupter>& stop) const;
    Result<void> checkOwnership() const;

    QString home_;
    int port_;
};

} // namespace paudm::db
