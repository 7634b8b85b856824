#pragma once
// One embedded PostgreSQL cluster per test executable, started through the product's own
// EmbeddedServer code in a temporary PAUDM_HOME, stopped and removed at exit.
#include "db/embedded_server.h"

#include <QString>

#include <memory>
#include <string>

namespace paudm::test {

class TestServer {
public:
    /// Starts the cluster on first use; throws paudm::Error if it cannot.
    static TestServer& instance();
    ~TestServer();

    const QString& home() const { return home_; }
    db::EmbeddedServer& server() { return *server_; }
    /// Connection string for `dbname` as the cluster superuser (the calling OS user).
    std::string conninfo(const std::string& dbname = "paudm") const;
    /// Connection string for `dbname` as the read-only role of the SQL browser.
    std::string readerConninfo(const std::string& dbname = "paudm") const;
    /// Drops `name` if it exists and creates it empty; returns its conninfo.
    std::string freshDatabase(const std::string& name);

private:
    TestServer();
    std::string conninfoAs(const std::string& role, const std::string& dbname) const;
    QString home_;
    std::unique_ptr<db::EmbeddedServer> server_;
};

/// A new empty folder that the embedded server's account can reach (when the tests run
/// as root, the server runs as 'postgres', which cannot enter a 0700 folder of root's).
QString makeTempHome(const QString& tag);

/// Runs `shellCommand` (with /bin/sh) when this process ends, however it ends: a crash, an
/// abort, SIGKILL, ctest's timeout. A watchdog process of its own session waits for a pipe
/// that only this process holds to close. For what a test starts outside itself (a
/// PostgreSQL cluster, Slurm's daemons), so that the suite cleans up after itself
/// whatever happens. The command runs at a normal exit too: make it harmless then.
void cleanUpWhenThisProcessEnds(const std::string& shellCommand);

/// A local TCP port that accepts connections and never answers: the kernel completes the
/// handshake into the listen backlog and nobody ever reads. (A server frozen by a disk, a
/// firewall dropping replies, a half-dead failover.)
class SilentPort {
public:
    SilentPort();
    ~SilentPort();
    SilentPort(const SilentPort&) = delete;
    SilentPort& operator=(const SilentPort&) = delete;
    /// A connection string to it, with a connect_timeout far beyond any test's patience.
    std::string conninfo() const;

private:
    int fd_ = -1;
    int port_ = 0;
};

/// A shell command that stops the embedded cluster under `clusterDir` (immediate
/// shutdown, from its postmaster.pid) and removes `removeDir`.
std::string stopClusterCommand(const QString& clusterDir, const QString& removeDir);

} // namespace paudm::test
