#pragma once
// pixelsim: one simulated PAUCam observation set, written into an observatory buffer as
// the camera side leaves it (raw mosaics and the obs-set YAML), with its truth elsewhere.
//
// The night: bias frames and dome flats (per tray) before sunset, then science (and
// optional focus) exposures from nautical dusk to dawn at La Palma, on a field with a
// small dither between exposures and a pointing error each time. Conditions follow the
// sky: twilight and moonlight from the Sun's and Moon's altitude, airmass from the hour
// angle, seeing and cloud cover as smooth random processes of the night, extinction by
// wavelength. Pixels: per-amplifier bias level and structure, read noise and gain; a flat
// field (pixel response times illumination per filter); sky; stars (Moffat PSF, beta 3)
// and exponential-disc galaxies (a mixture of Gaussians convolved with the seeing);
// Poisson and read noise; cosmic rays; saturation with bleeding along columns; a few bad
// columns. Everything is drawn from streams keyed by seed, exposure, CCD and amplifier:
// the same seed gives the same bytes, whatever the number of threads.
#include "archive/obs_set.h"
#include "common/error.h"
#include "pipelines/paucam.h"
#include "pipelines/pixelsim/sky.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace paudm::jobs {
class TaskRegistry;
}

namespace paudm::pipelines::pixelsim {

/// A science exposure made bad on purpose, for the tests of the pipeline and the report:
/// what is given replaces what the night's weather would have made.
struct BadExposure {
    std::optional<double> transparency; ///< clouds: the fraction of light let through
    std::optional<double> defocusFwhm;  ///< arcsec added in quadrature to the seeing
    std::optional<double> seeing;       ///< arcsec at 500 nm at the zenith
    /// A field far from the galactic plane: only this fraction of the field's stars is in
    /// the image (the reference catalogue still lists them all).
    std::optional<double> starFraction;
};

struct NightOptions {
    std::string buffer;  ///< the observatory buffer: the obs set folder is created in it
    std::string night;   ///< YYYY-MM-DD, the evening the night starts
    std::string truth;   ///< truth folder (never inside the buffer); empty: no truth
    paucam::Geometry geometry = paucam::Geometry::Full;
    int bias = 5;
    int flatsPerTray = 5;
    /// The trays that get dome flats (default: all of `trays`): a night whose flats of some
    /// tray were never taken, for the pipeline's fallback to an earlier master.
    std::optional<std::vector<std::string>> flatTrays;
    int science = 20;
    int focus = 0;
    std::vector<std::string> trays = {"FT_NB455_NB525", "FT_NB535_NB605", "FT_NB615_NB685", "FT_NB695_NB765",
                                      "FT_NB775_NB845"};
    double ra = 150.1;   ///< field centre (deg): COSMOS by default
    double dec = 2.2;
    std::optional<std::uint64_t> seed; ///< default: derived from the night's date
    SkyOptions sky;      ///< the sky (its own seed: every night sees the same sky)
    std::string operatorName = "pixelsim";
    std::string project = "PAUS";
    std::string notes = "simulated night";
    int threads = 1;     ///< exposures simulated at once
    /// The night's median seeing (FWHM at 500 nm at the zenith, arcsec) instead of a
    /// random one: the exposures still vary around it through the night.
    std::optional<double> seeing;
    /// Science exposures (0-based, in order of the night) made bad on purpose.
    std::map<int, BadExposure> badScience;
    /// Observe the field only while it is below this airmass: the science exposures are
    /// spread over that part of the night instead of from dusk to dawn. (A night on which
    /// the field never gets that high is an error.)
    std::optional<double> maxAirmass;
};

/// What the night was like at one exposure (also the truth written for it).
struct ExposurePlan {
    int index = 0;       ///< order in the obs set
    std::string kind;    ///< bias, flat, science, focus
    std::string tray;
    std::string file;    ///< file name
    long long expnum = 0;
    double mjd = 0;      ///< start of the exposure (UTC)
    double exptime = 0;  ///< s
    double nominalRa = 0, nominalDec = 0; ///< where the telescope says it points
    double trueRa = 0, trueDec = 0;       ///< where it points
    double rotationDeg = 0;               ///< true field rotation
    double airmass = 1;
    double seeing = 0;        ///< FWHM at 500 nm at zenith (arcsec)
    double transparency = 1;  ///< fraction of light through the clouds
    double sunAlt = 0, moonAlt = 0, moonIllumination = 0;
    double telfocus = 0;      ///< mm
    double defocusFwhm = 0;   ///< arcsec added in quadrature (focus exposures)
    double starFraction = 1;  ///< share of the field's stars drawn (BadExposure::starFraction)
    double lampElectrons = 0; ///< flats: electrons per pixel at unit illumination
    double ambientTemp = 0, humidity = 0, pressure = 0, windSpeed = 0, windDir = 0;
    double guideFwhm = 0, guideVar = 0;
};

struct NightPlan {
    std::string obsSet;
    std::uint64_t seed = 0;
    double sunsetMjd = 0, duskMjd = 0, dawnMjd = 0;
    std::vector<ExposurePlan> exposures;
};

struct NightResult {
    std::string obsSet;
    std::string folder;   ///< the obs set folder in the buffer
    std::string manifest; ///< its YAML file
    std::string truthFolder;
    archive::ObsSetManifest contents;
    NightPlan plan;
};

/// The right ascension (deg) on the meridian at La Palma at local midnight of `night`
/// (YYYY-MM-DD, the evening): a field there is up all night.
double meridianAtMidnight(const std::string& night);

/// Plans the night (no pixels): times, pointings and conditions of every exposure.
/// `counter` numbers the obs set within its night.
NightPlan planNight(const NightOptions& options, int counter);

/// Simulates the night: writes every mosaic under a hidden temporary folder of the buffer,
/// then the YAML, then renames the folder to its obs-set name, so that a reader of the
/// buffer never sees a half-written obs set. `progress` is called after each file.
/// Returns the obs set written; errors name the file being written.
NightResult simulateNight(const NightOptions& options,
                          const std::function<void(int done, int total, const std::string& file)>& progress = {},
                          const std::function<bool()>& cancelled = {});

/// Writes one exposure of a plan to `path` (a raw mosaic), returning its truth as JSON
/// text. Used by simulateNight and by the benchmarks.
std::string writeExposure(const NightOptions& options, const NightPlan& plan, const ExposurePlan& exposure,
                          const SkyCatalog& sky, const std::string& path);

/// An MJD as UTC ISO 8601 with milliseconds (no zone letter), as headers and the YAML write it.
std::string isoTime(double mjd);

/// The catalogue a night on this field sees (every object within reach of the mosaic).
SkyCatalog skyForNight(const NightOptions& options);

/// The camera's bias structure of one amplifier, which every raw frame has (the camera
/// side of the truth; it does not change from night to night).
struct BiasStructure {
    std::vector<double> column; ///< ADU added to each raw column (0-based, overscan included)
    double rampAdu = 0;         ///< extra bias of the first rows read: rampAdu * exp(-row / 10)
    double level = 0;           ///< mean bias level (ADU); each frame adds a small jitter
    double gain = 0;            ///< e-/ADU, before the header's rounding to 3 decimals
    double readNoise = 0;       ///< e-
};
BiasStructure biasStructure(paucam::Geometry geometry, int ccd, int amp);

/// The flat-field response of a CCD in a filter, per data pixel (row-major, x fastest):
/// the focal-plane illumination times the pixel response, dead columns included. Hot
/// columns are not a response (they add charge): see the truth's bad_columns.
std::vector<float> flatResponse(paucam::Geometry geometry, int ccd, const paucam::Filter& filter);

/// Focal-plane illumination: the instrument's (paucam::illumination).
using paucam::illumination;
/// Electrons per second per pixel of dark-sky background in a filter, before the twilight
/// and moonlight terms.
double darkSkyRate(const paucam::Filter& f);
/// The sky rate of one exposure in one filter (e-/s/pixel at unit illumination).
double skyRate(const ExposurePlan& e, const paucam::Filter& f);
/// Seeing FWHM (arcsec) of an exposure in a filter.
double seeingFwhm(const ExposurePlan& e, const paucam::Filter& f);

} // namespace paudm::pipelines::pixelsim

#include <QJsonObject>

namespace paudm::pipelines::pixelsim {

/// Night options from a job configuration (also what `paudm simulate` builds from its
/// flags): buffer, night, truth, geometry, bias, flats_per_tray, science, focus, trays
/// (list or comma-separated), field_ra (degrees, or "transit": the meridian at midnight),
/// field_dec, seed, sky_seed, star_density, seeing, max_airmass, threads, operator, notes.
/// Errors name the key and the value that is wrong.
NightOptions nightOptionsFromConfig(const QJsonObject& config);

/// Registers the `pixelsim` task type: simulates one obs set into a buffer and loads the
/// field's reference catalogues into PAUdb (config as above, plus load_catalog).
void registerPixelsimTask(jobs::TaskRegistry& registry);

} // namespace paudm::pipelines::pixelsim
