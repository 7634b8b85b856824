#pragma once
// The SQL browser's query editor: SQL highlighting (keywords, strings, numbers, comments,
// the schema's table names), completion of keywords and of table and column names from
// the connected schema (after "table." only that table's columns; Ctrl+Space asks), and
// Ctrl+Enter to run.
#include "sql/catalog.h"

#include <QPlainTextEdit>

#include <memory>

class QCompleter;
class QStringListModel;

namespace paudm::ui {

class SqlHighlighter;

class SqlEditor : public QPlainTextEdit {
    Q_OBJECT
public:
    explicit SqlEditor(QWidget* parent = nullptr);
    ~SqlEditor() override;

    void setSchema(std::shared_ptr<const sql::Schema> schema);
    /// What completion offers for `prefix` typed after `qualifier` ("" or a table name).
    QStringList completionsFor(const QString& qualifier, const QString& prefix) const;
    QCompleter* completer() const { return completer_; }

signals:
    void runRequested();

protected:
    void keyPressEvent(QKeyEvent* e) override;

private:
    /// The identifier being typed before the cursor, and the table name before its dot.
    void wordAtCursor(QString& qualifier, QString& prefix) const;
    void showCompletions(bool asked);
    void insertCompletion(const QString& text);

    std::shared_ptr<const sql::Schema> schema_;
    QCompleter* completer_;
    QStringListModel* words_;
    SqlHighlighter* highlighter_;
};

/// The SQL keywords the editor highlights and completes.
const QStringList& sqlKeywords();

} // namespace paudm::ui
