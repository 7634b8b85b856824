#include "db/database.h"

#include "db/connection.h"
#include "db/embedded_server.h"
#include "db/migrations.h"

namespace paudm::db {

EmbeddedServer DatabaseTarget::embeddedServer() const {
    return EmbeddedServer(home, port);
}

std::string DatabaseTarget::describe() const {
    if (isEmbedded()) return "embedded (" + home.toStdString() + ")";
    return "external (" + describeConninfo(conninfo) + ")";
}

DatabaseTarget resolveTarget(const std::string& cliDb) {
    DatabaseTarget t;
    t.home = EmbeddedServer::defaultHome();
    if (const int port = qEnvironmentVariableIntValue("PAUDM_PORT"); port > 0) t.port = port;
    std::string external = cliDb;
    if (external.empty()) external = qEnvironmentVariable("PAUDM_DB").toStdString();
    if (!external.empty()) {
        t.kind = DatabaseTarget::Kind::External;
        t.conninfo = external;
        t.readOnlyConninfo = qEnvironmentVariable("PAUDM_DB_READONLY").toStdString();
        if (t.readOnlyConninfo.empty()) {
            // A keyword=value string or URI: a later "user=" in keyword form wins over the
            // URI's, so rewrite a URI by adding its own parameter instead.
            const bool uri = external.starts_with("postgresql://") || external.starts_with("postgres://");
            if (uri)
                t.readOnlyConninfo = external + (external.find('?') == std::string::npos ? "?" : "&") +
                                     "user=" + EmbeddedServer::readerRole;
            else
                t.readOnlyConninfo = external + " user=" + EmbeddedServer::readerRole;
        }
        return t;
    }
    const EmbeddedServer server = t.embeddedServer();
    t.conninfo = server.uri(false);
    t.readOnlyConninfo = server.uri(true);
    return t;
}

Result<Connection> openAndMigrate(const DatabaseTarget& target, const std::string& purpose,
                                  const std::shared_ptr<Interrupter>& stop) {
    std::string conninfo = target.conninfo;
    if (target.isEmbedded()) {
        EmbeddedServer server = target.embeddedServer();
        if (auto r = server.start(stop); !r) return std::unexpected(r.error());
        // Where the socket is, now that the cluster surely exists.
        conninfo = server.uri(false);
    }
    return capture([&] {
        Connection c = Connection::open(conninfo, purpose, stop);
        migrate(c);
        return c;
    });
}

} // namespace paudm::db
