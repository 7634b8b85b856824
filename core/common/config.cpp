#include "common/config.h"

#include <QByteArray>
#include <QFile>
#include <QString>
#include <QTextStream>

#include <cstdlib>
#include <map>

namespace paudm {

const std::vector<ConfigKey>& configKeys() {
    static const std::vector<ConfigKey> keys{
        {"db", "PAUDM_DB", "an external PostgreSQL server (libpq connection string, URI or service=NAME)"},
        {"db_readonly", "PAUDM_DB_READONLY", "the SQL browser's connection to that server"},
        {"home", "PAUDM_HOME", "PAUdm's data folder (the embedded database, the default buffer and archive)"},
        {"port", "PAUDM_PORT", "the port number of the embedded server's socket"},
        {"buffer", "PAUDM_BUFFER", "the observatory buffer"},
        {"archive", "PAUDM_ARCHIVE", "the archive root"},
        {"release", "PAUDM_RELEASE", "the release 'paudm night' and 'paudm reprocess' reduce into when --release is not given"},
        {"runner_threads", "PAUDM_RUNNER_THREADS", "jobs a 'paudm runner' runs at once when --threads is not given"},
    };
    return keys;
}

std::vector<std::string> configFiles() {
    std::vector<std::string> files{"/etc/paudm/paudm.conf"};
    const QByteArray xdg = qgetenv("XDG_CONFIG_HOME"), home = qgetenv("HOME");
    if (!xdg.isEmpty())
        files.push_back(xdg.toStdString() + "/paudm/paudm.conf");
    else if (!home.isEmpty())
        files.push_back(home.toStdString() + "/.config/paudm/paudm.conf");
    const QByteArray extra = qgetenv("PAUDM_CONFIG");
    if (!extra.isEmpty()) files.push_back(extra.toStdString());
    return files;
}

std::vector<std::string> applyConfiguration() {
    std::vector<std::string> problems;
    std::map<std::string, std::string> values; // later files win
    for (const std::string& path : configFiles()) {
        QFile f(QString::fromStdString(path));
        if (!f.exists()) continue;
        if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) {
            problems.push_back(path + ": cannot be read");
            continue;
        }
        QTextStream in(&f);
        int number = 0;
        while (!in.atEnd()) {
            const QString raw = in.readLine();
            ++number;
            QString line = raw.trimmed();
            if (line.isEmpty() || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
            const auto eq = line.indexOf('=');
            if (eq <= 0) {
                problems.push_back(path + ":" + std::to_string(number) + ": not 'key = value': " + raw.toStdString());
                continue;
            }
            const std::string key = line.left(eq).trimmed().toStdString();
            QString value = line.mid(eq + 1).trimmed();
            if (value.size() >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.mid(1, value.size() - 2);
            if (value.startsWith("~/") && !qgetenv("HOME").isEmpty()) value = QString::fromLocal8Bit(qgetenv("HOME")) + value.mid(1);
            bool known = false;
            for (const ConfigKey& k : configKeys())
                if (key == k.key) known = true;
            if (!known) {
                std::string list;
                for (const ConfigKey& k : configKeys()) list += std::string(list.empty() ? "" : ", ") + k.key;
                problems.push_back(path + ":" + std::to_string(number) + ": unknown key '" + key + "' (known: " + list + ")");
                continue;
            }
            values[key] = value.toStdString();
        }
    }
    for (const ConfigKey& k : configKeys()) {
        const auto it = values.find(k.key);
        if (it == values.end() || !qgetenv(k.variable).isEmpty()) continue;
        qputenv(k.variable, QByteArray::fromStdString(it->second));
    }
    return problems;
}

} // namespace paudm
