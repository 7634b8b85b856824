#include "pipelines/nightly/raw_frames.h"

#include "fits/fits.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace paudm::pipelines::nightly {

namespace {

reduction::Section sectionKey(const fits::File& f, const std::string& key, const std::string& label) {
    const auto text = f.keyString(key);
    if (!text) throw Error(label + ": keyword " + key + " is missing");
    try {
        return reduction::parseSection(*text);
    } catch (const Error& e) {
        throw Error(label + ": keyword " + key + ": " + e.message());
    }
}

} // namespace

int RawLayout::ccdWidth(int ccd) const {
    int w = 0;
    for (std::size_t i : ccds.at(ccd)) w = std::max(w, amps[i].det.xmax());
    return w;
}

int RawLayout::ccdHeight(int ccd) const {
    int h = 0;
    for (std::size_t i : ccds.at(ccd)) h = std::max(h, amps[i].det.ymax());
    return h;
}

RawLayout readRawLayout(fits::File& f, const LayoutOptions& o) {
    RawLayout layout;
    layout.path = f.path();
    f.requireComplete();
    const int hdus = f.hduCount();
    int nextCcd = 1;
    for (int h = 1; h <= hdus; ++h) {
        f.moveTo(h);
        if (f.hduType() != fits::HduType::Image) continue;
        const auto info = f.imageInfo();
        if (info.axes.size() < 2 || info.pixels() == 0) continue; // a primary header without data
        AmplifierHeader a;
        a.hdu = h;
        a.label = f.path() + " " + f.hduLabel();
        a.extname = f.keyString("EXTNAME").value_or("");
        if (info.axes.size() != 2)
            throw Error(a.label + ": a raw amplifier has 2 axes, not " + std::to_string(info.axes.size()));
        a.naxis1 = info.axes[0];
        a.naxis2 = info.axes[1];
        a.data = f.hasKey("DATASEC") || !f.hasKey("TRIMSEC") ? sectionKey(f, "DATASEC", a.label)
                                                              : sectionKey(f, "TRIMSEC", a.label);
        if (!f.hasKey("BIASSEC"))
            throw Error(a.label + ": keyword BIASSEC is missing: where is the overscan? (a frame without one cannot "
                                  "be corrected row by row)");
        a.bias = sectionKey(f, "BIASSEC", a.label);
        for (const auto& [name, s] : {std::pair<const char*, const reduction::Section&>{"DATASEC", a.data}, {"BIASSEC", a.bias}})
            if (!s.within(static_cast<int>(a.naxis1), static_cast<int>(a.naxis2)))
                throw Error(a.label + ": keyword " + name + " = " + s.text() + " lies outside the " +
                            std::to_string(a.naxis1) + " x " + std::to_string(a.naxis2) + " image");
        if (o.gain) {
            a.gain = *o.gain;
        } else {
            const auto g = f.keyDouble("GAIN");
            if (!g) throw Error(a.label + ": keyword GAIN (e-/ADU) is missing");
            a.gain = *g;
        }
        if (!(a.gain > 0) || !std::isfinite(a.gain)) throw Error(a.label + ": keyword GAIN must be positive");
        a.readNoise = f.keyDouble("RDNOISE");
        if (!a.readNoise) a.readNoise = f.keyDouble("READNOIS");
        a.saturate = f.keyDouble("SATURATE").value_or(std::numeric_limits<double>::infinity());
        a.det = f.hasKey("DETSEC") ? sectionKey(f, "DETSEC", a.label)
                                   : reduction::Section{1, a.data.width(), 1, a.data.height()};
        if (a.det.width() != a.data.width() || a.det.height() != a.data.height())
            throw Error(a.label + ": DETSEC " + a.det.text() + " is not the size of DATASEC " + a.data.text());
        const auto ccd = f.keyInt("CCDNUM");
        a.ccd = ccd ? static_cast<int>(*ccd) : nextCcd++;
        a.amp = static_cast<int>(f.keyInt("AMPNUM").value_or(1));
        layout.ccds[a.ccd].push_back(layout.amps.size());
        layout.amps.push_back(std::move(a));
    }
    if (layout.amps.empty()) throw Error(f.path() + ": no image with data in any HDU");
    // The amplifiers of a CCD tile it exactly.
    for (const auto& [ccd, list] : layout.ccds) {
        const int w = layout.ccdWidth(ccd), h = layout.ccdHeight(ccd);
        long long covered = 0;
        for (std::size_t i = 0; i < list.size(); ++i) {
            const auto& a = layout.amps[list[i]];
            covered += static_cast<long long>(a.det.width()) * a.det.height();
            for (std::size_t j = 0; j < i; ++j) {
                const auto& b = layout.amps[list[j]];
                if (a.det.xmin() <= b.det.xmax() && b.det.xmin() <= a.det.xmax() && a.det.ymin() <= b.det.ymax() &&
                    b.det.ymin() <= a.det.ymax())
                    throw Error(a.label + ": DETSEC " + a.det.text() + " overlaps " + b.det.text() + " of " + b.label);
            }
        }
        if (covered != static_cast<long long>(w) * h)
            throw Error(layout.amps[list.front()].label + ": the amplifiers of CCD " + std::to_string(ccd) +
                        " cover " + std::to_string(covered) + " of its " + std::to_string(static_cast<long long>(w) * h) +
                        " pixels (see their DETSEC)");
    }
    return layout;
}

RawCcd loadCcd(fits::File& f, const RawLayout& layout, int ccd, const reduction::OverscanOptions& o) {
    const auto it = layout.ccds.find(ccd);
    if (it == layout.ccds.end()) throw Error(layout.path + ": no CCD " + std::to_string(ccd));
    RawCcd out;
    out.ccd = ccd;
    const int w = layout.ccdWidth(ccd), h = layout.ccdHeight(ccd);
    out.electrons = reduction::FloatImage(w, h);
    out.saturated = reduction::Mask(w, h);
    for (std::size_t index : it->second) {
        const AmplifierHeader& a = layout.amps[index];
        f.moveTo(a.hdu);
        reduction::FloatImage raw(static_cast<int>(a.naxis1), static_cast<int>(a.naxis2));
        raw.pixels = f.readImage<float>();
        reduction::AmplifierFrame frame;
        try {
            frame = reduction::correctOverscan(raw, a.data, a.bias, o, a.saturate);
        } catch (const Error& e) {
            throw Error(a.label + ": " + e.message());
        }
        const float gain = static_cast<float>(a.gain);
        for (float& v : frame.data.pixels) v *= gain;
        reduction::placeAmplifier(out.electrons, frame.data, a.det);
        reduction::placeAmplifier(out.saturated, frame.saturated, a.det);
        double level = 0;
        for (float l : frame.rowLevels) level += l;
        const double ovPixels = a.bias.width() * (o.method == reduction::OverscanOptions::Method::Median ? 2 / 3.14159265 : 1.0);
        RawAmplifier amp{a.det, a.gain, a.readNoise, level / std::max<std::size_t>(1, frame.rowLevels.size()),
                         frame.overscanNoise, ovPixels, a.label};
        out.amps.push_back(amp);
        if (out.firstLabel.empty()) out.firstLabel = a.label;
        // The CCD's WCS: the amplifier's, moved by where the amplifier sits (CCD pixel =
        // amplifier pixel + the offset of its data section's first pixel).
        if (!out.wcs && f.hasKey("CTYPE1") && !a.det.flippedX() && !a.det.flippedY()) {
            const wcs::Wcs ampWcs = wcs::Wcs::fromFits(f);
            out.wcs = ampWcs.shifted(a.det.xmin() - a.data.xmin(), a.det.ymin() - a.data.ymin());
        }
    }
    return out;
}

} // namespace paudm::pipelines::nightly
