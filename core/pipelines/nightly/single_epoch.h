#pragma once
// single_epoch's own parts, shared by its files: what it keeps of each CCD and of the
// mosaic's calibration (single_epoch.cpp), and the PAUdb rows it writes of them
// (single_epoch_rows.cpp).
#include "pipelines/nightly/measure.h"
#include "pipelines/nightly/steps.h"
#include "reduction/astrometry.h"
#include "reduction/cosmics.h"
#include "reduction/photometry.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace paudm::db {
class Connection;
}

namespace paudm::pipelines::nightly {

/// What single_epoch keeps of one CCD once its file is written: numbers, not pixels.
struct CcdSummary {
    int ccd = 0;
    std::string filter;
    long long pixels = 0, saturated = 0, cosmic = 0, masked = 0;
    int cosmicGroups = 0;
    double skyLevel = 0, readNoise = 0, maxReadNoise = 0;
    int width = 0, height = 0;
    std::optional<wcs::SkyBox> box;
    reduction::CcdSharpness stars; ///< for the mosaic's star test (deferred: nothing written)
    std::optional<wcs::Wcs> headerWcs;
    std::optional<CcdMeasurement> measured; ///< part 2, when measuring and the CCD could be measured
    std::string notMeasured;                ///< else why not (CcdMeasurement::status), when measuring
};

/// The mosaic's calibration, once all its CCDs are measured: astrometry against the
/// reference stars, then per CCD the zero point from the matched stars.
struct CcdCalibration {
    std::optional<wcs::Wcs> fitted;
    reduction::ZeroPoint zp;
    double expectedZp = 0;      ///< above the atmosphere: the instrument's, times the CCD's illumination
    double transparency = 0;    ///< NaN without a zero point
    struct Star {
        std::size_t detection, ref;
        double mag;
    };
    std::vector<Star> stars;    ///< matched stars offered to the zero point (zp.used says which stayed)
};

/// The exposure, from the raw primary header.
struct Exposure {
    double mjd = 0, airmass = 1, expTime = 0;
};

/// What the mosaic's rows and its QC both say of it, worked out once.
struct MosaicSummary {
    int measuredCcds = 0, psfOk = 0, calibrated = 0;
    int unmeasurable = 0;             ///< CCDs that could not be measured (CcdSummary::notMeasured)
    int fewestZpStars = 0;
    std::vector<double> fwhm;         ///< arcsec, CCDs with a PSF (see summarise)
    int seeingStars = 0;              ///< stars behind them
    std::vector<double> transparency; ///< CCDs with a zero point
    std::vector<double> skyMag;       ///< mag/arcsec^2, CCDs with a zero point
    std::vector<double> lost;         ///< expected zero point above the atmosphere minus the measured (mag)
    std::string psfStatus, photoStatus;
};

struct MosaicCalibration {
    Exposure exposure;
    Reference reference;
    reduction::AstroResult astro;
    std::vector<CcdCalibration> ccds; ///< as the summaries
    MosaicSummary summary;
};

/// The measurement's rows: image columns, detections, star photometry and zero points, the
/// mosaic's astrometric and photometric summary. Inside the caller's transaction; one
/// statement per table.
void insertMeasurements(db::Connection& c, std::int64_t mosaicId, const std::vector<CcdSummary>& summaries,
                        const MosaicCalibration& m, const Options& o);

} // namespace paudm::pipelines::nightly
