#include "submitdialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace paudm::ui {

namespace {

QPlainTextEdit* jsonEditor() {
    auto* t = new QPlainTextEdit;
    t->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    t->setTabChangesFocus(true);
    return t;
}

/// The object in `text`, or an error naming the line and column.
std::optional<QJsonObject> parseObject(const QString& text, const QString& what, QString& error) {
    if (text.trimmed().isEmpty()) return QJsonObject();
    QJsonParseError e;
    const QByteArray bytes = text.toUtf8();
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &e);
    if (e.error != QJsonParseError::NoError) {
        const QByteArray before = bytes.left(e.offset);
        const int line = static_cast<int>(before.count('\n')) + 1;
        const int column = static_cast<int>(e.offset - (before.lastIndexOf('\n') + 1)) + 1;
        error = QObject::tr("%1: %2 at line %3, column %4").arg(what, e.errorString()).arg(line).arg(column);
        return std::nullopt;
    }
    if (!doc.isObject()) {
        error = QObject::tr("%1: must be a JSON object ({...})").arg(what);
        return std::nullopt;
    }
    return doc.object();
}

} // namespace

SubmitDialog::SubmitDialog(QWidget* parent)
    : QDialog(parent), task_(new QComboBox), about_(new QLabel), description_(new QLineEdit), priority_(new QSpinBox),
      config_(jsonEditor()), input_(jsonEditor()), queue_(new QCheckBox(tr("&Queue now (else stash it)"))),
      error_(new QLabel) {
    setWindowTitle(tr("Submit a task"));
    for (const auto& name : jobs::TaskRegistry::standard().names()) task_->addItem(QString::fromStdString(name));
    about_->setWordWrap(true);
    about_->setStyleSheet("color:#555");
    priority_->setRange(-1000, 1000);
    priority_->setToolTip(tr("Higher runs first among ready jobs"));
    queue_->setChecked(true);
    error_->setStyleSheet("color:#c62828");
    error_->setWordWrap(true);
    error_->hide();
    input_->setPlaceholderText("{}");
    input_->setMaximumHeight(90);
    auto* form = new QFormLayout;
    form->addRow(tr("&Task"), task_);
    form->addRow(QString(), about_);
    form->addRow(tr("&Description"), description_);
    form->addRow(tr("&Priority"), priority_);
    form->addRow(tr("&Configuration"), config_);
    form->addRow(tr("&Input"), input_);
    form->addRow(QString(), queue_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("&Submit"));
    auto* reset = buttons->addButton(tr("&Defaults"), QDialogButtonBox::ResetRole);
    connect(reset, &QPushButton::clicked, this, &SubmitDialog::showDefaults);
    connect(buttons, &QDialogButtonBox::accepted, this, &SubmitDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &SubmitDialog::reject);
    connect(task_, &QComboBox::currentTextChanged, this, &SubmitDialog::showDefaults);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form, 1);
    layout->addWidget(error_);
    layout->addWidget(buttons);
    resize(560, 520);
    showDefaults();
}

void SubmitDialog::showDefaults() {
    const jobs::TaskType* type = jobs::TaskRegistry::standard().find(task_->currentText().toStdString());
    if (!type) return;
    about_->setText(QString::fromStdString(type->description));
    config_->setPlainText(QString::fromUtf8(QJsonDocument(type->defaults).toJson(QJsonDocument::Indented)));
}

bool SubmitDialog::queueNow() const { return queue_->isChecked(); }

void SubmitDialog::accept() {
    QString error;
    const auto config = parseObject(config_->toPlainText(), tr("Configuration"), error);
    const auto input = config ? parseObject(input_->toPlainText(), tr("Input"), error) : std::nullopt;
    if (!config || !input) {
        error_->setText(error);
        error_->show();
        return; // the dialog stays open with what was typed
    }
    job_ = {};
    job_.name = task_->currentText().toStdString();
    job_.config = *config;
    job_.input = *input;
    job_.description = description_->text().trimmed().toStdString();
    job_.priority = priority_->value();
    QDialog::accept();
}

} // namespace paudm::ui
