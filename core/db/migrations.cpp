#include "db/migrations.h"

#include "db/connection.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QRegularExpression>

#include <algorithm>

// The .qrc lives in the static core library; make sure its initialiser is linked in.
static void initSchemaResources() { Q_INIT_RESOURCE(schema); }

namespace paudm::db {

namespace {

// An arbitrary constant: the advisory lock key shared by all PAUdm migrators.
constexpr long long kMigrationLock = 0x5041554d49475241; // "PAUMIGRA"

std::string checksum(const std::string& sql) {
    return QCryptographicHash::hash(QByteArray::fromStdString(sql), QCryptographicHash::Sha256).toHex().toStdString();
}

void ensureVersionTable(Connection& c) {
    c.execScript(R"sql(
        CREATE TABLE IF NOT EXISTS schema_migration (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            checksum   text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE schema_migration IS 'Schema migrations applied to this database (one row per file of schema/)';
        COMMENT ON COLUMN schema_migration.version IS 'Migration number, from the file name';
        COMMENT ON COLUMN schema_migration.name IS 'Migration file name';
        COMMENT ON COLUMN schema_migration.checksum IS 'SHA-256 of the migration text as applied';
        COMMENT ON COLUMN schema_migration.applied_at IS 'When the migration was applied')sql",
                 "creating the schema_migration table");
}

} // namespace

const std::vector<Migration>& bundledMigrations() {
    static const std::vector<Migration> all = [] {
        initSchemaResources();
        std::vector<Migration> out;
        const QRegularExpression re(R"(^(\d{4})_[a-z0-9_]+\.sql$)");
        QDir dir(":/schema");
        for (const QString& f : dir.entryList({"*.sql"}, QDir::Files, QDir::Name)) {
            const auto m = re.match(f);
            if (!m.hasMatch()) continue;
            QFile file(dir.filePath(f));
            if (!file.open(QIODevice::ReadOnly)) continue;
            out.push_back({m.captured(1).toInt(), f.toStdString(), file.readAll().toStdString()});
        }
        std::sort(out.begin(), out.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
        return out;
    }();
    return all;
}

int schemaVersion(Connection& c) {
    const auto exists = c.exec("SELECT to_regclass('schema_migration') IS NOT NULL");
    if (!exists.toBool(0, 0)) return 0;
    const auto r = c.exec("SELECT coalesce(max(version), 0) FROM schema_migration");
    return static_cast<int>(r.toInt(0, 0));
}

MigrationReport migrate(Connection& c, const std::vector<Migration>& migrations) {
    MigrationReport report;
    {
        Transaction t(c);
        c.query("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
        ensureVersionTable(c);
        t.commit();
    }
    report.fromVersion = report.toVersion = schemaVersion(c);
    const int known = migrations.empty() ? 0 : migrations.back().version;
    if (report.fromVersion > known)
        throw Error("database " + c.target() + " has schema version " + std::to_string(report.fromVersion) +
                    ", newer than this program knows (" + std::to_string(known) + "): use a newer paudm");

    for (const Migration& m : migrations) {
        Transaction t(c);
        c.query("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
        const auto done = c.query("SELECT checksum FROM schema_migration WHERE version = $1", m.version);
        if (done.size() > 0) {
            if (done.text(0, 0) != checksum(m.sql))
                throw Error("migration " + m.name + " was changed after it was applied to " + c.target() +
                            ": migrations are append-only, add a new one instead");
            continue;
        }
        try {
            c.execScript(m.sql, "applying migration " + m.name);
        } catch (const Error& e) {
            throw Error(std::string(e.what()) + " (migration rolled back; schema stays at version " +
                            std::to_string(report.toVersion) + ")",
                        e.code());
        }
        c.query("INSERT INTO schema_migration (version, name, checksum) VALUES ($1, $2, $3)", m.version, m.name,
                checksum(m.sql));
        t.commit();
        report.toVersion = m.version;
        report.applied.push_back(m.name);
    }
    report.toVersion = schemaVersion(c);
    return report;
}

} // namespace paudm::db
