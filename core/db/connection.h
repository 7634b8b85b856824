#pragma once
// libpq behind RAII. One Connection per thread (libpq connections are not thread-safe).
//
// Every statement that carries a value takes it as a parameter ($1, $2, ...): there is
// no API here that splices a value into SQL text. Errors are paudm::Error whose code()
// is the SQLSTATE and whose message names the target (never the password) and what was
// being done.
#include "common/error.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;
struct pg_cancel;

namespace paudm::db {

/// Error code of work stopped by an Interrupter (not a SQLSTATE: the server never saw it).
inline constexpr const char* kInterrupted = "interrupted";
/// SQLSTATE of a statement cancelled on the server (query_canceled).
inline constexpr const char* kQueryCanceled = "57014";

class Connection;

/// Stops database work from another thread. Connections opened with it (or given it
/// later with Connection::setInterrupter) are attached to it:
///   - interrupt(): a connect in progress gives up, every query on an attached connection
///     fails at once with code kInterrupted (its socket is shut down: this works even
///     when the server does not answer at all), and so does every later use of them;
///   - cancelStatements(): the server is asked to cancel the statements in progress on
///     the attached connections (PQcancel, on a thread of its own, so that the caller
///     never waits); they fail with SQLSTATE 57014 and the connections stay usable.
/// Thread-safe. Shared by the work and whoever may stop it (std::shared_ptr).
class Interrupter {
public:
    Interrupter() = default;
    Interrupter(const Interrupter&) = delete;
    Interrupter& operator=(const Interrupter&) = delete;

    void interrupt();
    bool interrupted() const { return interrupted_.load(); }
    void cancelStatements();

private:
    friend class Connection;
    void attach(pg_conn* conn);
    void detach(pg_conn* conn);

    struct Attached {
        pg_conn* conn;
        int socket;
        std::shared_ptr<pg_cancel> cancel;
    };
    std::mutex mutex_;
    std::atomic<bool> interrupted_{false};
    std::vector<Attached> attached_;
};

/// A text-format parameter; std::nullopt is SQL NULL.
using Param = std::optional<std::string>;

inline Param toParam(std::nullopt_t) {
    return std::nullopt;
}
inline Param toParam(const std::string& s) {
    return s;
}
inline Param toParam(std::string_view s) {
    return std::string(s);
}
inline Param toParam(const char* s) {
    return s ? Param(std::string(s)) : std::nullopt;
}
inline Param toParam(bool b) {
    return std::string(b ? "t" : "f");
}
Param toParam(double v);
template <class T>
requires std::is_integral_v<T> Param toParam(T v) {
    return std::to_string(v);
}
template <class T> Param toParam(const std::optional<T>& v) {
    return v ? toParam(*v) : std::nullopt;
}
/// A PostgreSQL array literal ('{"a","b"}'), for a text[] or bigint[] parameter.
Param toParam(const std::vector<std::string>& v);
Param toParam(const std::vector<std::int64_t>& v);
Param toParam(const std::vector<int>& v);
Param toParam(const std::vector<bool>& v);
Param toParam(const std::vector<std::optional<std::string>>& v);

/// The rows of one statement. Shares ownership of the PGresult, so copies are cheap.
class Rows {
public:
    Rows() = default;
    int size() const;
    int columns() const;
    std::string columnName(int column) const;
    /// The column's type OID (pg_type.oid) and type modifier (-1 when none).
    unsigned columnType(int column) const;
    int columnTypeModifier(int column) const;
    int columnIndex(std::string_view name) const; ///< -1 if absent
    bool isNull(int row, int column) const;
    std::string_view text(int row, int column) const;
    std::optional<std::string> optText(int row, int column) const;
    std::int64_t toInt(int row, int column) const;
    double toDouble(int row, int column) const;
    bool toBool(int row, int column) const;
    /// Rows touched by INSERT/UPDATE/DELETE/COPY.
    std::int64_t affected() const;

private:
    friend class Connection;
    explicit Rows(std::shared_ptr<pg_result> r) : res_(std::move(r)) {}
    std::shared_ptr<pg_result> res_;
};

struct Notification {
    std::string channel;
    std::string payload;
    int senderPid = 0;
};

class Connection {
public:
    /// Opens a connection from any libpq connection string, URI or "service=" name.
    /// `purpose` goes into application_name and into error messages. The connect honours
    /// connect_timeout (default 10 s) and `interrupter`, which stays attached to the
    /// connection (see Interrupter).
    static Connection open(const std::string& conninfo, std::string_view purpose = "paudm",
                           std::shared_ptr<Interrupter> interrupter = {});

    Connection() = default;
    Connection(Connection&&) noexcept;
    Connection& operator=(Connection&&) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    bool isOpen() const { return conn_ != nullptr; }
    /// A description of the server this talks to (host/socket, port, database, user),
    /// safe for logs: it never contains the password.
    const std::string& target() const { return target_; }

    /// Runs one statement with parameters.
    Rows exec(std::string_view sql, std::span<const Param> params = {});
    template <class... A> Rows query(std::string_view sql, const A&... args) {
        const Param ps[] = {toParam(args)..., std::nullopt};
        return exec(sql, std::span<const Param>(ps, sizeof...(A)));
    }
    /// Runs one statement as exec() does, for SQL that a user typed: the error says
    /// `doing` and the server's message (with its LINE/caret), not the text again.
    Rows execAs(std::string_view doing, std::string_view sql, std::span<const Param> params = {});
    /// Parses and plans one statement without running it (the unnamed prepared
    /// statement): its result columns and types, or the server's error. Text with more
    /// than one statement is refused by the server (SQLSTATE 42601).
    Rows describe(std::string_view doing, std::string_view sql);
    /// Runs a script of several statements without parameters. Only for SQL that ships
    /// with the program (migrations), never for text that came from a user.
    void execScript(std::string_view sql, std::string_view what);

    /// COPY ... FROM STDIN. `produce` appends COPY text-format data to its buffer and
    /// returns false when there is no more. An exception thrown by it aborts the COPY.
    std::int64_t copyIn(std::string_view copySql, const std::function<bool(std::string&)>& produce);
    /// COPY ... TO STDOUT; `consume` receives each data row (with its newline). Sent as one
    /// statement of the extended protocol: text with a second statement is refused.
    std::int64_t copyOut(std::string_view copySql, const std::function<void(std::string_view)>& consume);
    /// Escapes one value for the COPY text format (tab-separated, \N for NULL).
    static void appendCopyField(std::string& out, const Param& value);

    void listen(std::string_view channel);
    void unlisten(std::string_view channel);
    void notify(std::string_view channel, std::string_view payload);
    /// Notifications already received, without waiting.
    std::vector<Notification> takeNotifications();
    /// Waits up to `timeout` for at least one notification.
    std::vector<Notification> waitNotifications(std::chrono::milliseconds timeout);
    /// The socket, for an event loop that watches it (QSocketNotifier).
    int socket() const;

    int serverVersionNumber() const;   ///< e.g. 150018
    std::string serverVersion() const; ///< e.g. "15.18"
    std::string user() const;
    bool isHealthy() const;
    /// Asks the server to cancel this connection's query in progress; callable from any
    /// thread (the query then fails with SQLSTATE 57014). False if the request failed.
    bool cancelQuery() const;
    /// Quotes an identifier (table, channel, role name) for SQL text.
    std::string quoteIdentifier(std::string_view name) const;
    /// Attaches this connection to `interrupter` (detaching it from an earlier one); an
    /// empty pointer only detaches. Call from the thread that uses the connection.
    void setInterrupter(std::shared_ptr<Interrupter> interrupter);

private:
    [[noreturn]] void fail(std::string_view doing, pg_result* r = nullptr) const;
    void check(pg_result* r, std::string_view doing, int expected) const;
    void close();

    pg_conn* conn_ = nullptr;
    std::string target_;
    std::string secret_; ///< the password, kept only to scrub it from messages
    std::shared_ptr<Interrupter> interrupter_;
};

/// A transaction: BEGIN on construction, ROLLBACK on destruction unless committed.
class Transaction {
public:
    explicit Transaction(Connection& c, std::string_view mode = {});
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();
    void commit();
    Connection& connection() { return conn_; }

private:
    Connection& conn_;
    bool done_ = false;
};

/// Errors after which the same statement or transaction may simply be made again, on a
/// new connection if need be: a lost connection (08xxx), a server shutting down or
/// restarting (57P01-57P03: pg_terminate_backend and restarts end sessions this way), a
/// serialization failure or a deadlock. Never our own interruption.
bool isTransient(const Error& e);

/// The target description of a connection string, with the password left out.
std::string describeConninfo(const std::string& conninfo);
/// A value quoted for a keyword=value connection string (paths with spaces or quotes).
std::string conninfoValue(std::string_view value);
/// The same connection as a postgresql:// URI, with the password left out (libpq then
/// finds it in ~/.pgpass, PGPASSWORD or the service file).
std::string conninfoToUri(const std::string& conninfo);

} // namespace paudm::db
