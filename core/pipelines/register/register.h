#pragma once
// Registering raw exposures in PAUdb (the paper's section 6.1, step 1): the headers of
// each mosaic of an obs set become its `mosaic` row and one `image` row per amplifier
// extension, and the obs set gets its `obs_set` row. The `register` task reads the obs
// set's YAML in the archive and creates one `register_mosaic` sub-job per file; its
// epilog compares PAUdb with the YAML and marks the obs set registered.
//
// Everything here is idempotent: a mosaic already in PAUdb is left as it is, and
// registering an obs set again changes nothing.
#include "archive/obs_set.h"
#include "common/error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace paudm::db {
class Connection;
}
namespace paudm::jobs {
class TaskRegistry;
}

namespace paudm::pipelines::reg {

/// One amplifier extension, as its header describes it.
struct ImageRecord {
    int hdu = 0; ///< FITS HDU number (2 = first extension)
    int imageNum = 0;
    int ccdNum = 0;
    std::optional<int> ampNum;
    std::optional<std::string> filter, waveband;
    std::optional<double> wavelength, gain, rdnoise;
    long naxis1 = 0, naxis2 = 0;
    /// The footprint of the WCS (corners and edge midpoints). When it crosses RA = 0,
    /// raMin > raMax (the footprint runs from raMin up through 360/0 to raMax).
    std::optional<double> raMin, raMax, decMin, decMax;
};

/// A raw mosaic, as its headers describe it.
struct MosaicRecord {
    std::string filename;
    std::string kind; ///< OBSTYPE
    std::optional<std::string> dateObs, timeObs; ///< YYYY-MM-DD, hh:mm:ss[.sss]
    std::optional<double> rjdObs;                ///< JD - 2400000
    std::optional<double> ra, dec;               ///< deg
    std::optional<double> equinox, airmass, expTime, telfocus;
    std::optional<std::int64_t> expNum;
    std::optional<std::string> filtertray, obsTitle, instrument, obsSet;
    std::optional<double> ambTemp, humidity, pressure, windSpd, windDir;
    std::optional<bool> guideEnabled;
    std::optional<double> guideFwhm, guideVar;
    std::optional<std::string> dateCreat, timeCreat;
    int nextend = 0;
    std::vector<ImageRecord> images;
};

/// Reads the headers of a raw mosaic. Refuses, naming the file, the HDU and what is
/// missing or wrong: a file cut short, a header without OBSTYPE or DATE-OBS, an
/// extension without CCDNUM, NEXTEND that disagrees with the extensions, a value that
/// does not parse, a WCS wcslib rejects.
MosaicRecord readMosaic(const std::string& path);

/// The obs_set row of a manifest (inserted if missing); its id.
int ensureObsSet(db::Connection& c, const archive::ObsSetManifest& manifest);

enum class Registered { Inserted, AlreadyThere };

/// Inserts the mosaic and its images in one transaction, unless a raw mosaic of that
/// archive path and file name is there already.
Registered insertMosaic(db::Connection& c, int obsSetId, const std::string& archivePath, const MosaicRecord& m);

/// What PAUdb holds for an obs set, against its YAML.
struct Comparison {
    std::vector<std::string> missing;     ///< in the YAML, not registered
    std::vector<std::string> extra;       ///< registered, not in the YAML
    std::vector<std::string> mismatching; ///< registered with another kind than the YAML's
    int registered = 0;
    bool ok() const { return missing.empty() && extra.empty() && mismatching.empty(); }
    /// One line per problem.
    std::string describe() const;
};
Comparison compareWithManifest(db::Connection& c, int obsSetId, const archive::ObsSetManifest& manifest);

/// Registers `register` and `register_mosaic`.
void registerRegisterTasks(jobs::TaskRegistry& registry);

} // namespace paudm::pipelines::reg
