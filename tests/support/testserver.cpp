#include "testserver.h"

#include "db/connection.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace paudm::test {

QString makeTempHome(const QString& tag) {
    QByteArray pattern = QFile::encodeName(QDir::tempPath() + "/paudm-test-" + tag + "-XXXXXX");
    if (!::mkdtemp(pattern.data())) throw Error("cannot make a temporary folder for " + tag.toStdString());
    ::chmod(pattern.constData(), 0755);
    return QFile::decodeName(pattern);
}

TestServer& TestServer::instance() {
    static TestServer s;
    return s;
}

TestServer::TestServer() {
    home_ = makeTempHome(QCoreApplication::applicationName().isEmpty() ? QString("db")
                                                                       : QCoreApplication::applicationName());
    server_ = std::make_unique<db::EmbeddedServer>(home_);
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
