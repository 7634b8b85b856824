#include "testserver.h"

#include "db/connection.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace paudm::test {

QString makeTempHome(const QString& tag) {
    QByteArray pattern = QFile::encodeName(QDir::tempPath() + "/paudm-test-" + tag + "-XXXXXX");
    if (!::mkdtemp(pattern.data())) throw Error("cannot make a temporary folder for " + tag.toStdString());
    ::chmod(pattern.constData(), 0755);
    return QFile::decodeName(pattern);
}

namespace {
std::string shellQuote(const QString& s) {
    std::string out = "'";
    for (char ch : s.toStdString())
        out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return out + "'";
}
} // namespace

void cleanUpWhenThisProcessEnds(const std::string& shellCommand) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw Error(std::string("cannot make the watchdog's pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], 0); // its stdin: the read end (dup2 clears CLOEXEC)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // A session of its own: ctest killing the test's process group must not take it along.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    const std::string script = "cat >/dev/null; " + shellCommand;
    const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(fds[0]);
    if (rc != 0) {
        ::close(fds[1]);
        throw Error(std::string("cannot start the watchdog: ") + std::strerror(rc));
    }
    // fds[1] stays open, unseen by children (CLOEXEC), until this process ends.
}

std::string stopClusterCommand(const QString& clusterDir, const QString& removeDir) {
    const std::string pidFile = shellQuote(clusterDir + "/pgdata/postmaster.pid");
    return "pid=$(head -n 1 " + pidFile +
           " 2>/dev/null); if [ -n \"$pid\" ]; then kill -QUIT \"$pid\" 2>/dev/null; "
           "for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 \"$pid\" 2>/dev/null || break; sleep 0.5; done; "
           "kill -KILL \"$pid\" 2>/dev/null; fi; rm -rf " +
           shellQuote(removeDir);
}

SilentPort::SilentPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n) != 0)
        throw Error(std::string("cannot open a silent port: ") + std::strerror(errno));
    port_ = ntohs(a.sin_port);
}

SilentPort::~SilentPort() {
    if (fd_ >= 0) ::close(fd_);
}

std::string SilentPort::conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=paudb user=pau connect_timeout=60";
}

TestServer& TestServer::instance() {
    static TestServer s;
    return s;
}

TestServer::TestServer() {
    home_ = makeTempHome(QCoreApplication::applicationName().isEmpty() ? QString("db")
                                                                       : QCoreApplication::applicationName());
    server_ = std::make_unique<db::EmbeddedServer>(home_);
    // Whatever becomes of this process, the cluster goes with it (PAUDM_TEST_KEEP keeps it
    // for a post-mortem, as the normal exit does).
    if (!qEnvironmentVariableIsSet("PAUDM_TEST_KEEP"))
        cleanUpWhenThisProcessEnds(stopClusterCommand(server_->clusterDir(), home_));
    if (auto r = server_->start(); !r) throw r.error();
}

TestServer::~TestServer() {
    if (server_) (void)server_->stop();
    if (!home_.isEmpty() && !qEnvironmentVariableIsSet("PAUDM_TEST_KEEP")) QDir(home_).removeRecursively();
}

std::string TestServer::conninfoAs(const std::string& role, const std::string& dbname) const {
    return "host=" + db::conninfoValue((server_->clusterDir() + "/run").toStdString()) +
           " dbname=" + db::conninfoValue(dbname) + " user=" + db::conninfoValue(role);
}

std::string TestServer::conninfo(const std::string& dbname) const {
    return conninfoAs(db::EmbeddedServer::superuserRole(), dbname);
}

std::string TestServer::readerConninfo(const std::string& dbname) const {
    return conninfoAs(db::EmbeddedServer::readerRole, dbname);
}

std::string TestServer::freshDatabase(const std::string& name) {
    db::Connection c = db::Connection::open(conninfo("postgres"), "test setup");
    c.exec("DROP DATABASE IF EXISTS " + c.quoteIdentifier(name) + " WITH (FORCE)");
    c.exec("CREATE DATABASE " + c.quoteIdentifier(name));
    return conninfo(name);
}

} // namespace paudm::test
