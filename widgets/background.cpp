#include "background.h"

#include <QCoreApplication>
#include <QThread>
#include <QThreadPool>

#include <algorithm>
#include <map>
#include <vector>

namespace paudm::ui {

namespace {

/// The console's worker threads. Their threads never expire, so that the connections they
/// keep stay open between the live panels' refreshes. Never deleted: at exit the threads
/// are idle (interruptEverything() and drain()), and the process simply ends.
QThreadPool* pool() {
    static QThreadPool* p = [] {
        auto* tp = new QThreadPool;
        tp->setMaxThreadCount(std::max(4, QThread::idealThreadCount() + 2));
        tp->setExpiryTimeout(-1);
        return tp;
    }();
    return p;
}

/// Each worker thread's connections, by connection string.
thread_local std::map<std::string, std::unique_ptr<db::Connection>> t_connections;

std::mutex g_registryMutex;
std::vector<std::weak_ptr<void>>& registry() {
    static std::vector<std::weak_ptr<void>> r;
    return r;
}

} // namespace

// ---------------------------------------------------------------- Work

db::Connection& Work::db() {
    if (conninfo_.empty()) throw Error("this panel has no database yet");
    checkCancelled();
    if (attached_) return *attached_;
    auto& slot = t_connections[conninfo_];
    if (slot && !slot->isHealthy()) slot.reset();
    if (!slot) {
        slot = std::make_unique<db::Connection>(db::Connection::open(conninfo_, "paudm console", interrupter_));
    } else {
        slot->setInterrupter(interrupter_);
    }
    attached_ = slot.get();
    return *attached_;
}

void Work::checkCancelled() const {
    if (cancelled()) throw Error("cancelled", db::kInterrupted);
}

void Work::finish() {
    if (!attached_) return;
    auto it = t_connections.find(conninfo_);
    if (interrupter_->interrupted()) {
        // Its socket was shut down: useless now. The next call opens a new one.
        if (it != t_connections.end()) t_connections.erase(it);
    } else {
        attached_->setInterrupter(nullptr);
    }
    attached_ = nullptr;
}

// ---------------------------------------------------------------- Background

Background::Background(std::string conninfo) : conninfo_(std::move(conninfo)) {
    std::lock_guard lock(g_registryMutex);
    auto& r = registry();
    std::erase_if(r, [](const std::weak_ptr<void>& w) { return w.expired(); });
    r.push_back(std::static_pointer_cast<void>(shared_));
}

Background::~Background() {
    std::lock_guard lock(shared_->mutex);
    for (const auto& c : shared_->calls) {
        c->droppedFlag = true;
        c->interrupter->interrupt();
    }
}

std::shared_ptr<Background::Call> Background::start() {
    auto call = std::make_shared<Call>();
    std::weak_ptr<Shared> weak = shared_;
    Call* raw = call.get();
    call->onFinished = [weak, raw] {
        if (auto s = weak.lock()) {
            std::lock_guard lock(s->mutex);
            for (auto it = s->calls.begin(); it != s->calls.end(); ++it)
                if (it->get() == raw) {
                    s->calls.erase(it);
                    break;
                }
        }
    };
    std::lock_guard lock(shared_->mutex);
    shared_->calls.insert(call);
    return call;
}

void Background::submit(std::function<void()> task) {
    pool()->start(std::move(task));
}

void Background::deliver(std::function<void()> onGuiThread) {
    QCoreApplication* app = QCoreApplication::instance();
    if (!app) return;
    // Posted to the application object, which outlives every panel; the guard inside
    // is checked on the GUI thread, where panels are deleted.
    QMetaObject::invokeMethod(app, std::move(onGuiThread), Qt::QueuedConnection);
}

void Background::cancelStatements() {
    std::lock_guard lock(shared_->mutex);
    for (const auto& c : shared_->calls) {
        c->cancelled->store(true);
        c->interrupter->cancelStatements();
    }
}

void Background::interrupt() {
    std::lock_guard lock(shared_->mutex);
    for (const auto& c : shared_->calls) {
        c->droppedFlag = true;
        c->interrupter->interrupt();
    }
}

int Background::running() const {
    std::lock_guard lock(shared_->mutex);
    return static_cast<int>(shared_->calls.size());
}

void Background::interruptEverything() {
    std::vector<std::shared_ptr<Shared>> all;
    {
        std::lock_guard lock(g_registryMutex);
        for (const auto& w : registry())
            if (auto s = w.lock()) all.push_back(std::static_pointer_cast<Shared>(s));
    }
    for (const auto& s : all) {
        std::lock_guard lock(s->mutex);
        for (const auto& c : s->calls) {
            c->droppedFlag = true;
            c->interrupter->interrupt();
        }
    }
}

bool Background::drain(int ms) {
    return pool()->waitForDone(ms);
}

} // namespace paudm::ui
