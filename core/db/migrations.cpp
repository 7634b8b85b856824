#include "db/migrations.h"

#include "db/connection.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QRegularExpression>

#include <algorithm>
#include <map>

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
        COMMENT ON COLUMN schema_migration.applied_at IS 'When the migration was applied';
        CREATE TABLE IF NOT EXISTS schema_repeatable (
            name       text PRIMARY KEY,
            checksum   text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE schema_repeatable IS 'Repeatable migrations (schema/functions/): the text last applied of each';
        COMMENT ON COLUMN schema_repeatable.name IS 'File name under schema/functions';
        COMMENT ON COLUMN schema_repeatable.checksum IS 'SHA-256 of the text last applied; a different text is applied again';
        COMMENT ON COLUMN schema_repeatable.applied_at IS 'When it was last applied')sql",
                 "creating the schema_migration table");
}

QString readResource(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return QString::fromUtf8(file.readAll());
}

/// True when the database records exactly these migrations and these repeatables' texts:
/// a read of two small tables, without the migration lock. Every runner, console and
/// command checks at start; the full check below takes the lock once per migration, so
/// 200 pilots started together queued for it about 30 times each.
bool upToDate(Connection& c, const std::vector<Migration>& migrations, const std::vector<Repeatable>& repeatables) {
    if (!c.exec("SELECT to_regclass('schema_migration') IS NOT NULL AND to_regclass('schema_repeatable') IS NOT NULL")
             .toBool(0, 0))
        return false;
    const auto applied = c.exec("SELECT version, checksum FROM schema_migration ORDER BY version");
    if (applied.size() != static_cast<int>(migrations.size())) return false;
    for (int i = 0; i < applied.size(); ++i) {
        const Migration& m = migrations[static_cast<size_t>(i)];
        if (applied.toInt(i, 0) != m.version || applied.text(i, 1) != checksum(m.sql)) return false;
    }
    const auto done = c.exec("SELECT name, checksum FROM schema_repeatable");
    std::map<std::string, std::string, std::less<>> sums;
    for (int i = 0; i < done.size(); ++i) sums.emplace(std::string(done.text(i, 0)), std::string(done.text(i, 1)));
    return std::all_of(repeatables.begin(), repeatables.end(), [&](const Repeatable& r) {
        const auto it = sums.find(r.name);
        return it != sums.end() && it->second == checksum(r.sql);
    });
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
            out.push_back({m.captured(1).toInt(), f.toStdString(), file.readAll().toStdString(), {}});
        }
        std::sort(out.begin(), out.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
        // "0005 <sha256> why": the text this migration had when databases first applied it.
        for (const QString& line : readResource(":/schema/rewritten.txt").split('\n')) {
            const QStringList f = line.split(' ', Qt::SkipEmptyParts);
            if (f.size() < 2 || line.startsWith('#')) continue;
            for (Migration& m : out)
                if (m.version == f[0].toInt()) m.formerChecksums.push_back(f[1].toStdString());
        }
        return out;
    }();
    return all;
}

const std::vector<Repeatable>& bundledRepeatables() {
    static const std::vector<Repeatable> all = [] {
        initSchemaResources();
        std::vector<Repeatable> out;
        QDir dir(":/schema/functions");
        for (const QString& f : dir.entryList({"*.sql"}, QDir::Files, QDir::Name))
            out.push_back({f.toStdString(), readResource(dir.filePath(f)).toStdString()});
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

MigrationReport migrate(Connection& c) {
    return migrate(c, bundledMigrations(), bundledRepeatables());
}

MigrationReport migrate(Connection& c, const std::vector<Migration>& migrations,
                        const std::vector<Repeatable>& repeatables) {
    MigrationReport report;
    if (upToDate(c, migrations, repeatables)) {
        report.fromVersion = report.toVersion = migrations.empty() ? 0 : migrations.back().version;
        return report;
    }
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
            const std::string now = checksum(m.sql);
            const std::string then(done.text(0, 0));
            if (then == now) continue;
            if (std::find(m.formerChecksums.begin(), m.formerChecksums.end(), then) == m.formerChecksums.end())
                throw Error("migration " + m.name + " was changed after it was applied to " + c.target() +
                            ": migrations are append-only, add a new one instead");
            // Applied in an earlier text that did the same (schema/rewritten.txt): recorded
            // with today's, so that the next check is exact.
            c.query("UPDATE schema_migration SET checksum = $2 WHERE version = $1", m.version, now);
            t.commit();
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

    // The repeatable migrations, after every versioned one: they may use any table.
    for (const Repeatable& r : repeatables) {
        const std::string sum = checksum(r.sql);
        Transaction t(c);
        c.query("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
        const auto done = c.query("SELECT checksum FROM schema_repeatable WHERE name = $1", r.name);
        if (done.size() > 0 && done.text(0, 0) == sum) continue;
        try {
            c.execScript(r.sql, "applying schema/functions/" + r.name);
        } catch (const Error& e) {
            throw Error(std::string(e.what()) + " (rolled back; the definitions applied before stay)", e.code());
        }
        c.query("INSERT INTO schema_repeatable (name, checksum) VALUES ($1, $2) "
                "ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, applied_at = now()",
                r.name, sum);
        t.commit();
        report.reapplied.push_back(r.name);
    }
    return report;
}

} // namespace paudm::db
