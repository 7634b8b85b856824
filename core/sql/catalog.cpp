#include "sql/catalog.h"

#include "db/connection.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace paudm::sql {

namespace {

// Every query reads pg_catalog by qualified names: a user's SET search_path on the same
// session cannot change what they mean.
constexpr const char* kUserRelations =
    "n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' AND c.relkind IN ('r','v','m','p','f')";

std::string kindName(char k) {
    switch (k) {
    case 'r': return "table";
    case 'v': return "view";
    case 'm': return "materialized view";
    case 'p': return "partitioned table";
    case 'f': return "foreign table";
    default: return "relation";
    }
}

/// Splits a PostgreSQL text[] rendered by array_to_string(..., E'\x1f').
std::vector<std::string> splitUnit(std::string_view s) {
    std::vector<std::string> out;
    if (s.empty()) return out;
    size_t start = 0;
    for (;;) {
        const size_t sep = s.find('\x1f', start);
        out.emplace_back(s.substr(start, sep == std::string_view::npos ? std::string_view::npos : sep - start));
        if (sep == std::string_view::npos) break;
        start = sep + 1;
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char ch) { return std::tolower(ch); });
    return out;
}

} // namespace

std::string Relation::displayName() const {
    return schema == "public" ? name : schema + "." + name;
}

const SchemaColumn* Relation::column(std::string_view n) const {
    for (const SchemaColumn& c : columns)
        if (c.name == n) return &c;
    return nullptr;
}

const Relation* Schema::find(std::string_view name) const {
    for (const Relation& r : relations)
        if (r.displayName() == name || r.schema + "." + r.name == name) return &r;
    return nullptr;
}

Schema loadSchema(db::Connection& c) {
    Schema s;
    s.database = std::string(c.exec("SELECT pg_catalog.current_database()").text(0, 0));
    std::map<std::string, size_t> byOid;

    const db::Rows rels = c.exec(std::string(
        "SELECT c.oid::text, n.nspname, c.relname, c.relkind::text, "
        "       pg_catalog.obj_description(c.oid, 'pg_class'), "
        // Never analysed (-1): the statistics collector's count of live rows instead.
        "       CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE pg_catalog.pg_stat_get_live_tuples(c.oid) END, "
        "       CASE WHEN c.relkind IN ('r','m','p') THEN pg_catalog.pg_total_relation_size(c.oid) END, "
        "       CASE WHEN c.relkind IN ('v','m') THEN pg_catalog.pg_get_viewdef(c.oid, true) END "
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE ") + kUserRelations + " ORDER BY n.nspname <> 'public', n.nspname, c.relname");
    for (int i = 0; i < rels.size(); ++i) {
        Relation r;
        r.schema = std::string(rels.text(i, 1));
        r.name = std::string(rels.text(i, 2));
        r.kind = kindName(rels.text(i, 3).empty() ? '?' : rels.text(i, 3)[0]);
        r.comment = rels.optText(i, 4).value_or("");
        if (r.kind != "view") r.rowEstimate = rels.toInt(i, 5); // -1: never analysed (PostgreSQL 14+)
        if (!rels.isNull(i, 6)) r.bytes = rels.toInt(i, 6);
        r.viewDefinition = rels.optText(i, 7).value_or("");
        byOid[std::string(rels.text(i, 0))] = s.relations.size();
        s.relations.push_back(std::move(r));
    }

    const db::Rows cols = c.exec(std::string(
        "SELECT a.attrelid::text, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        "       pg_catalog.pg_get_expr(d.adbin, d.adrelid), pg_catalog.col_description(a.attrelid, a.attnum) "
        "FROM pg_catalog.pg_attribute a "
        "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attnum > 0 AND NOT a.attisdropped AND ") + kUserRelations + " ORDER BY a.attrelid, a.attnum");
    for (int i = 0; i < cols.size(); ++i) {
        const auto it = byOid.find(std::string(cols.text(i, 0)));
        if (it == byOid.end()) continue;
        SchemaColumn col;
        col.name = std::string(cols.text(i, 1));
        col.type = std::string(cols.text(i, 2));
        col.notNull = cols.toBool(i, 3);
        col.defaultValue = cols.optText(i, 4).value_or("");
        col.comment = cols.optText(i, 5).value_or("");
        s.relations[it->second].columns.push_back(std::move(col));
    }

    // Keys: the column names in key order, unit-separated (names may hold commas).
    const db::Rows keys = c.exec(std::string(
        "SELECT k.conrelid::text, k.conname, k.contype::text, "
        "       (SELECT pg_catalog.string_agg(a.attname, E'\\x1f' ORDER BY u.i) FROM pg_catalog.unnest(k.conkey) "
        "          WITH ORDINALITY u(n, i) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n), "
        "       k.confrelid::text, "
        "       (SELECT pg_catalog.string_agg(a.attname, E'\\x1f' ORDER BY u.i) FROM pg_catalog.unnest(k.confkey) "
        "          WITH ORDINALITY u(n, i) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n), "
        "       pg_catalog.pg_get_constraintdef(k.oid, true) "
        "FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE k.contype IN ('p','f') AND ") + kUserRelations + " ORDER BY k.conrelid, k.conname");
    for (int i = 0; i < keys.size(); ++i) {
        const auto it = byOid.find(std::string(keys.text(i, 0)));
        if (it == byOid.end()) continue;
        Relation& r = s.relations[it->second];
        const auto columns = splitUnit(keys.optText(i, 3).value_or(""));
        if (keys.text(i, 2) == "p") {
            r.primaryKey = columns;
            for (const std::string& name : columns)
                for (SchemaColumn& col : r.columns)
                    if (col.name == name) col.primaryKey = true;
            continue;
        }
        const auto target = byOid.find(std::string(keys.text(i, 4)));
        if (target == byOid.end()) continue; // a key into a schema we do not show
        ForeignKey fk;
        fk.name = std::string(keys.text(i, 1));
        fk.table = r.displayName();
        fk.columns = columns;
        fk.refTable = s.relations[target->second].displayName();
        fk.refColumns = splitUnit(keys.optText(i, 5).value_or(""));
        fk.definition = std::string(keys.text(i, 6));
        for (size_t k = 0; k < fk.columns.size() && k < fk.refColumns.size(); ++k)
            for (SchemaColumn& col : r.columns)
                if (col.name == fk.columns[k] && col.references.empty())
                    col.references = fk.refTable + "." + fk.refColumns[k];
        s.relations[target->second].referencedBy.push_back(fk);
        r.foreignKeys.push_back(std::move(fk));
    }

    const db::Rows idx = c.exec(std::string(
        "SELECT x.indrelid::text, i.relname, x.indisunique, x.indisprimary, pg_catalog.pg_get_indexdef(x.indexrelid) "
        "FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_catalog.pg_class c ON c.oid = x.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE ") + kUserRelations + " ORDER BY x.indrelid, NOT x.indisprimary, i.relname");
    for (int i = 0; i < idx.size(); ++i) {
        const auto it = byOid.find(std::string(idx.text(i, 0)));
        if (it == byOid.end()) continue;
        SchemaIndex ix;
        ix.name = std::string(idx.text(i, 1));
        ix.unique = idx.toBool(i, 2);
        ix.primary = idx.toBool(i, 3);
        ix.definition = std::string(idx.text(i, 4));
        s.relations[it->second].indexes.push_back(std::move(ix));
    }
    return s;
}

std::vector<SchemaMatch> searchSchema(const Schema& schema, std::string_view words) {
    std::vector<std::string> terms;
    {
        std::string w;
        for (char ch : lower(words)) {
            if (std::isspace(static_cast<unsigned char>(ch))) {
                if (!w.empty()) terms.push_back(std::move(w));
                w.clear();
            } else {
                w += ch;
            }
        }
        if (!w.empty()) terms.push_back(std::move(w));
    }
    auto all = [&terms](const std::string& a, const std::string& b) {
        const std::string text = lower(a) + "\n" + lower(b);
        return std::all_of(terms.begin(), terms.end(),
                           [&text](const std::string& t) { return text.find(t) != std::string::npos; });
    };
    std::vector<SchemaMatch> out;
    for (size_t i = 0; i < schema.relations.size(); ++i) {
        const Relation& r = schema.relations[i];
        SchemaMatch m;
        m.relation = static_cast<int>(i);
        m.relationMatched = all(r.displayName(), r.comment);
        if (!terms.empty())
            for (size_t c = 0; c < r.columns.size(); ++c)
                if (all(r.columns[c].name, r.columns[c].comment)) m.columns.push_back(static_cast<int>(c));
        if (m.relationMatched || !m.columns.empty()) out.push_back(std::move(m));
    }
    return out;
}

} // namespace paudm::sql
