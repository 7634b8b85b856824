// A test process that dies badly: it starts its embedded cluster as every database test
// does, says where, and aborts. test_cleanup checks that the cluster goes with it.
#include "testserver.h"

#include <QCoreApplication>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    auto& server = paudm::test::TestServer::instance();
    const auto status = server.server().status();
    std::printf("home %s\npid %lld\n", qPrintable(server.home()), static_cast<long long>(status.pid));
    std::fflush(stdout);
    std::abort();
}
