#include "schemapanel.h"

#include "background.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QTextBrowser>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

namespace paudm::ui {

namespace {

QString h(const std::string& s) {
    return QString::fromStdString(s).toHtmlEscaped();
}

/// The planner's row estimate, short for the tree ("" for a view or a table never analysed).
QString estimate(const sql::Relation& r) {
    if (r.kind == "view" || r.rowEstimate < 0) return {};
    return "~" + QLocale(QLocale::English).toString(static_cast<qlonglong>(r.rowEstimate));
}

QString sizeText(std::int64_t bytes) {
    if (bytes < 0) return {};
    if (bytes < 1 << 20) return QString::number(static_cast<double>(bytes) / 1024.0, 'f', 0) + " kB";
    if (bytes < (1LL << 30)) return QString::number(static_cast<double>(bytes) / (1 << 20), 'f', 1) + " MB";
    return QString::number(static_cast<double>(bytes) / (1LL << 30), 'f', 2) + " GB";
}

/// A link that follows to a relation ("rel:NAME").
QString relLink(const std::string& name) {
    return QString("<a href=\"rel:%1\">%2</a>").arg(QString::fromUtf8(QUrl::toPercentEncoding(QString::fromStdString(name))), h(name));
}

QString joined(const std::vector<std::string>& v) {
    QStringList l;
    for (const auto& s : v) l << h(s);
    return l.join(", ");
}

} // namespace

SchemaPanel::SchemaPanel(QWidget* parent)
    : QWidget(parent), search_(new QLineEdit), summary_(new QLabel), problem_(new QLabel), tree_(new QTreeWidget),
      detail_(new QTextBrowser) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* bar = new QHBoxLayout;
    search_->setPlaceholderText(tr("Search tables, columns and their descriptions (Ctrl+F)"));
    search_->setClearButtonEnabled(true);
    auto* reloadButton = new QPushButton(tr("Reload"));
    reloadButton->setToolTip(tr("Read the schema again (after a migration)"));
    bar->addWidget(search_, 1);
    bar->addWidget(reloadButton);
    layout->addLayout(bar);
    summary_->setStyleSheet("color:#555");
    layout->addWidget(summary_);
    problem_->setStyleSheet("color:#c62828");
    problem_->setWordWrap(true);
    problem_->hide();
    layout->addWidget(problem_);

    auto* split = new QSplitter(Qt::Horizontal);
    tree_->setColumnCount(2);
    tree_->setHeaderLabels({tr("Table / column"), tr("Rows")});
    tree_->header()->setStretchLastSection(false);
    tree_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    tree_->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    tree_->setRootIsDecorated(true);
    tree_->setUniformRowHeights(true);
    tree_->setMinimumWidth(230);
    split->addWidget(tree_);
    detail_->setOpenLinks(false);
    detail_->setPlaceholderText(tr("Choose a table"));
    split->addWidget(detail_);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 5);
    layout->addWidget(split, 1);

    connect(search_, &QLineEdit::textChanged, this, &SchemaPanel::fillTree);
    connect(reloadButton, &QPushButton::clicked, this, &SchemaPanel::reload);
    new QShortcut(QKeySequence::Find, this, [this] { search_->setFocus(); search_->selectAll(); },
                  Qt::WidgetWithChildrenShortcut);
    connect(tree_, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        if (!item) return;
        QTreeWidgetItem* top = item->parent() ? item->parent() : item;
        showRelation(top->data(0, Qt::UserRole).toString());
    });
    connect(tree_, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem* item) {
        QTreeWidgetItem* top = item->parent() ? item->parent() : item;
        const QString name = top->data(0, Qt::UserRole).toString();
        if (item->parent())
            emit queryWanted(QString("SELECT %1\nFROM %2\nLIMIT 100").arg(item->data(0, Qt::UserRole + 1).toString(), name));
        else
            emit queryWanted(QString("SELECT *\nFROM %1\nLIMIT 100").arg(name));
    });
    connect(detail_, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
        const QString s = url.toString();
        if (s.startsWith("rel:")) {
            const QString name = QUrl::fromPercentEncoding(s.mid(4).toUtf8());
            if (!showRelation(name)) return;
            // Follow it in the tree too (clearing a search that hides it).
            auto items = tree_->findItems(name, Qt::MatchExactly, 0);
            if (items.isEmpty() && !search_->text().isEmpty()) {
                search_->clear();
                items = tree_->findItems(name, Qt::MatchExactly, 0);
            }
            if (!items.isEmpty()) {
                const QSignalBlocker block(tree_);
                tree_->setCurrentItem(items.first());
                tree_->scrollToItem(items.first());
            }
        } else if (s.startsWith("query:")) {
            emit queryWanted(QString("SELECT *\nFROM %1\nLIMIT 100").arg(QUrl::fromPercentEncoding(s.mid(6).toUtf8())));
        }
    });
    summary_->setText(tr("Waiting for the database..."));
    setMinimumWidth(420);
}

SchemaPanel::~SchemaPanel() = default;

void SchemaPanel::setDatabase(const std::string& readerConninfo) {
    background_ = std::make_unique<Background>(readerConninfo);
    reload();
}

void SchemaPanel::reload() {
    if (!background_) return;
    summary_->setText(tr("Reading the schema..."));
    background_->query<std::shared_ptr<const sql::Schema>>(
        this, [](db::Connection& c) { return std::make_shared<const sql::Schema>(sql::loadSchema(c)); },
        [this](const Result<std::shared_ptr<const sql::Schema>>& r) {
            if (!r) {
                problem_->setText(tr("Cannot read the schema: %1").arg(QString::fromStdString(r.error().message())));
                problem_->show();
                summary_->clear();
            } else {
                problem_->hide();
                schema_ = *r;
                fillTree();
                const QString wanted = current_;
                if (wanted.isEmpty() || !showRelation(wanted)) {
                    if (!wanted.isEmpty())
                        summary_->setText(tr("No table or view '%1' in %2").arg(wanted, QString::fromStdString(schema_->database)));
                    if (tree_->topLevelItemCount() > 0) tree_->setCurrentItem(tree_->topLevelItem(0));
                } else {
                    const auto items = tree_->findItems(wanted, Qt::MatchExactly, 0);
                    if (!items.isEmpty()) {
                        const QSignalBlocker block(tree_);
                        tree_->setCurrentItem(items.first());
                    }
                }
                emit schemaLoaded(schema_);
            }
            if (!loaded_) {
                loaded_ = true;
                emit loaded();
            }
        });
}

void SchemaPanel::showWhenLoaded(const QString& name) {
    current_ = name;
    if (schema_) showRelation(name);
}

void SchemaPanel::setSearch(const QString& words) {
    search_->setText(words);
}

void SchemaPanel::fillTree() {
    if (!schema_) return;
    const QString words = search_->text();
    const auto matches = sql::searchSchema(*schema_, words.toStdString());
    const QSignalBlocker block(tree_);
    tree_->clear();
    int columns = 0;
    for (const sql::SchemaMatch& m : matches) {
        const sql::Relation& r = schema_->relations[static_cast<size_t>(m.relation)];
        const QString name = QString::fromStdString(r.displayName());
        auto* item = new QTreeWidgetItem(tree_, {name, estimate(r)});
        item->setData(0, Qt::UserRole, name);
        item->setToolTip(0, QString::fromStdString(r.kind + (r.comment.empty() ? "" : ": " + r.comment)));
        item->setToolTip(1, r.kind == "view" ? tr("a view") : r.rowEstimate < 0 ? tr("never analysed: no estimate yet")
                                                                                : tr("rows: the planner's estimate (before the first ANALYZE, the statistics' count of live rows)"));
        item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
        if (r.kind != "table") {
            QFont f = item->font(0);
            f.setItalic(true);
            item->setFont(0, f);
        }
        for (int c : m.columns) {
            const sql::SchemaColumn& col = r.columns[static_cast<size_t>(c)];
            auto* child = new QTreeWidgetItem(item, {QString::fromStdString(col.name), QString::fromStdString(col.type)});
            child->setData(0, Qt::UserRole + 1, QString::fromStdString(col.name));
            child->setToolTip(0, QString::fromStdString(col.comment));
            child->setForeground(1, QColor(0x77, 0x77, 0x77));
            ++columns;
        }
        item->setExpanded(!m.columns.empty());
    }
    const int tables = static_cast<int>(schema_->relations.size());
    if (words.trimmed().isEmpty())
        summary_->setText(tr("%1 tables and views in %2; double-click one to query it")
                              .arg(tables)
                              .arg(QString::fromStdString(schema_->database)));
    else
        summary_->setText(tr("'%1': %2 of %3 tables, %4 columns").arg(words.trimmed()).arg(matches.size()).arg(tables).arg(columns));
}

bool SchemaPanel::showRelation(const QString& name) {
    if (!schema_) return false;
    const sql::Relation* r = schema_->find(name.toStdString());
    if (!r) return false;
    current_ = name;
    detail_->setHtml(relationHtml(*r));
    return true;
}

QString SchemaPanel::relationHtml(const sql::Relation& r) const {
    QString html = "<style>th{text-align:left;background:#eef2f7;padding:2px 6px} td{padding:2px 6px;vertical-align:top}"
                   " .muted{color:#777} .key{color:#1a4f9c;font-weight:bold} code{font-family:monospace}</style>";
    html += QString("<h2 style='margin-bottom:2px'>%1</h2>").arg(h(r.displayName()));
    QStringList facts{h(r.kind)};
    if (r.kind != "view")
        facts << (r.rowEstimate < 0 ? tr("never analysed: no row estimate yet")
                                    : tr("%1 rows (estimate)").arg(estimate(r)));
    if (r.bytes >= 0) facts << sizeText(r.bytes);
    html += QString("<div class='muted'>%1 &nbsp; <a href=\"query:%2\">Query it</a></div>")
                .arg(facts.join(" · "), QString::fromUtf8(QUrl::toPercentEncoding(QString::fromStdString(r.displayName()))));
    html += r.comment.empty() ? QString("<p class='muted'><i>%1</i></p>").arg(tr("No description (COMMENT ON TABLE)."))
                              : QString("<p>%1</p>").arg(h(r.comment));
    html += "<table cellspacing=0 width='100%'><tr><th>" + tr("Column") + "</th><th>" + tr("Type") + "</th><th>" +
            tr("Null") + "</th><th>" + tr("Default") + "</th><th>" + tr("Description") + "</th></tr>";
    for (const sql::SchemaColumn& c : r.columns) {
        QString name = h(c.name);
        if (c.primaryKey) name = "<span class='key' title='primary key'>" + name + "</span> <small class='muted'>PK</small>";
        QString type = h(c.type);
        if (!c.references.empty()) {
            const auto dot = c.references.rfind('.');
            type += " \u2192 " + relLink(c.references.substr(0, dot)) + h(c.references.substr(dot));
        }
        html += QString("<tr><td>%1</td><td><code>%2</code></td><td>%3</td><td><code>%4</code></td><td>%5</td></tr>")
                    .arg(name, type, c.notNull ? tr("not null") : QString(), h(c.defaultValue), h(c.comment));
    }
    html += "</table>";
    if (!r.primaryKey.empty()) html += "<p><b>" + tr("Primary key") + ":</b> " + joined(r.primaryKey) + "</p>";
    if (!r.foreignKeys.empty()) {
        html += "<p><b>" + tr("Foreign keys") + "</b></p><ul>";
        for (const auto& fk : r.foreignKeys)
            html += QString("<li>(%1) \u2192 %2 (%3) <span class='muted'><code>%4</code></span></li>")
                        .arg(joined(fk.columns), relLink(fk.refTable), joined(fk.refColumns), h(fk.definition));
        html += "</ul>";
    }
    if (!r.referencedBy.empty()) {
        html += "<p><b>" + tr("Referenced by") + "</b></p><ul>";
        for (const auto& fk : r.referencedBy)
            html += QString("<li>%1 (%2)</li>").arg(relLink(fk.table), joined(fk.columns));
        html += "</ul>";
    }
    if (!r.indexes.empty()) {
        html += "<p><b>" + tr("Indexes") + "</b></p><ul>";
        for (const auto& ix : r.indexes) html += QString("<li><code>%1</code></li>").arg(h(ix.definition));
        html += "</ul>";
    }
    if (!r.viewDefinition.empty())
        html += "<p><b>" + tr("Definition") + "</b></p><pre>" + h(r.viewDefinition) + "</pre>";
    return html;
}

} // namespace paudm::ui
