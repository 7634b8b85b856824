#pragma once
// The nightly report (the paper's section 7.3): the science exposures of a range of
// nights with the numbers the nightly pipeline measured, judged against a set of quality
// cuts; the pass rates per night and band (the paper's Figure 11) and the exposures to
// schedule again, each with the cut it failed and by how much.
//
// Cut sets live in PAUdb (quality_cut_set) as named versions: saving a change makes a new
// version with a generated account of what changed; any version can be applied to any
// nights, and two versions compared exposure by exposure.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace paudm::db {
class Connection;
}

namespace paudm::quality {

/// A number the report plots and a cut may test.
struct Quantity {
    std::string key;   ///< "seeing", or "mosaic.COLUMN" / "image.COLUMN"
    std::string label; ///< for a plot's axis
    std::string unit;  ///< may be empty
};

/// The report's own quantities, in the order the report shows them (seeing, sky,
/// transparency and zero point are the medians of the mosaic's CCDs).
const std::vector<Quantity>& standardQuantities();

/// Colours for the bands in plots, in order of first appearance ("#rrggbb"; cycle them).
const std::vector<std::string>& bandColours();

/// A standard quantity by key, or nullptr (a column quantity, or unknown).
const Quantity* findQuantity(const std::string& key);

/// The pipeline statuses a cut may require, by the report's name: detrend, astro, photo, psf.
const std::vector<std::string>& statusNames();

/// One science exposure (a reduced mosaic) and its numbers.
struct Exposure {
    std::int64_t mosaicId = 0;
    std::int64_t rawMosaicId = 0;
    std::string file;                  ///< the raw mosaic's file name
    std::string archivePath;           ///< of the reduced mosaic's CCD files
    std::string obsSet;
    std::string night;                 ///< YYYY-MM-DD (the obs set's night)
    std::string timeUtc;               ///< YYYY-MM-DDTHH:MM:SS
    double mjd = 0;                    ///< of the start of the exposure
    int expNum = 0;
    std::string band;                  ///< the filter tray
    std::string release;
    std::map<std::string, double> values;        ///< quantity key -> value; absent: no value
    std::map<std::string, std::string> statuses; ///< status name -> the pipeline's status text
};

/// Which exposures: nights `from` to `to` (inclusive, YYYY-MM-DD) of one release (empty:
/// every release), with the quantities of `extra` (mosaic.COLUMN / image.COLUMN keys,
/// checked against the database's catalog) on top of the standard ones.
struct Selection {
    std::string from, to;
    std::string release;
    std::vector<std::string> extra;
};

/// The exposures of a selection, in time order. Throws paudm::Error naming a bad night or
/// an unknown or non-numeric column.
std::vector<Exposure> loadExposures(db::Connection& c, const Selection& s);

/// A cut: the quantity must lie within [min, max] (either may be open).
struct Cut {
    std::string quantity;
    std::optional<double> min, max;
    bool operator==(const Cut&) const = default;
};

struct CutSet {
    std::string name;
    int version = 0; ///< 0: not saved
    std::string author, created, note, changes;
    bool isDefault = false;
    std::vector<Cut> cuts;
    std::map<std::string, std::vector<std::string>> statuses; ///< status name -> accepted values
    std::string label() const { return name + "@" + std::to_string(version); }
};

/// The definition's JSON ({"cuts": [...], "statuses": {...}}), and back; fromJson throws
/// paudm::Error naming what is wrong (an unknown quantity or status, min over max, ...).
std::string toJson(const CutSet& s);
void definitionFromJson(CutSet& s, const std::string& json);

/// What one exposure failed: the cut and by how much.
struct Failure {
    std::string cut;                ///< quantity key or status name
    std::optional<double> value;    ///< the exposure's value (none: not measured)
    std::optional<double> limit;    ///< the limit it crossed
    double by = 0;                  ///< how far past it (value - limit, positive: over a max)
    std::string reason;             ///< "seeing 1.52 arcsec over the maximum 1.3 (by 0.22)"
};

struct Verdict {
    bool pass = true;
    std::vector<Failure> failures;
};

Verdict evaluate(const CutSet& cuts, const Exposure& e);
std::vector<Verdict> evaluate(const CutSet& cuts, const std::vector<Exposure>& exposures);

/// The share of science exposures that pass, per night and band.
struct PassRate {
    std::string night, band;
    int exposures = 0, passed = 0;
};
std::vector<PassRate> passRates(const std::vector<Exposure>& e, const std::vector<Verdict>& v);

/// Exposures whose verdict differs between two cut sets (indices into `exposures`).
std::vector<std::size_t> changedVerdicts(const std::vector<Verdict>& a, const std::vector<Verdict>& b);

// ---- the cut sets in PAUdb
/// "NAME", "NAME@VERSION" or "" (the default). Throws paudm::Error when there is none.
CutSet loadCutSet(db::Connection& c, const std::string& spec);
/// Every version of every cut set, by name then version.
std::vector<CutSet> listCutSets(db::Connection& c);
/// Saves `s` (its name, cuts, statuses and note) as the next version of its name, with
/// the changes against the previous one; if nothing changed, returns the previous version
/// unsaved (`*saved`, if given, says which). `makeDefault` makes the saved version the default. One transaction; NOTIFY
/// paudm_quality (the report panels follow).
CutSet saveCutSet(db::Connection& c, const CutSet& s, bool makeDefault = false, bool* saved = nullptr);
/// Makes NAME@VERSION (or NAME's latest) the default.
CutSet setDefaultCutSet(db::Connection& c, const std::string& spec);
/// The generated account of what changed from `before` to `after`.
std::string describeChanges(const CutSet& before, const CutSet& after);

// ---- output, for `paudm report nightly` and the morning mail
struct Report {
    Selection selection;
    CutSet cuts;
    std::vector<Exposure> exposures;
    std::vector<Verdict> verdicts;
    std::vector<PassRate> rates;
};
/// The exposures of `s` judged by `cuts`, with the columns the cuts test loaded too.
Report makeReport(db::Connection& c, const Selection& s, const CutSet& cuts);
/// The same, by cut set NAME, NAME@VERSION or "" (the default).
Report makeReport(db::Connection& c, const Selection& s, const std::string& cutSpec);
/// The column quantities (mosaic.X, image.X) a cut set tests: what a selection must load.
std::vector<std::string> columnQuantities(const CutSet& cuts);
/// The same exposures judged by another cut set, nothing read again (its column
/// quantities must be among those loaded: see columnQuantities).
Report rejudged(const Report& r, const CutSet& cuts);
/// The failing exposures as CSV (RFC 4180): night, time, exposure, band, cut, value, limit, by, reason.
std::string failingCsv(const Report& r);
/// Everything as one JSON document.
std::string reportJson(const Report& r);
/// A self-contained HTML page: the pass rates, plots against time (inline SVG) and the list.
std::string reportHtml(const Report& r);

} // namespace paudm::quality
