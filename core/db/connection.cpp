#include "db/connection.h"

#include <libpq-fe.h>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>

namespace paudm::db {

namespace {

struct ResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

std::string replaceAll(std::string s, const std::string& what, const std::string& with) {
    if (what.empty()) return s;
    for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + with.size()))
        s.replace(p, what.size(), with);
    return s;
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

struct ParsedConninfo {
    std::string description;
    std::string password;
    std::string error;
};

ParsedConninfo parseConninfo(const std::string& conninfo) {
    ParsedConninfo out;
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
    if (!opts) {
        out.error = err ? trimmed(err) : "invalid connection string";
        PQfreemem(err);
        out.description = "(unparsable connection string)";
        return out;
    }
    std::string host, hostaddr, port, dbname, user, service;
    for (PQconninfoOption* o = opts; o->keyword; ++o) {
        if (!o->val) continue;
        const std::string k = o->keyword;
        if (k == "host")
            host = o->val;
        else if (k == "hostaddr")
            hostaddr = o->val;
        else if (k == "port")
            port = o->val;
        else if (k == "dbname")
            dbname = o->val;
        else if (k == "user")
            user = o->val;
        else if (k == "service")
            service = o->val;
        else if (k == "password")
            out.password = o->val;
    }
    PQconninfoFree(opts);
    std::string d;
    auto add = [&d](const char* k, const std::string& v) {
        if (v.empty()) return;
        if (!d.empty()) d += ' ';
        d += k;
        d += '=';
        d += v;
    };
    add("service", service);
    add("host", host.empty() && hostaddr.empty() ? std::string("(default socket)") : host);
    add("hostaddr", hostaddr);
    add("port", port);
    add("dbname", dbname);
    add("user", user);
    out.description = d;
    return out;
}

} // namespace

Param toParam(double v) {
    if (std::isnan(v)) return std::string("NaN");
    if (std::isinf(v)) return std::string(v > 0 ? "Infinity" : "-Infinity");
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v); // shortest exact round trip
    return std::string(buf, p);
}

namespace {
template <class T, class F> std::string arrayLiteral(const std::vector<T>& v, F element) {
    std::string out = "{";
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        element(out, v[i]);
    }
    return out + "}";
}
void quotedElement(std::string& out, const std::string& s) {
    out += '"';
    for (char ch : s) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    out += '"';
}
} // namespace

Param toParam(const std::vector<std::string>& v) {
    return arrayLiteral(v, quotedElement);
}
Param toParam(const std::vector<std::optional<std::string>>& v) {
    return arrayLiteral(v, [](std::string& out, const std::optional<std::string>& s) {
        if (s)
            quotedElement(out, *s);
        else
            out += "NULL";
    });
}
Param toParam(const std::vector<std::int64_t>& v) {
    return arrayLiteral(v, [](std::string& out, std::int64_t x) { out += std::to_string(x); });
}
Param toParam(const std::vector<int>& v) {
    return arrayLiteral(v, [](std::string& out, int x) { out += std::to_string(x); });
}
Param toParam(const std::vector<bool>& v) {
    return arrayLiteral(v, [](std::string& out, bool x) { out += x ? 't' : 'f'; });
}

std::string describeConninfo(const std::string& conninfo) {
    return parseConninfo(conninfo).description;
}

bool isTransient(const Error& e) {
    const std::string& c = e.code();
    return c == "40P01" || c == "40001" || c.starts_with("08") || c == "57P01" || c == "57P02" || c == "57P03";
}

std::string conninfoValue(std::string_view value) {
    std::string out = "'";
    for (char ch : value) {
        if (ch == '\\' || ch == '\'') out += '\\';
        out += ch;
    }
    return out + "'";
}

std::string conninfoToUri(const std::string& conninfo) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
    if (!opts) {
        const std::string why = err ? trimmed(err) : "invalid connection string";
        PQfreemem(err);
        throw Error("bad connection string: " + why, "08001");
    }
    auto encode = [](const std::string& v) {
        std::string out;
        for (unsigned char ch : v) {
            if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/') {
                out += static_cast<char>(ch);
            } else {
                char buf[4];
                std::snprintf(buf, sizeof buf, "%%%02X", ch);
                out += buf;
            }
        }
        return out;
    };
    std::string dbname, query;
    for (PQconninfoOption* o = opts; o->keyword; ++o) {
        if (!o->val || !*o->val) continue;
        const std::string k = o->keyword;
        if (k == "password") continue;
        if (k == "dbname") {
            dbname = o->val;
            continue;
        }
        query += (query.empty() ? "?" : "&") + k + "=" + encode(o->val);
    }
    PQconninfoFree(opts);
    return "postgresql:///" + encode(dbname) + query;
}

// ---------------------------------------------------------------- Rows

int Rows::size() const {
    return res_ ? PQntuples(res_.get()) : 0;
}
int Rows::columns() const {
    return res_ ? PQnfields(res_.get()) : 0;
}
std::string Rows::columnName(int c) const {
    return PQfname(res_.get(), c);
}
unsigned Rows::columnType(int c) const {
    return PQftype(res_.get(), c);
}
int Rows::columnTypeModifier(int c) const {
    return PQfmod(res_.get(), c);
}
int Rows::columnIndex(std::string_view name) const {
    for (int c = 0; c < columns(); ++c)
        if (name == PQfname(res_.get(), c)) return c;
    return -1;
}
bool Rows::isNull(int r, int c) const {
    return PQgetisnull(res_.get(), r, c) != 0;
}
std::string_view Rows::text(int r, int c) const {
    return {PQgetvalue(res_.get(), r, c), static_cast<size_t>(PQgetlength(res_.get(), r, c))};
}
std::optional<std::string> Rows::optText(int r, int c) const {
    if (isNull(r, c)) return std::nullopt;
    return std::string(text(r, c));
}
std::int64_t Rows::toInt(int r, int c) const {
    const auto t = text(r, c);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || p != t.data() + t.size())
        throw Error("column '" + columnName(c) + "' row " + std::to_string(r) + ": '" + std::string(t) +
                    "' is not an integer");
    return v;
}
double Rows::toDouble(int r, int c) const {
    const std::string t(text(r, c));
    if (t == "NaN") return NAN;
    if (t == "Infinity") return INFINITY;
    if (t == "-Infinity") return -INFINITY;
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (t.empty() || *end != '\0')
        throw Error("column '" + columnName(c) + "' row " + std::to_string(r) + ": '" + t + "' is not a number");
    return v;
}
bool Rows::toBool(int r, int c) const {
    return text(r, c) == "t";
}
std::int64_t Rows::affected() const {
    const char* n = res_ ? PQcmdTuples(res_.get()) : "";
    return *n ? std::strtoll(n, nullptr, 10) : 0;
}

// ---------------------------------------------------------------- Connection

// ---------------------------------------------------------------- Interrupter

void Interrupter::interrupt() {
    std::lock_guard lock(mutex_);
    interrupted_ = true;
    // A blocked recv/send/poll on the socket returns at once; the descriptor stays open
    // (its owner closes it), so it cannot be reused under anyone's feet.
    for (const Attached& a : attached_)
        if (a.socket >= 0) ::shutdown(a.socket, SHUT_RDWR);
}

void Interrupter::cancelStatements() {
    std::lock_guard lock(mutex_);
    for (const Attached& a : attached_) {
        if (!a.cancel) continue;
        // PQcancel connects to the server and waits for it to answer: never on the
        // caller's thread (a GUI thread, say). The thread owns its reference to the cancel
        // object and nothing else, so it may outlive everything here.
        std::thread([cancel = a.cancel] {
            char error[256];
            (void)PQcancel(cancel.get(), error, sizeof error);
        }).detach();
    }
}

void Interrupter::attach(pg_conn* conn) {
    std::shared_ptr<pg_cancel> cancel(PQgetCancel(conn), [](pg_cancel* c) {
        if (c) PQfreeCancel(c);
    });
    std::lock_guard lock(mutex_);
    const int socket = PQsocket(conn);
    attached_.push_back({conn, socket, std::move(cancel)});
    if (interrupted_ && socket >= 0) ::shutdown(socket, SHUT_RDWR);
}

void Interrupter::detach(pg_conn* conn) {
    std::lock_guard lock(mutex_);
    std::erase_if(attached_, [conn](const Attached& a) { return a.conn == conn; });
}

// ---------------------------------------------------------------- Connection

namespace {

/// connect_timeout in force for a connection being made (libpq enforces it only for the
/// blocking connect; the polling loop below enforces it itself).
double connectTimeoutOf(pg_conn* conn) {
    double seconds = 0;
    if (PQconninfoOption* opts = PQconninfo(conn)) {
        for (PQconninfoOption* o = opts; o->keyword; ++o)
            if (std::strcmp(o->keyword, "connect_timeout") == 0 && o->val) seconds = std::atof(o->val);
        PQconninfoFree(opts);
    }
    return seconds > 0 ? std::max(seconds, 2.0) : 0; // libpq's own floor is 2 s
}

} // namespace

Connection Connection::open(const std::string& conninfo, std::string_view purpose,
                            std::shared_ptr<Interrupter> interrupter) {
    Connection c;
    const ParsedConninfo parsed = parseConninfo(conninfo);
    c.target_ = parsed.description;
    c.secret_ = parsed.password;
    if (!parsed.error.empty())
        throw Error("cannot connect to PostgreSQL: bad connection string: " +
                        replaceAll(parsed.error, parsed.password, "****"),
                    "08001");
    const std::string app(purpose);
    // Our defaults first: with expand_dbname=1 the connection string given as dbname is
    // expanded in place, and what it sets wins over the defaults before it.
    const char* keys[] = {"application_name", "connect_timeout", "dbname", nullptr};
    const char* vals[] = {app.c_str(), "10", conninfo.c_str(), nullptr};
    // The non-blocking connect, so that an interrupter can stop it at any moment, even
    // against a server that accepts the connection and never answers.
    c.conn_ = PQconnectStartParams(keys, vals, 1);
    if (!c.conn_) throw Error("cannot connect to PostgreSQL at " + c.target_ + ": out of memory", "53200");
    if (PQstatus(c.conn_) == CONNECTION_BAD) c.fail("cannot connect to PostgreSQL at " + c.target_);
    const double timeout = connectTimeoutOf(c.conn_);
    const auto start = std::chrono::steady_clock::now();
    PostgresPollingStatusType state = PGRES_POLLING_WRITING;
    while (state != PGRES_POLLING_OK) {
        if (state == PGRES_POLLING_FAILED) c.fail("cannot connect to PostgreSQL at " + c.target_);
        if (interrupter && interrupter->interrupted())
            throw Error("connecting to PostgreSQL at " + c.target_ + ": interrupted", kInterrupted);
        const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (timeout > 0 && waited >= timeout)
            throw Error("cannot connect to PostgreSQL at " + c.target_ + ": no answer within " +
                            std::to_string(static_cast<int>(timeout)) + " s (connect_timeout)",
                        "08001");
        pollfd p{PQsocket(c.conn_), static_cast<short>(state == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
        const int rc = ::poll(&p, 1, 50); // short slices: the interrupter is looked at 20 times a second
        if (rc < 0 && errno != EINTR)
            throw Error("connecting to PostgreSQL at " + c.target_ + ": " + std::strerror(errno), "08001");
        if (rc > 0) state = PQconnectPoll(c.conn_);
    }
    if (interrupter) c.setInterrupter(std::move(interrupter));
    // libpq prints the server's notices on stderr by default, among them the FATAL a
    // session gets when it is terminated: that reaches us as an error anyway, and must not
    // litter a command's output or the console's terminal.
    PQsetNoticeReceiver(
        c.conn_, [](void*, const PGresult*) {}, nullptr);
    // Keep output parseable whatever the server's defaults are.
    PGresult* r =
        PQexec(c.conn_, "SET datestyle = 'ISO'; SET extra_float_digits = 3; SET client_min_messages = warning");
    c.check(r, "setting session defaults", PGRES_COMMAND_OK);
    return c;
}

void Connection::setInterrupter(std::shared_ptr<Interrupter> interrupter) {
    if (interrupter_ && conn_) interrupter_->detach(conn_);
    interrupter_ = std::move(interrupter);
    if (interrupter_ && conn_) interrupter_->attach(conn_);
}

void Connection::close() {
    if (!conn_) return;
    if (interrupter_) interrupter_->detach(conn_); // before the socket goes
    PQfinish(conn_);
    conn_ = nullptr;
}

// The interrupter knows a connection by its pg_conn, which a move keeps.
Connection::Connection(Connection&& o) noexcept
    : conn_(std::exchange(o.conn_, nullptr)), target_(std::move(o.target_)), secret_(std::move(o.secret_)),
      interrupter_(std::move(o.interrupter_)) {}

Connection& Connection::operator=(Connection&& o) noexcept {
    if (this != &o) {
        close();
        conn_ = std::exchange(o.conn_, nullptr);
        target_ = std::move(o.target_);
        secret_ = std::move(o.secret_);
        interrupter_ = std::move(o.interrupter_);
    }
    return *this;
}

bool Connection::cancelQuery() const {
    if (!conn_) return false;
    PGcancel* cancel = PQgetCancel(conn_);
    if (!cancel) return false;
    char error[256];
    const bool ok = PQcancel(cancel, error, sizeof error) == 1;
    PQfreeCancel(cancel);
    return ok;
}

Connection::~Connection() {
    close();
}

void Connection::fail(std::string_view doing, PGresult* r) const {
    std::string msg;
    std::string state;
    if (r) {
        if (const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE)) state = s;
        msg = trimmed(PQresultErrorMessage(r));
    }
    if (msg.empty() && conn_) msg = trimmed(PQerrorMessage(conn_));
    if (state.empty()) state = (conn_ && PQstatus(conn_) != CONNECTION_OK) ? "08006" : "";
    if (interrupter_ && interrupter_->interrupted() && state != kQueryCanceled) {
        // Our own doing, not the server's: say so, so that nobody retries or reports it.
        throw Error(replaceAll(std::string(doing) + " (" + target_ + "): interrupted", secret_, "****"), kInterrupted);
    }
    std::string full(doing);
    if (full.find(target_) == std::string::npos) full += " (" + target_ + ")";
    full += ": " + msg;
    if (!state.empty()) full += " [SQLSTATE " + state + "]";
    throw Error(replaceAll(full, secret_, "****"), state);
}

void Connection::check(PGresult* raw, std::string_view doing, int expected) const {
    ResultPtr r(raw); // owned before anything can fail
    if (!r) fail(doing);
    const auto st = PQresultStatus(r.get());
    if (st != expected && !(expected == PGRES_TUPLES_OK && st == PGRES_COMMAND_OK)) fail(doing, r.get());
}

Rows Connection::exec(std::string_view sql, std::span<const Param> params) {
    return execAs({}, sql, params);
}

Rows Connection::execAs(std::string_view doing, std::string_view sql, std::span<const Param> params) {
    if (!conn_) throw Error("query on a closed connection");
    const std::string text(sql);
    // Without a `doing` of the caller's, the message shows the start of the statement.
    auto what = [&](const char* prefix, size_t n) {
        if (!doing.empty()) return std::string(doing);
        std::string shown = text.substr(0, n);
        for (auto& ch : shown)
            if (ch == '\n') ch = ' ';
        return prefix + shown;
    };
    std::vector<const char*> values(params.size());
    for (size_t i = 0; i < params.size(); ++i)
        values[i] = params[i] ? params[i]->c_str() : nullptr;
    std::shared_ptr<PGresult> r(
        PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr, values.data(), nullptr, nullptr, 0),
        ResultDeleter());
    if (!r) fail(what("running: ", 120));
    const auto st = PQresultStatus(r.get());
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) fail(what("query failed: ", 200), r.get());
    return Rows(std::move(r));
}

Rows Connection::describe(std::string_view doing, std::string_view sql) {
    if (!conn_) throw Error("query on a closed connection");
    const std::string text(sql);
    {
        ResultPtr p(PQprepare(conn_, "", text.c_str(), 0, nullptr));
        if (!p) fail(doing);
        if (PQresultStatus(p.get()) != PGRES_COMMAND_OK) fail(doing, p.get());
    }
    std::shared_ptr<PGresult> r(PQdescribePrepared(conn_, ""), ResultDeleter());
    if (!r) fail(doing);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) fail(doing, r.get());
    return Rows(std::move(r));
}

void Connection::execScript(std::string_view sql, std::string_view what) {
    const std::string text(sql);
    ResultPtr r(PQexec(conn_, text.c_str()));
    if (!r) fail(what);
    const auto st = PQresultStatus(r.get());
    // A script of comments only (a migration whose definitions moved elsewhere) is no error.
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) fail(what, r.get());
}

void Connection::appendCopyField(std::string& out, const Param& value) {
    if (!value) {
        out += "\\N";
        return;
    }
    for (char ch : *value) {
        switch (ch) {
        case '\\':
            out += "\\\\";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            out += ch;
        }
    }
}

std::int64_t Connection::copyIn(std::string_view copySql, const std::function<bool(std::string&)>& produce) {
    const std::string text(copySql);
    check(PQexec(conn_, text.c_str()), "starting " + text.substr(0, 80), PGRES_COPY_IN);
    std::string buffer;
    try {
        bool more = true;
        while (more) {
            buffer.clear();
            more = produce(buffer);
            if (!buffer.empty() && PQputCopyData(conn_, buffer.data(), static_cast<int>(buffer.size())) != 1)
                fail("sending COPY data");
        }
    } catch (const std::exception& e) {
        PQputCopyEnd(conn_, e.what());
        ResultPtr drain;
        while ((drain = ResultPtr(PQgetResult(conn_)))) {
        }
        throw;
    }
    if (PQputCopyEnd(conn_, nullptr) != 1) fail("ending COPY");
    ResultPtr r(PQgetResult(conn_));
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        std::string state;
        if (r)
            if (const char* s = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE)) state = s;
        std::string msg = r ? trimmed(PQresultErrorMessage(r.get())) : trimmed(PQerrorMessage(conn_));
        while (ResultPtr(PQgetResult(conn_))) {
        }
        throw Error("COPY failed (" + target_ + "): " + msg + " [SQLSTATE " + state + "]", state);
    }
    const std::int64_t n = std::strtoll(PQcmdTuples(r.get()), nullptr, 10);
    while (ResultPtr(PQgetResult(conn_))) {
    }
    return n;
}

std::int64_t Connection::copyOut(std::string_view copySql, const std::function<void(std::string_view)>& consume) {
    const std::string text(copySql);
    check(PQexecParams(conn_, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0), "starting " + text.substr(0, 80),
          PGRES_COPY_OUT);
    std::int64_t rows = 0;
    for (;;) {
        char* line = nullptr;
        const int n = PQgetCopyData(conn_, &line, 0);
        if (n == -1) break;
        if (n == -2) fail("reading COPY data");
        std::unique_ptr<char, void (*)(void*)> own(line, PQfreemem);
        ++rows;
        consume(std::string_view(line, static_cast<size_t>(n)));
    }
    ResultPtr r(PQgetResult(conn_));
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) fail("COPY out", r.get());
    while (ResultPtr(PQgetResult(conn_))) {
    }
    return rows;
}

std::string Connection::quoteIdentifier(std::string_view name) const {
    char* q = PQescapeIdentifier(conn_, name.data(), name.size());
    if (!q) fail("quoting identifier");
    std::string out(q);
    PQfreemem(q);
    return out;
}

void Connection::listen(std::string_view channel) {
    exec("LISTEN " + quoteIdentifier(channel));
}
void Connection::unlisten(std::string_view channel) {
    exec("UNLISTEN " + quoteIdentifier(channel));
}
void Connection::notify(std::string_view channel, std::string_view payload) {
    query("SELECT pg_notify($1, $2)", channel, payload);
}

std::vector<Notification> Connection::takeNotifications() {
    std::vector<Notification> out;
    if (!PQconsumeInput(conn_)) fail("reading notifications");
    while (PGnotify* n = PQnotifies(conn_)) {
        out.push_back({n->relname, n->extra ? n->extra : "", n->be_pid});
        PQfreemem(n);
    }
    return out;
}

std::vector<Notification> Connection::waitNotifications(std::chrono::milliseconds timeout) {
    auto out = takeNotifications();
    if (!out.empty()) return out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return out;
        pollfd p{PQsocket(conn_), POLLIN, 0};
        const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
        if (rc < 0 && errno != EINTR) throw Error(std::string("waiting for notifications: ") + std::strerror(errno));
        out = takeNotifications();
        if (!out.empty()) return out;
    }
}

int Connection::socket() const {
    return conn_ ? PQsocket(conn_) : -1;
}
int Connection::serverVersionNumber() const {
    return conn_ ? PQserverVersion(conn_) : 0;
}
std::string Connection::serverVersion() const {
    const int v = serverVersionNumber();
    return std::to_string(v / 10000) + "." + std::to_string(v % 10000);
}
std::string Connection::user() const {
    return conn_ ? PQuser(conn_) : "";
}
bool Connection::isHealthy() const {
    return conn_ && PQstatus(conn_) == CONNECTION_OK;
}

// ---------------------------------------------------------------- Transaction

Transaction::Transaction(Connection& c, std::string_view mode) : conn_(c) {
    conn_.exec(mode.empty() ? std::string("BEGIN") : "BEGIN " + std::string(mode));
}

Transaction::~Transaction() {
    if (!done_ && conn_.isHealthy()) {
        try {
            conn_.exec("ROLLBACK");
        } catch (...) {
            // A destructor must not throw; the server rolls back when the session ends.
        }
    }
}

void Transaction::commit() {
    conn_.exec("COMMIT");
    done_ = true;
}

} // namespace paudm::db
