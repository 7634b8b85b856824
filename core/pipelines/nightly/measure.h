#pragma once
// The measuring half of single_epoch, on the pixels the detrending left in memory: per
// CCD the background, the sources and the PSF; per mosaic the astrometric solution
// against the reference stars and, per CCD, the photometric zero point.
#include "reduction/astrometry.h"
#include "reduction/photometry.h"
#include "reduction/psf.h"
#include "reduction/sources.h"
#include "wcs/wcs.h"

#include <QJsonObject>

#include <optional>
#include <string>
#include <vector>

namespace paudm::db {
class Connection;
}

namespace paudm::pipelines::nightly {

struct MeasureOptions {
    reduction::BackgroundOptions background;
    reduction::DetectionOptions detection;
    reduction::PsfOptions psf;
    reduction::AstrometryOptions astrometry;
    double psfSeedThreshold = 10; ///< sigma: the first, quick detection the PSF is measured on
    double apertureFwhm = 2;      ///< radius of the calibration apertures, in PSF FWHMs (local background 6 to 8 FWHM out)
    double calibrationMinSnr = 10; ///< Kron signal to noise of a calibration star
    int zpMinStars = 3;
    double zpClip = 3;
    /// A CCD with more of its pixels saturated than this is not measured: its sky is at
    /// the saturation level (a broad-band CCD in a long exposure under the Moon), so that
    /// neither its background nor any source on it can be measured.
    double maxSaturatedFraction = 0.1;
};

/// Measurement options from a task configuration (keys detect_threshold, detect_minarea,
/// back_size, psf_min_snr, astro_search_radius, astro_min_stars, zp_min_stars, ...).
MeasureOptions measureOptionsOf(const QJsonObject& config);
/// Those keys with their defaults, for the task's defaults.
QJsonObject measureDefaults();

/// One detection with what the catalogue keeps of it.
struct Detection {
    reduction::Source source;             ///< 0-based pixel coordinates
    double fluxPsf = 0, fluxErrPsf = 0;   ///< NaN without a PSF
    double spread = 0, spreadErr = 0;     ///< NaN without a PSF
    double apFlux = 0, apErr = 0;         ///< aperture flux corrected to total; NaN if not measured
    double ra = 0, dec = 0;               ///< NaN without a WCS
};

struct CcdMeasurement {
    /// "ok", or why the CCD could not be measured ("saturated: ...", "crowded: ..."); then
    /// nothing else here is set.
    std::string status = "ok";
    bool ok() const { return status == "ok"; }
    double skyLevel = 0, skyRms = 0;  ///< median of the background and its noise maps (image units)
    reduction::Background background; ///< meshes only: the full-size maps are let go
    reduction::PsfModel psf;
    double detectionKernelFwhm = 0; ///< the Gaussian the detection was smoothed by (pixels; 0: the 3 x 3 pyramid)
    double apertureCorrection = 0;   ///< calibration apertures to total light
    int apertureCorrectionStars = 0; ///< stars of the curve of growth behind it (0: the PSF model's)
    std::vector<Detection> detections;
};

/// Background, detection, PSF and photometry of one reduced CCD (electrons; `mask` the
/// detrending's bit mask). A CCD that cannot be measured (see CcdMeasurement::status) is
/// not an error: the mosaic's other CCDs are.
CcdMeasurement measureCcd(const reduction::FloatImage& image, const reduction::Mask& mask, const MeasureOptions& options);

/// Detection flags that make a position unfit for the astrometry.
inline constexpr int kBadForPosition = reduction::kSourceSaturated | reduction::kSourceTruncated | reduction::kSourceMaskedCore;

/// A detection as the astrometry takes it (FITS pixel coordinates): its signal to noise and
/// its centroid error per axis, sqrt(2) sigma_PSF / (S/N); S/N 0 (kept for the indices,
/// never used) when its position cannot be trusted. `psfFwhm` in pixels, 0 when the CCD
/// has none (3 pixels assumed).
reduction::AstroSource astrometrySource(double x, double y, double snr, int flags, double psfFwhm);

/// Sky positions of the detections through `wcs` (NaN without one).
void placeOnSky(std::vector<Detection>& detections, const std::optional<wcs::Wcs>& wcs);

/// The reference stars that may fall on a mosaic (its CCDs' header footprints widened by
/// the astrometry's search radius), moved by their proper motions to `epochYear`.
struct Reference {
    std::string catalogue;
    std::vector<reduction::RefStar> stars;
    std::vector<std::int64_t> rowIds;               ///< ref_star.id
    std::vector<std::vector<float>> magnitudes;      ///< per star: the 40 narrow bands then u g r i z Y (NaN if absent)
    /// The star's magnitude in a filter (NaN where the catalogue has none).
    double magnitude(std::size_t star, const std::string& filter) const;
};
Reference loadReference(db::Connection& c, const std::vector<wcs::SkyBox>& boxes, double marginArcsec, double epochYear);

/// A Julian year from an MJD.
double julianYear(double mjd);

} // namespace paudm::pipelines::nightly

namespace paudm::pipelines::nightly {

/// `paudm detect`: background, detection and (with a WCS) sky positions of one image,
/// outside the pipeline.
struct DetectFileOptions {
    std::string path;             ///< FILE, FILE[N] (HDU number, 1 = primary) or FILE[EXTNAME]
    std::string out;              ///< the CSV written
    std::optional<double> gain;   ///< e- per pixel value (default: the header's GAIN, else 1)
    MeasureOptions measure;
};

struct DetectFileReport {
    std::string hdu;              ///< which HDU was measured
    int width = 0, height = 0;
    int detections = 0;
    bool sky = false;             ///< positions on the sky written
    double background = 0, noise = 0, fwhm = 0;
    double kernelFwhm = 0; ///< of the detection's smoothing Gaussian (0: the 3 x 3 pyramid)
    std::string psfStatus;
};

/// Writes OUT (RFC 4180 CSV: id,x,y,ra,dec,flux_auto,flux_err_auto,flux_psf,flux_err_psf,
/// a,b,theta,elongation,flux_radius,spread_model,background,flags; x and y FITS, the first
/// pixel's centre at 1,1; ra and dec empty without a WCS), under a temporary name renamed
/// when complete. Our reduced CCD files' MASK extension is used when the image has one.
DetectFileReport detectFile(const DetectFileOptions& options);

} // namespace paudm::pipelines::nightly
