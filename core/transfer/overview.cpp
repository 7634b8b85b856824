#include "transfer/overview.h"

#include "db/connection.h"

#include "transfer/transfer.h"

#include <algorithm>
#include <filesystem>
#include <map>

namespace paudm::transfer {

namespace {

QDateTime timeOf(const db::Rows& r, int row, int col) {
    if (r.isNull(row, col)) return {};
    // Rows come as epoch seconds (see the queries), so no time-zone text is parsed.
    return QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(r.toDouble(row, col) * 1000), Qt::UTC);
}

} // namespace

TransferOverview loadTransferOverview(db::Connection& c, const RetentionOptions& o) {
    TransferOverview out;
    std::map<std::string, ObsSetState> sets;
    const auto r =
        c.query("SELECT t.obs_set, t.files, t.bytes, t.status, t.files_verified, t.files_quarantined, t.files_failed, "
                "extract(epoch FROM t.started), extract(epoch FROM t.ended), extract(epoch FROM t.buffer_cleaned), "
                "coalesce(t.error, ''), s.registered IS NOT NULL, "
                "(SELECT avg(f.rate_mb_s) FROM transfer_file f WHERE f.obs_set = t.obs_set AND f.rate_mb_s > 0) "
                "FROM transfer_obs_set t LEFT JOIN obs_set s ON s.obs_set = t.obs_set");
    for (int i = 0; i < r.size(); ++i) {
        ObsSetState s;
        s.obsSet = std::string(r.text(i, 0));
        s.files = static_cast<int>(r.toInt(i, 1));
        s.bytes = r.toInt(i, 2);
        s.status = std::string(r.text(i, 3));
        s.verified = static_cast<int>(r.toInt(i, 4));
        s.quarantined = static_cast<int>(r.toInt(i, 5));
        s.failed = static_cast<int>(r.toInt(i, 6));
        s.started = timeOf(r, i, 7);
        s.ended = timeOf(r, i, 8);
        s.cleaned = timeOf(r, i, 9);
        s.error = std::string(r.text(i, 10));
        s.registered = r.toBool(i, 11);
        s.rateMBs = r.isNull(i, 12) ? 0 : r.toDouble(i, 12);
        sets[s.obsSet] = s;
    }
    // Registered obs sets the ledger does not know (registered from a copy of the archive).
    const auto reg = c.exec("SELECT obs_set FROM obs_set WHERE registered IS NOT NULL");
    for (int i = 0; i < reg.size(); ++i) {
        auto& s = sets[std::string(reg.text(i, 0))];
        s.obsSet = std::string(reg.text(i, 0));
        s.registered = true;
    }
    std::error_code ec;
    out.bufferMissing = !std::filesystem::exists(o.buffer, ec) && !isRemoteBuffer(o.buffer);
    if (!out.bufferMissing) try {
            for (const auto& h : retentionStatus(c, o)) {
                auto& s = sets[h.obsSet];
                s.obsSet = h.obsSet;
                s.inBuffer = true;
                if (s.files == 0) s.files = h.files;
                if (s.bytes == 0) s.bytes = h.bytes;
                s.holds = h.reasons;
            }
        } catch (const Error& e) {
            out.bufferError = e.what();
        }
    for (auto& [name, s] : sets)
        out.obsSets.push_back(std::move(s));
    std::sort(out.obsSets.begin(), out.obsSets.end(), [](auto& a, auto& b) { return a.obsSet > b.obsSet; });

    const auto d = c.exec("SELECT (ended AT TIME ZONE 'UTC')::date::text, sum(bytes) / 1e9, avg(rate_mb_s), count(*) "
                          "FROM transfer_file WHERE status = 'VERIFIED' AND ended IS NOT NULL GROUP BY 1 ORDER BY 1");
    for (int i = 0; i < d.size(); ++i)
        out.days.push_back(
            {QDate::fromString(QString::fromUtf8(d.text(i, 0).data(), static_cast<qsizetype>(d.text(i, 0).size())),
                               Qt::ISODate),
             d.toDouble(i, 1), d.isNull(i, 2) ? 0 : d.toDouble(i, 2), static_cast<int>(d.toInt(i, 3))});
    return out;
}

std::vector<FileState> loadTransferFiles(db::Connection& c, const std::string& obsSet) {
    const auto r = c.query("SELECT filename, coalesce(kind, ''), status, adler32_expected, coalesce(adler32, ''), "
                           "coalesce(error, ''), bytes, attempt, coalesce(rate_mb_s, 0), extract(epoch FROM ended) "
                           "FROM transfer_file WHERE obs_set = $1 ORDER BY filename",
                           obsSet);
    std::vector<FileState> out;
    for (int i = 0; i < r.size(); ++i)
        out.push_back({std::string(r.text(i, 0)), std::string(r.text(i, 1)), std::string(r.text(i, 2)),
                       std::string(r.text(i, 3)), std::string(r.text(i, 4)), std::string(r.text(i, 5)), r.toInt(i, 6),
                       static_cast<int>(r.toInt(i, 7)), r.toDouble(i, 8), timeOf(r, i, 9)});
    return out;
}

} // namespace paudm::transfer
