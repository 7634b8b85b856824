#include "pipelines/register/register.h"

#include "archive/layout.h"
#include "db/connection.h"
#include "fits/fits.h"
#include "jobs/config_values.h"
#include "jobs/task.h"
#include "pipelines/paucam.h"
#include "pipelines/tasks.h"
#include "wcs/wcs.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

namespace paudm::pipelines::reg {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void refuse(const fits::File& f, const std::string& what) {
    throw Error(f.path() + " " + f.hduLabel() + ": " + what);
}

/// "12:30:45.6" (or with spaces) -> 12.5126..., sign kept; nullopt if it is not sexagesimal.
std::optional<double> sexagesimal(const std::string& text) {
    double a = 0, b = 0, c = 0;
    char sep1 = 0, sep2 = 0;
    std::string t = text;
    std::replace(t.begin(), t.end(), ' ', ':');
    if (std::sscanf(t.c_str(), "%lf%c%lf%c%lf", &a, &sep1, &b, &sep2, &c) != 5 || sep1 != ':' || sep2 != ':')
        return std::nullopt;
    if (b < 0 || b >= 60 || c < 0 || c >= 60) return std::nullopt;
    const bool negative = t.find('-') != std::string::npos;
    return (negative ? -1 : 1) * (std::fabs(a) + b / 60 + c / 3600);
}

/// RA or DEC in degrees, from a number (deg) or a sexagesimal text (hours for RA).
std::optional<double> angle(const fits::File& f, const char* key, bool hours) {
    const auto text = f.keyString(key);
    if (!text) return std::nullopt;
    if (auto s = sexagesimal(*text)) return hours ? *s * 15 : *s;
    try {
        std::size_t used = 0;
        const double v = std::stod(*text, &used);
        if (used == text->size() && std::isfinite(v)) return v;
    } catch (const std::exception&) {
    }
    refuse(f, std::string("keyword ") + key + " = '" + *text + "' is neither degrees nor " +
                  (hours ? "hh:mm:ss" : "dd:mm:ss"));
}

bool isDate(const std::string& s) {
    int y, m, d;
    char rest = 0;
    return s.size() == 10 && std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &rest) == 3 && m >= 1 && m <= 12 &&
           d >= 1 && d <= 31;
}

bool isTime(const std::string& s) {
    int h, m;
    double sec;
    return std::sscanf(s.c_str(), "%2d:%2d:%lf", &h, &m, &sec) == 3 && h >= 0 && h < 24 && m >= 0 && m < 60 &&
           sec >= 0 && sec < 61 && s.find_first_not_of("0123456789:.") == std::string::npos;
}

/// Splits "YYYY-MM-DDThh:mm:ss[.sss]" (or a bare date) into date and time.
void splitDateTime(const fits::File& f, const char* key, const std::string& value, std::optional<std::string>& date,
                   std::optional<std::string>& time) {
    const std::string d = value.substr(0, 10);
    if (!isDate(d)) refuse(f, std::string("keyword ") + key + " = '" + value + "' is not an ISO date (YYYY-MM-DD...)");
    date = d;
    if (value.size() > 11) {
        const std::string t = value.substr(11);
        if (value[10] != 'T' || !isTime(t))
            refuse(f, std::string("keyword ") + key + " = '" + value + "' is not an ISO date and time");
        time = t;
    }
}

/// Reduced Julian date (JD - 2400000) of an ISO date and time (proleptic Gregorian).
double rjdOf(const std::string& date, const std::string& time) {
    int y = 0, m = 0, d = 0, hh = 0, mm = 0;
    double ss = 0;
    std::sscanf(date.c_str(), "%d-%d-%d", &y, &m, &d);
    if (!time.empty()) std::sscanf(time.c_str(), "%d:%d:%lf", &hh, &mm, &ss);
    // Days from civil (Howard Hinnant's algorithm), then MJD = days since 1858-11-17.
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const long days1970 = static_cast<long>(era) * 146097 + doe - 719468;
    const double mjd = days1970 + 40587 + (hh + mm / 60.0 + ss / 3600.0) / 24.0;
    return mjd + 0.5;
}

/// RA/Dec bounds of a WCS over an image of n1 x n2 pixels: corners and edge midpoints.
void footprint(const wcs::Wcs& w, long n1, long n2, ImageRecord& img) {
    if (const auto b = w.footprint(n1, n2)) {
        img.raMin = b->raMin;
        img.raMax = b->raMax;
        img.decMin = b->decMin;
        img.decMax = b->decMax;
    }
}

template <class T>
db::Param num(const std::optional<T>& v) {
    return v ? db::toParam(*v) : std::nullopt;
}

} // namespace

MosaicRecord readMosaic(const std::string& path) {
    auto f = fits::File::open(path);
    MosaicRecord m;
    m.filename = fs::path(path).filename().string();
    std::error_code ec;
    const auto size = static_cast<std::int64_t>(fs::file_size(path, ec));
    if (ec) throw Error(path + ": cannot read the file size: " + ec.message());

    const auto kind = f.keyString("OBSTYPE");
    if (!kind || kind->empty())
        refuse(f, "keyword OBSTYPE (bias, flat, science, ...) is missing: not a PAUCam raw mosaic");
    m.kind = *kind;
    const auto dateObs = f.keyString("DATE-OBS");
    if (!dateObs) refuse(f, "keyword DATE-OBS is missing");
    splitDateTime(f, "DATE-OBS", *dateObs, m.dateObs, m.timeObs);
    if (auto t = f.keyString("TIME-OBS")) {
        if (!isTime(*t)) refuse(f, "keyword TIME-OBS = '" + *t + "' is not hh:mm:ss");
        if (!m.timeObs) m.timeObs = *t;
    }
    if (auto mjd = f.keyDouble("MJD-OBS"))
        m.rjdObs = *mjd + 0.5;
    else
        m.rjdObs = rjdOf(*m.dateObs, m.timeObs.value_or(""));
    m.ra = angle(f, "RA", true);
    m.dec = angle(f, "DEC", false);
    if (m.dec && (*m.dec < -90 || *m.dec > 90)) refuse(f, "keyword DEC is outside -90..90");
    m.equinox = f.keyDouble("EQUINOX");
    m.airmass = f.keyDouble("AIRMASS");
    m.expTime = f.keyDouble("EXPTIME");
    m.expNum = f.keyInt("EXPNUM");
    m.filtertray = f.keyString("FILTTRAY");
    m.obsTitle = f.keyString("OBJECT");
    m.instrument = f.keyString("INSTRUME");
    m.obsSet = f.keyString("OBSSET");
    m.telfocus = f.keyDouble("TELFOCUS");
    m.ambTemp = f.keyDouble("AMBTEMP");
    m.humidity = f.keyDouble("HUMIDITY");
    m.pressure = f.keyDouble("PRESSURE");
    m.windSpd = f.keyDouble("WINDSPD");
    m.windDir = f.keyDouble("WINDDIR");
    m.guideEnabled = f.keyBool("GUIDING");
    m.guideFwhm = f.keyDouble("GUIFWHM");
    m.guideVar = f.keyDouble("GUIVAR");
    // DATE (when the file was written) is informative only: pre-2000 'dd/mm/yy' is left out.
    if (auto created = f.keyString("DATE"); created && isDate(created->substr(0, 10))) {
        try {
            splitDateTime(f, "DATE", *created, m.dateCreat, m.timeCreat);
        } catch (const Error&) {
            m.dateCreat = created->substr(0, 10);
        }
    }
    const auto nextend = f.keyInt("NEXTEND");

    const int hdus = f.hduCount();
    for (int h = 2; h <= hdus; ++h) {
        f.moveTo(h);
        if (f.hduType() != fits::HduType::Image) continue;
        const auto info = f.imageInfo();
        if (info.axes.size() != 2) refuse(f, "an amplifier image must have 2 axes, not " + std::to_string(info.axes.size()));
        ImageRecord img;
        img.hdu = h;
        const auto ccd = f.keyInt("CCDNUM");
        if (!ccd) refuse(f, "keyword CCDNUM is missing");
        img.ccdNum = static_cast<int>(*ccd);
        if (auto amp = f.keyInt("AMPNUM")) img.ampNum = static_cast<int>(*amp);
        img.imageNum = static_cast<int>(f.keyInt("IMAGEID").value_or(h - 1));
        img.filter = f.keyString("FILTER");
        img.wavelength = f.keyDouble("WAVELENG");
        if (img.filter) {
            const auto& all = paucam::filters();
            const auto known = std::find_if(all.begin(), all.end(), [&](auto& x) { return x.name == *img.filter; });
            if (known != all.end()) {
                img.waveband = known->narrow ? "narrow" : "broad";
                if (!img.wavelength) img.wavelength = known->centre;
            }
        }
        img.gain = f.keyDouble("GAIN");
        img.rdnoise = f.keyDouble("RDNOISE");
        img.naxis1 = info.axes[0];
        img.naxis2 = info.axes[1];
        if (f.hasKey("CTYPE1")) footprint(wcs::Wcs::fromFits(f), img.naxis1, img.naxis2, img);
        m.images.push_back(std::move(img));
    }
    // The last HDU's data must be all there: a file cut short has headers that promise more.
    if (f.dataEnd() > size)
        refuse(f, "the file is cut short: its headers describe " + std::to_string(f.dataEnd()) + " bytes, it has " +
                      std::to_string(size));
    m.nextend = static_cast<int>(m.images.size());
    if (m.images.empty()) {
        f.moveTo(1);
        refuse(f, "no image extensions: a PAUCam mosaic has one per amplifier");
    }
    if (nextend && *nextend != m.nextend) {
        f.moveTo(1);
        refuse(f, "keyword NEXTEND = " + std::to_string(*nextend) + " but the file has " + std::to_string(m.nextend) +
                      " image extensions");
    }
    std::set<int> seen;
    for (const auto& img : m.images)
        if (!seen.insert(img.imageNum).second) {
            f.moveTo(img.hdu);
            refuse(f, "IMAGEID " + std::to_string(img.imageNum) + " appears twice");
        }
    return m;
}

int ensureObsSet(db::Connection& c, const archive::ObsSetManifest& m) {
    auto r = c.query("INSERT INTO obs_set (obs_set, instrument, night, operator, notes, archive_path) "
                     "VALUES ($1, $2, $3::date, $4, $5, $6) ON CONFLICT (obs_set) DO NOTHING RETURNING id",
                     m.obsSet, m.instrument, m.night, m.operatorName.empty() ? std::nullopt : db::Param(m.operatorName),
                     m.notes.empty() ? std::nullopt : db::Param(m.notes), archive::ArchiveLayout::rawPath(m.obsSet));
    if (r.size()) return static_cast<int>(r.toInt(0, 0));
    r = c.query("SELECT id FROM obs_set WHERE obs_set = $1", m.obsSet);
    return static_cast<int>(r.toInt(0, 0));
}

Registered insertMosaic(db::Connection& c, int obsSetId, const std::string& archivePath, const MosaicRecord& m) {
    db::Transaction tx(c);
    const db::Param ps[] = {
        db::toParam(obsSetId), m.filename, archivePath, m.kind, num(m.dateObs), num(m.timeObs), num(m.rjdObs),
        num(m.ra), num(m.dec), num(m.equinox), num(m.airmass), num(m.expTime), num(m.expNum), num(m.filtertray),
        num(m.obsTitle), num(m.instrument), num(m.telfocus), num(m.ambTemp), num(m.humidity), num(m.pressure),
        num(m.windSpd), num(m.windDir), num(m.guideEnabled), num(m.guideFwhm), num(m.guideVar),
        db::toParam(m.nextend), num(m.dateCreat), num(m.timeCreat)};
    const auto r = c.exec(
        "INSERT INTO mosaic (obs_set_id, filename, archivepath, kind, date_obs, time_obs, rjd_obs, ra, dec, equinox, "
        "airmass, exp_time, exp_num, filtertray, obs_title, instrument, telfocus, amb_temp, humidity, pressure, "
        "wind_spd, wind_dir, guide_enabled, guide_fwhm, guide_var, nextend, date_creat, time_creat) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, "
        "$23, $24, $25, $26, $27, $28) "
        "ON CONFLICT (production_id, archivepath, filename) DO NOTHING RETURNING id",
        ps);
    if (r.size() == 0) return Registered::AlreadyThere;
    const std::int64_t mosaicId = r.toInt(0, 0);

    // All images in one statement: one array per column.
    std::vector<std::optional<std::string>> cols[14];
    for (const auto& img : m.images) {
        const db::Param v[14] = {db::toParam(img.imageNum), db::toParam(img.ccdNum), num(img.ampNum), num(img.filter),
                                 num(img.waveband), num(img.wavelength), num(img.gain), num(img.rdnoise),
                                 db::toParam(static_cast<long long>(img.naxis1)),
                                 db::toParam(static_cast<long long>(img.naxis2)), num(img.raMin), num(img.raMax),
                                 num(img.decMin), num(img.decMax)};
        for (int i = 0; i < 14; ++i) cols[i].push_back(v[i]);
    }
    c.query("INSERT INTO image (mosaic_id, image_num, ccd_num, amp_num, filter, waveband, wavelength, gain, rdnoise, "
            "naxis1, naxis2, ra_min, ra_max, dec_min, dec_max) "
            "SELECT $1, * FROM unnest($2::int[], $3::smallint[], $4::smallint[], $5::text[], $6::text[], $7::real[], "
            "$8::real[], $9::real[], $10::int[], $11::int[], $12::float8[], $13::float8[], $14::float8[], "
            "$15::float8[])",
            mosaicId, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8], cols[9],
            cols[10], cols[11], cols[12], cols[13]);
    tx.commit();
    return Registered::Inserted;
}

std::string Comparison::describe() const {
    std::string out;
    auto add = [&](const std::vector<std::string>& items, const char* what) {
        for (const auto& i : items) out += (out.empty() ? "" : "\n") + i + ": " + what;
    };
    add(missing, "listed in the YAML, not registered");
    add(extra, "registered, not listed in the YAML");
    add(mismatching, "registered with another kind than the YAML says");
    return out;
}

Comparison compareWithManifest(db::Connection& c, int obsSetId, const archive::ObsSetManifest& manifest) {
    std::map<std::string, std::string> inDb;
    const auto r = c.query("SELECT filename, kind FROM mosaic WHERE obs_set_id = $1 AND production_id IS NULL", obsSetId);
    for (int i = 0; i < r.size(); ++i) inDb[std::string(r.text(i, 0))] = std::string(r.text(i, 1));
    Comparison out;
    out.registered = r.size();
    std::set<std::string> listed;
    for (const auto& f : manifest.files) {
        listed.insert(f.name);
        const auto it = inDb.find(f.name);
        if (it == inDb.end())
            out.missing.push_back(f.name);
        else if (it->second != f.kind)
            out.mismatching.push_back(f.name + " (YAML " + f.kind + ", header " + it->second + ")");
    }
    for (const auto& [name, kind] : inDb)
        if (!listed.count(name)) out.extra.push_back(name);
    return out;
}

// ---------------------------------------------------------------- task types

namespace {

struct ObsSetInArchive {
    archive::ArchiveLayout layout;
    std::string obsSet, folder, manifestPath;
    archive::ObsSetManifest manifest;
};

ObsSetInArchive locate(const jobs::TaskContext& ctx) {
    const std::string obsSet = jobs::configText(ctx.config(), "obs_set");
    if (!archive::parseObsSetName(obsSet))
        throw jobs::PermanentError("configuration 'obs_set' must name an obs set (YYYYMMDD_NNN), not '" + obsSet + "'");
    ObsSetInArchive o{archive::ArchiveLayout::resolve(jobs::configText(ctx.config(), "archive")), obsSet, {}, {}, {}};
    o.folder = o.layout.rawDir(obsSet);
    try {
        o.manifestPath = archive::manifestPathIn(o.folder);
        o.manifest = archive::ObsSetManifest::readFile(o.manifestPath);
    } catch (const Error& e) {
        throw jobs::PermanentError(e);
    }
    if (o.manifest.obsSet != obsSet)
        throw jobs::PermanentError(o.manifestPath + ": describes obs set " + o.manifest.obsSet + ", not " + obsSet);
    return o;
}

void registerProlog(jobs::TaskContext& ctx) {
    const ObsSetInArchive o = locate(ctx);
    const int obsSetId = ensureObsSet(ctx.db(), o.manifest);
    std::set<std::string> done;
    const auto r = ctx.db().query("SELECT filename FROM mosaic WHERE obs_set_id = $1 AND production_id IS NULL", obsSetId);
    for (int i = 0; i < r.size(); ++i) done.insert(std::string(r.text(i, 0)));
    int absent = 0;
    for (const auto& f : o.manifest.files) {
        std::error_code ec;
        if (done.count(f.name)) continue;
        if (!fs::exists(o.folder + "/" + f.name, ec)) { // the epilog lists it
            ++absent;
            continue;
        }
        jobs::NewJob j;
        j.name = "register_mosaic";
        j.config = {{"archive", QString::fromStdString(o.layout.root())}};
        j.input = {{"obs_set", QString::fromStdString(o.obsSet)},
                   {"obs_set_id", obsSetId},
                   {"file", QString::fromStdString(f.name)}};
        j.description = o.obsSet + "/" + f.name;
        ctx.addSubjob(std::move(j));
    }
    ctx.log(o.obsSet + ": " + std::to_string(o.manifest.files.size()) + " files in the YAML, " +
            std::to_string(done.size()) + " registered already, " + std::to_string(absent) + " not in the archive");
}

void registerEpilog(jobs::TaskContext& ctx) {
    const ObsSetInArchive o = locate(ctx);
    db::Connection& c = ctx.db();
    const int obsSetId = ensureObsSet(c, o.manifest);
    const Comparison cmp = compareWithManifest(c, obsSetId, o.manifest);
    ctx.tag("obs_set", o.obsSet);
    if (!cmp.ok()) {
        std::string detail = cmp.describe();
        for (const auto& name : cmp.missing) {
            std::error_code ec;
            if (!fs::exists(o.folder + "/" + name, ec))
                detail += "\n" + name + ": not in the archive (" + o.folder + "); see " + o.layout.quarantineDir(o.obsSet) +
                          " and the transfer ledger";
        }
        throw jobs::PermanentError(o.obsSet + ": PAUdb does not match " + o.manifestPath + " (" + std::to_string(cmp.missing.size()) +
                    " missing, " + std::to_string(cmp.extra.size()) + " extra, " +
                    std::to_string(cmp.mismatching.size()) + " mismatching):\n" + detail);
    }
    // Only what changes is written, so that registering again changes nothing.
    db::Transaction tx(c);
    const auto r = c.query(
        "UPDATE obs_set o SET registered = now(), rjd_start = s.lo, rjd_stop = s.hi "
        "FROM (SELECT min(rjd_obs) AS lo, max(rjd_obs) AS hi FROM mosaic WHERE obs_set_id = $1 AND production_id IS NULL) s "
        "WHERE o.id = $1 AND o.registered IS NULL RETURNING o.registered",
        obsSetId);
    const auto images = c.query("SELECT count(*) FROM image i JOIN mosaic m ON m.id = i.mosaic_id "
                                "WHERE m.obs_set_id = $1 AND m.production_id IS NULL",
                                obsSetId)
                            .toInt(0, 0);
    tx.commit();
    const bool already = r.size() == 0;
    ctx.setOutput({{"obs_set", QString::fromStdString(o.obsSet)},
                   {"obs_set_id", obsSetId},
                   {"mosaics", cmp.registered},
                   {"images", static_cast<qint64>(images)},
                   {"already_registered", already}});
    ctx.log(already ? o.obsSet + " was registered already: nothing changed"
                    : o.obsSet + " registered: " + std::to_string(cmp.registered) + " mosaics, " +
                          std::to_string(images) + " images");
    // The next stage: the nightly reduction of the obs set (unless asked not to). An obs set
    // registered already and reduced completely into that release is not reduced again
    // (the morning routine run twice costs nothing); 'paudm reprocess' does that on purpose.
    if (jobs::configBool(ctx.config(), "nightly", true)) {
        std::string release = jobs::configText(ctx.config(), "release");
        if (release.empty())
            if (const jobs::TaskType* t = allTasks().find("nightly"))
                release = t->defaults["release"].toString().toStdString();
        const bool reduced =
            already && c.query("SELECT 1 FROM job WHERE name = 'nightly' AND status = 'DONE' AND config ->> 'obs_set' = $1 "
                               "AND config ->> 'release' = $2 AND coalesce((output ->> 'complete')::boolean, false) LIMIT 1",
                               o.obsSet, release)
                               .size() > 0;
        if (reduced) {
            ctx.log(o.obsSet + " is reduced already into release " + release + " (paudm reprocess reduces it again)");
        } else {
            jobs::NewJob n;
            n.name = "nightly";
            n.config = {{"obs_set", QString::fromStdString(o.obsSet)}, {"archive", QString::fromStdString(o.layout.root())}};
            if (!release.empty()) n.config["release"] = QString::fromStdString(release);
            n.description = "nightly reduction of " + o.obsSet;
            ctx.addChild(std::move(n));
        }
    }
}

void registerMosaicRun(jobs::TaskContext& ctx) {
    const std::string obsSet = ctx.input()["obs_set"].toString().toStdString();
    const std::string file = ctx.input()["file"].toString().toStdString();
    const int obsSetId = ctx.input()["obs_set_id"].toInt();
    if (!archive::parseObsSetName(obsSet) || file.empty() || file.find('/') != std::string::npos || obsSetId <= 0)
        throw Error("register_mosaic needs input obs_set, obs_set_id and file (a name inside the obs set)");
    const auto layout = archive::ArchiveLayout::resolve(jobs::configText(ctx.config(), "archive"));
    MosaicRecord m;
    try {
        m = readMosaic(layout.rawDir(obsSet) + "/" + file);
    } catch (const Error& e) { // the file is what it is: another attempt reads the same
        throw jobs::PermanentError(e);
    }
    if (m.obsSet && *m.obsSet != obsSet)
        throw jobs::PermanentError(layout.rawDir(obsSet) + "/" + file + ": header OBSSET = '" + *m.obsSet + "' but the file is in obs set " +
                    obsSet);
    const Registered r = insertMosaic(ctx.db(), obsSetId, archive::ArchiveLayout::rawPath(obsSet), m);
    ctx.setOutput({{"file", QString::fromStdString(file)},
                   {"images", static_cast<int>(m.images.size())},
                   {"inserted", r == Registered::Inserted}});
    if (r == Registered::AlreadyThere) ctx.log(file + " was registered already: left as it is");
}

} // namespace

void registerRegisterTasks(jobs::TaskRegistry& registry) {
    registry.add({.name = "register",
                  .description = "Register an obs set of the archive in PAUdb: one register_mosaic sub-job per file "
                                 "of its YAML, then compare PAUdb with the YAML",
                  .defaults = {{"archive", ""}, {"on_subjob_failure", "wait"}, {"nightly", true}, {"release", ""}},
                  .prolog = registerProlog,
                  .epilog = registerEpilog});
    registry.add({.name = "register_mosaic",
                  .description = "Register one raw mosaic: its mosaic row and one image row per extension",
                  .defaults = {{"archive", ""}},
                  .run = registerMosaicRun});
}

} // namespace paudm::pipelines::reg
