#pragma once
// Astrometric calibration of a mosaic against a reference star catalogue.
//
// The header WCS of each CCD (the telescope's pointing and the focal-plane layout) puts
// the detections on the sky, off by the pointing error (tens of arcseconds) and a small
// rotation. All of the mosaic's detections vote for the offset that brings them onto the
// reference stars (a histogram of the pairwise differences within the search radius, at a
// few trial rotations): the mosaic moves as one body, so one offset serves every CCD. The
// match's contrast says how improbable its peak would be among random pairs: -log10 of
// the chance that any bin of any rotation gets as many votes (Poisson, from the mean
// number of votes per bin), so that it means the same in a sparse field and in the
// galactic plane, where a deep reference catalogue gives every detection dozens of
// chance pairs. Then,
// in the tangent plane at the mosaic's centre: a similarity transform of the whole
// mosaic (shift, rotation, scale) fitted to the pairs, re-matched and clipped; per CCD, a
// similarity correction on top of it where the CCD has stars enough, and a full affine
// one where its stars ask for it (an F test at 1 %). Each CCD's result is a TAN WCS
// (CD matrix), which is exact for these linear models.
//
// A field with too few matched stars, or no clear peak, gets a status and a message and
// no solution: the header WCS stays.
#include "wcs/wcs.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace paudm::reduction {

struct AstroSource {
    double x = 0, y = 0; ///< FITS pixel coordinates (1-based)
    double snr = 0;
    double sigma = 0;    ///< centroid error (pixels, per axis)
};

struct AstroCcd {
    int ccd = 0;
    int width = 0, height = 0;
    wcs::Wcs initial;    ///< from the header
    std::vector<AstroSource> sources;
};

struct RefStar {
    double ra = 0, dec = 0; ///< at the epoch of the observation (proper motion applied)
    double mag = 0;
    std::int64_t id = 0;
};

struct AstrometryOptions {
    double searchRadius = 60;     ///< arcsec: the largest pointing error looked for
    double binSize = 2;           ///< arcsec, of the offset histogram
    double maxRotationDeg = 0.2;  ///< trial rotations from -this to +this
    double rotationStepDeg = 0.1;
    double matchRadius = 1.0;     ///< arcsec, after the first fit
    int minStars = 8;             ///< fewer matched stars: "few_stars"
    double minContrast = 6;       ///< a less improbable peak (one in a million by chance): "no_match"
    int minStarsPerCcd = 6;       ///< for a CCD's own correction
    int minStarsAffine = 30;      ///< for a CCD's affine correction (when the F test asks)
    int maxSourcesPerCcd = 300;   ///< the brightest detections used
    double minSnr = 5;
    double highSnr = 100;         ///< "high signal to noise" stars
    double clip = 3;              ///< sigma clipping of the residuals
    double pixelScale = 0.263;    ///< arcsec/pixel, to turn centroid errors into arcsec
    double sigmaFloor = 0.005;    ///< arcsec added in quadrature to each centroid error
};

struct AstroMatch {
    int ccdIndex = 0;           ///< into the CCDs given
    std::size_t source = 0;     ///< into that CCD's sources
    std::size_t ref = 0;        ///< into the reference stars
    double dxi = 0, deta = 0;   ///< residual (fitted minus reference, arcsec, east and north)
    double sigma = 0;           ///< expected per axis (arcsec)
};

struct AstroResult {
    std::string status = "not_run"; ///< "ok", "few_stars", "no_match", "no_reference"
    std::string message;
    std::vector<std::optional<wcs::Wcs>> fitted; ///< per CCD; nothing where not solved
    std::vector<std::string> ccdModel;           ///< "mosaic", "similarity", "affine"
    std::vector<AstroMatch> matches;
    int nstars = 0, nstarsHighSnr = 0;
    double refSigma = 0;   ///< rms of the radial residuals, all matched stars (arcsec)
    double hrefSigma = 0;  ///< the same, high signal-to-noise stars only
    double chi2 = 0;       ///< per degree of freedom
    double contrast = 0;
    double offsetEast = 0, offsetNorth = 0; ///< the header pointing's error (arcsec)
    /// The mosaic's rotation relative to the header WCS (as a change of FITS CROTA2,
    /// degrees) and its scale relative to the header's.
    double rotationDeg = 0, scale = 1;
    bool ok() const { return status == "ok"; }
};

AstroResult solveAstrometry(const std::vector<AstroCcd>& ccds, const std::vector<RefStar>& refs,
                            const AstrometryOptions& options = {});

} // namespace paudm::reduction
