#include "common/stop_signals.h"

#include "common/error.h"
#include "common/workers.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace paudm {

namespace {

// The write end of the pipe, for the handler. Written once before the handlers are
// installed and cleared after they are restored.
volatile sig_atomic_t g_writeFd = -1;
struct sigaction g_previousInt, g_previousTerm;
std::atomic<bool> g_installed{false};

extern "C" void onStopSignal(int signo) {
    const int saved = errno; // write() may change it under the interrupted code's feet
    const unsigned char byte = static_cast<unsigned char>(signo);
    if (g_writeFd >= 0) (void)!::write(g_writeFd, &byte, 1);
    errno = saved;
}

} // namespace

StopSignals::StopSignals(std::function<void(int, int)> onSignal) : onSignal_(std::move(onSignal)) {
    if (g_installed.exchange(true)) throw Error("StopSignals: only one may be installed at a time");
    if (::pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
        g_installed = false;
        throw Error(std::string("cannot create the signal pipe: ") + std::strerror(errno));
    }
    g_writeFd = pipe_[1];
    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &sa, &g_previousInt);
    ::sigaction(SIGTERM, &sa, &g_previousTerm);
    thread_ = startGuardedThread(
        [this] {
            int count = 0;
            for (;;) {
                pollfd p{pipe_[0], POLLIN, 0};
                if (::poll(&p, 1, -1) < 0 && errno != EINTR) return;
                unsigned char byte = 0;
                const ssize_t n = ::read(pipe_[0], &byte, 1);
                if (n == 0) return; // the write end was closed: we are being destroyed
                if (n < 0) continue;
                if (byte == 0) return; // the destructor's wake-up
                try {
                    onSignal_(byte, ++count);
                } catch (...) {
                    std::fprintf(stderr, "paudm: while handling %s: %s\n", name(byte),
                                 describeCurrentException().c_str());
                }
            }
        },
        {});
}

StopSignals::~StopSignals() {
    ::sigaction(SIGINT, &g_previousInt, nullptr);
    ::sigaction(SIGTERM, &g_previousTerm, nullptr);
    const unsigned char stop = 0;
    (void)!::write(pipe_[1], &stop, 1);
    if (thread_.joinable()) thread_.join();
    g_writeFd = -1;
    ::close(pipe_[0]);
    ::close(pipe_[1]);
    g_installed = false;
}

const char* StopSignals::name(int signo) {
    switch (signo) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    default:
        return "a signal";
    }
}

} // namespace paudm
