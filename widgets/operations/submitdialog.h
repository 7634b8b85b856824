#pragma once
// Submit a task: choose its type, edit its configuration (the type's defaults to start
// from, checked as JSON before anything is sent), describe it, set its priority.
#include "jobs/task.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace paudm::ui {

class SubmitDialog : public QDialog {
    Q_OBJECT
public:
    explicit SubmitDialog(QWidget* parent = nullptr);
    /// The job to create (valid after accept()).
    jobs::NewJob job() const { return job_; }
    /// Queue it at once (else it is stashed, to be submitted later).
    bool queueNow() const;

    void accept() override;

private:
    void showDefaults();

    QComboBox* task_;
    QLabel* about_;
    QLineEdit* description_;
    QSpinBox* priority_;
    QPlainTextEdit* config_;
    QPlainTextEdit* input_;
    QCheckBox* queue_;
    QLabel* error_;
    jobs::NewJob job_;
};

} // namespace paudm::ui
