// paudm jobs create | submit | list | show | tags | graph | retry | abort | remove
// paudm runner [--threads N] [--tasks PATTERN] [--until-idle] [--max-jobs N] ...
#include "cli.h"

#include "db/connection.h"
#include "db/database.h"
#include "jobs/runner.h"
#include "jobs/store.h"
#include "jobs/yaml_json.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>

#include "common/stop_signals.h"

#include <atomic>
#include <csignal>
#include <cstdio>

namespace paudm::cli {

namespace {

using jobs::JobFilter;
using jobs::JobRow;
using jobs::JobStore;

QString when(const QDateTime& t) {
    return t.isValid() ? t.toUTC().toString("yyyy-MM-dd HH:mm:ss") : QString("-");
}

QString duration(const JobRow& r) {
    if (!r.started.isValid()) return "-";
    const QDateTime end = r.ended.isValid() ? r.ended : QDateTime::currentDateTimeUtc();
    const double s = r.started.msecsTo(end) / 1000.0;
    if (s < 60) return QString::number(s, 'f', 1) + "s";
    if (s < 3600) return QString::number(s / 60, 'f', 1) + "m";
    return QString::number(s / 3600, 'f', 1) + "h";
}

QJsonObject rowJson(const JobRow& r) {
    QJsonObject o{
        {"id", static_cast<qint64>(r.id)},
        {"name", QString::fromStdString(r.name)},
        {"status", QString::fromStdString(r.status)},
        {"phase", QString::fromStdString(r.phase)},
        {"description", QString::fromStdString(r.description)},
        {"priority", r.priority},
        {"attempts", r.attempts},
        {"max_attempts", r.maxAttempts},
        {"subjobs", static_cast<qint64>(r.subjobs)},
        {"created", r.created.toUTC().toString(Qt::ISODateWithMs)},
        {"queued", r.queued.isValid() ? QJsonValue(r.queued.toUTC().toString(Qt::ISODateWithMs)) : QJsonValue()},
        {"started", r.started.isValid() ? QJsonValue(r.started.toUTC().toString(Qt::ISODateWithMs)) : QJsonValue()},
        {"ended", r.ended.isValid() ? QJsonValue(r.ended.toUTC().toString(Qt::ISODateWithMs)) : QJsonValue()}};
    o["super_id"] = r.superId ? QJsonValue(static_cast<qint64>(*r.superId)) : QJsonValue();
    return o;
}

void printJson(const QJsonValue& v) {
    const QByteArray text = v.isArray() ? QJsonDocument(v.toArray()).toJson(QJsonDocument::Indented)
                                        : QJsonDocument(v.toObject()).toJson(QJsonDocument::Indented);
    std::fwrite(text.constData(), 1, static_cast<size_t>(text.size()), stdout);
}

void addFilterOptions(QCommandLineParser& p) {
    p.addOption({"status", "Only jobs in these states (comma-separated: QUEUED,RUNNING,...).", "list"});
    p.addOption({"task", "Only jobs of this task.", "name"});
    p.addOption({"since", "Created at or after (UTC, e.g. 2026-11-23 or 2026-11-23T21:00).", "time"});
    p.addOption({"until", "Created before (UTC).", "time"});
    p.addOption({"super", "Only the sub-jobs of this job.", "id"});
    p.addOption({"top", "Only top-level jobs."});
}

std::optional<JobFilter> filterFrom(const QCommandLineParser& p, std::string& problem) {
    JobFilter f;
    for (const QString& s : p.value("status").split(',', Qt::SkipEmptyParts)) {
        const std::string st = s.trimmed().toUpper().toStdString();
        static const std::vector<std::string> known = {"STASHED", "QUEUED", "RUNNING",  "STANDBY",
                                                       "DONE",    "FAILED", "CANCELLED"};
        if (std::find(known.begin(), known.end(), st) == known.end()) {
            problem =
                "unknown status '" + s.toStdString() + "' (STASHED, QUEUED, RUNNING, STANDBY, DONE, FAILED, CANCELLED)";
            return std::nullopt;
        }
        f.statuses.push_back(st);
    }
    f.task = p.value("task").toStdString();
    for (const char* opt : {"since", "until"}) {
        if (!p.isSet(opt)) continue;
        const auto t = jobs::parseTime(p.value(opt).toStdString());
        if (!t) {
            problem = "--" + std::string(opt) + ": cannot read '" + p.value(opt).toStdString() + "' as a time";
            return std::nullopt;
        }
        (std::string(opt) == "since" ? f.createdFrom : f.createdTo) = t;
    }
    if (p.isSet("super")) {
        bool ok = false;
        f.superId = p.value("super").toLongLong(&ok);
        if (!ok) {
            problem = "--super wants a job id";
            return std::nullopt;
        }
    }
    f.topLevel = p.isSet("top");
    return f;
}

std::optional<std::int64_t> jobId(const QString& text) {
    bool ok = false;
    const qint64 id = text.toLongLong(&ok);
    return ok && id > 0 ? std::optional<std::int64_t>(id) : std::nullopt;
}

/// The single job id a command was given, if it was given exactly one valid id.
std::optional<std::int64_t> oneJobId(const QCommandLineParser& p) {
    return p.positionalArguments().size() == 1 ? jobId(p.positionalArguments().first()) : std::nullopt;
}

int create(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription("Create a job of TASK and print its id.\n\n"
                                "  paudm jobs create fanout --set n=20000 --set task=noop --submit");
    p.addHelpOption();
    p.addPositionalArgument("task", "Task type (noop, fail, crash, fanout, ...).");
    p.addOption({"config", "Configuration file (YAML mapping).", "file"});
    p.addOption({"set", "Set one configuration value (repeatable; nested keys with dots).", "key=value"});
    p.addOption({"input", "Input as a YAML/JSON mapping, e.g. '{obs_set: 2026-11-23_1}'.", "mapping"});
    p.addOption({"description", "Free text shown in listings.", "text"});
    p.addOption({"priority", "Higher runs first (default 0).", "n", "0"});
    p.addOption({"max-attempts", "Attempts before the job is FAILED (default 3).", "n"});
    p.addOption({"submit", "Queue it at once (else it stays STASHED until 'jobs submit')."});
    if (auto rc = parseOrEnd(p, "paudm jobs create", args)) return *rc;
    if (p.positionalArguments().size() != 1) return usage(p, "name one task");
    jobs::NewJob job;
    job.name = p.positionalArguments().first().toStdString();
    auto built = capture([&] {
        if (p.isSet("config")) job.config = jobs::yamlFileToJson(p.value("config").toStdString());
        for (const QString& s : p.values("set"))
            jobs::applySetting(job.config, s.toStdString());
        if (p.isSet("input")) job.input = jobs::yamlTextToJson(p.value("input").toStdString(), "--input");
    });
    if (!built) return failed(built.error().what());
    job.description = p.value("description").toStdString();
    job.priority = p.value("priority").toInt();
    if (p.isSet("max-attempts")) job.maxAttempts = p.value("max-attempts").toInt();
    auto c = openDatabase(g, "paudm jobs create");
    if (!c) return 1;
    auto id = capture([&] { return JobStore(*c).create(job, p.isSet("submit")); });
    if (!id) return failed(id.error().what());
    std::printf("%lld\n", static_cast<long long>(*id));
    return 0;
}

int list(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "List jobs, newest first.\n\n  paudm jobs list --top --status FAILED --since 2026-11-23");
    p.addHelpOption();
    addFilterOptions(p);
    p.addOption({"limit", "At most this many (default 50; 0: all).", "n", "50"});
    p.addOption({"count", "Print counts per status instead of jobs."});
    p.addOption({"json", "JSON output."});
    if (auto rc = parseOrEnd(p, "paudm jobs list", args)) return *rc;
    std::string problem;
    auto f = filterFrom(p, problem);
    if (!f) return usage(p, QString::fromStdString(problem));
    f->limit = p.value("limit").toInt();
    auto c = openDatabase(g, "paudm jobs list");
    if (!c) return 1;
    JobStore store(*c);
    if (p.isSet("count")) {
        auto counts = capture([&] { return store.countByStatus(*f); });
        if (!counts) return failed(counts.error().what());
        if (p.isSet("json")) {
            QJsonObject o;
            for (const auto& [s, n] : *counts)
                o[QString::fromStdString(s)] = static_cast<qint64>(n);
            printJson(o);
        } else {
            for (const auto& [s, n] : *counts)
                std::printf("%-10s %lld\n", s.c_str(), static_cast<long long>(n));
        }
        return 0;
    }
    auto rows = capture([&] { return store.list(*f); });
    if (!rows) return failed(rows.error().what());
    if (p.isSet("json")) {
        QJsonArray a;
        for (const JobRow& r : *rows)
            a.append(rowJson(r));
        printJson(a);
        return 0;
    }
    std::printf("%8s %8s  %-16s %-9s %7s %4s  %-19s %8s  %s\n", "ID", "SUPER", "TASK", "STATUS", "SUBJOBS", "TRY",
                "CREATED", "TIME", "DESCRIPTION");
    for (const JobRow& r : *rows)
        std::printf("%8lld %8s  %-16s %-9s %7lld %2d/%d  %-19s %8s  %s\n", static_cast<long long>(r.id),
                    r.superId ? std::to_string(*r.superId).c_str() : "-", r.name.c_str(), r.status.c_str(),
                    static_cast<long long>(r.subjobs), r.attempts, r.maxAttempts, qPrintable(when(r.created)),
                    qPrintable(duration(r)), r.description.c_str());
    return 0;
}

int show(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription("Everything about one job: configuration, input, output, tags, attempts, QC.");
    p.addHelpOption();
    p.addPositionalArgument("id", "Job id.");
    p.addOption({"json", "JSON output."});
    if (auto rc = parseOrEnd(p, "paudm jobs show", args)) return *rc;
    const auto id = oneJobId(p);
    if (!id) return usage(p, "give one job id");
    auto c = openDatabase(g, "paudm jobs show");
    if (!c) return 1;
    auto d = capture([&] { return JobStore(*c).show(*id); });
    if (!d) return failed(d.error().what());
    if (!*d) return failed("job " + std::to_string(*id) + " does not exist");
    const auto& j = **d;
    QJsonObject o = rowJson(j.row);
    o["config"] = j.config;
    o["input"] = j.input;
    o["output"] = j.output;
    QJsonObject tags;
    for (const auto& t : j.tags)
        tags[QString::fromStdString(t.name)] = QString::fromStdString(t.value);
    o["tags"] = tags;
    QJsonArray attempts, qc, parents, children;
    for (const auto& a : j.attempts)
        attempts.append(QJsonObject{
            {"attempt", a.attempt},
            {"phase", QString::fromStdString(a.phase)},
            {"host", QString::fromStdString(a.host)},
            {"pid", a.pid},
            {"started", a.started.toUTC().toString(Qt::ISODateWithMs)},
            {"ended", a.ended.isValid() ? QJsonValue(a.ended.toUTC().toString(Qt::ISODateWithMs)) : QJsonValue()},
            {"outcome", QString::fromStdString(a.outcome)},
            {"error", QString::fromStdString(a.error)}});
    for (const auto& q : j.qc)
        qc.append(QJsonObject{{"check", QString::fromStdString(q.check)},
                              {"value", q.value},
                              {"min", q.min ? QJsonValue(*q.min) : QJsonValue()},
                              {"max", q.max ? QJsonValue(*q.max) : QJsonValue()},
                              {"units", QString::fromStdString(q.units)},
                              {"pass", q.pass()},
                              {"level", jobs::qcLevelName(q.level())},
                              {"fail_min", q.failMin ? QJsonValue(*q.failMin) : QJsonValue()},
                              {"fail_max", q.failMax ? QJsonValue(*q.failMax) : QJsonValue()},
                              {"ref", QString::fromStdString(q.ref)}});
    for (auto x : j.parents)
        parents.append(static_cast<qint64>(x));
    for (auto x : j.children)
        children.append(static_cast<qint64>(x));
    o["attempt_history"] = attempts;
    o["qc"] = qc;
    o["parents"] = parents;
    o["children"] = children;
    if (p.isSet("json")) {
        printJson(o);
        return 0;
    }
    const auto& r = j.row;
    std::printf("job %lld: %s  %s", static_cast<long long>(r.id), r.name.c_str(), r.status.c_str());
    if (r.superId) std::printf("  (sub-job of %lld)", static_cast<long long>(*r.superId));
    std::printf("\n  %s\n  created %s, started %s, ended %s; attempt %d of %d; %lld sub-jobs\n", r.description.c_str(),
                qPrintable(when(r.created)), qPrintable(when(r.started)), qPrintable(when(r.ended)), r.attempts,
                r.maxAttempts, static_cast<long long>(r.subjobs));
    std::printf("config: %s\ninput:  %s\noutput: %s\n",
                QJsonDocument(j.config).toJson(QJsonDocument::Compact).constData(),
                QJsonDocument(j.input).toJson(QJsonDocument::Compact).constData(),
                QJsonDocument(j.output).toJson(QJsonDocument::Compact).constData());
    if (!j.parents.empty() || !j.children.empty()) {
        std::printf("after:");
        for (auto x : j.parents)
            std::printf(" %lld", static_cast<long long>(x));
        std::printf("   before:");
        for (auto x : j.children)
            std::printf(" %lld", static_cast<long long>(x));
        std::printf("\n");
    }
    for (const auto& a : j.attempts)
        std::printf("attempt %d %-7s %s pid %d  %s -> %s  %s %s\n", a.attempt, a.phase.c_str(), a.host.c_str(), a.pid,
                    qPrintable(when(a.started)), qPrintable(when(a.ended)),
                    a.outcome.empty() ? "(running)" : a.outcome.c_str(), a.error.c_str());
    for (const auto& q : j.qc)
        std::printf("qc %-20s %g %s [%s, %s] %s  %s\n", q.check.c_str(), q.value, q.units.c_str(),
                    q.min ? std::to_string(*q.min).c_str() : "-", q.max ? std::to_string(*q.max).c_str() : "-",
                    q.level() == jobs::QcLevel::Pass ? "pass" : q.level() == jobs::QcLevel::Warn ? "WARN" : "FAIL",
                    q.ref.c_str());
    for (const auto& t : j.tags)
        std::printf("--- tag %s ---\n%s\n", t.name.c_str(), t.value.c_str());
    return 0;
}

int tags(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription("A job's tags (log, stdout, stderr, traceback, ...); with NAME, that tag's text only.");
    p.addHelpOption();
    p.addPositionalArgument("id", "Job id.");
    p.addPositionalArgument("name", "Tag name (optional).");
    p.addOption({"json", "JSON output."});
    if (auto rc = parseOrEnd(p, "paudm jobs tags", args)) return *rc;
    const QStringList pos = p.positionalArguments();
    const auto id = pos.size() >= 1 ? jobId(pos.first()) : std::nullopt;
    if (!id || pos.size() > 2) return usage(p, "give a job id and optionally a tag name");
    auto c = openDatabase(g, "paudm jobs tags");
    if (!c) return 1;
    auto t = capture([&] { return JobStore(*c).tags(*id); });
    if (!t) return failed(t.error().what());
    if (pos.size() == 2) {
        for (const auto& tag : *t)
            if (QString::fromStdString(tag.name) == pos[1]) {
                std::printf("%s\n", tag.value.c_str());
                return 0;
            }
        return failed("job " + std::to_string(*id) + " has no tag '" + pos[1].toStdString() + "'");
    }
    if (p.isSet("json")) {
        QJsonObject o;
        for (const auto& tag : *t)
            o[QString::fromStdString(tag.name)] = QString::fromStdString(tag.value);
        printJson(o);
        return 0;
    }
    for (const auto& tag : *t)
        std::printf("--- %s ---\n%s\n", tag.name.c_str(), tag.value.c_str());
    return 0;
}

int graph(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "The DAG of a job's sub-jobs as Graphviz DOT.\n\n  paudm jobs graph 42 | dot -Tsvg > 42.svg");
    p.addHelpOption();
    p.addPositionalArgument("id", "Job id.");
    if (auto rc = parseOrEnd(p, "paudm jobs graph", args)) return *rc;
    const auto id = oneJobId(p);
    if (!id) return usage(p, "give one job id");
    auto c = openDatabase(g, "paudm jobs graph");
    if (!c) return 1;
    auto dot = capture([&] { return JobStore(*c).graphDot(*id); });
    if (!dot) return failed(dot.error().what());
    std::fputs(dot->c_str(), stdout);
    return 0;
}

/// retry and abort: one job by id, or every job of a filter (--dry-run shows the count).
int bulk(const QStringList& args, const Globals& g, bool isRetry) {
    const QString name = isRetry ? "retry" : "abort";
    QCommandLineParser p;
    p.setApplicationDescription(isRetry ? "Retry a FAILED or CANCELLED job (with its failed sub-jobs and cancelled "
                                          "dependents), or every job a filter selects."
                                        : "Abort a job, its sub-jobs and every job that depends on them, or every job "
                                          "a filter selects.");
    p.addHelpOption();
    p.addPositionalArgument("id", "Job id (or use filters).");
    addFilterOptions(p);
    p.addOption({"dry-run", "Only say how many jobs the filter selects."});
    p.addOption({"yes", "Do it without asking (bulk action without --dry-run needs it)."});
    if (auto rc = parseOrEnd(p, "paudm jobs " + name, args)) return *rc;
    const QStringList pos = p.positionalArguments();
    auto c = openDatabase(g, "paudm jobs bulk");
    if (!c) return 1;
    JobStore store(*c);
    if (pos.size() == 1) {
        const auto id = jobId(pos.first());
        if (!id) return usage(p, "not a job id: " + pos.first());
        auto n = capture([&] { return isRetry ? store.retry(*id) : store.abort(*id); });
        if (!n) return failed(n.error().what());
        std::printf("%s %d jobs\n", isRetry ? "requeued" : "cancelled", *n);
        return 0;
    }
    std::string problem;
    auto f = filterFrom(p, problem);
    if (!f) return usage(p, QString::fromStdString(problem));
    if (!pos.isEmpty() ||
        (f->statuses.empty() && f->task.empty() && !f->createdFrom && !f->createdTo && !f->superId && !f->topLevel))
        return usage(p, "give one job id, or filters that select the jobs");
    f->limit = 0;
    auto n = capture([&] { return isRetry ? store.retryWhere(*f, true) : store.abortWhere(*f, true); });
    if (!n) return failed(n.error().what());
    if (p.isSet("dry-run") || !p.isSet("yes")) {
        std::printf("%d jobs match; %s\n", *n, p.isSet("dry-run") ? "nothing changed (dry run)" : "add --yes to do it");
        return p.isSet("dry-run") ? 0 : 1;
    }
    auto done = capture([&] { return isRetry ? store.retryWhere(*f, false) : store.abortWhere(*f, false); });
    if (!done) return failed(done.error().what());
    std::printf("%s %d jobs\n", isRetry ? "requeued" : "cancelled", *done);
    return 0;
}

int submitOrRemove(const QStringList& args, const Globals& g, bool isSubmit) {
    QCommandLineParser p;
    p.setApplicationDescription(isSubmit ? "Queue STASHED jobs." : "Delete a finished top-level job and all under it.");
    p.addHelpOption();
    p.addPositionalArgument("ids", "Job ids.");
    if (auto rc = parseOrEnd(p, isSubmit ? "paudm jobs submit" : "paudm jobs remove", args)) return *rc;
    if (p.positionalArguments().isEmpty()) return usage(p, "give job ids");
    auto c = openDatabase(g, "paudm jobs");
    if (!c) return 1;
    JobStore store(*c);
    int rc = 0;
    for (const QString& s : p.positionalArguments()) {
        const auto id = jobId(s);
        if (!id) return usage(p, "not a job id: " + s);
        if (isSubmit) {
            auto ok = capture([&] { return store.submit(*id); });
            if (!ok) return failed(ok.error().what());
            if (!*ok) {
                std::fprintf(stderr, "paudm: job %lld is not STASHED\n", static_cast<long long>(*id));
                rc = 1;
            }
        } else {
            auto n = capture([&] { return store.remove(*id); });
            if (!n) return failed(n.error().what());
            std::printf("removed job %lld (%d jobs)\n", static_cast<long long>(*id), *n);
        }
    }
    return rc;
}

/// Writes the pilot script (kept in the binary) where sbatch can read it and submits
/// N array tasks that run `paudm runner` with the options given here.
int submitSlurm(const QCommandLineParser& p, const db::DatabaseTarget& target) {
    bool ok = false;
    const int n = p.value("submit-slurm").toInt(&ok);
    if (!ok || n < 1) return failed("--submit-slurm wants a number of pilots");
    QDir dir(target.home + "/slurm");
    if (!dir.mkpath(".")) return failed("cannot create " + dir.path().toStdString());
    const QString script = dir.filePath("paudm-runners.sbatch");
    {
        QFile in(":/paudm/paudm-runners.sbatch"), out(script);
        if (!in.open(QIODevice::ReadOnly) || !out.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return failed("cannot write " + script.toStdString());
        out.write(in.readAll());
        out.setPermissions(out.permissions() | QFileDevice::ExeOwner);
    }
    QStringList runnerArgs{"--threads", p.value("threads"), "--lease", p.value("lease")};
    if (p.isSet("batch")) runnerArgs << "--batch" << p.value("batch");
    if (p.isSet("claim-window")) runnerArgs << "--claim-window" << p.value("claim-window");
    if (p.isSet("tasks")) runnerArgs << "--tasks" << p.value("tasks");
    if (p.isSet("until-idle")) runnerArgs << "--until-idle";
    if (p.isSet("max-jobs")) runnerArgs << "--max-jobs" << p.value("max-jobs");
    if (p.isSet("verbose")) runnerArgs << "--verbose";
    QStringList sbatch{"--parsable", "--array=1-" + QString::number(n), "--cpus-per-task=" + p.value("threads"),
                       "--output=" + dir.filePath("paudm-runner-%A_%a.log"), "--export=ALL"};
    if (p.isSet("partition")) sbatch << "--partition=" + p.value("partition");
    if (p.isSet("time")) sbatch << "--time=" + p.value("time");
    QProcess proc;
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("PAUDM_DB", QString::fromStdString(target.conninfo));
    env.insert("PAUDM_EXE", QCoreApplication::applicationFilePath());
    proc.setProcessEnvironment(env);
    proc.start("sbatch", sbatch + QStringList{script} + runnerArgs);
    if (!proc.waitForStarted(10000)) return failed("cannot run sbatch: is Slurm installed here?");
    proc.waitForFinished(60000);
    if (proc.exitStatus() != QProcess::NormalExit || proc.exitCode() != 0)
        return failed("sbatch failed: " + QString::fromLocal8Bit(proc.readAllStandardError()).trimmed().toStdString());
    const QString jobId = QString::fromLocal8Bit(proc.readAllStandardOutput()).trimmed().section(';', 0, 0);
    std::printf("%s\n", qPrintable(jobId));
    std::fprintf(stderr, "submitted %d pilot runners as Slurm job %s (logs in %s)\n", n, qPrintable(jobId),
                 qPrintable(dir.path()));
    return 0;
}

} // namespace

int jobsCommand(const QStringList& args, const Globals& g) {
    const QString sub = args.value(0);
    const QStringList rest = args.mid(1);
    if (sub == "create") return create(rest, g);
    if (sub == "submit") return submitOrRemove(rest, g, true);
    if (sub == "list") return list(rest, g);
    if (sub == "show") return show(rest, g);
    if (sub == "tags") return tags(rest, g);
    if (sub == "graph") return graph(rest, g);
    if (sub == "retry") return bulk(rest, g, true);
    if (sub == "abort") return bulk(rest, g, false);
    if (sub == "remove") return submitOrRemove(rest, g, false);
    std::fprintf(stderr,
                 "paudm jobs: %s (create, submit, list, show, tags, graph, retry, abort, remove; "
                 "each takes --help)\n",
                 sub.isEmpty() ? "what?" : qPrintable("unknown action '" + sub + "'"));
    return 2;
}

int runnerCommand(const QStringList& args, const Globals& g) {
    QCommandLineParser p;
    p.setApplicationDescription("Run jobs: a pilot that claims ready jobs and runs them until stopped (Ctrl-C "
                                "finishes the jobs in hand).\n\n"
                                "  paudm runner --threads 4 --until-idle\n"
                                "  paudm runner --tasks 'register*,nightly' --lease 60");
    p.addHelpOption();
    const QString defaultThreads = qEnvironmentVariable("PAUDM_RUNNER_THREADS", "1");
    p.addOption({"threads", "Jobs run at once (default: $PAUDM_RUNNER_THREADS or runner_threads in paudm.conf, else 1; now " +
                                defaultThreads + ").",
                 "n", defaultThreads});
    p.addOption({"tasks", "Only these tasks (comma-separated globs).", "pattern"});
    p.addOption({"until-idle", "Stop when nothing is left to run or waiting."});
    p.addOption({"max-jobs", "Stop after this many jobs.", "n", "0"});
    p.addOption({"lease", "Seconds a claim survives without a heartbeat (default 30).", "s", "30"});
    p.addOption({"batch",
                 "At most N jobs claimed and committed together (default " + QString::number(jobs::kDefaultClaimCap) +
                     "). How many a claim takes is judged from the recent run times of the tasks: short jobs "
                     "in large batches, long ones one at a time.",
                 "n", "0"});
    p.addOption({"claim-window",
                 "Seconds of work a claim takes, by recent run times (default " +
                     QString::number(jobs::kDefaultClaimWindowS) + "): no job waits longer than that in a busy runner's hands.",
                 "s", "0"});
    p.addOption({"grace",
                 "On SIGTERM or SIGINT: claim nothing more, finish the jobs in hand within S seconds and "
                 "give back the rest (queued again at once, the attempt not counted); a second signal gives "
                 "them back at once. Default 20, within Slurm's default KillWait of 30 s.",
                 "s", "20"});
    p.addOption({"verbose", "One line per job on stderr."});
    p.addOption({"submit-slurm",
                 "Do not run here: submit N pilot runners with these options as a Slurm job "
                 "array (sbatch; the database must be reachable from the nodes).",
                 "n"});
    p.addOption({"partition", "With --submit-slurm: the Slurm partition.", "name"});
    p.addOption({"time", "With --submit-slurm: the time limit of each pilot (Slurm format, e.g. 2:00:00).", "limit"});
    if (auto rc = parseOrEnd(p, "paudm runner", args)) return *rc;
    if (!p.positionalArguments().isEmpty()) return usage(p, "unexpected " + p.positionalArguments().first());
    const auto target = db::resolveTarget(g.db.toStdString());
    {
        auto c = db::openAndMigrate(target, "paudm runner");
        if (!c) return failed(c.error().what());
    }
    if (p.isSet("submit-slurm")) return submitSlurm(p, target);
    jobs::RunnerOptions o;
    o.conninfo = target.conninfo;
    o.threads = p.value("threads").toInt();
    o.tasks = p.value("tasks").toStdString();
    o.untilIdle = p.isSet("until-idle");
    o.maxJobs = p.value("max-jobs").toLongLong();
    o.leaseS = p.value("lease").toDouble();
    o.claimBatch = p.value("batch").toInt();
    o.claimWindowS = p.value("claim-window").toDouble();
    o.verbose = p.isSet("verbose");
    o.batchJobId =
        qEnvironmentVariable("SLURM_ARRAY_JOB_ID").isEmpty()
            ? qEnvironmentVariable("SLURM_JOB_ID").toStdString()
            : (qEnvironmentVariable("SLURM_ARRAY_JOB_ID") + "_" + qEnvironmentVariable("SLURM_ARRAY_TASK_ID"))
                  .toStdString();
    if (o.threads < 1 || o.leaseS < 1 || o.claimBatch < 0 || o.claimWindowS < 0)
        return usage(p, "threads and lease must be positive, batch and claim-window not negative");
    bool graceOk = false;
    const double grace = p.value("grace").toDouble(&graceOk);
    if (!graceOk || grace < 0) return usage(p, "--grace wants seconds (0 or more)");
    jobs::Runner runner(o);
    std::atomic<int> signalled{0};
    StopSignals onStop([&](int signo, int count) {
        signalled = signo;
        runner.requestStop(count == 1 ? grace : 0);
        std::fprintf(stderr,
                     count == 1 ? "paudm runner: %s: finishing the jobs in hand (at most %.0f s; again to give "
                                  "them back now)\n"
                                : "paudm runner: %s: giving back the jobs in hand\n",
                     StopSignals::name(signo), grace);
    });
    auto stats = runner.run();
    if (!stats) return failed(stats.error().what());
    std::fprintf(stderr, "runner %lld: %lld done, %lld failed, %lld lost, %lld given back\n",
                 static_cast<long long>(stats->runnerId), static_cast<long long>(stats->done),
                 static_cast<long long>(stats->failed), static_cast<long long>(stats->lost),
                 static_cast<long long>(stats->released));
    return 0;
}

} // namespace paudm::cli
