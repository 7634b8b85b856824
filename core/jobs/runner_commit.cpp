#include "jobs/runner_commit.h"

#include "db/connection.h"
#include "jobs/runner.h"
#include "jobs/store.h"

#include <QJsonDocument>

#include <optional>
#include <set>

namespace paudm::jobs {

namespace {

std::string jsonText(const QJsonObject& o) {
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

} // namespace

CommitCounts commitResults(db::Connection& c, const TaskRegistry& registry,
                           std::vector<std::pair<Claimed, TaskResult>>& batch) {
    CommitCounts n;
    auto isReleased = [](const TaskResult& r) { return !r.ok && r.outcome == kReleasedOutcome; };
    bool anySide = false;
    for (const auto& [j, r] : batch)
        anySide = anySide || isReleased(r) || !r.ok || !r.tags.empty() || !r.qc.empty() || !r.subjobs.empty() ||
                  !r.children.empty() || j.phase == Phase::Epilog;
    // Plain results need no transaction block: job_complete_many is one statement.
    std::optional<db::Transaction> t;
    if (anySide) t.emplace(c);
    JobStore store(c, registry);
    std::vector<std::int64_t> ids, tokens, backIds, backTokens;
    std::vector<std::string> statuses, errors, outcomes;
    std::vector<std::optional<std::string>> outputs, errs;
    std::vector<int> subjobCounts;
    std::vector<bool> retry;
    std::set<std::int64_t> lostIds; // claims that had lapsed: their results are discarded
    for (auto& [j, r] : batch) {
        if (isReleased(r)) {
            backIds.push_back(j.id);
            backTokens.push_back(j.token);
            continue;
        }
        const bool side = !r.ok || !r.tags.empty() || !r.qc.empty() || !r.subjobs.empty() || !r.children.empty() ||
                          j.phase == Phase::Epilog;
        if (side) {
            if (!c.query("SELECT job_fence($1, $2)", j.id, j.token).toBool(0, 0)) {
                lostIds.insert(j.id);
                continue;
            }
            std::map<std::string, std::string> tags = r.tags;
            if (!r.ok) tags["traceback"] = r.traceback.empty() ? r.error : r.traceback;
            if (!tags.empty()) {
                std::vector<std::string> names, values;
                for (const auto& [k, v] : tags) {
                    names.push_back(k);
                    values.push_back(v);
                }
                c.query("INSERT INTO tag (job_id, name, value) SELECT $1, n, v FROM unnest($2::text[], $3::text[]) "
                        "AS t(n, v) ON CONFLICT (job_id, name) DO UPDATE SET value = excluded.value",
                        j.id, names, values);
            }
            if (r.ok) {
                for (const QcEntry& q : r.qc)
                    c.query("INSERT INTO quality_control (job_id, check_name, value, min_value, max_value, units, "
                            "qc_pass, ref, fail_min, fail_max, level) "
                            "VALUES ($1, $2, $3, $4, $5, nullif($6, ''), $7, nullif($8, ''), $9, $10, $11)",
                            j.id, q.check, q.value, q.min, q.max, q.units, q.pass(), q.ref, q.failMin, q.failMax,
                            std::string(qcLevelName(q.level())));
                if (j.phase == Phase::Epilog)
                    // A parent's QC is the aggregate of its sub-jobs': per check, the mean value,
                    // the widest range, and the worst verdict of the sub-jobs.
                    c.query(R"sql(
                        INSERT INTO quality_control (job_id, check_name, value, min_value, max_value, units,
                                                     qc_pass, ref, fail_min, fail_max, level)
                        SELECT $1, q.check_name, avg(q.value), min(q.min_value), max(q.max_value), min(q.units),
                               bool_and(q.qc_pass),
                               format('aggregate of %s sub-job checks, %s%s failed', count(*),
                                      CASE WHEN count(*) FILTER (WHERE q.level = 'warn') > 0
                                           THEN (count(*) FILTER (WHERE q.level = 'warn'))::text || ' warned, '
                                           ELSE '' END,
                                      count(*) FILTER (WHERE q.level = 'fail')),
                               min(q.fail_min), max(q.fail_max),
                               CASE WHEN bool_or(q.level = 'fail') THEN 'fail'
                                    WHEN bool_or(q.level = 'warn') THEN 'warn' ELSE 'pass' END
                        FROM quality_control q JOIN job s ON s.id = q.job_id
                        WHERE s.super_id = $1 GROUP BY q.check_name)sql",
                            j.id);
                if (!r.subjobs.empty()) store.insertSubjobs(j.id, r.subjobs, r.dependencies);
                if (!r.children.empty()) store.insertChildren(j.id, r.children);
            }
        }
        ids.push_back(j.id);
        tokens.push_back(j.token);
        statuses.push_back(!r.ok ? "FAILED" : r.subjobs.empty() ? "DONE" : "STANDBY");
        outputs.push_back(r.ok && !r.output.isEmpty() ? std::optional(jsonText(r.output)) : std::nullopt);
        errs.push_back(r.ok ? std::nullopt : std::optional(r.error));
        outcomes.push_back(r.ok ? (r.subjobs.empty() ? "DONE" : "STANDBY") : r.outcome);
        subjobCounts.push_back(static_cast<int>(r.subjobs.size()));
        retry.push_back(!r.ok && r.retryable && r.outcome != "CANCELLED");
    }
    if (!ids.empty()) {
        const auto r = c.query("SELECT unnest(job_complete_many($1, $2, $3, $4::jsonb[], $5, $6, $7, $8))", ids,
                               tokens, statuses, outputs, errs, outcomes, subjobCounts, retry);
        for (int i = 0; i < r.size(); ++i)
            lostIds.insert(r.toInt(i, 0));
    }
    if (!backIds.empty()) c.query("SELECT job_give_back($1, $2)", backIds, backTokens);
    std::vector<std::int64_t> soon; // failed on a lost connection of their own: retried in a second
    for (const auto& [j, r] : batch)
        if (!r.ok && r.retryable && db::isTransient(Error(r.error, r.errorCode)) && !lostIds.count(j.id))
            soon.push_back(j.id);
    if (!soon.empty()) c.query("SELECT job_retry_soon($1)", soon);
    if (t) t->commit();
    for (const auto& [j, r] : batch)
        (isReleased(r) ? n.released : lostIds.count(j.id) ? n.lost : r.ok ? n.done : n.failed) += 1;
    return n;
}

} // namespace paudm::jobs
