#include "quality/report.h"

#include "common/csv.h"
#include "common/error.h"
#include "db/connection.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>
#include <set>

namespace paudm::quality {

namespace {

/// A standard quantity and the SQL that gives it for one reduced mosaic `m` (its CCDs `i`
/// through the lateral join below).
struct Standard {
    Quantity q;
    const char* sql;
};

const std::vector<Standard>& standards() {
    static const std::vector<Standard> s = {
        {{"seeing", "Seeing (PSF FWHM)", "arcsec"}, "ccds.seeing"},
        {{"sky", "Sky background", "e-/s/pixel"}, "ccds.sky"},
        {{"transparency", "Transparency", ""}, "ccds.transparency"},
        {{"zero_point", "Zero point", "mag"}, "ccds.zero_point"},
        {{"airmass", "Airmass", ""}, "m.airmass"},
        {{"astro_rms", "Astrometric rms", "arcsec"}, "m.astro_ref_sigma"},
        {{"extinction", "Extinction", "mag"}, "m.extinction"},
        {{"exp_time", "Exposure time", "s"}, "m.exp_time"},
    };
    return s;
}

struct StatusColumn {
    const char* name;
    const char* column;
};
constexpr StatusColumn kStatuses[] = {
    {"detrend", "detrend_status"}, {"astro", "astro_status"}, {"photo", "photo_status"}, {"psf", "psf_model_status"}};

bool isStatus(const std::string& name) {
    return std::any_of(std::begin(kStatuses), std::end(kStatuses), [&](const StatusColumn& s) { return name == s.name; });
}

/// "mosaic.COLUMN" / "image.COLUMN" -> (table, column), or nothing.
std::optional<std::pair<std::string, std::string>> splitColumnKey(const std::string& key) {
    static const std::regex re("^(mosaic|image)\\.([a-z_][a-z0-9_]*)$");
    std::smatch m;
    if (!std::regex_match(key, m, re)) return std::nullopt;
    return std::make_pair(m[1].str(), m[2].str());
}

/// Where an extra quantity comes from, after checking with the catalog that the column
/// exists and is numeric (the key came from a user; only a checked identifier reaches
/// the SQL): a mosaic column, or the median of an image column over the mosaic's CCDs.
struct ExtraColumn {
    bool image = false;
    std::string sql; ///< over `m` (mosaic) or `i` (its image rows)
};

ExtraColumn extraColumn(db::Connection& c, const std::string& key) {
    const auto tc = splitColumnKey(key);
    if (!tc) throw Error("unknown quantity '" + key + "': a report quantity, or mosaic.COLUMN or image.COLUMN");
    const auto r = c.query("SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() "
                           "AND table_name = $1 AND column_name = $2",
                           tc->first, tc->second);
    if (r.size() == 0) throw Error("unknown quantity '" + key + "': table " + tc->first + " has no column " + tc->second);
    static const std::set<std::string> numeric = {"smallint", "integer", "bigint", "real", "double precision", "numeric"};
    const std::string type(r.text(0, 0));
    if (!numeric.count(type)) throw Error("quantity '" + key + "' is not a number (" + type + ")");
    if (tc->first == "mosaic") return {false, "m.\"" + tc->second + "\"::float8"};
    return {true, "percentile_cont(0.5) WITHIN GROUP (ORDER BY i.\"" + tc->second + "\")"};
}

void checkNight(const std::string& night, const char* what) {
    static const std::regex re("^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
    if (!std::regex_match(night, re)) throw Error(std::string(what) + " '" + night + "' is not a night (YYYY-MM-DD)");
}

std::string number(double v, int digits = 4) {
    if (!std::isfinite(v)) return "";
    char b[40];
    std::snprintf(b, sizeof b, "%.*g", digits, v);
    return b;
}

std::string unitOf(const std::string& key) {
    const Quantity* q = findQuantity(key);
    return q && !q->unit.empty() ? " " + q->unit : "";
}

/// The first word of a status ("few_stars (3 of 18 CCDs)" -> "few_stars").
std::string statusWord(const std::string& s) {
    std::size_t n = 0;
    while (n < s.size() && (std::isalnum(static_cast<unsigned char>(s[n])) || s[n] == '_')) ++n;
    return s.substr(0, n);
}

std::string joined(const std::vector<std::string>& v, const char* sep = ", ") {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
}

std::string describeCut(const Cut& c) {
    std::string s;
    if (c.min) s += "min " + number(*c.min);
    if (c.max) s += std::string(s.empty() ? "" : " ") + "max " + number(*c.max);
    return s.empty() ? "no limit" : s;
}

CutSet cutSetFromRow(const db::Rows& r, int row) {
    CutSet s;
    s.name = std::string(r.text(row, 0));
    s.version = static_cast<int>(r.toInt(row, 1));
    s.author = std::string(r.text(row, 2));
    s.created = std::string(r.text(row, 3));
    s.note = r.optText(row, 4).value_or("");
    s.changes = std::string(r.text(row, 5));
    s.isDefault = r.toBool(row, 7);
    definitionFromJson(s, std::string(r.text(row, 6)));
    return s;
}

constexpr const char* kCutSetColumns =
    "SELECT name, version, author, to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), note, changes, "
    "definition::text, is_default FROM quality_cut_set ";

std::string htmlEscape(const std::string& s) {
    std::string out;
    for (char ch : s) {
        switch (ch) {
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '&': out += "&amp;"; break;
        case '"': out += "&quot;"; break;
        default: out += ch;
        }
    }
    return out;
}

} // namespace

const std::vector<std::string>& bandColours() {
    static const std::vector<std::string> c = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd",
                                               "#8c564b", "#e377c2", "#17becf", "#bcbd22"};
    return c;
}

const Quantity* findQuantity(const std::string& key) {
    for (const auto& s : standards())
        if (s.q.key == key) return &s.q;
    return nullptr;
}

const std::vector<Quantity>& standardQuantities() {
    static const std::vector<Quantity> q = [] {
        std::vector<Quantity> v;
        for (const auto& s : standards()) v.push_back(s.q);
        return v;
    }();
    return q;
}

const std::vector<std::string>& statusNames() {
    static const std::vector<std::string> n = [] {
        std::vector<std::string> v;
        for (const auto& s : kStatuses) v.push_back(s.name);
        return v;
    }();
    return n;
}

std::vector<Exposure> loadExposures(db::Connection& c, const Selection& s) {
    checkNight(s.from, "first night");
    checkNight(s.to.empty() ? s.from : s.to, "last night");
    // Image columns join the CCDs' medians in the lateral pass (one pass over the image
    // rows of each mosaic, however many); mosaic columns are read as they are.
    std::string extraSelect, extraLateral;
    for (std::size_t k = 0; k < s.extra.size(); ++k) {
        const ExtraColumn x = extraColumn(c, s.extra[k]);
        const std::string alias = "extra" + std::to_string(k);
        if (x.image) {
            extraLateral += ", " + x.sql + " AS " + alias;
            extraSelect += ", ccds." + alias;
        } else {
            extraSelect += ", " + x.sql;
        }
    }
    std::string sql =
        "SELECT m.id, m.raw_mosaic_id, m.filename, m.archivepath, o.obs_set, o.night::text, "
        "to_char(m.date_obs + m.time_obs, 'YYYY-MM-DD\"T\"HH24:MI:SS'), m.rjd_obs - 0.5, coalesce(m.exp_num, 0), "
        "coalesce(m.filtertray, ''), p.release";
    for (const auto& c2 : kStatuses) sql += std::string(", m.") + c2.column;
    for (const auto& st : standards()) sql += std::string(", ") + st.sql;
    sql += extraSelect;
    // The CCDs' medians in one pass over the mosaic's image rows (image_mosaic index).
    sql += " FROM mosaic m JOIN obs_set o ON o.id = m.obs_set_id JOIN production p ON p.id = m.production_id "
           "LEFT JOIN LATERAL (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY i.psf_fwhm) AS seeing, "
           "percentile_cont(0.5) WITHIN GROUP (ORDER BY i.bkg_mean) AS sky, "
           "percentile_cont(0.5) WITHIN GROUP (ORDER BY i.transparency) AS transparency, "
           "percentile_cont(0.5) WITHIN GROUP (ORDER BY i.zp_nightly) AS zero_point" +
           extraLateral +
           " FROM image i WHERE i.mosaic_id = m.id) ccds ON true "
           "WHERE m.kind = 'red_science' AND o.night BETWEEN $1::date AND $2::date AND ($3 = '' OR p.release = $3) "
           "ORDER BY m.rjd_obs NULLS LAST, m.id";
    const auto r = c.query(sql, s.from, s.to.empty() ? s.from : s.to, s.release);
    std::vector<Exposure> out;
    out.reserve(static_cast<std::size_t>(r.size()));
    const int firstStatus = 11, firstValue = firstStatus + static_cast<int>(std::size(kStatuses));
    for (int row = 0; row < r.size(); ++row) {
        Exposure e;
        e.mosaicId = r.toInt(row, 0);
        e.rawMosaicId = r.isNull(row, 1) ? 0 : r.toInt(row, 1);
        e.file = std::string(r.text(row, 2));
        e.archivePath = std::string(r.text(row, 3));
        e.obsSet = std::string(r.text(row, 4));
        e.night = std::string(r.text(row, 5));
        e.timeUtc = r.optText(row, 6).value_or("");
        e.mjd = r.isNull(row, 7) ? 0 : r.toDouble(row, 7);
        e.expNum = static_cast<int>(r.toInt(row, 8));
        e.band = std::string(r.text(row, 9));
        e.release = std::string(r.text(row, 10));
        for (std::size_t k = 0; k < std::size(kStatuses); ++k)
            if (!r.isNull(row, firstStatus + static_cast<int>(k)))
                e.statuses[kStatuses[k].name] = std::string(r.text(row, firstStatus + static_cast<int>(k)));
        int col = firstValue;
        for (const auto& st : standards()) {
            if (!r.isNull(row, col) && std::isfinite(r.toDouble(row, col))) e.values[st.q.key] = r.toDouble(row, col);
            ++col;
        }
        for (const auto& k : s.extra) {
            if (!r.isNull(row, col) && std::isfinite(r.toDouble(row, col))) e.values[k] = r.toDouble(row, col);
            ++col;
        }
        out.push_back(std::move(e));
    }
    return out;
}

std::string toJson(const CutSet& s) {
    QJsonArray cuts;
    for (const auto& c : s.cuts) {
        QJsonObject o{{"quantity", QString::fromStdString(c.quantity)}};
        if (c.min) o["min"] = *c.min;
        if (c.max) o["max"] = *c.max;
        cuts.append(o);
    }
    QJsonObject statuses;
    for (const auto& [name, accepted] : s.statuses) {
        QJsonArray a;
        for (const auto& v : accepted) a.append(QString::fromStdString(v));
        statuses[QString::fromStdString(name)] = a;
    }
    return QJsonDocument(QJsonObject{{"cuts", cuts}, {"statuses", statuses}}).toJson(QJsonDocument::Compact).toStdString();
}

void definitionFromJson(CutSet& s, const std::string& json) {
    QJsonParseError pe;
    const QJsonDocument d = QJsonDocument::fromJson(QByteArray::fromStdString(json), &pe);
    const std::string where = "cut set" + (s.name.empty() ? std::string() : " " + s.name);
    if (pe.error != QJsonParseError::NoError || !d.isObject())
        throw Error(where + ": not a JSON object (" + pe.errorString().toStdString() + ")");
    const QJsonObject o = d.object();
    for (auto it = o.begin(); it != o.end(); ++it)
        if (it.key() != "cuts" && it.key() != "statuses")
            throw Error(where + ": unknown key '" + it.key().toStdString() + "' (cuts, statuses)");
    s.cuts.clear();
    s.statuses.clear();
    std::set<std::string> seen;
    for (const auto& v : o["cuts"].toArray()) {
        const QJsonObject co = v.toObject();
        Cut c;
        c.quantity = co["quantity"].toString().toStdString();
        if (c.quantity.empty()) throw Error(where + ": a cut without a quantity");
        if (!findQuantity(c.quantity) && !splitColumnKey(c.quantity))
            throw Error(where + ": unknown quantity '" + c.quantity + "' (a report quantity, mosaic.COLUMN or image.COLUMN)");
        if (!seen.insert(c.quantity).second) throw Error(where + ": two cuts on " + c.quantity);
        for (const char* key : {"min", "max"}) {
            if (!co.contains(key) || co[key].isNull()) continue;
            if (!co[key].isDouble()) throw Error(where + ": " + c.quantity + " " + key + " is not a number");
            (std::string(key) == "min" ? c.min : c.max) = co[key].toDouble();
        }
        if (!c.min && !c.max) throw Error(where + ": the cut on " + c.quantity + " has neither min nor max");
        if (c.min && c.max && *c.min > *c.max)
            throw Error(where + ": the cut on " + c.quantity + " has min " + number(*c.min) + " over max " + number(*c.max));
        s.cuts.push_back(c);
    }
    const QJsonObject st = o["statuses"].toObject();
    for (auto it = st.begin(); it != st.end(); ++it) {
        const std::string name = it.key().toStdString();
        if (!isStatus(name)) throw Error(where + ": unknown status '" + name + "' (detrend, astro, photo, psf)");
        std::vector<std::string> accepted;
        for (const auto& v : it.value().toArray()) accepted.push_back(v.toString().toStdString());
        if (accepted.empty()) throw Error(where + ": status " + name + " accepts nothing");
        s.statuses[name] = accepted;
    }
}

Verdict evaluate(const CutSet& cuts, const Exposure& e) {
    Verdict v;
    for (const auto& c : cuts.cuts) {
        const auto it = e.values.find(c.quantity);
        Failure f;
        f.cut = c.quantity;
        const std::string unit = unitOf(c.quantity);
        if (it == e.values.end()) {
            f.limit = c.min ? c.min : c.max;
            f.reason = c.quantity + " not measured";
        } else if (c.min && it->second < *c.min) {
            f.value = it->second;
            f.limit = c.min;
            f.by = it->second - *c.min;
            f.reason = c.quantity + " " + number(it->second) + unit + " under the minimum " + number(*c.min) + " (by " +
                       number(-f.by, 3) + ")";
        } else if (c.max && it->second > *c.max) {
            f.value = it->second;
            f.limit = c.max;
            f.by = it->second - *c.max;
            f.reason = c.quantity + " " + number(it->second) + unit + " over the maximum " + number(*c.max) + " (by " +
                       number(f.by, 3) + ")";
        } else {
            continue;
        }
        v.failures.push_back(std::move(f));
    }
    for (const auto& [name, accepted] : cuts.statuses) {
        const auto it = e.statuses.find(name);
        if (it != e.statuses.end() && std::count(accepted.begin(), accepted.end(), statusWord(it->second))) continue;
        Failure f;
        f.cut = name;
        f.reason = it == e.statuses.end() ? "no " + name + " status"
                                          : name + " status " + it->second + " (wants " + joined(accepted, " or ") + ")";
        v.failures.push_back(std::move(f));
    }
    v.pass = v.failures.empty();
    return v;
}

std::vector<Verdict> evaluate(const CutSet& cuts, const std::vector<Exposure>& exposures) {
    std::vector<Verdict> out;
    out.reserve(exposures.size());
    for (const auto& e : exposures) out.push_back(evaluate(cuts, e));
    return out;
}

std::vector<PassRate> passRates(const std::vector<Exposure>& e, const std::vector<Verdict>& v) {
    std::map<std::pair<std::string, std::string>, PassRate> byKey;
    for (std::size_t k = 0; k < e.size() && k < v.size(); ++k) {
        PassRate& r = byKey[{e[k].night, e[k].band}];
        r.night = e[k].night;
        r.band = e[k].band;
        ++r.exposures;
        r.passed += v[k].pass;
    }
    std::vector<PassRate> out;
    for (auto& [key, r] : byKey) out.push_back(r);
    return out;
}

std::vector<std::size_t> changedVerdicts(const std::vector<Verdict>& a, const std::vector<Verdict>& b) {
    if (a.size() != b.size()) throw Error("comparing cut sets over different exposures");
    std::vector<std::size_t> out;
    for (std::size_t k = 0; k < a.size(); ++k)
        if (a[k].pass != b[k].pass) out.push_back(k);
    return out;
}

CutSet loadCutSet(db::Connection& c, const std::string& spec) {
    db::Rows r;
    if (spec.empty()) {
        r = c.query(std::string(kCutSetColumns) + "WHERE is_default");
        if (r.size() == 0) throw Error("no default cut set (paudm report cuts default NAME)");
    } else if (const auto at = spec.find('@'); at != std::string::npos) {
        const std::string name = spec.substr(0, at), version = spec.substr(at + 1);
        if (version.empty() || version.find_first_not_of("0123456789") != std::string::npos || version.size() > 9)
            throw Error("cut set '" + spec + "': the version after @ must be a number");
        r = c.query(std::string(kCutSetColumns) + "WHERE name = $1 AND version = $2", name, std::stoi(version));
        if (r.size() == 0) throw Error("no cut set " + spec + " (paudm report cuts list)");
    } else {
        r = c.query(std::string(kCutSetColumns) + "WHERE name = $1 ORDER BY version DESC LIMIT 1", spec);
        if (r.size() == 0) throw Error("no cut set named " + spec + " (paudm report cuts list)");
    }
    return cutSetFromRow(r, 0);
}

std::vector<CutSet> listCutSets(db::Connection& c) {
    const auto r = c.query(std::string(kCutSetColumns) + "ORDER BY name, version");
    std::vector<CutSet> out;
    for (int row = 0; row < r.size(); ++row) out.push_back(cutSetFromRow(r, row));
    return out;
}

std::string describeChanges(const CutSet& before, const CutSet& after) {
    std::vector<std::string> parts;
    for (const auto& a : after.cuts) {
        const auto b = std::find_if(before.cuts.begin(), before.cuts.end(), [&](const Cut& x) { return x.quantity == a.quantity; });
        if (b == before.cuts.end()) parts.push_back("added " + a.quantity + " " + describeCut(a));
        else if (!(*b == a)) parts.push_back(a.quantity + " " + describeCut(*b) + " -> " + describeCut(a));
    }
    for (const auto& b : before.cuts)
        if (std::none_of(after.cuts.begin(), after.cuts.end(), [&](const Cut& x) { return x.quantity == b.quantity; }))
            parts.push_back("removed " + b.quantity + " " + describeCut(b));
    for (const auto& [name, accepted] : after.statuses) {
        const auto b = before.statuses.find(name);
        if (b == before.statuses.end()) parts.push_back("added status " + name + ": " + joined(accepted, " or "));
        else if (b->second != accepted)
            parts.push_back("status " + name + ": " + joined(b->second, " or ") + " -> " + joined(accepted, " or "));
    }
    for (const auto& [name, accepted] : before.statuses)
        if (!after.statuses.count(name)) parts.push_back("removed status " + name);
    return parts.empty() ? "no change" : joined(parts, "; ");
}

CutSet saveCutSet(db::Connection& c, const CutSet& s, bool makeDefault, bool* saved) {
    if (saved) *saved = false;
    static const std::regex nameRe("^[A-Za-z0-9_.-]+$");
    if (!std::regex_match(s.name, nameRe)) throw Error("cut set name '" + s.name + "': letters, digits, _ . - only");
    CutSet checked = s;
    definitionFromJson(checked, toJson(s)); // the same checks as a loaded one
    for (const auto& cut : checked.cuts)
        if (!findQuantity(cut.quantity)) extraColumn(c, cut.quantity); // the column exists and is a number
    db::Transaction t(c);
    // Serialises savers of one name (the first version has no row to lock).
    c.query("SELECT pg_advisory_xact_lock(hashtext('quality_cut_set:' || $1))", s.name);
    const auto prev = c.query(std::string(kCutSetColumns) + "WHERE name = $1 ORDER BY version DESC LIMIT 1", s.name);
    std::optional<CutSet> before;
    if (prev.size()) before = cutSetFromRow(prev, 0);
    if (before && before->cuts == checked.cuts && before->statuses == checked.statuses) {
        if (makeDefault && !before->isDefault) {
            c.query("UPDATE quality_cut_set SET is_default = false WHERE is_default");
            c.query("UPDATE quality_cut_set SET is_default = true WHERE name = $1 AND version = $2", s.name, before->version);
            before->isDefault = true;
        }
        t.commit();
        return *before;
    }
    const int version = before ? before->version + 1 : 1;
    const std::string changes = before ? describeChanges(*before, checked) : "first version";
    if (makeDefault) c.query("UPDATE quality_cut_set SET is_default = false WHERE is_default");
    c.query("INSERT INTO quality_cut_set (name, version, note, changes, definition, is_default) "
            "VALUES ($1, $2, nullif($3, ''), $4, $5::jsonb, $6)",
            s.name, version, s.note, changes, toJson(checked), makeDefault);
    const auto r = c.query(std::string(kCutSetColumns) + "WHERE name = $1 AND version = $2", s.name, version);
    c.query("SELECT pg_notify('paudm_quality', $1)", s.name + "@" + std::to_string(version)); // the report panels
    t.commit();
    if (saved) *saved = true;
    return cutSetFromRow(r, 0);
}

CutSet setDefaultCutSet(db::Connection& c, const std::string& spec) {
    db::Transaction t(c);
    CutSet s = loadCutSet(c, spec);
    c.query("UPDATE quality_cut_set SET is_default = false WHERE is_default");
    c.query("UPDATE quality_cut_set SET is_default = true WHERE name = $1 AND version = $2", s.name, s.version);
    c.query("SELECT pg_notify('paudm_quality', $1)", s.label());
    t.commit();
    s.isDefault = true;
    return s;
}

std::vector<std::string> columnQuantities(const CutSet& cuts) {
    std::vector<std::string> out;
    for (const auto& cut : cuts.cuts)
        if (!findQuantity(cut.quantity)) out.push_back(cut.quantity);
    return out;
}

Report rejudged(const Report& r, const CutSet& cuts) {
    Report out;
    out.selection = r.selection;
    out.cuts = cuts;
    out.exposures = r.exposures;
    out.verdicts = evaluate(cuts, out.exposures);
    out.rates = passRates(out.exposures, out.verdicts);
    return out;
}

Report makeReport(db::Connection& c, const Selection& s, const CutSet& cuts) {
    Report r;
    r.selection = s;
    if (r.selection.to.empty()) r.selection.to = s.from;
    for (const auto& k : columnQuantities(cuts))
        if (std::find(r.selection.extra.begin(), r.selection.extra.end(), k) == r.selection.extra.end())
            r.selection.extra.push_back(k);
    r.cuts = cuts;
    r.exposures = loadExposures(c, r.selection);
    r.verdicts = evaluate(r.cuts, r.exposures);
    r.rates = passRates(r.exposures, r.verdicts);
    return r;
}

Report makeReport(db::Connection& c, const Selection& s, const std::string& cutSpec) {
    return makeReport(c, s, loadCutSet(c, cutSpec));
}

std::string failingCsv(const Report& r) {
    std::string out = "night,time_utc,exp_num,file,band,cut,value,limit,by,reason\r\n";
    for (std::size_t k = 0; k < r.exposures.size(); ++k) {
        const Exposure& e = r.exposures[k];
        for (const Failure& f : r.verdicts[k].failures)
            out += csvField(e.night) + "," + csvField(e.timeUtc) + "," + std::to_string(e.expNum) + "," + csvField(e.file) +
                   "," + csvField(e.band) + "," + csvField(f.cut) + "," + (f.value ? number(*f.value, 6) : "") + "," +
                   (f.limit ? number(*f.limit, 6) : "") + "," + (f.value ? number(f.by, 4) : "") + "," +
                   csvField(f.reason) + "\r\n";
    }
    return out;
}

std::string reportJson(const Report& r) {
    QJsonArray rates;
    for (const auto& p : r.rates)
        rates.append(QJsonObject{{"night", QString::fromStdString(p.night)},
                                 {"band", QString::fromStdString(p.band)},
                                 {"exposures", p.exposures},
                                 {"passed", p.passed},
                                 {"pass_fraction", p.exposures ? double(p.passed) / p.exposures : 0.0}});
    QJsonArray exposures;
    for (std::size_t k = 0; k < r.exposures.size(); ++k) {
        const Exposure& e = r.exposures[k];
        QJsonObject values, statuses;
        for (const auto& [key, v] : e.values) values[QString::fromStdString(key)] = v;
        for (const auto& [key, v] : e.statuses) statuses[QString::fromStdString(key)] = QString::fromStdString(v);
        QJsonArray failures;
        for (const auto& f : r.verdicts[k].failures) {
            QJsonObject fo{{"cut", QString::fromStdString(f.cut)}, {"reason", QString::fromStdString(f.reason)}};
            if (f.value) fo["value"] = *f.value, fo["by"] = f.by;
            if (f.limit) fo["limit"] = *f.limit;
            failures.append(fo);
        }
        exposures.append(QJsonObject{{"night", QString::fromStdString(e.night)},
                                     {"time_utc", QString::fromStdString(e.timeUtc)},
                                     {"mjd", e.mjd},
                                     {"exp_num", e.expNum},
                                     {"file", QString::fromStdString(e.file)},
                                     {"obs_set", QString::fromStdString(e.obsSet)},
                                     {"band", QString::fromStdString(e.band)},
                                     {"release", QString::fromStdString(e.release)},
                                     {"mosaic_id", static_cast<double>(e.mosaicId)},
                                     {"values", values},
                                     {"statuses", statuses},
                                     {"pass", r.verdicts[k].pass},
                                     {"failures", failures}});
    }
    const QJsonObject cutSet{{"name", QString::fromStdString(r.cuts.name)},
                             {"version", r.cuts.version},
                             {"author", QString::fromStdString(r.cuts.author)},
                             {"created", QString::fromStdString(r.cuts.created)},
                             {"definition", QJsonDocument::fromJson(QByteArray::fromStdString(toJson(r.cuts))).object()}};
    const QJsonObject doc{{"from", QString::fromStdString(r.selection.from)},
                          {"to", QString::fromStdString(r.selection.to)},
                          {"release", QString::fromStdString(r.selection.release)},
                          {"cut_set", cutSet},
                          {"pass_rates", rates},
                          {"exposures", exposures}};
    return QJsonDocument(doc).toJson(QJsonDocument::Indented).toStdString();
}

namespace {

/// One plot of `key` against time as inline SVG: points coloured by band, failing
/// exposures ringed in red, the cut's limits as dashed lines.
std::string svgPlot(const Report& r, const Quantity& q, const std::vector<std::string>& bands) {
    const double W = 640, H = 220, left = 60, right = 24, top = 24, bottom = 30;
    // One time range for every plot (the whole selection), so that they line up.
    double t0 = INFINITY, t1 = -INFINITY, v0 = INFINITY, v1 = -INFINITY;
    bool any = false;
    for (const auto& e : r.exposures) {
        t0 = std::min(t0, e.mjd), t1 = std::max(t1, e.mjd);
        const auto it = e.values.find(q.key);
        if (it == e.values.end()) continue;
        v0 = std::min(v0, it->second), v1 = std::max(v1, it->second);
        any = true;
    }
    const Cut* cut = nullptr;
    for (const auto& c : r.cuts.cuts)
        if (c.quantity == q.key) cut = &c;
    if (cut && cut->min && any) v0 = std::min(v0, *cut->min), v1 = std::max(v1, *cut->min);
    if (cut && cut->max && any) v0 = std::min(v0, *cut->max), v1 = std::max(v1, *cut->max);
    std::string s = "<figure><figcaption>" + htmlEscape(q.label) + (q.unit.empty() ? "" : " (" + htmlEscape(q.unit) + ")") +
                    "</figcaption><svg xmlns='http://www.w3.org/2000/svg' width='" + number(W) + "' height='" + number(H) +
                    "' role='img' aria-label='" + htmlEscape(q.label) + " against time'>";
    s += "<rect x='" + number(left) + "' y='" + number(top) + "' width='" + number(W - left - right) + "' height='" +
         number(H - top - bottom) + "' fill='#fafafa' stroke='#888'/>";
    if (!any) return s + "<text x='" + number(W / 2) + "' y='" + number(H / 2) +
                                   "' text-anchor='middle'>not measured</text></svg></figure>";
    const double tpad = (t1 - t0) * 0.04 + 0.005;
    t0 -= tpad, t1 += tpad;
    const double pad = (v1 - v0) * 0.08 + (v1 == v0 ? std::max(1e-3, std::fabs(v0) * 0.05) : 0);
    v0 -= pad, v1 += pad;
    auto X = [&](double t) { return left + (t - t0) / (t1 - t0) * (W - left - right); };
    auto Y = [&](double v) { return top + (v1 - v) / (v1 - v0) * (H - top - bottom); };
    for (int k = 0; k <= 4; ++k) {
        const double v = v0 + (v1 - v0) * k / 4;
        s += "<text x='" + number(left - 4) + "' y='" + number(Y(v) + 4) + "' font-size='11' text-anchor='end'>" +
             number(v, 3) + "</text>";
    }
    for (int k = 0; k <= 4; ++k) {
        const double t = t0 + (t1 - t0) * k / 4;
        const double hours = std::fmod(t - std::floor(t), 1.0) * 24;
        char hm[16];
        std::snprintf(hm, sizeof hm, "%02d:%02d", static_cast<int>(hours), static_cast<int>(std::fmod(hours, 1.0) * 60));
        s += "<text x='" + number(X(t)) + "' y='" + number(H - bottom + 16) + "' font-size='11' text-anchor='middle'>" +
             std::string(hm) + "</text>";
    }
    if (cut)
        for (const auto& lim : {cut->min, cut->max})
            if (lim)
                s += "<line x1='" + number(left) + "' x2='" + number(W - right) + "' y1='" + number(Y(*lim)) + "' y2='" +
                     number(Y(*lim)) + "' stroke='#d62728' stroke-dasharray='5,4'/>";
    for (std::size_t k = 0; k < r.exposures.size(); ++k) {
        const auto& e = r.exposures[k];
        const auto it = e.values.find(q.key);
        if (it == e.values.end()) continue;
        const auto b = std::find(bands.begin(), bands.end(), e.band) - bands.begin();
        const std::string x = number(X(e.mjd), 6), y = number(Y(it->second), 6);
        s += "<circle cx='" + x + "' cy='" + y + "' r='4' fill='" + bandColours()[b % bandColours().size()] + "'><title>" +
             htmlEscape(e.file + " " + e.timeUtc + ": " + number(it->second)) + "</title></circle>";
        if (!r.verdicts[k].pass) s += "<circle cx='" + x + "' cy='" + y + "' r='7' fill='none' stroke='#d62728'/>";
    }
    return s + "</svg></figure>";
}

} // namespace

std::string reportHtml(const Report& r) {
    std::vector<std::string> bands;
    for (const auto& e : r.exposures)
        if (std::find(bands.begin(), bands.end(), e.band) == bands.end()) bands.push_back(e.band);
    const std::string range = r.selection.from + (r.selection.to != r.selection.from ? " to " + r.selection.to : "");
    std::string h = "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>PAUdm nightly report " +
                    htmlEscape(range) +
                    "</title><style>body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}"
                    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}th{background:#eee}figure{display:inline-"
                    "block;margin:0.5em}figcaption{font-weight:bold}.fail{color:#b00}</style></head><body>\n";
    int passed = 0;
    for (const auto& v : r.verdicts) passed += v.pass;
    h += "<h1>Nightly report " + htmlEscape(range) + "</h1><p>Cut set <b>" + htmlEscape(r.cuts.label()) + "</b>" +
         (r.selection.release.empty() ? "" : ", release " + htmlEscape(r.selection.release)) + ": " +
         std::to_string(passed) + " of " + std::to_string(r.exposures.size()) + " science exposures pass.</p>\n";
    h += "<h2>Pass rates</h2><table><tr><th>night</th><th>band</th><th>exposures</th><th>passed</th><th>share</th></tr>";
    for (const auto& p : r.rates)
        h += "<tr><td>" + htmlEscape(p.night) + "</td><td>" + htmlEscape(p.band) + "</td><td>" +
             std::to_string(p.exposures) + "</td><td>" + std::to_string(p.passed) + "</td><td>" +
             number(p.exposures ? 100.0 * p.passed / p.exposures : 0, 3) + " %</td></tr>";
    h += "</table>\n<h2>Against time (UTC)</h2><p>";
    for (std::size_t b = 0; b < bands.size(); ++b)
        h += "<span style='color:" + bandColours()[b % bandColours().size()] + "'>&#9679;</span> " + htmlEscape(bands[b]) + " &nbsp; ";
    h += "<span class='fail'>&#9675;</span> fails a cut &nbsp; <span class='fail'>- -</span> cut</p>\n";
    for (const auto& q : standardQuantities()) h += svgPlot(r, q, bands) + "\n";
    h += "<h2>Failing exposures</h2>";
    bool any = false;
    std::string rows;
    for (std::size_t k = 0; k < r.exposures.size(); ++k) {
        if (r.verdicts[k].pass) continue;
        any = true;
        std::vector<std::string> reasons;
        for (const auto& f : r.verdicts[k].failures) reasons.push_back(f.reason);
        const auto& e = r.exposures[k];
        rows += "<tr><td>" + htmlEscape(e.night) + "</td><td>" + htmlEscape(e.timeUtc) + "</td><td>" + htmlEscape(e.file) +
                "</td><td>" + htmlEscape(e.band) + "</td><td class='fail'>" + htmlEscape(joined(reasons, "; ")) + "</td></tr>";
    }
    h += any ? "<table><tr><th>night</th><th>time (UTC)</th><th>exposure</th><th>band</th><th>why</th></tr>" + rows +
                   "</table>"
             : "<p>None.</p>";
    return h + "\n</body></html>\n";
}

} // namespace paudm::quality
