#include "sqleditor.h"

#include <QAbstractItemView>
#include <QCompleter>
#include <QFontDatabase>
#include <QKeyEvent>
#include <QRegularExpression>
#include <QScrollBar>
#include <QSet>
#include <QStringListModel>
#include <QSyntaxHighlighter>
#include <QTextBlock>

namespace paudm::ui {

const QStringList& sqlKeywords() {
    static const QStringList words = [] {
        QStringList w = QString("select from where and or not in is null like ilike between exists group by order having "
                                "limit offset join left right full inner outer cross on using as distinct union all "
                                "intersect except case when then else end with recursive values table asc desc nulls "
                                "first last count sum avg min max coalesce nullif cast true false over partition window "
                                "filter lateral any some array explain analyze show interval date timestamp now "
                                "percentile_cont within extract epoch round abs sqrt power ln log floor ceil greatest "
                                "least string_agg array_agg unnest generate_series")
                            .split(' ');
        return w;
    }();
    return words;
}

class SqlHighlighter : public QSyntaxHighlighter {
public:
    explicit SqlHighlighter(QTextDocument* doc) : QSyntaxHighlighter(doc) {
        keyword_.setForeground(QColor(0x1a, 0x4f, 0x9c));
        keyword_.setFontWeight(QFont::Bold);
        string_.setForeground(QColor(0x2e, 0x7d, 0x32));
        number_.setForeground(QColor(0x8e, 0x24, 0xaa));
        comment_.setForeground(QColor(0x80, 0x80, 0x80));
        comment_.setFontItalic(true);
        table_.setForeground(QColor(0x00, 0x69, 0x6b));
        table_.setFontWeight(QFont::DemiBold);
        keywords_ = QSet<QString>(sqlKeywords().begin(), sqlKeywords().end());
    }
    void setTables(QSet<QString> tables) {
        tables_ = std::move(tables);
        rehighlight();
    }

protected:
    // One pass over the block, so that a quote inside a comment (or a -- inside a string)
    // means what it means to the server. State 1: inside a /* comment at the block's end.
    void highlightBlock(const QString& text) override {
        int i = 0;
        const int n = static_cast<int>(text.size());
        if (previousBlockState() == 1) {
            const int close = static_cast<int>(text.indexOf("*/"));
            if (close < 0) {
                setFormat(0, n, comment_);
                setCurrentBlockState(1);
                return;
            }
            setFormat(0, close + 2, comment_);
            i = close + 2;
        }
        setCurrentBlockState(0);
        while (i < n) {
            const QChar ch = text[i];
            if (ch == '-' && i + 1 < n && text[i + 1] == '-') {
                setFormat(i, n - i, comment_);
                return;
            }
            if (ch == '/' && i + 1 < n && text[i + 1] == '*') {
                const int close = static_cast<int>(text.indexOf("*/", i + 2));
                if (close < 0) {
                    setFormat(i, n - i, comment_);
                    setCurrentBlockState(1);
                    return;
                }
                setFormat(i, close + 2 - i, comment_);
                i = close + 2;
                continue;
            }
            if (ch == '\'') {
                int j = i + 1;
                while (j < n) {
                    if (text[j] == '\'' && j + 1 < n && text[j + 1] == '\'') {
                        j += 2;
                        continue;
                    }
                    if (text[j] == '\'') break;
                    ++j;
                }
                setFormat(i, std::min(j + 1, n) - i, string_);
                i = j + 1;
                continue;
            }
            if (ch.isDigit()) {
                int j = i;
                while (j < n && (text[j].isDigit() || text[j] == '.' || text[j] == 'e' || text[j] == 'E')) ++j;
                setFormat(i, j - i, number_);
                i = j;
                continue;
            }
            if (ch.isLetter() || ch == '_') {
                int j = i;
                while (j < n && (text[j].isLetterOrNumber() || text[j] == '_')) ++j;
                const QString word = text.mid(i, j - i).toLower();
                if (keywords_.contains(word))
                    setFormat(i, j - i, keyword_);
                else if (tables_.contains(word))
                    setFormat(i, j - i, table_);
                i = j;
                continue;
            }
            ++i;
        }
    }

private:
    QTextCharFormat keyword_, string_, number_, comment_, table_;
    QSet<QString> keywords_, tables_;
};

SqlEditor::SqlEditor(QWidget* parent)
    : QPlainTextEdit(parent), completer_(new QCompleter(this)), words_(new QStringListModel(this)),
      highlighter_(new SqlHighlighter(document())) {
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setLineWrapMode(QPlainTextEdit::NoWrap);
    setTabChangesFocus(false);
    setPlaceholderText(tr("SELECT ... (Ctrl+Enter runs; Ctrl+Space completes table and column names)"));
    completer_->setModel(words_);
    completer_->setWidget(this);
    completer_->setCompletionMode(QCompleter::PopupCompletion);
    completer_->setCaseSensitivity(Qt::CaseInsensitive);
    completer_->setModelSorting(QCompleter::CaseInsensitivelySortedModel);
    connect(completer_, qOverload<const QString&>(&QCompleter::activated), this, &SqlEditor::insertCompletion);
}

SqlEditor::~SqlEditor() = default;

void SqlEditor::setSchema(std::shared_ptr<const sql::Schema> schema) {
    schema_ = std::move(schema);
    QSet<QString> tables;
    if (schema_)
        for (const auto& r : schema_->relations) tables.insert(QString::fromStdString(r.displayName()).toLower());
    highlighter_->setTables(std::move(tables));
}

QStringList SqlEditor::completionsFor(const QString& qualifier, const QString& prefix) const {
    QStringList out;
    auto add = [&](const QString& w) {
        if (w.startsWith(prefix, Qt::CaseInsensitive) && w.compare(prefix, Qt::CaseInsensitive) != 0) out << w;
    };
    if (!qualifier.isEmpty()) {
        // table.column: that table's columns (an alias is not resolved: nothing then).
        if (schema_)
            if (const sql::Relation* r = schema_->find(qualifier.toStdString()))
                for (const auto& c : r->columns) add(QString::fromStdString(c.name));
    } else {
        if (schema_) {
            QSet<QString> seen;
            for (const auto& r : schema_->relations) {
                add(QString::fromStdString(r.displayName()));
                for (const auto& c : r.columns) {
                    const QString name = QString::fromStdString(c.name);
                    if (!seen.contains(name)) {
                        seen.insert(name);
                        add(name);
                    }
                }
            }
        }
        for (const QString& k : sqlKeywords()) add(k);
    }
    out.removeDuplicates();
    out.sort(Qt::CaseInsensitive);
    return out;
}

void SqlEditor::wordAtCursor(QString& qualifier, QString& prefix) const {
    const QTextCursor c = textCursor();
    const QString line = c.block().text().left(c.positionInBlock());
    static const QRegularExpression tail(R"(((?:[A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*)\.?([A-Za-z0-9_]*)$)");
    const auto m = tail.match(line);
    qualifier.clear();
    prefix.clear();
    if (!m.hasMatch()) return;
    const QString whole = m.captured(0);
    const int dot = static_cast<int>(whole.lastIndexOf('.'));
    if (dot >= 0) {
        qualifier = whole.left(dot);
        prefix = whole.mid(dot + 1);
    } else {
        prefix = whole;
    }
}

void SqlEditor::showCompletions(bool asked) {
    QString qualifier, prefix;
    wordAtCursor(qualifier, prefix);
    if (!asked && qualifier.isEmpty() && prefix.size() < 2) {
        completer_->popup()->hide();
        return;
    }
    const QStringList words = completionsFor(qualifier, prefix);
    if (words.isEmpty()) {
        completer_->popup()->hide();
        return;
    }
    words_->setStringList(words);
    completer_->setCompletionPrefix(prefix);
    completer_->popup()->setCurrentIndex(completer_->completionModel()->index(0, 0));
    QRect r = cursorRect();
    r.setWidth(completer_->popup()->sizeHintForColumn(0) + completer_->popup()->verticalScrollBar()->sizeHint().width());
    completer_->complete(r);
}

void SqlEditor::insertCompletion(const QString& text) {
    QString qualifier, prefix;
    wordAtCursor(qualifier, prefix);
    QTextCursor c = textCursor();
    c.movePosition(QTextCursor::Left, QTextCursor::KeepAnchor, static_cast<int>(prefix.size()));
    c.insertText(text);
    setTextCursor(c);
}

void SqlEditor::keyPressEvent(QKeyEvent* e) {
    const bool popup = completer_->popup()->isVisible();
    if (popup) {
        switch (e->key()) {
        case Qt::Key_Enter:
        case Qt::Key_Return:
        case Qt::Key_Tab:
        case Qt::Key_Escape:
        case Qt::Key_Backtab:
            if (!(e->modifiers() & Qt::ControlModifier)) {
                e->ignore(); // the completer takes them
                return;
            }
            break;
        default: break;
        }
    }
    if ((e->key() == Qt::Key_Return || e->key() == Qt::Key_Enter) && (e->modifiers() & Qt::ControlModifier)) {
        completer_->popup()->hide();
        emit runRequested();
        return;
    }
    if (e->key() == Qt::Key_Space && (e->modifiers() & Qt::ControlModifier)) {
        showCompletions(true);
        return;
    }
    QPlainTextEdit::keyPressEvent(e);
    const QString typed = e->text();
    if (typed.isEmpty() || (e->modifiers() & (Qt::ControlModifier | Qt::AltModifier))) {
        if (popup) showCompletions(false);
        return;
    }
    const QChar last = typed.back();
    if (last.isLetterOrNumber() || last == '_' || last == '.')
        showCompletions(false);
    else
        completer_->popup()->hide();
}

} // namespace paudm::ui
