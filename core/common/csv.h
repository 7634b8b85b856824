#pragma once
// RFC 4180 fields: a field with a comma, a quote, CR or LF is quoted and its quotes
// doubled. Lines end with CRLF, as the RFC says.
//
// SQL NULL and the empty string are both "nothing" to RFC 4180; where the difference
// matters (exports of query results) PostgreSQL's own CSV convention is kept: NULL is an
// empty unquoted field, the empty string is "" (quoteEmpty).
#include <string>
#include <string_view>

namespace paudm {

inline void appendCsvField(std::string& out, std::string_view s, bool quoteEmpty = false, char delimiter = ',') {
    const bool quote = (quoteEmpty && s.empty()) || s.find_first_of("\"\r\n") != std::string_view::npos ||
                       s.find(delimiter) != std::string_view::npos;
    if (!quote) {
        out += s;
        return;
    }
    out += '"';
    for (char ch : s) {
        if (ch == '"') out += '"';
        out += ch;
    }
    out += '"';
}

inline std::string csvField(std::string_view s, bool quoteEmpty = false) {
    std::string out;
    appendCsvField(out, s, quoteEmpty);
    return out;
}

} // namespace paudm
