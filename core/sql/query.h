#pragma once
// The SQL browser's queries, on the read-only role (paudm_reader): one statement of the
// user's, in a read-only transaction, with the role's statement timeout or a lower one the
// user chose, at most kMaxRows rows, and a flag when the limit cut the result. The console
// panel and `paudm sql` both run through here.
//
// What keeps a query from doing harm is the server: the role's privileges, its read-only
// default, and the server guard (which refuses a timeout above the role's). This code adds
// what a user should not have to discover: a clear refusal of a limit or a timeout out of
// range before anything is sent, one statement per text (the extended protocol refuses a
// second one), and a fresh session for every query (DISCARD ALL), so that a SET typed into
// one query does not change the next.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paudm::db {
class Connection;
}

namespace paudm::sql {

/// The most rows a query shows (the paper's SQL page: configurable, at most 10,000).
inline constexpr int kMaxRows = 10000;
inline constexpr int kDefaultRows = 1000;

enum class ValueKind { Integer, Real, Numeric, Boolean, Text, Time, Array, Other };

struct ResultColumn {
    std::string name;
    unsigned typeOid = 0;
    std::string typeName; ///< format_type(): "bigint", "text[]", ...
    ValueKind kind = ValueKind::Other;
    /// Sorts and plots as a number (integers, floating point, numeric).
    bool isNumber() const { return kind == ValueKind::Integer || kind == ValueKind::Real || kind == ValueKind::Numeric; }
};

using Value = std::optional<std::string>; ///< text as the server sends it; nullopt is NULL

struct QueryOptions {
    int limit = kDefaultRows; ///< 1 .. kMaxRows
    int timeoutMs = 0;        ///< 0: the role's own; else at most the role's
};

struct QueryResult {
    std::vector<ResultColumn> columns;
    std::vector<std::vector<Value>> rows;
    int limit = kDefaultRows;
    bool truncated = false; ///< the result had more rows than `limit`: only the first `limit` are here
    bool returnsRows = true; ///< false for a statement without a result (SET, ...)
    double elapsedMs = 0;
    int timeoutMs = 0; ///< the statement timeout it ran under (0: none)
    /// "1,000 rows (the limit): the result has more" / "12 rows" / "statement done".
    std::string summary() const;
};

/// The role's statement timeout in ms (0: none), as a fresh session of `reader` has it.
int roleTimeoutMs(db::Connection& reader);

/// Refuses a limit or a timeout out of range, with a message that says the range.
void checkOptions(const QueryOptions& o, int roleTimeout);

/// True for text whose first keyword (after comments) makes a query a cursor or COPY can
/// take: SELECT, WITH, VALUES, TABLE, or a parenthesis.
bool isQuery(std::string_view sql);

/// Runs one statement on the read-only connection `reader`.
QueryResult runQuery(db::Connection& reader, std::string_view sql, const QueryOptions& o = {});

// ---- formats

/// RFC 4180 with CRLF and a header line (delimiter ',' for CSV, '\t' for TSV); NULL is
/// an empty field, the empty string "" (PostgreSQL's CSV convention). `rows`, when given,
/// picks the rows to write (in that order).
std::string toDelimited(const QueryResult& r, char delimiter = ',', const std::vector<int>* rows = nullptr);
/// An array of objects, one per row, keys in column order; numbers and booleans as JSON
/// values, NULL as null, everything else (arrays, times) as strings.
std::string toJson(const QueryResult& r);
/// Aligned columns as psql prints them, for a terminal.
std::string toTextTable(const QueryResult& r);

// ---- full export, without the row limit

enum class ExportFormat { Csv, Fits };
/// FITS for names ending in .fits, .fit or .fts, CSV otherwise.
ExportFormat exportFormatFor(const std::string& path);

/// Where a running export is; written by the export, read by anyone (a progress bar).
struct ExportProgress {
    std::atomic<std::int64_t> rows{0};
    std::atomic<std::int64_t> bytes{0};
    std::atomic<std::int64_t> estimatedRows{-1}; ///< the planner's estimate, -1 before it is known
    std::atomic<int> phase{0};                   ///< 0 reading, 1 writing the FITS table
    /// Set by anyone to stop the export while it writes the FITS table (the reading is
    /// stopped by cancelling its statement on the server).
    std::atomic<bool> stop{false};
};

struct ExportResult {
    std::int64_t rows = 0;
    std::int64_t bytes = 0;
    double seconds = 0;
};

/// Streams the whole result of `sql` (a query: see isQuery) to `path`: COPY ... TO STDOUT
/// through libpq, into a temporary file beside `path` renamed into place at the end. A
/// failure or a cancel (the server's, SQLSTATE 57014) leaves no file behind. Memory stays
/// flat whatever the row count. FITS: a binary table (EXTNAME QUERY) with integer, real,
/// logical and text columns; NULL is TNULLn for integers, NaN for reals, the FITS
/// undefined logical, and an empty string for text; arrays and other types as their text
/// (UTF-8; trailing blanks are lost, as FITS treats them as padding).
ExportResult exportQuery(db::Connection& reader, std::string_view sql, const std::string& path, ExportFormat format,
                         const QueryOptions& o = {}, ExportProgress* progress = nullptr);

} // namespace paudm::sql
