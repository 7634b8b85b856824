#pragma once
// The sky background and the sources on a reduced image, by SExtractor's methods through
// SEP (Debian's libsep-dev, SExtractor's background, extraction and deblending code as a
// C library; from version 1.2 it keeps its working state per thread, so CCDs may be
// measured on several threads at once).
//
// Background: SExtractor's mesh (per cell, the mode of the clipped histogram, 2.5 median
// - 1.5 mean, or the median where the two disagree), median-filtered over 3 x 3 cells and
// interpolated by bicubic splines. Then the sources found on that first estimate are
// masked, grown, and the estimate is made again, so that the wings of bright stars and
// galaxies do not lift it.
//
// Detection: the background-subtracted image smoothed by a Gaussian of the seeing, over a
// threshold in units of the smoothed noise, with a minimum area and 32-level deblending. Each source then gets a
// windowed centroid, second moments, a Kron (AUTO) flux with its error, and flags.
#include "reduction/image.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paudm::reduction {

struct BackgroundOptions {
    int mesh = 64;          ///< cell size (pixels), SExtractor's BACK_SIZE
    int filter = 3;         ///< median filter over cells, BACK_FILTERSIZE
    double maskSigma = 1.5; ///< sources above this many sigma are masked for the second estimate
    int maskGrow = 3;       ///< and their footprints grown by this many pixels (more for big ones)
    double brightSnr = 10;  ///< isophotal signal to noise of the sources kept as Background::brightSources
};

/// Flags of a source, SExtractor's where they mean the same.
enum SourceFlag : int {
    kSourceNeighbours = 1,  ///< bright neighbours or masked pixels within its Kron aperture
    kSourceBlended = 2,     ///< deblended from a larger detection
    kSourceSaturated = 4,   ///< at least one pixel saturated
    kSourceTruncated = 8,   ///< touches the image border
    kSourceMaskedCore = 16, ///< a masked (bad or cosmic-ray) pixel within 2 pixels of its centre
};

/// Error codes of SEP's extraction running out of room: more pixels over the threshold
/// at once than its pixel stack holds, or more sub-objects than its deblending does. On
/// a real image, most of it over the threshold (a saturated or scattered-light sky).
inline constexpr const char* kSepPixelBufferFull = "sep:2";
inline constexpr const char* kSepDeblendOverflow = "sep:7";

struct Source {
    double x = 0, y = 0;            ///< windowed centroid, 0-based pixel coordinates
    double xIso = 0, yIso = 0;      ///< isophotal barycentre
    double a = 0, b = 0, theta = 0; ///< second-moment ellipse (pixels; theta radians from +x, counter-clockwise)
    double cxx = 0, cyy = 0, cxy = 0;
    double fluxAuto = 0, fluxErrAuto = 0; ///< Kron aperture (image units)
    double kronRadius = 0;                ///< in units of a and b
    double fluxRadius = 0;                ///< half-light radius (pixels)
    double peak = 0;                      ///< background-subtracted
    double background = 0;                ///< local background at the centre
    int area = 0;                         ///< pixels over the threshold
    int flags = 0;                        ///< SourceFlag bits
    double snr() const { return fluxErrAuto > 0 ? fluxAuto / fluxErrAuto : 0; }
    double elongation() const { return b > 0 ? a / b : 0; }
};

/// The background of an image and its noise, as smooth maps and as the mesh they come
/// from (what the FITS viewer overlays).
struct Background {
    FloatImage level; ///< per pixel, image units
    FloatImage rms;   ///< per pixel
    double globalLevel = 0, globalRms = 0;
    int meshWidth = 0, meshHeight = 0; ///< cell size
    int cellsX = 0, cellsY = 0;
    std::vector<float> meshLevel, meshRms; ///< cellsX * cellsY, row-major
    long long maskedForSources = 0;        ///< pixels the second estimate left out as sources
    /// The sources found to leave out of the second estimate whose isophotal signal to
    /// noise reaches 10 (BackgroundOptions::brightSnr): their isophotal quantities and
    /// flags only (not deblended; MeasuredImage::measure completes them). The quick first
    /// look at the bright stars (the PSF's seeds) at no cost of its own.
    std::vector<Source> brightSources;
};

/// `mask` (may be empty): pixels to leave out (any nonzero value).
Background measureBackground(const FloatImage& image, const Mask& mask, const BackgroundOptions& options = {});

/// Detection defaults, measured on crowded simulated fields: a matched filter (a Gaussian
/// of the seeing) at 4 sigma of the filtered noise over 3 pixels finds 98 % of the stars
/// above 5 sigma with 0.5 % spurious detections, where SExtractor's defaults (1.5 sigma of
/// the raw noise after the 3 x 3 pyramid, 5 pixels, cleaning) find 91 %. Cleaning is off:
/// on those fields it removed one real star in six.
struct DetectionOptions {
    double threshold = 4; ///< sigma of the (filtered) background noise (DETECT_THRESH)
    int minArea = 3;      ///< pixels (DETECT_MINAREA)
    bool filter = true;   ///< smooth before thresholding (else the raw pixels)
    /// The smoothing kernel: a Gaussian of this FWHM (pixels), the threshold then in units
    /// of the filtered noise (a matched filter's signal to noise); 0: SExtractor's
    /// 3 x 3 pyramid as a plain convolution (its default.conv).
    double kernelFwhm = 3;
    int deblendThresholds = 32;
    double deblendContrast = 0.005;
    bool clean = false;
    double cleanParam = 1.0;
    bool windowed = true;    ///< windowed centroids (else x, y are the isophotal barycentre)
    double kronFactor = 2.5; ///< PHOT_AUTOPARAMS
    double kronMinRadius = 3.5;
    double gain = 1; ///< e- per image unit (the Poisson part of the flux errors)
};

/// The detection's smoothing kernel (DetectionOptions::kernelFwhm): a Gaussian of `fwhm`
/// pixels, `size` x `size` (size set here, odd), its sum 1.
std::vector<float> gaussianKernel(double fwhm, int& size);

/// SExtractor's windowed centroid (XWIN_IMAGE, YWIN_IMAGE), the numbers of SEP's
/// sep_windowed with 11 x 11 subpixels: the first moment of the light weighted by a
/// Gaussian of `sig` pixels within 4 sig, iterated from (x, y) (0-based) until it moves
/// less than 1e-4 pixel, at most 16 times; pixels where `mask` is not 0 count as the mean
/// of the others. Computed here because SEP evaluates the Gaussian once per pixel and
/// iteration (`exp`: a fifth of a CCD's detection); its weight is the product of one
/// factor per column and one per row, and the share of a boundary pixel inside the
/// window is counted per row of subpixels, not per subpixel.
struct WindowedPosition {
    double x = 0, y = 0;
    int iterations = 0;
    bool ok = false; ///< false when the weighted light is not positive
};
WindowedPosition windowedPosition(const FloatImage& image, const Mask* mask, double x, double y, double sig);

/// A reduced image ready for measurement: background subtracted, and the pixels that
/// cannot be measured on (bad, cosmic ray, no data) set aside. Saturated pixels stay
/// (their sources are found and flagged). Made once per image, then asked for sources and
/// apertures.
class MeasuredImage {
public:
    /// Keeps references to `background` and `mask`: both must outlive it.
    MeasuredImage(const FloatImage& image, const Background& background, const Mask& mask);
    MeasuredImage(const FloatImage&, const Background&, Mask&&) = delete;
    MeasuredImage(const FloatImage&, Background&&, const Mask&) = delete;

    const FloatImage& subtracted() const { return sub_; }
    const FloatImage& rms() const { return *rms_; }
    /// 1 where a pixel is not measured on.
    const Mask& ignored() const { return ignore_; }

    /// The sources. `windowSigma` (pixels, 0: from each source's half-light radius) sets
    /// the Gaussian of the windowed centroids.
    std::vector<Source> detect(const DetectionOptions& options = {}, double windowSigma = 0) const;
    /// Sources found elsewhere (isophotal quantities and flags set, as
    /// Background::brightSources) measured here as detect() measures its own: Kron flux,
    /// half-light radius, windowed centroid (as `options` says), local background.
    std::vector<Source> measure(std::vector<Source> isophotal, const DetectionOptions& options = {},
                                double windowSigma = 0) const;

    struct Aperture {
        double flux = 0, err = 0, area = 0;
        int flags = 0; ///< SEP's aperture flags
    };
    /// The flux within a circle of radius r (pixels) at (x, y) (0-based), its error from
    /// the noise map and the Poisson noise (gain e- per unit); set-aside pixels replaced
    /// by their mirror across the centre (SEP's correction).
    Aperture circle(double x, double y, double r, double gain = 1) const;
    /// The same, less the residual background around it: the 3-sigma clipped median of the
    /// background-subtracted pixels in the annulus rIn..rOut (set-aside pixels left out),
    /// as SExtractor's local photometric background. The mesh background is smooth over
    /// its cells; where the sky is bright a residual of 0.1 % of it weighs on a faint
    /// star's flux, and the annulus takes it out. Without 10 usable annulus pixels, the
    /// plain circle.
    Aperture circleLocal(double x, double y, double r, double rIn, double rOut, double gain = 1) const;

private:
    /// `segments` (may be null): the detection's footprints by number, `id` this source's.
    void measureSource(Source& s, const DetectionOptions& o, double windowSigma, const std::int32_t* segments = nullptr,
                       int id = 0) const;

    FloatImage sub_;
    const FloatImage* rms_;
    const FloatImage* level_;
    Mask ignore_;
    const Mask* mask_;
};

/// SEP's version, for the products' headers.
std::string sepVersion();

} // namespace paudm::reduction
