#pragma once
// From pixel values to colours, as the FITS viewer shows them: the display limits (IRAF's
// zscale, min/max, percentiles, or the user's), a stretch, a colour map, and the rendering
// of a zoomed and panned view into a 32-bit ARGB buffer (what QImage::Format_ARGB32 holds).
// GUI-free, so that `paudm fits stats` and the tests use the very numbers the viewer does.
//
// Pixels are floats with NaN for blank ones (BLANK in integer images); every function skips
// them. Image coordinates are FITS ones: the centre of the first pixel is (1, 1), y up.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace paudm::viewer {

struct Limits {
    double low = 0;
    double high = 1;
};

/// IRAF's zscale (display/zscale.x), with the parameters astropy's ZScaleInterval and DS9
/// use by default: up to `samples` pixels taken at an even stride over the finite ones,
/// sorted, a straight line fitted to them with iterative `krej`-sigma rejection (each
/// rejected sample grown by 1% of the samples on either side), the slope divided by
/// `contrast`, the limits put about the median and kept within the samples' range. When
/// more than `maxReject` of the samples were rejected, the samples' min and max.
struct ZscaleOptions {
    int samples = 1000;
    double contrast = 0.25;
    double maxReject = 0.5;
    int minPixels = 5;
    double krej = 2.5;
    int maxIterations = 5;
};
Limits zscale(const float* pixels, std::size_t n, const ZscaleOptions& options = {});
/// The smallest and largest finite value ({0, 1} when there is none).
Limits minMax(const float* pixels, std::size_t n);
/// The central `percent` of the finite values: the (100 - percent) / 2 and the
/// (100 + percent) / 2 percentiles, interpolated linearly between order statistics as
/// numpy's percentile does. `maxSamples` > 0 takes at most that many pixels at an even
/// stride (the viewer's speed on large images); 0 takes them all.
Limits percentile(const float* pixels, std::size_t n, double percent, std::size_t maxSamples = 0);
/// The same for several percentages from one sorted sample.
std::vector<Limits> percentiles(const float* pixels, std::size_t n, const std::vector<double>& percents,
                                std::size_t maxSamples = 0);

/// What `paudm fits stats` prints, over the finite pixels.
struct Statistics {
    std::size_t pixels = 0; ///< all pixels
    std::size_t blank = 0;  ///< NaN (or BLANK) pixels
    double min = 0, max = 0, mean = 0, median = 0;
    double std = 0; ///< population standard deviation (numpy's default, ddof = 0)
    Limits zscale;
};
Statistics statistics(const float* pixels, std::size_t n);

/// Stretches map a value already scaled to [0, 1] between the limits to [0, 1], as
/// astropy.visualization defines them: linear x; sqrt x; log log(a x + 1) / log(a + 1) with
/// a = 1000; asinh asinh(x / a) / asinh(1 / a) with a = 0.1.
enum class Stretch { Linear, Sqrt, Log, Asinh };
double stretch(Stretch s, double x);
std::string stretchName(Stretch s);
/// "linear", "sqrt", "log", "asinh"; throws for another name, listing them.
Stretch parseStretch(const std::string& name);

/// grey; heat (DS9's: red rising over the first third, green over the whole range, blue over
/// the last third); viridis (matplotlib's, from 52 of its 256 colours).
enum class Colormap { Grey, Heat, Viridis };
std::string colormapName(Colormap c);
Colormap parseColormap(const std::string& name);
/// The colour of t in [0, 1] as 0xAARRGGBB (opaque).
std::uint32_t colour(Colormap c, double t);

/// The whole mapping from a pixel value to a colour, as a table: build it once per change
/// of limits, stretch or colour map, then look colours up per pixel.
class ColourTable {
public:
    static constexpr int kSize = 4096;
    ColourTable(Limits limits, Stretch s, Colormap c, bool inverted);
    std::uint32_t operator()(float v) const {
        if (!(v == v)) return nan_;
        double t = (static_cast<double>(v) - low_) * scale_;
        if (t <= 0) return table_.front();
        if (t >= kSize - 1) return table_.back();
        return table_[static_cast<std::size_t>(t)];
    }
    static constexpr std::uint32_t kNanColour = 0xff3a5f8a; ///< blank pixels: a muted blue, as DS9 marks them
private:
    std::vector<std::uint32_t> table_;
    double low_ = 0, scale_ = 0;
    std::uint32_t nan_ = kNanColour;
};

/// A view of an image: which image point sits at the centre of the output, and how many
/// output pixels one image pixel covers (2 = zoomed in twice, 0.25 = out four times).
struct View {
    double centreX = 1, centreY = 1;
    double zoom = 1;
    /// Output pixel (ox, oy) (y down, from the top-left corner of a w x h output) -> image
    /// point (FITS), and back.
    void toImage(double ox, double oy, int w, int h, double& x, double& y) const;
    void toOutput(double x, double y, int w, int h, double& ox, double& oy) const;
    /// The zoom that shows all of an nx x ny image in w x h.
    static View fit(long nx, long ny, int w, int h);
};

/// Renders `view` of an nx x ny image into `out` (w x h, row-major from the top), nearest
/// pixel, `outside` where the view shows no image.
void render(const float* pixels, long nx, long ny, const ColourTable& colours, const View& view, int w, int h,
            std::uint32_t* out, std::uint32_t outside = 0xff202020);

/// Renders the mask planes of an nx x ny mask over `out` (as render() maps it): where a
/// pixel has a bit of `bits`, the colour of its lowest such bit (`colours[k]` for bit k,
/// 0xAARRGGBB) is blended in by its alpha.
void renderMask(const std::uint8_t* mask, long nx, long ny, std::uint8_t bits, const std::uint32_t colours[8],
                const View& view, int w, int h, std::uint32_t* out);

/// Counts of the finite pixels in `bins` equal bins over [low, high] (values outside go to
/// no bin), from at most `maxSamples` pixels at an even stride (0: all).
std::vector<std::size_t> histogram(const float* pixels, std::size_t n, Limits range, int bins,
                                   std::size_t maxSamples = 0);

} // namespace paudm::viewer
