#include "sql/query.h"

#include "common/atomic_file.h"
#include "common/csv.h"
#include "common/error.h"
#include "db/connection.h"
#include "fits/fits.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <regex>
#include <unistd.h>

namespace paudm::sql {

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string withThousands(std::int64_t n) {
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

std::string seconds(int ms) {
    char buf[32];
    if (ms % 1000 == 0)
        std::snprintf(buf, sizeof buf, "%d s", ms / 1000);
    else
        std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000.0);
    return buf;
}

/// A fresh session: whatever a previous query SET (search_path, a lower timeout) is gone,
/// and so is a transaction a failed call may have left open.
void freshSession(db::Connection& c) {
    try {
        c.exec("DISCARD ALL");
    } catch (const Error& e) {
        if (e.code() != "25001") throw; // active_sql_transaction
        c.exec("ROLLBACK");
        c.exec("DISCARD ALL");
    }
}

void checkTimeout(int timeoutMs, int roleTimeout) {
    if (timeoutMs < 0) throw Error("the statement timeout cannot be negative");
    if (roleTimeout > 0 && timeoutMs > roleTimeout)
        throw Error("the statement timeout " + seconds(timeoutMs) + " is above the read-only role's limit of " +
                    seconds(roleTimeout) + "; it may only be lowered");
}

/// BEGIN READ ONLY with the statement timeout `timeoutMs` (0: the role's; checked against
/// it). Returns the timeout in force.
int beginReadOnly(db::Connection& c, int timeoutMs) {
    const int role = roleTimeoutMs(c);
    checkTimeout(timeoutMs, role);
    c.exec("BEGIN READ ONLY");
    if (timeoutMs > 0) {
        c.query("SELECT pg_catalog.set_config('statement_timeout', $1, true)", std::to_string(timeoutMs));
        return timeoutMs;
    }
    return role;
}

/// The length of a COPY text-format field once its escapes are decoded (as parseCopyLine
/// decodes them), without decoding it.
size_t decodedLength(std::string_view f) {
    size_t n = 0;
    for (size_t i = 0; i < f.size(); ++i, ++n) {
        if (f[i] != '\\' || i + 1 == f.size()) continue;
        const char e = f[++i];
        if (e == 'x') {
            for (int k = 0; k < 2 && i + 1 < f.size() && std::isxdigit(static_cast<unsigned char>(f[i + 1])); ++k) ++i;
        } else if (e >= '0' && e <= '7') {
            for (int k = 1; k < 3 && i + 1 < f.size() && f[i + 1] >= '0' && f[i + 1] <= '7'; ++k) ++i;
        }
    }
    return n;
}

/// Ends the transaction of a call that failed; the error that ended it is what counts.
void rollbackQuietly(db::Connection& c) {
    try {
        c.exec("ROLLBACK");
    } catch (...) {
    }
}

ValueKind kindOf(unsigned oid, char category) {
    switch (oid) {
    case 20: case 21: case 23: case 26: case 28: return ValueKind::Integer; // int8 int2 int4 oid xid
    case 700: case 701: return ValueKind::Real;
    case 1700: return ValueKind::Numeric;
    case 16: return ValueKind::Boolean;
    default: break;
    }
    switch (category) {
    case 'S': return ValueKind::Text;
    case 'D': return ValueKind::Time;
    case 'A': return ValueKind::Array;
    case 'B': return ValueKind::Boolean;
    case 'N': return ValueKind::Numeric;
    default: return ValueKind::Other;
    }
}

/// The result columns of a described statement, with their types named by the server.
std::vector<ResultColumn> columnsOf(db::Connection& c, const db::Rows& described) {
    std::vector<ResultColumn> cols(static_cast<size_t>(described.columns()));
    std::vector<std::int64_t> oids;
    for (int i = 0; i < described.columns(); ++i) {
        cols[i].name = described.columnName(i);
        cols[i].typeOid = described.columnType(i);
        oids.push_back(cols[i].typeOid);
    }
    if (oids.empty()) return cols;
    // Domains take their base type's category; format_type names them as declared.
    const db::Rows t = c.query("SELECT t.oid::bigint, pg_catalog.format_type(t.oid, NULL), t.typcategory::text, "
                               "       t.typbasetype::bigint "
                               "FROM pg_catalog.pg_type t WHERE t.oid = ANY($1::oid[])",
                               oids);
    std::map<unsigned, std::pair<std::string, char>> info;
    std::map<unsigned, unsigned> base;
    for (int i = 0; i < t.size(); ++i) {
        const auto oid = static_cast<unsigned>(t.toInt(i, 0));
        info[oid] = {std::string(t.text(i, 1)), t.text(i, 2).empty() ? 'X' : t.text(i, 2)[0]};
        if (t.toInt(i, 3) != 0) base[oid] = static_cast<unsigned>(t.toInt(i, 3));
    }
    for (ResultColumn& col : cols) {
        const auto it = info.find(col.typeOid);
        if (it == info.end()) continue;
        col.typeName = it->second.first;
        const auto b = base.find(col.typeOid);
        col.kind = kindOf(b == base.end() ? col.typeOid : b->second, it->second.second);
    }
    return cols;
}

/// Skips whitespace and comments (-- to the end of the line, nested /* */).
size_t skipBlanks(std::string_view s, size_t i) {
    while (i < s.size()) {
        if (std::isspace(static_cast<unsigned char>(s[i]))) {
            ++i;
        } else if (s.compare(i, 2, "--") == 0) {
            const size_t nl = s.find('\n', i);
            i = nl == std::string_view::npos ? s.size() : nl + 1;
        } else if (s.compare(i, 2, "/*") == 0) {
            int depth = 0;
            do {
                if (s.compare(i, 2, "/*") == 0) {
                    ++depth;
                    i += 2;
                } else if (s.compare(i, 2, "*/") == 0) {
                    --depth;
                    i += 2;
                } else {
                    ++i;
                }
            } while (depth > 0 && i < s.size());
        } else {
            break;
        }
    }
    return i;
}

/// The text without trailing blanks and semicolons, to be put inside COPY ( ... ).
std::string bodyOf(std::string_view sql) {
    size_t end = sql.size();
    while (end > 0 && (std::isspace(static_cast<unsigned char>(sql[end - 1])) || sql[end - 1] == ';')) --end;
    return std::string(sql.substr(0, end));
}

void requireText(std::string_view sql) {
    if (skipBlanks(sql, 0) >= sql.size()) throw Error("the query is empty");
}

// ---- COPY text format

/// Splits one COPY text-format line (without its newline) into values.
void parseCopyLine(std::string_view line, std::vector<Value>& out) {
    out.clear();
    size_t start = 0;
    for (;;) {
        const size_t tab = line.find('\t', start);
        const std::string_view f = line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
        if (f == "\\N") {
            out.emplace_back(std::nullopt);
        } else if (f.find('\\') == std::string_view::npos) {
            out.emplace_back(std::string(f));
        } else {
            std::string v;
            for (size_t i = 0; i < f.size(); ++i) {
                if (f[i] != '\\' || i + 1 == f.size()) {
                    v += f[i];
                    continue;
                }
                const char e = f[++i];
                switch (e) {
                case 'b': v += '\b'; break;
                case 'f': v += '\f'; break;
                case 'n': v += '\n'; break;
                case 'r': v += '\r'; break;
                case 't': v += '\t'; break;
                case 'v': v += '\v'; break;
                case 'x': {
                    int n = 0, k = 0;
                    while (k < 2 && i + 1 < f.size() && std::isxdigit(static_cast<unsigned char>(f[i + 1]))) {
                        const char h = f[++i];
                        n = n * 16 + (std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
                        ++k;
                    }
                    v += static_cast<char>(n);
                    break;
                }
                default:
                    if (e >= '0' && e <= '7') {
                        int n = e - '0', k = 1;
                        while (k < 3 && i + 1 < f.size() && f[i + 1] >= '0' && f[i + 1] <= '7') {
                            n = n * 8 + (f[++i] - '0');
                            ++k;
                        }
                        v += static_cast<char>(n);
                    } else {
                        v += e; // \\ and any other escaped character stand for themselves
                    }
                }
            }
            out.emplace_back(std::move(v));
        }
        if (tab == std::string_view::npos) break;
        start = tab + 1;
    }
}

// ---- FITS

struct FitsColumn {
    std::string name;
    enum class Type { I16, I32, I64, Real, Logical, Text } type = Type::Text;
    size_t width = 1; ///< bytes, for text
};

FitsColumn::Type fitsTypeOf(const ResultColumn& c) {
    switch (c.kind) {
    case ValueKind::Integer:
        return c.typeOid == 21 ? FitsColumn::Type::I16 : c.typeOid == 23 ? FitsColumn::Type::I32 : FitsColumn::Type::I64;
    case ValueKind::Real:
    case ValueKind::Numeric: return FitsColumn::Type::Real;
    case ValueKind::Boolean: return FitsColumn::Type::Logical;
    default: return FitsColumn::Type::Text;
    }
}

class Spool {
public:
    explicit Spool(const std::string& beside) : path_(folderOf(beside) + "/.spool-XXXXXX") {
        const int fd = ::mkstemp(path_.data());
        if (fd < 0) throw Error(beside + ": cannot create a temporary file beside it: " + std::strerror(errno), "errno");
        file_ = ::fdopen(fd, "w+");
        if (!file_) {
            ::close(fd);
            ::unlink(path_.c_str());
            throw Error(beside + ": cannot open a temporary file beside it", "errno");
        }
        ::unlink(path_.c_str()); // gone from the folder already; the space is freed on close
    }
    ~Spool() {
        if (file_) std::fclose(file_);
    }
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;
    std::FILE* file() { return file_; }
    void write(std::string_view line, const std::string& target) {
        if (std::fwrite(line.data(), 1, line.size(), file_) != line.size())
            throw Error(target + ": cannot write the export's temporary data: " + std::strerror(errno), "errno");
    }

private:
    std::string path_;
    std::FILE* file_ = nullptr;
};

void writeFits(const std::string& path, const std::string& sql, const std::vector<ResultColumn>& cols,
               std::vector<FitsColumn>& fc, Spool& spool, std::int64_t rows, ExportProgress* progress) {
    fits::File f = fits::File::create(path, true);
    f.appendEmptyImage();
    f.writeKey("ORIGIN", std::string("PAUdm"), "written by paudm sql");
    std::vector<fits::Column> defs;
    for (const FitsColumn& c : fc) {
        switch (c.type) {
        case FitsColumn::Type::I16: defs.push_back({c.name, "1I", {}}); break;
        case FitsColumn::Type::I32: defs.push_back({c.name, "1J", {}}); break;
        case FitsColumn::Type::I64: defs.push_back({c.name, "1K", {}}); break;
        case FitsColumn::Type::Real: defs.push_back({c.name, "1D", {}}); break;
        case FitsColumn::Type::Logical: defs.push_back({c.name, "1L", {}}); break;
        case FitsColumn::Type::Text: defs.push_back({c.name, std::to_string(std::max<size_t>(1, c.width)) + "A", {}}); break;
        }
    }
    f.appendTable("QUERY", defs);
    for (size_t i = 0; i < fc.size(); ++i) {
        const std::string n = std::to_string(i + 1);
        f.writeKey("TCOMM" + n, cols[i].typeName.empty() ? std::string("unknown type") : "PostgreSQL " + cols[i].typeName);
        switch (fc[i].type) {
        case FitsColumn::Type::I16: f.writeKey("TNULL" + n, static_cast<long long>(std::numeric_limits<std::int16_t>::min()), "NULL"); break;
        case FitsColumn::Type::I32: f.writeKey("TNULL" + n, static_cast<long long>(std::numeric_limits<std::int32_t>::min()), "NULL"); break;
        case FitsColumn::Type::I64: f.writeKey("TNULL" + n, static_cast<long long>(std::numeric_limits<std::int64_t>::min()), "NULL"); break;
        default: break;
        }
    }
    f.writeComment("The result of an SQL query on PAUdb. NULL is TNULLn in integer columns, NaN in real ones, "
                   "undefined in logical ones and an empty string in text columns.");
    for (size_t at = 0; at < sql.size(); at += 70) f.writeHistory("SQL: " + sql.substr(at, 70));

    if (std::fseek(spool.file(), 0, SEEK_SET) != 0) throw Error(path + ": cannot read back the export's temporary data");
    constexpr std::int64_t kChunk = 50000;
    std::vector<std::vector<Value>> chunk;
    std::vector<Value> values;
    char* buf = nullptr;
    size_t cap = 0;
    struct FreeLine {
        char*& p;
        ~FreeLine() { std::free(p); }
    } freeLine{buf};
    std::int64_t first = 1, done = 0;
    auto flush = [&] {
        if (chunk.empty()) return;
        for (size_t c = 0; c < fc.size(); ++c) {
            auto ints = [&]<class T>(T) {
                std::vector<T> v;
                v.reserve(chunk.size());
                for (const auto& row : chunk)
                    v.push_back(row[c] ? static_cast<T>(std::stoll(*row[c])) : std::numeric_limits<T>::min());
                f.writeColumn<T>(fc[c].name, v, first);
            };
            switch (fc[c].type) {
            case FitsColumn::Type::I16: ints(std::int16_t{}); break;
            case FitsColumn::Type::I32: ints(std::int32_t{}); break;
            case FitsColumn::Type::I64: ints(std::int64_t{}); break;
            case FitsColumn::Type::Real: {
                std::vector<double> v;
                v.reserve(chunk.size());
                for (const auto& row : chunk)
                    v.push_back(row[c] ? std::strtod(row[c]->c_str(), nullptr) : std::numeric_limits<double>::quiet_NaN());
                f.writeColumn<double>(fc[c].name, v, first);
                break;
            }
            case FitsColumn::Type::Logical: {
                std::vector<signed char> v;
                v.reserve(chunk.size());
                for (const auto& row : chunk) v.push_back(row[c] ? (*row[c] == "t" ? 1 : 0) : -1);
                f.writeLogicalColumn(fc[c].name, v, first);
                break;
            }
            case FitsColumn::Type::Text: {
                std::vector<std::string> v;
                v.reserve(chunk.size());
                for (const auto& row : chunk) v.push_back(row[c].value_or(std::string()));
                f.writeStringColumn(fc[c].name, v, first);
                break;
            }
            }
        }
        first += static_cast<std::int64_t>(chunk.size());
        chunk.clear();
    };
    while (done < rows) {
        const ssize_t n = ::getline(&buf, &cap, spool.file());
        if (n <= 0) break;
        std::string_view l(buf, static_cast<size_t>(n));
        if (!l.empty() && l.back() == '\n') l.remove_suffix(1);
        parseCopyLine(l, values);
        values.resize(fc.size());
        chunk.push_back(values);
        ++done;
        if (static_cast<std::int64_t>(chunk.size()) == kChunk) {
            flush();
            if (progress) {
                progress->rows = done;
                if (progress->stop) throw Error(path + ": the export was cancelled", db::kQueryCanceled);
            }
        }
    }
    flush();
    if (done != rows) throw Error(path + ": the export's temporary data ended early");
    f.close();
}

} // namespace

std::string QueryResult::summary() const {
    if (!returnsRows) return "statement done";
    const auto n = static_cast<std::int64_t>(rows.size());
    if (truncated)
        return withThousands(n) + (n == 1 ? " row" : " rows") + " shown: the result has more (limit " +
               withThousands(limit) + ")";
    return withThousands(n) + (n == 1 ? " row" : " rows");
}

int roleTimeoutMs(db::Connection& c) {
    const db::Rows r = c.exec("SELECT setting::bigint FROM pg_catalog.pg_settings WHERE name = 'statement_timeout'");
    return r.size() ? static_cast<int>(std::min<std::int64_t>(r.toInt(0, 0), std::numeric_limits<int>::max())) : 0;
}

void checkOptions(const QueryOptions& o, int roleTimeout) {
    if (o.limit < 1 || o.limit > kMaxRows)
        throw Error("the row limit is 1 to " + withThousands(kMaxRows) + ", not " + std::to_string(o.limit) +
                    " (a full export has none)");
    checkTimeout(o.timeoutMs, roleTimeout);
}

bool isQuery(std::string_view sql) {
    const size_t i = skipBlanks(sql, 0);
    if (i >= sql.size()) return false;
    if (sql[i] == '(') return true;
    size_t j = i;
    while (j < sql.size() && std::isalpha(static_cast<unsigned char>(sql[j]))) ++j;
    std::string word(sql.substr(i, j - i));
    std::transform(word.begin(), word.end(), word.begin(), [](unsigned char ch) { return std::tolower(ch); });
    return word == "select" || word == "with" || word == "values" || word == "table";
}

QueryResult runQuery(db::Connection& c, std::string_view sql, const QueryOptions& o) {
    requireText(sql);
    checkOptions(o, 0); // the limit now; the timeout against the role's once the session is fresh
    freshSession(c);
    QueryResult out;
    out.limit = o.limit;
    out.timeoutMs = beginReadOnly(c, o.timeoutMs);
    try {
        const auto t0 = Clock::now();
        const db::Rows described = c.describe("your query", sql);
        out.columns = columnsOf(c, described);
        out.returnsRows = !out.columns.empty();
        db::Rows rows;
        if (out.returnsRows && isQuery(sql)) {
            // A cursor, so that the server stops after limit + 1 rows (and plans for the
            // first rows) instead of sending a million to be thrown away.
            c.execAs("your query", "DECLARE paudm_query NO SCROLL CURSOR FOR " + std::string(sql));
            rows = c.execAs("your query", "FETCH FORWARD " + std::to_string(o.limit + 1) + " FROM paudm_query");
        } else {
            rows = c.execAs("your statement", sql); // SHOW, EXPLAIN, ...: small results
        }
        out.elapsedMs = msSince(t0);
        const int n = std::min(rows.size(), o.limit);
        out.truncated = rows.size() > o.limit;
        out.rows.resize(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) {
            auto& row = out.rows[static_cast<size_t>(i)];
            row.reserve(out.columns.size());
            for (int k = 0; k < static_cast<int>(out.columns.size()) && k < rows.columns(); ++k)
                row.push_back(rows.optText(i, k));
        }
        c.exec("COMMIT");
    } catch (...) {
        rollbackQuietly(c);
        throw;
    }
    return out;
}

// ---- formats

std::string toDelimited(const QueryResult& r, char delimiter, const std::vector<int>* pick) {
    std::string out;
    for (size_t c = 0; c < r.columns.size(); ++c) {
        if (c) out += delimiter;
        appendCsvField(out, r.columns[c].name, false, delimiter);
    }
    out += "\r\n";
    auto row = [&](const std::vector<Value>& values) {
        for (size_t c = 0; c < values.size(); ++c) {
            if (c) out += delimiter;
            if (values[c]) appendCsvField(out, *values[c], true, delimiter);
        }
        out += "\r\n";
    };
    if (pick) {
        for (int i : *pick)
            if (i >= 0 && i < static_cast<int>(r.rows.size())) row(r.rows[static_cast<size_t>(i)]);
    } else {
        for (const auto& values : r.rows) row(values);
    }
    return out;
}

namespace {

void appendJsonString(std::string& out, std::string_view s) {
    out += '"';
    for (unsigned char ch : s) {
        switch (ch) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (ch < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", ch);
                out += buf;
            } else {
                out += static_cast<char>(ch);
            }
        }
    }
    out += '"';
}

bool isJsonNumber(const std::string& s) {
    static const std::regex number(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)");
    return std::regex_match(s, number);
}

size_t displayWidth(std::string_view s) {
    size_t n = 0;
    for (unsigned char ch : s)
        if ((ch & 0xC0) != 0x80) ++n; // count UTF-8 code points, not bytes
    return n;
}

} // namespace

std::string toJson(const QueryResult& r) {
    std::string out = "[";
    for (size_t i = 0; i < r.rows.size(); ++i) {
        out += i ? ",\n {" : "\n {";
        for (size_t c = 0; c < r.columns.size() && c < r.rows[i].size(); ++c) {
            if (c) out += ", ";
            appendJsonString(out, r.columns[c].name);
            out += ": ";
            const Value& v = r.rows[i][c];
            if (!v)
                out += "null";
            else if (r.columns[c].kind == ValueKind::Boolean)
                out += *v == "t" ? "true" : "false";
            else if (r.columns[c].isNumber() && isJsonNumber(*v))
                out += *v;
            else
                appendJsonString(out, *v); // NaN, Infinity, arrays, times, text
        }
        out += "}";
    }
    out += r.rows.empty() ? "]\n" : "\n]\n";
    return out;
}

std::string toTextTable(const QueryResult& r) {
    if (!r.returnsRows) return r.summary() + "\n";
    const size_t n = r.columns.size();
    std::vector<size_t> width(n);
    auto shown = [](const Value& v) {
        std::string s = v.value_or("");
        for (char& ch : s)
            if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
        return s;
    };
    for (size_t c = 0; c < n; ++c) width[c] = displayWidth(r.columns[c].name);
    for (const auto& row : r.rows)
        for (size_t c = 0; c < n && c < row.size(); ++c) width[c] = std::max(width[c], displayWidth(shown(row[c])));
    std::string out;
    auto cell = [&](const std::string& s, size_t c, bool right) {
        const size_t pad = width[c] - std::min(width[c], displayWidth(s));
        out += c ? " | " : " ";
        if (right) out.append(pad, ' ');
        out += s;
        if (!right && c + 1 < n) out.append(pad, ' ');
    };
    for (size_t c = 0; c < n; ++c) cell(r.columns[c].name, c, false);
    out += "\n";
    for (size_t c = 0; c < n; ++c) {
        out += c ? "-+-" : "-";
        out.append(width[c], '-');
    }
    out += "\n";
    for (const auto& row : r.rows) {
        for (size_t c = 0; c < n && c < row.size(); ++c) cell(shown(row[c]), c, r.columns[c].isNumber());
        out += "\n";
    }
    out += "(" + r.summary() + ")\n";
    return out;
}

// ---- export

ExportFormat exportFormatFor(const std::string& path) {
    std::string p = path;
    std::transform(p.begin(), p.end(), p.begin(), [](unsigned char ch) { return std::tolower(ch); });
    for (const char* ext : {".fits", ".fit", ".fts"})
        if (p.size() > std::strlen(ext) && p.compare(p.size() - std::strlen(ext), std::string::npos, ext) == 0)
            return ExportFormat::Fits;
    return ExportFormat::Csv;
}

ExportResult exportQuery(db::Connection& c, std::string_view sql, const std::string& path, ExportFormat format,
                         const QueryOptions& o, ExportProgress* progress) {
    requireText(sql);
    if (!isQuery(sql))
        throw Error("a full export needs a query (SELECT, WITH, VALUES or TABLE); this text starts otherwise");
    if (path.empty()) throw Error("the export needs a file name");
    const auto t0 = Clock::now();
    freshSession(c);
    beginReadOnly(c, o.timeoutMs);
    ExportResult out;
    try {
        // Parsed alone first: the server refuses a second statement or a syntax error with
        // the user's own text, and a text that parses alone cannot reach outside the
        // parentheses it is put in below (the newline ends a trailing -- comment).
        const db::Rows described = c.describe("your query", sql);
        const std::vector<ResultColumn> cols = columnsOf(c, described);
        const std::string body = bodyOf(sql);
        if (progress) {
            const db::Rows plan = c.execAs("estimating the export", "EXPLAIN (FORMAT JSON) " + body);
            static const std::regex planRows("\"Plan Rows\": *([0-9.eE+]+)");
            std::smatch m;
            const std::string text(plan.text(0, 0));
            if (std::regex_search(text, m, planRows)) progress->estimatedRows = static_cast<std::int64_t>(std::stod(m[1]));
        }
        if (format == ExportFormat::Csv) {
            AtomicFile file(path);
            out.rows = c.copyOut("COPY (" + body + "\n) TO STDOUT WITH (FORMAT csv, HEADER true)",
                                 [&](std::string_view line) {
                                     // COPY ends each record with LF; RFC 4180 wants CRLF
                                     // (newlines inside quoted values stay as they are).
                                     if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
                                     file.write(line);
                                     file.write("\r\n");
                                     if (progress) {
                                         progress->rows.fetch_add(1, std::memory_order_relaxed);
                                         progress->bytes.store(file.bytesWritten(), std::memory_order_relaxed);
                                     }
                                 });
            --out.rows; // the header line
            c.exec("COMMIT");
            file.commit();
            out.bytes = file.bytesWritten();
        } else {
            std::vector<FitsColumn> fc(cols.size());
            std::map<std::string, int> seen;
            for (size_t i = 0; i < cols.size(); ++i) {
                // FITS column names are letters, digits and underscores, distinct without
                // regard to case (readers look them up so): "?column?" becomes "_column_",
                // a second one "_column__2".
                std::string name = cols[i].name, key;
                for (char& ch : name)
                    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') ch = '_';
                if (name.empty()) name = "col" + std::to_string(i + 1);
                for (char ch : name) key += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                const int k = ++seen[key];
                fc[i].name = k == 1 ? name : name + "_" + std::to_string(k);
                fc[i].type = fitsTypeOf(cols[i]);
            }
            Spool spool(path);
            std::int64_t bytes = 0;
            out.rows = c.copyOut("COPY (" + body + "\n) TO STDOUT", [&](std::string_view line) {
                spool.write(line, path);
                bytes += static_cast<std::int64_t>(line.size());
                std::string_view l = line;
                if (!l.empty() && l.back() == '\n') l.remove_suffix(1);
                // The widths of the text columns, from the fields as they are (the rows are
                // decoded once, when the table is written).
                size_t start = 0;
                for (size_t i = 0; i < fc.size() && start <= l.size(); ++i) {
                    const size_t tab = std::min(l.find('\t', start), l.size());
                    const std::string_view f = l.substr(start, tab - start);
                    if (fc[i].type == FitsColumn::Type::Text && f != "\\N") fc[i].width = std::max(fc[i].width, decodedLength(f));
                    start = tab + 1;
                }
                if (progress) {
                    progress->rows.fetch_add(1, std::memory_order_relaxed);
                    progress->bytes.store(bytes, std::memory_order_relaxed);
                }
            });
            c.exec("COMMIT");
            if (std::fflush(spool.file()) != 0) throw Error(path + ": cannot write the export's temporary data", "errno");
            if (progress) {
                progress->phase = 1;
                progress->rows = 0;
            }
            writeFits(path, std::string(sql), cols, fc, spool, out.rows, progress);
            if (progress) progress->rows = out.rows;
            std::error_code ec;
            out.bytes = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
        }
    } catch (...) {
        rollbackQuietly(c);
        throw;
    }
    out.seconds = msSince(t0) / 1000.0;
    return out;
}

} // namespace paudm::sql
