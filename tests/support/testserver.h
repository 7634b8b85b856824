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

} // namespace paudm::test
