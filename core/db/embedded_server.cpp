#include "db/embedded_server.h"

#include "db/connection.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLockFile>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QUrl>

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace paudm::db {

namespace {

constexpr const char* kServerAccountWhenRoot = "postgres";

struct Account {
    QString name;
    uid_t uid = 0;
    gid_t gid = 0;
};

Account currentAccount() {
    const passwd* pw = getpwuid(geteuid());
    return {pw ? QString::fromLocal8Bit(pw->pw_name) : QString::number(geteuid()), geteuid(), getegid()};
}

bool isRoot() {
    return geteuid() == 0;
}

/// The account the server process runs as: the caller, or `postgres` when the caller is root.
Result<Account> serverAccount() {
    if (!isRoot()) return currentAccount();
    const passwd* pw = getpwnam(kServerAccountWhenRoot);
    if (!pw)
        return std::unexpected(Error(std::string("running as root, the embedded PostgreSQL server needs the "
                                                 "unprivileged account '") +
                                     kServerAccountWhenRoot +
                                     "' (created by Debian's postgresql package), and there is none"));
    return Account{kServerAccountWhenRoot, pw->pw_uid, pw->pw_gid};
}

/// True when `account` may search every folder from / down to `path` (which must exist).
bool canTraverse(const QString& path, const Account& account) {
    std::vector<gid_t> groups(64);
    int n = static_cast<int>(groups.size());
    const QByteArray name = account.name.toLocal8Bit();
    if (getgrouplist(name.constData(), account.gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<size_t>(n));
        getgrouplist(name.constData(), account.gid, groups.data(), &n);
    }
    groups.resize(static_cast<size_t>(std::max(n, 0)));
    QString p = QFileInfo(path).absoluteFilePath();
    for (;;) {
        struct stat st {};
        if (::stat(QFile::encodeName(p).constData(), &st) != 0) return false;
        bool ok;
        if (st.st_uid == account.uid)
            ok = st.st_mode & S_IXUSR;
        else if (std::find(groups.begin(), groups.end(), st.st_gid) != groups.end())
            ok = st.st_mode & S_IXGRP;
        else
            ok = st.st_mode & S_IXOTH;
        if (!ok) return false;
        if (p == "/") return true;
        p = QFileInfo(p).path();
    }
}

struct Run {
    int exitCode = -1;
    QString output;
};

/// Runs a PostgreSQL binary as the server account (through runuser when we are root).
/// `stop` ends the wait early (the program is then killed; what it leaves is cleaned up
/// by the next start).
Result<Run> runAsServer(const QString& program, const QStringList& args, int timeoutMs = 120000,
                        const Interrupter* stop = nullptr) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.setWorkingDirectory("/"); // the server account may not be able to enter our cwd
    QString exe = program;
    QStringList argv = args;
    if (isRoot()) {
        argv = QStringList{"-u", kServerAccountWhenRoot, "--", program} + args;
        exe = "runuser";
    }
    p.start(exe, argv);
    if (!p.waitForStarted(10000))
        return std::unexpected(Error("cannot start " + exe.toStdString() + ": " + p.errorString().toStdString()));
    QElapsedTimer clock;
    clock.start();
    while (!p.waitForFinished(100)) {
        if (p.state() == QProcess::NotRunning) break;
        const bool interrupted = stop && stop->interrupted();
        if (interrupted || clock.elapsed() > timeoutMs) {
            p.kill();
            p.waitForFinished(5000);
            if (interrupted)
                return std::unexpected(
                    Error(QFileInfo(program).fileName().toStdString() + ": interrupted", kInterrupted));
            return std::unexpected(Error(QFileInfo(program).fileName().toStdString() + " did not finish within " +
                                         std::to_string(timeoutMs / 1000) + " s"));
        }
    }
    return Run{p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
               QString::fromLocal8Bit(p.readAll()).trimmed()};
}

QString tailOf(const QString& file, int lines) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) return {};
    const qint64 size = f.size();
    f.seek(std::max<qint64>(0, size - 8192));
    QStringList all = QString::fromLocal8Bit(f.readAll()).split('\n', Qt::SkipEmptyParts);
    return all.mid(std::max<qsizetype>(0, all.size() - lines)).join('\n');
}

/// Writes a file whole or not at all, owned by `owner`.
Result<void> writeFileAs(const QString& path, const QByteArray& content, const Account& owner) {
    const QString tmp = path + ".tmp";
    QFile f(tmp);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return std::unexpected(Error("cannot write " + tmp.toStdString() + ": " + f.errorString().toStdString()));
    if (f.write(content) != content.size() || !f.flush()) {
        f.remove();
        return std::unexpected(Error("cannot write " + tmp.toStdString() + ": " + f.errorString().toStdString()));
    }
    f.close();
    if (isRoot() && ::chown(QFile::encodeName(tmp).constData(), owner.uid, owner.gid) != 0)
        return std::unexpected(Error("cannot give " + tmp.toStdString() + " to " + owner.name.toStdString() + ": " +
                                     std::strerror(errno)));
    ::chmod(QFile::encodeName(tmp).constData(), 0600);
    if (::rename(QFile::encodeName(tmp).constData(), QFile::encodeName(path).constData()) != 0)
        return std::unexpected(Error("cannot rename " + tmp.toStdString() + ": " + std::strerror(errno)));
    return {};
}

/// Creates `path` and its missing parents; as root, each new folder is made 0755, so that
/// the server account can pass through them whatever the umask (clusterDir() counts on it).
Result<void> makeHome(const QString& path) {
    QStringList missing;
    for (QString p = QFileInfo(path).absoluteFilePath(); !QFileInfo::exists(p) && p != "/"; p = QFileInfo(p).path())
        missing.prepend(p);
    for (const QString& p : missing) {
        if (::mkdir(QFile::encodeName(p).constData(), 0755) != 0 && errno != EEXIST)
            return std::unexpected(Error("cannot create folder " + p.toStdString() + ": " + std::strerror(errno)));
        if (isRoot()) ::chmod(QFile::encodeName(p).constData(), 0755);
    }
    return {};
}

Result<void> makeDirFor(const QString& path, const Account& owner, mode_t mode) {
    if (!QDir().mkpath(path))
        return std::unexpected(Error("cannot create folder " + path.toStdString() + ": " + std::strerror(errno)));
    const QByteArray p = QFile::encodeName(path);
    if (isRoot() && ::chown(p.constData(), owner.uid, owner.gid) != 0)
        return std::unexpected(Error("cannot give folder " + path.toStdString() + " to " + owner.name.toStdString() +
                                     ": " + std::strerror(errno)));
    ::chmod(p.constData(), mode);
    return {};
}

QString quoteConf(const QString& s) {
    return "'" + QString(s).replace("'", "''") + "'";
}

/// A live process whose name says it is a PostgreSQL server.
bool isLivePostgres(qint64 pid) {
    if (pid <= 0) return false;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
    QFile comm(QString("/proc/%1/comm").arg(pid));
    if (!comm.open(QIODevice::ReadOnly)) return true; // cannot tell: assume it is
    return comm.readAll().trimmed().startsWith("postgres");
}

QStringList readLines(const QString& file) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QString::fromLocal8Bit(f.readAll()).split('\n');
}

int majorOfBinDir(const QString& binDir) {
    // Debian's layout names the major version (/usr/lib/postgresql/15/bin): no need to
    // start a process, which every command would pay for.
    const auto path = QRegularExpression(R"(/postgresql/(\d+)/bin/?$)").match(binDir);
    if (path.hasMatch()) return path.captured(1).toInt();
    QProcess p;
    p.start(binDir + "/pg_ctl", {"--version"});
    if (!p.waitForFinished(10000)) return 0;
    const auto m = QRegularExpression(R"((\d+)(\.\d+)?)").match(QString::fromLocal8Bit(p.readAll()));
    return m.hasMatch() ? m.captured(1).toInt() : 0;
}

} // namespace

QString EmbeddedServer::guardModulePath() {
    QStringList candidates;
    if (const QString env = qEnvironmentVariable("PAUDM_PG_GUARD"); !env.isEmpty())
        return QFileInfo::exists(env) ? env : QString();
    // An installed program first takes the module installed beside it (under its own
    // prefix, wherever the package was put), even on a machine that also holds a build tree.
#ifdef PAUDM_GUARD_LIBDIR
    candidates << QCoreApplication::applicationDirPath() + "/../" PAUDM_GUARD_LIBDIR "/paudm/paudm_guard.so";
#endif
    candidates << QCoreApplication::applicationDirPath() + "/../lib/paudm/paudm_guard.so";
#ifdef PAUDM_GUARD_BUILD_PATH
    candidates << QStringLiteral(PAUDM_GUARD_BUILD_PATH);
#endif
#ifdef PAUDM_GUARD_INSTALL_PATH
    candidates << QStringLiteral(PAUDM_GUARD_INSTALL_PATH);
#endif
    for (const QString& c : candidates)
        if (QFileInfo(c).isFile()) return QFileInfo(c).canonicalFilePath();
    return {};
}

EmbeddedServer::EmbeddedServer(QString home, int port) : home_(QDir::cleanPath(std::move(home))), port_(port) {}

QString EmbeddedServer::defaultHome() {
    const QByteArray env = qgetenv("PAUDM_HOME");
    if (!env.isEmpty()) return QDir::cleanPath(QString::fromLocal8Bit(env));
    QString base = QString::fromLocal8Bit(qgetenv("XDG_DATA_HOME"));
    if (base.isEmpty()) base = QDir::homePath() + "/.local/share";
    return base + "/paudm";
}

Result<QString> EmbeddedServer::findBinDir() {
    const QByteArray env = qgetenv("PAUDM_PG_BINDIR");
    if (!env.isEmpty()) {
        const QString d = QString::fromLocal8Bit(env);
        if (QFileInfo(d + "/pg_ctl").isExecutable()) return d;
        return std::unexpected(Error("PAUDM_PG_BINDIR=" + d.toStdString() + " has no pg_ctl"));
    }
    QDir lib("/usr/lib/postgresql");
    QStringList versions = lib.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    std::sort(versions.begin(), versions.end(),
              [](const QString& a, const QString& b) { return a.toInt() > b.toInt(); });
    for (const QString& v : versions)
        if (QFileInfo(lib.filePath(v + "/bin/pg_ctl")).isExecutable()) return lib.filePath(v + "/bin");
    QProcess p;
    p.start("pg_config", {"--bindir"});
    if (p.waitForFinished(10000) && p.exitCode() == 0) {
        const QString d = QString::fromLocal8Bit(p.readAll()).trimmed();
        if (QFileInfo(d + "/pg_ctl").isExecutable()) return d;
    }
    return std::unexpected(Error("no PostgreSQL server binaries (initdb, pg_ctl) found: install Debian's "
                                 "'postgresql' package, or set PAUDM_PG_BINDIR, or use an external server "
                                 "with --db / PAUDM_DB"));
}

std::string EmbeddedServer::superuserRole() {
    return currentAccount().name.toStdString();
}

QString EmbeddedServer::clusterDir() const {
    if (!isRoot()) return home_;
    const QString pointer = home_ + "/cluster";
    if (QFile::exists(pointer)) {
        const QStringList l = readLines(pointer);
        if (!l.isEmpty() && !l.first().trimmed().isEmpty()) return l.first().trimmed();
    }
    // Decided the same way before and after the home folder exists (start() creates the
    // missing folders traversable): by the nearest folder on its path that exists now.
    QString existing = QFileInfo(home_).absoluteFilePath();
    while (!QFileInfo::exists(existing) && existing != "/")
        existing = QFileInfo(existing).path();
    const auto account = serverAccount();
    if (account && canTraverse(existing, *account)) return home_;
    const QByteArray id =
        QCryptographicHash::hash(QFileInfo(home_).absoluteFilePath().toUtf8(), QCryptographicHash::Sha1)
            .toHex()
            .left(12);
    return "/var/lib/paudm/" + QString::fromLatin1(id);
}

ServerStatus EmbeddedServer::status() const {
    ServerStatus s;
    const QString cluster = clusterDir();
    s.dataDir = cluster + "/pgdata";
    s.socketDir = cluster + "/run";
    s.logFile = cluster + "/log/postgresql.log";
    s.port = port_;
    if (auto a = serverAccount()) s.serverAccount = a->name;
    s.initialised = QFileInfo::exists(s.dataDir + "/PG_VERSION");
    if (auto bin = findBinDir()) s.binDir = *bin;
    if (QFileInfo::exists(cluster + "/lib/paudm_guard.so")) s.guardModule = cluster + "/lib/paudm_guard.so";
    if (!s.initialised) return s;
    const QStringList pid = readLines(s.dataDir + "/postmaster.pid");
    if (!pid.isEmpty()) {
        s.pid = pid.first().toLongLong();
        s.running = isLivePostgres(s.pid);
        if (!s.running) s.pid = 0;
    }
    return s;
}

std::string EmbeddedServer::uri(bool readOnly) const {
    const QString socket = clusterDir() + "/run";
    const QByteArray user = QByteArray::fromStdString(readOnly ? std::string(readerRole) : superuserRole());
    return "postgresql:///" + databaseName() + "?host=" + QUrl::toPercentEncoding(socket, "/").toStdString() +
           "&port=" + std::to_string(port_) + "&user=" + QUrl::toPercentEncoding(QString::fromUtf8(user)).toStdString();
}

Result<void> EmbeddedServer::checkOwnership() const {
    const auto account = serverAccount();
    if (!account) return std::unexpected(account.error());
    const QString data = clusterDir() + "/pgdata";
    struct stat st {};
    if (::stat(QFile::encodeName(data).constData(), &st) != 0) return {};
    if (st.st_uid != account->uid) {
        const passwd* pw = getpwuid(st.st_uid);
        const std::string owner = pw ? pw->pw_name : std::to_string(st.st_uid);
        return std::unexpected(Error("data folder " + data.toStdString() + " is owned by '" + owner +
                                     "', but the embedded server runs as '" + account->name.toStdString() +
                                     "': point PAUDM_HOME at a folder of your own, or fix the owner"));
    }
    return {};
}

Result<void> EmbeddedServer::initialise(const QString& binDir, const Interrupter* stop) {
    const auto account = serverAccount();
    if (!account) return std::unexpected(account.error());
    const QString cluster = clusterDir();
    if (cluster != home_) {
        // root's home is closed to the server account: keep the cluster where it can go.
        if (auto r = makeDirFor(QFileInfo(cluster).path(), currentAccount(), 0755); !r) return r;
        if (auto r = makeDirFor(cluster, currentAccount(), 0755); !r) return r;
        if (auto r = writeFileAs(home_ + "/cluster", (cluster + "\n").toLocal8Bit(), currentAccount()); !r) return r;
    }
    // initdb writes into a temporary folder that is renamed into place only when complete,
    // so an interrupted first start never leaves a half-made cluster under the final name.
    QDir clusterQDir(cluster);
    for (const QString& leftover : clusterQDir.entryList({"pgdata.init-*"}, QDir::Dirs))
        QDir(clusterQDir.filePath(leftover)).removeRecursively();
    const QString tmp = cluster + "/pgdata.init-" + QString::number(::getpid());
    if (auto r = makeDirFor(tmp, *account, 0700); !r) return r;
    const QString role = QString::fromStdString(superuserRole());
    auto run = runAsServer(binDir + "/initdb",
                           {"-D", tmp, "-U", role, "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=peer",
                            "--auth-host=reject", "--no-instructions"},
                           120000, stop);
    if (!run || run->exitCode != 0) {
        QDir(tmp).removeRecursively();
        if (!run) return std::unexpected(run.error().withContext("initdb of " + (cluster + "/pgdata").toStdString()));
        return std::unexpected(
            Error("initdb of " + (cluster + "/pgdata").toStdString() + " failed:\n" + run->output.toStdString()));
    }
    // Local socket only; every OS user other than ours is refused by the ident map.
    QByteArray hba = "# PAUdm embedded server: Unix socket only, peer authentication through map 'paudm'.\n"
                     "local all all peer map=paudm\n";
    QByteArray ident = "# OS user        database role\n";
    ident += "paudm " + role.toLocal8Bit() + " " + role.toLocal8Bit() + "\n";
    ident += "paudm " + role.toLocal8Bit() + " " + readerRole + "\n";
    if (account->name != role) ident += "paudm " + account->name.toLocal8Bit() + " " + role.toLocal8Bit() + "\n";
    if (auto r = writeFileAs(tmp + "/pg_hba.conf", hba, *account); !r) return r;
    if (auto r = writeFileAs(tmp + "/pg_ident.conf", ident, *account); !r) return r;
    QFile conf(tmp + "/postgresql.conf");
    if (!conf.open(QIODevice::Append)) return std::unexpected(Error("cannot edit " + conf.fileName().toStdString()));
    conf.write(
        "\n# Settings of the PAUdm embedded server, rewritten at every start.\ninclude_if_exists = 'paudm.conf'\n");
    conf.close();
    if (::rename(QFile::encodeName(tmp).constData(), QFile::encodeName(cluster + "/pgdata").constData()) != 0)
        return std::unexpected(Error("cannot move the new cluster into " + (cluster + "/pgdata").toStdString() + ": " +
                                     std::strerror(errno)));
    return {};
}

Result<void> EmbeddedServer::removeStaleLocks() const {
    const QString cluster = clusterDir();
    const QString pidFile = cluster + "/pgdata/postmaster.pid";
    const QStringList pid = readLines(pidFile);
    if (!pid.isEmpty() && !isLivePostgres(pid.first().toLongLong())) {
        // Left by a server that crashed or a machine that rebooted: the PID is gone or
        // belongs to something else now, and PostgreSQL would refuse to start.
        QFile::remove(pidFile);
    }
    const QString socketLock = QString("%1/run/.s.PGSQL.%2.lock").arg(cluster).arg(port_);
    const QStringList lock = readLines(socketLock);
    if (!lock.isEmpty()) {
        const qint64 owner = lock.first().toLongLong();
        if (!isLivePostgres(owner)) {
            QFile::remove(socketLock);
        } else if (lock.size() > 1 && QDir::cleanPath(lock.at(1)) != QDir::cleanPath(cluster + "/pgdata")) {
            return std::unexpected(Error("socket " + socketLock.chopped(5).toStdString() +
                                             " is in use by another PostgreSQL server (pid " + std::to_string(owner) +
                                             ", data folder " + lock.at(1).toStdString() +
                                             "): stop it, or choose another port with PAUDM_PORT",
                                         "EADDRINUSE"));
        }
    }
    return {};
}

Result<void> EmbeddedServer::ensureDatabase(const std::shared_ptr<Interrupter>& stop) const {
    return capture([&] {
        const std::string socket = (clusterDir() + "/run").toStdString();
        Connection c = Connection::open("host=" + conninfoValue(socket) + " port=" + std::to_string(port_) +
                                            " dbname=postgres user=" + conninfoValue(superuserRole()),
                                        "paudm-embedded", stop);
        if (c.query("SELECT 1 FROM pg_database WHERE datname = $1", databaseName()).size() == 0) {
            try {
                c.exec("CREATE DATABASE " + c.quoteIdentifier(databaseName()));
            } catch (const Error& e) {
                if (e.code() != "42P04") throw; // created meanwhile by another process: fine
            }
        }
    });
}

Result<void> EmbeddedServer::start(const std::shared_ptr<Interrupter>& stop) {
    const Account me = currentAccount();
    if (QFileInfo(home_).exists() && !QFileInfo(home_).isDir())
        return std::unexpected(Error("PAUDM_HOME " + home_.toStdString() + " is not a folder"));
    if (auto r = makeHome(home_); !r) return std::unexpected(r.error().withContext("PAUDM_HOME"));
    if (::access(QFile::encodeName(home_).constData(), W_OK | X_OK) != 0)
        return std::unexpected(Error("PAUDM_HOME " + home_.toStdString() + " is not writable by '" +
                                         me.name.toStdString() + "': " + std::strerror(errno),
                                     "EACCES"));
    if (!isRoot()) ::chmod(QFile::encodeName(home_).constData(), 0700);

    // One process at a time initialises and starts; the others wait, then find it running.
    QLockFile lock(home_ + "/.server.lock");
    lock.setStaleLockTime(0);
    QElapsedTimer waited;
    waited.start();
    while (!lock.tryLock(100)) {
        if (stop && stop->interrupted())
            return std::unexpected(Error("starting the embedded server: interrupted", kInterrupted));
        if (waited.elapsed() > 120000)
            return std::unexpected(
                Error("another process holds " + (home_ + "/.server.lock").toStdString() + " for more than 2 minutes"));
    }

    auto binDir = findBinDir();
    if (!binDir) return std::unexpected(binDir.error());
    const auto account = serverAccount();
    if (!account) return std::unexpected(account.error());

    const QString cluster = clusterDir();
    const QString data = cluster + "/pgdata";
    if (auto r = checkOwnership(); !r) return r;
    if (!QFileInfo::exists(data + "/PG_VERSION")) {
        if (QFileInfo::exists(data) && !QDir(data).isEmpty())
            return std::unexpected(Error("data folder " + data.toStdString() +
                                         " exists but is not a PostgreSQL cluster (no PG_VERSION): move it away"));
        if (QFileInfo::exists(data)) QDir(data).removeRecursively();
        if (auto r = initialise(*binDir, stop.get()); !r) return r;
    }
    const int clusterMajor = readLines(data + "/PG_VERSION").value(0).trimmed().toInt();
    const int binMajor = majorOfBinDir(*binDir);
    if (binMajor && clusterMajor != binMajor)
        return std::unexpected(Error("cluster " + data.toStdString() + " was made by PostgreSQL " +
                                     std::to_string(clusterMajor) + " but the binaries in " + binDir->toStdString() +
                                     " are version " + std::to_string(binMajor) +
                                     ": set PAUDM_PG_BINDIR, or upgrade the cluster with pg_upgrade"));

    if (auto r = makeDirFor(cluster + "/run", *account, 0700); !r) return r;
    if (auto r = makeDirFor(cluster + "/log", *account, 0700); !r) return r;
    QByteArray conf;
    conf += "listen_addresses = ''\n";
    conf += "port = " + QByteArray::number(port_) + "\n";
    conf += "unix_socket_directories = " + quoteConf(cluster + "/run").toLocal8Bit() + "\n";
    conf += "unix_socket_permissions = 0700\n";
    conf += "max_connections = 300\n";
    conf += "log_line_prefix = '%m [%p] %q%u@%d '\n";
    conf += "log_timezone = 'UTC'\ntimezone = 'UTC'\n";
    // The guard keeps the SQL browser's role inside its statement timeout. The server
    // loads its own copy from the cluster folder, which the server account can always read.
    const QString guard = guardModulePath();
    if (!guard.isEmpty()) {
        if (auto r = makeDirFor(cluster + "/lib", *account, 0700); !r) return r;
        QFile module(guard);
        if (!module.open(QIODevice::ReadOnly))
            return std::unexpected(
                Error("cannot read " + guard.toStdString() + ": " + module.errorString().toStdString()));
        if (auto r = writeFileAs(cluster + "/lib/paudm_guard.so", module.readAll(), *account); !r) return r;
        conf += "shared_preload_libraries = '\"" +
                QString(cluster + "/lib/paudm_guard").replace("'", "''").toLocal8Bit() + "\"'\n";
        conf += "paudm_guard.role = '" + QByteArray(readerRole) + "'\n";
        conf += "paudm_guard.max_statement_timeout = " + QByteArray::number(kReaderTimeoutMs) + "\n";
    }
    if (auto r = writeFileAs(data + "/paudm.conf", conf, *account); !r) return r;

    if (status().running) return ensureDatabase(stop);
    if (auto r = removeStaleLocks(); !r) return r;
    const QString log = cluster + "/log/postgresql.log";
    auto run =
        runAsServer(*binDir + "/pg_ctl", {"start", "-D", data, "-l", log, "-w", "-t", "60", "-s"}, 120000, stop.get());
    if (!run) return std::unexpected(run.error().withContext("starting the embedded server"));
    if (run->exitCode != 0) {
        QString why = tailOf(log, 8);
        if (why.isEmpty()) why = run->output;
        return std::unexpected(Error("the embedded PostgreSQL server in " + data.toStdString() +
                                     " did not start (socket " + (cluster + "/run").toStdString() + ", port " +
                                     std::to_string(port_) + "):\n" + why.toStdString()));
    }
    return ensureDatabase(stop);
}

Result<void> EmbeddedServer::stop() {
    const ServerStatus s = status();
    if (!s.initialised || !s.running) return {};
    auto bin = findBinDir();
    if (!bin) return std::unexpected(bin.error());
    auto run = runAsServer(*bin + "/pg_ctl", {"stop", "-D", s.dataDir, "-m", "fast", "-w", "-t", "60", "-s"});
    if (!run) return std::unexpected(run.error().withContext("stopping the embedded server"));
    if (run->exitCode != 0)
        return std::unexpected(
            Error("pg_ctl stop for " + s.dataDir.toStdString() + " failed: " + run->output.toStdString()));
    return {};
}

} // namespace paudm::db
