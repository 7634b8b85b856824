#pragma once
// The PSF of a reduced image: a circular Moffat profile, I(r) = A (1 + r^2/alpha^2)^-beta,
// fitted (Levenberg-Marquardt, Eigen) to the bright, isolated, unsaturated stars that the
// size of their light picks out from the galaxies; the image's FWHM is the median of
// theirs, 2 alpha sqrt(2^(1/beta) - 1). The profile is that of the pixel values (sampled at
// pixel centres, as SExtractor's FWHM_IMAGE and PSFEx's FWHM are): the FWHM an observer
// reads off the image.
//
// With the model, every source gets a PSF flux (the amplitude of the model at its
// position, by weighted least squares) and SExtractor's SPREAD_MODEL (Desai et al. 2012):
// how much better a slightly wider model, the PSF convolved with an exponential disc of
// scale FWHM/16, fits than the PSF itself. About 0 for a star, positive for a galaxy,
// negative for a hit sharper than the PSF.
#include "reduction/image.h"
#include "reduction/sources.h"

#include <string>
#include <vector>

namespace paudm::reduction {

struct MoffatFit {
    bool ok = false;
    double x = 0, y = 0;     ///< centre (0-based pixels)
    double amplitude = 0;    ///< peak value
    double alpha = 0, beta = 0;
    double fwhm = 0;         ///< pixels
    double flux = 0;         ///< amplitude * pi alpha^2 / (beta - 1)
    double chi2 = 0;         ///< reduced chi-square of the fit
    int pixels = 0;          ///< pixels fitted
};

/// Fits a Moffat to the stamp of `half` pixels around (x, y) of a background-subtracted
/// image whose background noise is `rms`; masked pixels (any nonzero) are left out.
MoffatFit fitMoffat(const FloatImage& image, const FloatImage& rms, const Mask& mask, double x, double y, int half,
                    double gain = 1);

struct PsfOptions {
    double minSnr = 20;       ///< stars at least this bright (Kron signal to noise)
    double isolation = 8;     ///< pixels to the nearest other source
    double maxElongation = 1.4;
    int maxStars = 150;       ///< brightest candidates fitted
    int minStars = 5;         ///< fewer: no model (status "few_stars")
};

struct PsfModel {
    /// "ok", or "few_stars": fewer than minStars fitted; the numbers are then those of the
    /// stars there were (none: fwhm 0).
    std::string status;
    double fwhm = 0;          ///< pixels (median of the stars')
    double fwhmScatter = 0;   ///< robust standard deviation of the stars' FWHMs (pixels)
    double alpha = 0, beta = 0; ///< the median star's profile (the model's)
    double chi2 = 0;          ///< median reduced chi-square of the stars' fits
    int stars = 0;            ///< stars behind it
    std::vector<std::size_t> starIndices; ///< into the sources given
    bool ok() const { return status == "ok"; }
};

/// `image`: background-subtracted (MeasuredImage::subtracted), `mask` its set-aside
/// pixels; `sources` as MeasuredImage::detect found them.
PsfModel measurePsf(const FloatImage& image, const FloatImage& rms, const Mask& mask, const std::vector<Source>& sources,
                    const PsfOptions& options = {}, double gain = 1);

struct PsfPhotometry {
    double flux = 0, fluxErr = 0;
    double spread = 0, spreadErr = 0;
    bool ok = false;
};

/// The PSF flux and spread model of the source at (x, y) (fixed position).
PsfPhotometry psfPhotometry(const FloatImage& image, const FloatImage& rms, const Mask& mask, const PsfModel& psf,
                            double x, double y, double gain = 1);

/// The fraction of a Moffat's light within radius r (pixels).
double moffatEnclosed(double alpha, double beta, double r);

} // namespace paudm::reduction
