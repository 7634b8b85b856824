#pragma once
// The nightly pipeline's files, as the paper lays them out under red/<release>/<obs_set>/:
//   master_bias.fits           MEF, one extension per CCD (EXTNAME CCDnn, electrons)
//   master_flat_<tray>.fits    MEF, per CCD the normalised flat (CCDnn) and its bad-pixel
//                              mask (BPMnn)
//   <raw stem>.ccdNN.fits      one per CCD of a science exposure: the reduced image (primary
//                              HDU, electrons), its WEIGHT (inverse variance) and MASK, and
//                              the background mesh BKG and its noise BKGRMS (one value per
//                              cell of MESHSIZE pixels; the map is their bicubic spline)
// Every file is written under a temporary name and renamed when complete, with CHECKSUM
// and DATASUM on every HDU (fits::File does both).
#include "common/error.h"
#include "reduction/calibration.h"
#include "reduction/overscan.h"
#include "reduction/sources.h"
#include "wcs/wcs.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace paudm::fits {
class File;
}

namespace paudm::pipelines::nightly {

/// Who made a product and from what: written into every header.
struct Provenance {
    std::string release;
    int productionId = 0;
    std::string obsSet;
    std::string softwareVersion;
    std::vector<std::pair<std::string, std::string>> extra; ///< keyword, value (calibrations used, ...)
};

/// A raw header card to carry into products: keyword, value text, comment.
struct CarriedCard {
    std::string keyword, value, comment;
};
/// The primary-header cards of a raw mosaic that matter downstream (exposure, pointing,
/// conditions, filter tray), as written.
std::vector<CarriedCard> carriedPrimaryCards(fits::File& raw);

struct MasterBiasCcd {
    int ccd = 0;
    reduction::FloatImage image; ///< e-
    std::vector<reduction::AmplifierNoise> amplifiers; ///< read noise measured per amplifier
    int frames = 0;
};

struct MasterFlatCcd {
    int ccd = 0;
    std::string filter;
    reduction::MasterFlat flat;
    int frames = 0;
};

void writeMasterBias(const std::string& path, const std::vector<MasterBiasCcd>& ccds, const Provenance& p,
                     const std::vector<CarriedCard>& primary);
void writeMasterFlat(const std::string& path, const std::vector<MasterFlatCcd>& ccds, const Provenance& p,
                     const std::vector<CarriedCard>& primary);

/// One CCD of a master, checked against the CCD it is for: a master of another geometry is
/// an error naming the file, the HDU and both sizes.
MasterBiasCcd readMasterBiasCcd(const std::string& path, int ccd, int width, int height);
MasterFlatCcd readMasterFlatCcd(const std::string& path, int ccd, int width, int height);

struct ReducedCcdFile {
    int ccd = 0;
    std::string filter;
    std::optional<double> wavelength;
    const reduction::Detrended* data = nullptr;
    /// The sky background's mesh (BKG and BKGRMS extensions), when measured.
    const reduction::Background* background = nullptr;
    std::optional<wcs::Wcs> wcs;
    double readNoise = 0, maxReadNoise = 0;
};

/// "paucam.0123456.fits" -> "paucam.0123456.ccd07.fits"
std::string reducedCcdName(const std::string& rawFile, int ccd);

void writeReducedCcd(const std::string& path, const ReducedCcdFile& ccd, const Provenance& p,
                     const std::vector<CarriedCard>& primary);

/// Replaces the WCS of every image HDU of a reduced CCD file by the astrometric solution
/// (the header's pointing WCS goes; without a solution it stays), adds `cards` (what the
/// calibration found), and seals each HDU again.
void updateReducedWcs(const std::string& path, const std::optional<wcs::Wcs>& fitted, const std::vector<CarriedCard>& cards);

} // namespace paudm::pipelines::nightly

namespace paudm::pipelines::nightly {

/// `paudm reduce`: one raw file detrended outside the pipeline, for checking a frame by
/// hand. Any frame whose amplifiers say where their data and overscan are (see
/// raw_frames.h); the masters are optional (our MEF masters, or plain images).
struct ReduceFileOptions {
    std::string raw, out;
    std::string bias, flat;       ///< may be empty: then that step is skipped
    std::optional<int> hdu;       ///< only this HDU of the raw file (1-based)
    std::optional<double> gain;   ///< instead of the header's GAIN
    reduction::OverscanOptions overscan;
    reduction::DetrendOptions detrend;
    int threads = 1;
};

struct ReduceFileReport {
    int ccds = 0;
    long long pixels = 0, saturated = 0, cosmic = 0, bad = 0;
    double seconds = 0;
};

/// Writes OUT: for one CCD its image (primary HDU), WEIGHT and MASK; for several, a MEF
/// with CCDnn, WHTnn and MSKnn per CCD. Written under a temporary name, renamed when
/// complete. Errors name the file, the HDU and the keyword.
ReduceFileReport reduceFile(const ReduceFileOptions& options);

} // namespace paudm::pipelines::nightly
