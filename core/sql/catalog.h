#pragma once
// The schema as the connected database describes it (pg_catalog): tables and views with
// their COMMENT, columns with type, nullability, default and COMMENT, primary and foreign
// keys in both directions, indexes, the planner's row estimate and the size on disk. An
// external PAUdb shows its own: nothing here is compiled in from schema/.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paudm::db {
class Connection;
}

namespace paudm::sql {

struct SchemaColumn {
    std::string name;
    std::string type; ///< format_type(): "bigint", "character varying(64)", "double precision[]"
    bool notNull = false;
    std::string defaultValue; ///< the DEFAULT expression, empty for none
    std::string comment;
    bool primaryKey = false;
    std::string references; ///< "table.column" of the foreign key it belongs to, or empty
};

struct ForeignKey {
    std::string name;
    std::string table; ///< the table that holds the key
    std::vector<std::string> columns;
    std::string refTable; ///< the table it points to
    std::vector<std::string> refColumns;
    std::string definition; ///< pg_get_constraintdef(): "FOREIGN KEY (a) REFERENCES t(b) ON DELETE CASCADE"
};

struct SchemaIndex {
    std::string name;
    std::string definition; ///< pg_get_indexdef()
    bool unique = false;
    bool primary = false;
};

struct Relation {
    std::string schema;
    std::string name;
    std::string kind; ///< "table", "view", "materialized view", "partitioned table", "foreign table"
    std::string comment;
    std::int64_t rowEstimate = -1; ///< pg_class.reltuples, or the live-row count of the statistics before the first ANALYZE; -1 for a view
    std::int64_t bytes = -1;       ///< pg_total_relation_size(), -1 for views
    std::vector<SchemaColumn> columns;
    std::vector<std::string> primaryKey;
    std::vector<ForeignKey> foreignKeys;  ///< its keys into other tables
    std::vector<ForeignKey> referencedBy; ///< other tables' keys into it
    std::vector<SchemaIndex> indexes;
    std::string viewDefinition; ///< for views, pg_get_viewdef()

    /// The name to type in a query: bare in the public schema, else schema.name.
    std::string displayName() const;
    const SchemaColumn* column(std::string_view name) const;
};

struct Schema {
    std::string database;
    std::vector<Relation> relations; ///< sorted by displayName()
    /// By displayName() (or schema.name); nullptr when absent.
    const Relation* find(std::string_view name) const;
};

/// Reads the schema of every non-system schema the connection can see.
Schema loadSchema(db::Connection& c);

/// One hit of a search: a relation, and the columns of it that matched (empty when the
/// relation's own name or comment did).
struct SchemaMatch {
    int relation = -1;
    bool relationMatched = false;
    std::vector<int> columns;
};

/// Case-insensitive search over the names and descriptions of relations and columns:
/// every word of `words` must occur in one of them (a table matches when all words occur
/// in its name or comment; a column when all occur in its name or comment). Relations are
/// returned in schema order; an empty search matches everything.
std::vector<SchemaMatch> searchSchema(const Schema& schema, std::string_view words);

} // namespace paudm::sql
