// paudm db start | stop | status | migrate | url [--read-only]
#include "cli.h"

#include "db/connection.h"
#include "db/database.h"
#include "db/embedded_server.h"
#include "db/migrations.h"

#include <QCommandLineParser>

#include <cstdio>

namespace paudm::cli {

namespace {

using db::DatabaseTarget;

int failed(const Error& e) {
    std::fprintf(stderr, "paudm: %s\n", e.what());
    return 1;
}

int start(const DatabaseTarget& t) {
    if (!t.isEmbedded()) {
        std::fprintf(stderr, "paudm: the database is external (%s); 'db start' manages only the embedded server\n",
                     t.describe().c_str());
        return 2;
    }
    auto server = t.embeddedServer();
    if (auto r = server.start(); !r) return failed(r.error());
    auto c = db::openAndMigrate(t, "paudm db start");
    if (!c) return failed(c.error());
    const auto s = server.status();
    std::printf("embedded PostgreSQL %s running (pid %lld)\n  data:   %s\n  socket: %s\n  schema: version %d\n",
                c->serverVersion().c_str(), static_cast<long long>(s.pid), qPrintable(s.dataDir),
                qPrintable(s.socketDir), db::schemaVersion(*c));
    return 0;
}

int stop(const DatabaseTarget& t) {
    if (!t.isEmbedded()) {
        std::fprintf(stderr, "paudm: the database is external (%s); 'db stop' manages only the embedded server\n",
                     t.describe().c_str());
        return 2;
    }
    auto server = t.embeddedServer();
    const bool wasRunning = server.status().running;
    if (auto r = server.stop(); !r) return failed(r.error());
    std::printf(wasRunning ? "embedded server stopped\n" : "embedded server was not running\n");
    return 0;
}

int status(const DatabaseTarget& t) {
    const int known = db::bundledMigrations().empty() ? 0 : db::bundledMigrations().back().version;
    std::printf("database: %s\n", t.describe().c_str());
    if (t.isEmbedded()) {
        const auto s = t.embeddedServer().status();
        std::printf("  data:     %s%s\n", qPrintable(s.dataDir), s.initialised ? "" : " (not initialised yet)");
        std::printf("  socket:   %s (port %d)\n", qPrintable(s.socketDir), s.port);
        std::printf("  log:      %s\n", qPrintable(s.logFile));
        std::printf("  guard:    %s\n", s.guardModule.isEmpty() ? "not installed (the reader role can raise its timeout)" : qPrintable(s.guardModule));
        std::printf("  server:   %s", s.running ? "running" : "stopped");
        if (s.running) std::printf(" (pid %lld, as %s)", static_cast<long long>(s.pid), qPrintable(s.serverAccount));
        std::printf("\n");
        if (!s.running) {
            std::printf("  schema:   unknown (server stopped; this build knows version %d)\n", known);
            return 3; // like pg_ctl status: not running
        }
    }
    auto r = capture([&] {
        db::Connection c = db::Connection::open(t.conninfo, "paudm db status");
        const int v = db::schemaVersion(c);
        std::printf("  version:  PostgreSQL %s\n", c.serverVersion().c_str());
        std::printf("  schema:   version %d of %d%s\n", v, known,
                    v < known ? " (pending migrations: run 'paudm db migrate')" : "");
    });
    return r ? 0 : failed(r.error());
}

int migrate(const DatabaseTarget& t) {
    if (t.isEmbedded())
        if (auto r = t.embeddedServer().start(); !r) return failed(r.error());
    auto r = capture([&] {
        db::Connection c = db::Connection::open(t.conninfo, "paudm db migrate");
        const auto report = db::migrate(c);
        if (report.applied.empty()) {
            std::printf("schema up to date at version %d\n", report.toVersion);
        } else {
            for (const auto& name : report.applied) std::printf("applied %s\n", name.c_str());
            std::printf("schema at version %d (was %d)\n", report.toVersion, report.fromVersion);
        }
    });
    return r ? 0 : failed(r.error());
}

int url(const DatabaseTarget& t, bool readOnly) {
    if (t.isEmbedded()) {
        std::printf("%s\n", t.embeddedServer().uri(readOnly).c_str());
        return 0;
    }
    auto r = capture([&] { return db::conninfoToUri(readOnly ? t.readOnlyConninfo : t.conninfo); });
    if (!r) return failed(r.error());
    std::printf("%s\n", r->c_str());
    return 0;
}

} // namespace

int dbCommand(const QStringList& args, const Globals& globals) {
    QCommandLineParser p;
    p.setApplicationDescription("Manage the PAUdm database.\n\n"
                                "  paudm db start | stop | status | migrate | url [--read-only]");
    p.addHelpOption();
    p.addOption({"read-only", "With url: the SQL browser's read-only role."});
    p.addPositionalArgument("action", "start, stop, status, migrate or url");
    if (!p.parse(QStringList{"paudm db"} + args)) {
        std::fprintf(stderr, "paudm db: %s\n", qPrintable(p.errorText()));
        return 2;
    }
    if (p.isSet("help")) {
        std::fputs(qPrintable(p.helpText()), stdout);
        return 0;
    }
    const QStringList pos = p.positionalArguments();
    if (pos.size() != 1) {
        std::fputs(qPrintable(p.helpText()), stderr);
        return 2;
    }
    const DatabaseTarget target = db::resolveTarget(globals.db.toStdString());
    const QString action = pos.first();
    if (p.isSet("read-only") && action != "url") {
        std::fprintf(stderr, "paudm db: --read-only goes with 'url'\n");
        return 2;
    }
    if (action == "start") return start(target);
    if (action == "stop") return stop(target);
    if (action == "status") return status(target);
    if (action == "migrate") return migrate(target);
    if (action == "url") return url(target, p.isSet("read-only"));
    std::fprintf(stderr, "paudm db: unknown action '%s' (start, stop, status, migrate, url)\n", qPrintable(action));
    return 2;
}

} // namespace paudm::cli
