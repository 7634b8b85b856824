// paudm reduce: one raw file detrended outside the pipeline.
#include "common/workers.h"
#include "fits/fits.h"
#include "pipelines/nightly/products.h"
#include "pipelines/nightly/raw_frames.h"
#include "reduction/statistics.h"

#include <QElapsedTimer>

#include <cmath>
#include <cstdio>

namespace paudm::pipelines::nightly {

namespace {

std::string ccdName(const char* prefix, int ccd) {
    char t[16];
    std::snprintf(t, sizeof t, "%s%02d", prefix, ccd);
    return t;
}

/// A master given by the user: our MEF (an extension per CCD), or a plain image.
bool hasExtension(fits::File& f, const std::string& name) {
    for (int h = 1; h <= f.hduCount(); ++h) {
        f.moveTo(h);
        if (f.keyString("EXTNAME").value_or("") == name) return true;
    }
    return false;
}

reduction::FloatImage plainImage(const std::string& path, int w, int h, const char* what) {
    auto f = fits::File::open(path);
    for (int hdu = 1; hdu <= f.hduCount(); ++hdu) {
        f.moveTo(hdu);
        if (f.hduType() != fits::HduType::Image) continue;
        const auto info = f.imageInfo();
        if (info.axes.size() != 2 || info.pixels() == 0) continue;
        if (info.axes[0] != w || info.axes[1] != h)
            throw Error(path + " " + f.hduLabel() + ": the " + what + " is " + std::to_string(info.axes[0]) + " x " +
                        std::to_string(info.axes[1]) + ", the frame's data " + std::to_string(w) + " x " +
                        std::to_string(h));
        reduction::FloatImage img(w, h);
        img.pixels = f.readImage<float>();
        return img;
    }
    throw Error(path + ": no image in it to use as the " + what);
}

} // namespace

ReduceFileReport reduceFile(const ReduceFileOptions& o) {
    QElapsedTimer clock;
    clock.start();
    auto raw = fits::File::open(o.raw);
    RawLayout layout = readRawLayout(raw, LayoutOptions{o.gain});
    if (o.hdu) {
        RawLayout one;
        one.path = layout.path;
        for (const auto& a : layout.amps)
            if (a.hdu == *o.hdu) {
                one.ccds[a.ccd].push_back(one.amps.size());
                one.amps.push_back(a);
            }
        if (one.amps.empty())
            throw Error(o.raw + ": HDU " + std::to_string(*o.hdu) + " is not an image with data sections");
        // The amplifier alone: its data section is the whole image.
        one.amps.front().det = {1, one.amps.front().data.width(), 1, one.amps.front().data.height()};
        layout = std::move(one);
    }
    std::vector<int> ccds;
    for (const auto& [c, a] : layout.ccds)
        ccds.push_back(c);
    bool biasMef = false, flatMef = false;
    if (!o.bias.empty()) {
        auto f = fits::File::open(o.bias);
        biasMef = hasExtension(f, ccdName("CCD", ccds.front()));
    }
    if (!o.flat.empty()) {
        auto f = fits::File::open(o.flat);
        flatMef = hasExtension(f, ccdName("CCD", ccds.front()));
    }
    std::vector<reduction::Detrended> results(ccds.size());
    std::vector<std::optional<wcs::Wcs>> wcsOf(ccds.size());
    std::vector<std::string> filters(ccds.size());
    auto forEachCcd = [&](int n, const std::function<void(int)>& work) {
        std::atomic<int> next{0};
        runWorkers(std::max(1, std::min(o.threads, n)), [&](int, const WorkerGroup& g) {
            for (int i; !g.failed() && (i = next++) < n;)
                work(i);
        });
    };
    reduction::withMosaicSharpness(
        static_cast<int>(ccds.size()), forEachCcd,
        [&](int k, const std::optional<reduction::Sharpness>& sharpness, bool defer) {
            auto f = fits::File::open(o.raw); // a fitsfile is never shared between threads
            const int ccd = ccds[static_cast<std::size_t>(k)];
            RawCcd r = loadCcd(f, layout, ccd, o.overscan);
            const int w = r.electrons.width, h = r.electrons.height;
            f.moveTo(layout.amps[layout.ccds.at(ccd).front()].hdu);
            filters[static_cast<std::size_t>(k)] = f.keyString("FILTER").value_or("");
            std::optional<MasterBiasCcd> mb;
            std::optional<MasterFlatCcd> mf;
            if (!o.bias.empty()) {
                if (biasMef) {
                    mb = readMasterBiasCcd(o.bias, ccd, w, h);
                } else {
                    mb = MasterBiasCcd{ccd, plainImage(o.bias, w, h, "bias"), {}, 0};
                }
            }
            if (!o.flat.empty()) {
                if (flatMef) {
                    mf = readMasterFlatCcd(o.flat, ccd, w, h);
                } else {
                    mf = MasterFlatCcd{};
                    mf->flat.flat = plainImage(o.flat, w, h, "flat");
                    std::vector<float> v(mf->flat.flat.pixels);
                    const double m = reduction::medianInPlace(v);
                    if (!(m > 0)) throw Error(o.flat + ": the flat's median is not positive");
                    for (float& x : mf->flat.flat.pixels)
                        x = static_cast<float>(x / m);
                    mf->flat.bad = reduction::Mask(w, h);
                }
            }
            reduction::DetrendInputs in;
            in.electrons = &r.electrons;
            in.saturated = &r.saturated;
            if (mb) {
                in.bias = &mb->image;
                in.biasFrames = mb->frames;
            }
            if (mf) {
                in.flat = &mf->flat.flat;
                in.badPixels = &mf->flat.bad;
                in.flatRelativeVariance = reduction::flatRelativeVariance(mf->frames, mf->flat.level);
            }
            for (const auto& a : r.amps) {
                // The master bias's measurement, else the header's RDNOISE, else what the
                // overscan shows.
                double rn = a.headerReadNoise.value_or(a.overscanNoise * a.gain);
                if (mb)
                    for (const auto& m : mb->amplifiers)
                        if (m.det.xmin() == a.det.xmin() && m.det.ymin() == a.det.ymin()) rn = m.readNoise;
                in.amplifiers.push_back({a.det, rn});
            }
            reduction::DetrendOptions d = o.detrend;
            d.cosmics.satLevel = 1e30; // saturation comes from the raw values
            d.cosmics.sharpness = sharpness;
            d.cosmics.deferWithoutSharpness = defer;
            auto& result = results[static_cast<std::size_t>(k)];
            result = reduction::detrend(in, d);
            // Kept until the file is written: only what goes into it.
            result.sky = {};
            result.cosmicInfo.mask = {};
            wcsOf[static_cast<std::size_t>(k)] = r.wcs;
            return reduction::CcdSharpness{result.cosmicInfo.needsSharpness, result.cosmicInfo.sharpnessSamples};
        });
    ReduceFileReport report;
    report.ccds = static_cast<int>(ccds.size());
    Provenance p{"", 0, "", PAUDM_VERSION, {{"RAWFILE", o.raw}}};
    if (!o.bias.empty()) p.extra.push_back({"BIASFILE", o.bias});
    if (!o.flat.empty()) p.extra.push_back({"FLATFILE", o.flat});
    std::vector<CarriedCard> primary = carriedPrimaryCards(raw);
    for (const auto& d : results) {
        report.pixels += static_cast<long long>(d.image.size());
        report.saturated += d.saturated;
        report.cosmic += d.cosmic;
        report.bad += d.bad;
    }
    auto rnOf = [&](std::size_t k, bool worst) {
        double mean = 0, max = 0;
        (void)k;
        for (const auto& a : layout.amps) {
            const double rn = a.readNoise.value_or(0);
            mean += rn / layout.amps.size();
            max = std::max(max, rn);
        }
        return worst ? max : mean;
    };
    if (ccds.size() == 1) {
        ReducedCcdFile f;
        f.ccd = ccds.front();
        f.filter = filters.front();
        f.data = &results.front();
        f.wcs = wcsOf.front();
        f.readNoise = rnOf(0, false);
        f.maxReadNoise = rnOf(0, true);
        writeReducedCcd(o.out, f, p, primary);
    } else {
        auto out = fits::File::create(o.out, true);
        out.appendEmptyImage();
        std::string cards;
        for (const auto& c : primary) {
            char t[81];
            std::snprintf(t, sizeof t, "%-8.8s= %-20s / %s", c.keyword.c_str(), c.value.c_str(), c.comment.c_str());
            std::string line = t;
            line.resize(80, ' ');
            cards += line;
        }
        if (!cards.empty()) out.writeCards(cards);
        out.writeKey("PAUDMVER", std::string(PAUDM_VERSION), "PAUdm software version");
        out.writeKey("RAWFILE", o.raw, "raw file");
        for (std::size_t k = 0; k < ccds.size(); ++k) {
            const auto& d = results[k];
            out.appendImage<float>({d.image.width, d.image.height}, d.image.pixels);
            out.writeKey("EXTNAME", ccdName("CCD", ccds[k]), "reduced image (electrons)");
            out.writeKey("CCDNUM", static_cast<long long>(ccds[k]), "CCD number");
            out.writeKey("BUNIT", std::string("electron"), "pixel unit");
            if (!filters[k].empty()) out.writeKey("FILTER", filters[k], "filter");
            if (wcsOf[k]) out.writeCards(wcsOf[k]->toHeader());
        }
        for (std::size_t k = 0; k < ccds.size(); ++k) {
            out.appendImage<float>({results[k].weight.width, results[k].weight.height}, results[k].weight.pixels);
            out.writeKey("EXTNAME", ccdName("WHT", ccds[k]), "inverse variance");
        }
        for (std::size_t k = 0; k < ccds.size(); ++k) {
            out.appendImage<std::uint8_t>({results[k].mask.width, results[k].mask.height}, results[k].mask.pixels);
            out.writeKey("EXTNAME", ccdName("MSK", ccds[k]),
                         "pixel flags: 1 bad, 2 saturated, 4 cosmic ray, 8 no data");
        }
        out.close();
    }
    report.seconds = clock.elapsed() / 1000.0;
    return report;
}

} // namespace paudm::pipelines::nightly
