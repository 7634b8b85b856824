#pragma once
// The schema browser: every table and view of the connected database with its COMMENT,
// columns with type, nullability, default and COMMENT, primary and foreign keys (a click
// follows a key to its table), the tables that point back, indexes and the planner's row
// estimate; a search over names and descriptions. Read from pg_catalog off the GUI
// thread, on the read-only role, so that an external PAUdb shows its own schema.
#include "common/error.h"
#include "sql/catalog.h"

#include <QWidget>

#include <memory>

class QLabel;
class QLineEdit;
class QTextBrowser;
class QTreeWidget;
class QTreeWidgetItem;

namespace paudm::ui {

class Background;

class SchemaPanel : public QWidget {
    Q_OBJECT
public:
    explicit SchemaPanel(QWidget* parent = nullptr);
    ~SchemaPanel() override;

    void setDatabase(const std::string& readerConninfo);
    void reload();
    /// Shows a relation's detail (by its displayName); false when there is none.
    bool showRelation(const QString& name);
    /// Shows `name` now, or once the schema is read (the console's --table).
    void showWhenLoaded(const QString& name);
    void setSearch(const QString& words);

    bool hasLoaded() const { return loaded_; }
    const std::shared_ptr<const sql::Schema>& schema() const { return schema_; }
    QTreeWidget* tree() const { return tree_; }
    QTextBrowser* detail() const { return detail_; }
    QString currentRelation() const { return current_; }
    QSize sizeHint() const override { return {560, 500}; }
    /// A dock shares the window's height with the others: it may be squeezed (its tables
    /// and editor scroll) rather than make the window taller than the screen.
    QSize minimumSizeHint() const override { return {420, 300}; }

signals:
    void loaded();
    void schemaLoaded(std::shared_ptr<const sql::Schema> schema);
    /// "Query this table" was asked for.
    void queryWanted(const QString& sql);

private:
    void fillTree();
    QString relationHtml(const sql::Relation& r) const;

    bool loaded_ = false;
    std::shared_ptr<const sql::Schema> schema_;
    QString current_;
    QLineEdit* search_;
    QLabel* summary_;
    QLabel* problem_;
    QTreeWidget* tree_;
    QTextBrowser* detail_;
    std::unique_ptr<Background> background_;
};

} // namespace paudm::ui
