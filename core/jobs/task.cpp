#include "jobs/task.h"

#include "common/workers.h"
#include "db/connection.h"

#include <QJsonArray>

#include <atomic>
#include <cmath>
#include <mutex>

namespace paudm::jobs {

namespace {

QJsonObject newJobToJson(const NewJob& j) {
    QJsonObject o{{"name", QString::fromStdString(j.name)},
                  {"config", j.config},
                  {"input", j.input},
                  {"description", QString::fromStdString(j.description)},
                  {"priority", j.priority}};
    if (j.maxAttempts) o["max_attempts"] = *j.maxAttempts;
    return o;
}

NewJob newJobFromJson(const QJsonObject& o) {
    NewJob j;
    j.name = o["name"].toString().toStdString();
    j.config = o["config"].toObject();
    j.input = o["input"].toObject();
    j.description = o["description"].toString().toStdString();
    j.priority = o["priority"].toInt();
    if (o.contains("max_attempts")) j.maxAttempts = o["max_attempts"].toInt();
    return j;
}

QJsonValue optionalNumber(const std::optional<double>& v) {
    return v ? QJsonValue(*v) : QJsonValue();
}

std::optional<double> numberOrNothing(const QJsonValue& v) {
    return v.isDouble() ? std::optional<double>(v.toDouble()) : std::nullopt;
}

} // namespace

const char* qcLevelName(QcLevel l) {
    switch (l) {
    case QcLevel::Pass: return "pass";
    case QcLevel::Warn: return "warn";
    case QcLevel::Fail: return "fail";
    }
    return "fail";
}

std::optional<QcLevel> parseQcLevel(const std::string& name) {
    if (name == "pass") return QcLevel::Pass;
    if (name == "warn") return QcLevel::Warn;
    if (name == "fail") return QcLevel::Fail;
    return std::nullopt;
}

QcLevel QcEntry::level() const {
    if (recorded) return *recorded;
    if (!std::isfinite(value)) return QcLevel::Fail;
    auto within = [this](const std::optional<double>& lo, const std::optional<double>& hi) {
        return (!lo || value >= *lo) && (!hi || value <= *hi);
    };
    if (within(min, max)) return QcLevel::Pass;
    if ((failMin || failMax) && within(failMin ? failMin : min, failMax ? failMax : max)) return QcLevel::Warn;
    return QcLevel::Fail;
}

QJsonObject TaskResult::toJson() const {
    QJsonObject tagsJson;
    for (const auto& [k, v] : tags)
        tagsJson[QString::fromStdString(k)] = QString::fromStdString(v);
    QJsonArray qcJson, subs, deps, kids;
    for (const QcEntry& q : qc)
        qcJson.append(QJsonObject{{"check", QString::fromStdString(q.check)},
                                  {"value", q.value},
                                  {"min", optionalNumber(q.min)},
                                  {"max", optionalNumber(q.max)},
                                  {"fail_min", optionalNumber(q.failMin)},
                                  {"fail_max", optionalNumber(q.failMax)},
                                  {"units", QString::fromStdString(q.units)},
                                  {"ref", QString::fromStdString(q.ref)}});
    for (const NewJob& j : subjobs)
        subs.append(newJobToJson(j));
    for (const auto& [p, c] : dependencies)
        deps.append(QJsonArray{p, c});
    for (const NewJob& j : children)
        kids.append(newJobToJson(j));
    return {{"ok", ok},
            {"error", QString::fromStdString(error)},
            {"error_code", QString::fromStdString(errorCode)},
            {"traceback", QString::fromStdString(traceback)},
            {"outcome", QString::fromStdString(outcome)},
            {"retryable", retryable},
            {"output", output},
            {"tags", tagsJson},
            {"qc", qcJson},
            {"subjobs", subs},
            {"dependencies", deps},
            {"children", kids}};
}

TaskResult TaskResult::fromJson(const QJsonObject& o) {
    TaskResult r;
    r.ok = o["ok"].toBool();
    r.error = o["error"].toString().toStdString();
    r.errorCode = o["error_code"].toString().toStdString();
    r.traceback = o["traceback"].toString().toStdString();
    r.outcome = o["outcome"].toString().toStdString();
    r.retryable = o["retryable"].toBool(true);
    r.output = o["output"].toObject();
    const QJsonObject t = o["tags"].toObject();
    for (auto it = t.begin(); it != t.end(); ++it)
        r.tags[it.key().toStdString()] = it.value().toString().toStdString();
    for (const QJsonValue& v : o["qc"].toArray()) {
        const QJsonObject q = v.toObject();
        QcEntry e;
        e.check = q["check"].toString().toStdString();
        e.value = q["value"].toDouble();
        e.min = numberOrNothing(q["min"]);
        e.max = numberOrNothing(q["max"]);
        e.failMin = numberOrNothing(q["fail_min"]);
        e.failMax = numberOrNothing(q["fail_max"]);
        e.units = q["units"].toString().toStdString();
        e.ref = q["ref"].toString().toStdString();
        r.qc.push_back(e);
    }
    for (const QJsonValue& v : o["subjobs"].toArray())
        r.subjobs.push_back(newJobFromJson(v.toObject()));
    for (const QJsonValue& v : o["dependencies"].toArray())
        r.dependencies.emplace_back(v.toArray().at(0).toInt(), v.toArray().at(1).toInt());
    for (const QJsonValue& v : o["children"].toArray())
        r.children.push_back(newJobFromJson(v.toObject()));
    return r;
}

TaskContext::TaskContext(std::int64_t jobId, int attempt, Phase phase, QJsonObject config, QJsonObject input,
                         std::string conninfo, const std::atomic<bool>* cancelled)
    : jobId_(jobId), attempt_(attempt), phase_(phase), config_(std::move(config)), input_(std::move(input)),
      conninfo_(std::move(conninfo)), cancelled_(cancelled) {}

TaskContext::~TaskContext() = default;

int TaskContext::addSubjob(NewJob job) {
    if (phase_ != Phase::Prolog) throw Error("job " + std::to_string(jobId_) + ": sub-jobs are created in the prolog");
    result_.subjobs.push_back(std::move(job));
    return static_cast<int>(result_.subjobs.size()) - 1;
}

void TaskContext::addDependency(int parent, int child) {
    const int n = static_cast<int>(result_.subjobs.size());
    if (parent < 0 || child < 0 || parent >= n || child >= n || parent == child)
        throw Error("job " + std::to_string(jobId_) + ": bad dependency " + std::to_string(parent) + " -> " +
                    std::to_string(child) + " among " + std::to_string(n) + " sub-jobs");
    result_.dependencies.emplace_back(parent, child);
}

void TaskContext::addChild(NewJob job) {
    result_.children.push_back(std::move(job));
}

void TaskContext::log(const std::string& line) {
    log_ += line;
    if (line.empty() || line.back() != '\n') log_ += '\n';
    result_.tags["log"] = log_;
}

QcLevel TaskContext::check(const std::string& name, double value, const std::string& units, const std::string& ref) {
    QcEntry e;
    e.check = name;
    e.value = value;
    e.units = units;
    e.ref = ref;
    const QJsonValue ranges = config_.value("qc").toObject().value(QString::fromStdString(name));
    auto range = [&](const char* key, std::optional<double>& lo, std::optional<double>& hi) {
        const QJsonValue r = ranges.toObject().value(key);
        if (r.isUndefined() || r.isNull()) return;
        const QJsonArray a = r.toArray();
        if (!r.isArray() || a.size() != 2 || !(a[0].isDouble() || a[0].isNull()) || !(a[1].isDouble() || a[1].isNull()))
            throw PermanentError("configuration qc." + name + "." + key + " must be [low, high] (null for an open bound)");
        lo = numberOrNothing(a[0]);
        hi = numberOrNothing(a[1]);
    };
    if (ranges.isObject()) {
        range("pass", e.min, e.max);
        range("warn", e.failMin, e.failMax);
    }
    const QcLevel level = e.level();
    result_.qc.push_back(std::move(e));
    return level;
}

db::Connection& TaskContext::db() {
    if (!db_) db_ = std::make_unique<db::Connection>(db::Connection::open(conninfo_, "paudm task"));
    return *db_;
}

namespace {
std::atomic<const TaskRegistry*> installedRegistry{nullptr};
} // namespace

const TaskRegistry& TaskRegistry::standard() {
    if (const TaskRegistry* r = installedRegistry.load()) return *r;
    static const TaskRegistry builtins = [] {
        TaskRegistry r;
        registerBuiltinTasks(r);
        return r;
    }();
    return builtins;
}

void TaskRegistry::installStandard(const TaskRegistry* registry) {
    installedRegistry.store(registry);
}

void TaskRegistry::add(TaskType type) {
    const std::string name = type.name;
    types_[name] = std::move(type);
}

const TaskType* TaskRegistry::find(const std::string& name) const {
    const auto it = types_.find(name);
    return it == types_.end() ? nullptr : &it->second;
}

std::vector<std::string> TaskRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : types_)
        out.push_back(k);
    return out;
}

TaskResult executeTask(const TaskType& type, TaskContext& ctx) {
    TaskResult& r = ctx.result();
    try {
        if (ctx.phase() == Phase::Prolog) {
            if (type.prolog) type.prolog(ctx);
            if (!r.children.empty() && !r.subjobs.empty())
                throw Error("a prolog that creates sub-jobs creates its children in the epilog");
            if (r.subjobs.empty()) {
                if (type.run) type.run(ctx);
                if (type.epilog) type.epilog(ctx);
            }
        } else if (type.epilog) {
            type.epilog(ctx);
        }
        r.ok = true;
        r.outcome = r.subjobs.empty() ? "DONE" : "STANDBY";
    } catch (...) {
        // Whatever the task threw, a std::exception or not: the job fails, the runner goes on.
        const std::string what = describeCurrentException();
        bool permanent = false;
        try {
            throw;
        } catch (const PermanentError& e) {
            permanent = true;
            r.errorCode = e.code();
        } catch (const Error& e) {
            r.errorCode = e.code();
        } catch (...) {
        }
        r.ok = false;
        r.outcome = "FAILED";
        r.retryable = !permanent;
        r.error = what;
        r.traceback = "task '" + type.name + "', job " + std::to_string(ctx.jobId()) + ", attempt " +
                      std::to_string(ctx.attempt()) + ", " + (ctx.phase() == Phase::Prolog ? "prolog/run" : "epilog") +
                      ":\n" + what;
        r.subjobs.clear(); // nothing of a failed part is committed
        r.dependencies.clear();
        r.children.clear();
    }
    if (ctx.cancelled()) {
        r.ok = false;
        r.outcome = "CANCELLED";
        r.error = "aborted";
    }
    return r;
}

} // namespace paudm::jobs
