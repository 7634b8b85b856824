#include "pipelines/nightly/products.h"

#include "fits/fits.h"

#include <cstdio>
#include <filesystem>
#include <set>

namespace paudm::pipelines::nightly {

namespace {

/// The raw primary keywords that products keep.
const std::set<std::string>& carriedKeywords() {
    static const std::set<std::string> k{"TELESCOP", "INSTRUME", "OBSERVAT", "OBSSET",  "EXPNUM",   "OBSTYPE",
                                         "OBJECT",   "DATE-OBS", "TIME-OBS", "MJD-OBS", "EXPTIME",  "RA",
                                         "DEC",      "EQUINOX",  "RADESYS",  "AIRMASS", "FILTTRAY", "TELFOCUS",
                                         "AMBTEMP",  "HUMIDITY", "PRESSURE", "WINDSPD", "WINDDIR",  "GUIDING",
                                         "GUIFWHM",  "GUIVAR",   "OPERATOR", "PROJECT"};
    return k;
}

/// An 80-character header card from its parts (the value as FITS text: strings quoted).
std::string card(const std::string& keyword, const std::string& value, const std::string& comment) {
    char text[81];
    // Strings start in column 11, numbers end in column 30, as fixed-format FITS writes them.
    std::snprintf(text, sizeof text, value.starts_with("'") ? "%-8.8s= %-20s / %s" : "%-8.8s= %20s / %s",
                  keyword.c_str(), value.c_str(), comment.c_str());
    std::string out = text;
    out.resize(80, ' ');
    return out;
}

void writeProvenance(fits::File& f, const Provenance& p) {
    f.writeKey("PIPELINE", std::string("nightly"), "PAUdm pipeline that made this file");
    f.writeKey("RELEASE", p.release, "release (red/<release>/)");
    f.writeKey("PRODID", static_cast<long long>(p.productionId), "PAUdb production id");
    f.writeKey("PAUDMVER", p.softwareVersion, "PAUdm software version");
    if (!p.obsSet.empty()) f.writeKey("OBSSET", p.obsSet, "observation set");
    for (const auto& [k, v] : p.extra)
        f.writeKey(k, v);
}

void writeCarried(fits::File& f, const std::vector<CarriedCard>& cards) {
    std::string text;
    for (const auto& c : cards)
        text += card(c.keyword, c.value, c.comment);
    if (!text.empty()) f.writeCards(text);
}

/// Moves to the HDU whose EXTNAME is `name`; throws naming the file when there is none.
void moveToExtension(fits::File& f, const std::string& name) {
    for (int h = 1; h <= f.hduCount(); ++h) {
        f.moveTo(h);
        if (f.keyString("EXTNAME").value_or("") == name) return;
    }
    throw Error(f.path() + ": no extension " + name);
}

void checkGeometry(const fits::File& f, int width, int height, const char* what) {
    const auto info = f.imageInfo();
    if (info.axes.size() != 2 || info.axes[0] != width || info.axes[1] != height)
        throw Error(f.path() + " " + f.hduLabel() + ": the " + what + " is " +
                    (info.axes.size() == 2 ? std::to_string(info.axes[0]) + " x " + std::to_string(info.axes[1])
                                           : std::to_string(info.axes.size()) + "-dimensional") +
                    ", the CCD it is meant for " + std::to_string(width) + " x " + std::to_string(height) +
                    ": a master of another geometry");
}

std::string ccdExt(const char* prefix, int ccd) {
    char t[16];
    std::snprintf(t, sizeof t, "%s%02d", prefix, ccd);
    return t;
}

} // namespace

std::vector<CarriedCard> carriedPrimaryCards(fits::File& raw) {
    raw.moveTo(1);
    std::vector<CarriedCard> out;
    for (const auto& c : raw.cards())
        if (carriedKeywords().count(c.keyword) && c.keyword != "OBSSET") out.push_back({c.keyword, c.value, c.comment});
    return out;
}

void writeMasterBias(const std::string& path, const std::vector<MasterBiasCcd>& ccds, const Provenance& p,
                     const std::vector<CarriedCard>& primary) {
    auto f = fits::File::create(path, true);
    f.appendEmptyImage();
    writeCarried(f, primary);
    f.writeKey("OBSTYPE", std::string("master_bias"), "product kind");
    f.writeKey("NCOMBINE", static_cast<long long>(ccds.empty() ? 0 : ccds.front().frames), "bias frames combined");
    f.writeKey("BUNIT", std::string("electron"), "pixel unit (after overscan and gain)");
    writeProvenance(f, p);
    for (const auto& c : ccds) {
        f.appendImage<float>({c.image.width, c.image.height}, c.image.pixels);
        f.writeKey("EXTNAME", ccdExt("CCD", c.ccd), "master bias of this CCD");
        f.writeKey("CCDNUM", static_cast<long long>(c.ccd), "CCD number");
        f.writeKey("BUNIT", std::string("electron"), "pixel unit");
        f.writeKey("NCOMBINE", static_cast<long long>(c.frames), "bias frames combined");
        double mean = 0, worst = 0;
        for (std::size_t a = 0; a < c.amplifiers.size(); ++a) {
            const auto& amp = c.amplifiers[a];
            const std::string n = std::to_string(a + 1);
            f.writeKey("AMPSEC" + n, amp.det.text(), "amplifier's part of the CCD");
            f.writeKey("RDNOIS" + n, amp.readNoise, "read noise measured on it (e-)");
            mean += amp.readNoise / c.amplifiers.size();
            worst = std::max(worst, amp.readNoise);
        }
        f.writeKey("RDNOISE", mean, "mean read noise of the amplifiers (e-)");
        f.writeKey("RDNOISMX", worst, "largest read noise of the amplifiers (e-)");
    }
    f.close();
}

void writeMasterFlat(const std::string& path, const std::vector<MasterFlatCcd>& ccds, const Provenance& p,
                     const std::vector<CarriedCard>& primary) {
    auto f = fits::File::create(path, true);
    f.appendEmptyImage();
    writeCarried(f, primary);
    f.writeKey("OBSTYPE", std::string("master_flat"), "product kind");
    f.writeKey("NCOMBINE", static_cast<long long>(ccds.empty() ? 0 : ccds.front().frames), "flat frames combined");
    writeProvenance(f, p);
    for (const auto& c : ccds) {
        f.appendImage<float>({c.flat.flat.width, c.flat.flat.height}, c.flat.flat.pixels);
        f.writeKey("EXTNAME", ccdExt("CCD", c.ccd), "master flat of this CCD (normalised)");
        f.writeKey("CCDNUM", static_cast<long long>(c.ccd), "CCD number");
        f.writeKey("FILTER", c.filter, "filter");
        f.writeKey("NCOMBINE", static_cast<long long>(c.frames), "flat frames combined");
        f.writeKey("FLATLEVL", c.flat.level, "median level of the input flats (e-)");
        f.writeKey("FLATSTRU", c.flat.structure, "rms about the smooth shape (fraction)");
        f.writeKey("NBADPIX", static_cast<long long>(c.flat.badPixels), "pixels in the bad-pixel mask");
    }
    for (const auto& c : ccds) {
        f.appendImage<std::uint8_t>({c.flat.bad.width, c.flat.bad.height}, c.flat.bad.pixels);
        f.writeKey("EXTNAME", ccdExt("BPM", c.ccd), "bad pixels of this CCD (1 = bad)");
        f.writeKey("CCDNUM", static_cast<long long>(c.ccd), "CCD number");
    }
    f.close();
}

MasterBiasCcd readMasterBiasCcd(const std::string& path, int ccd, int width, int height) {
    auto f = fits::File::open(path);
    moveToExtension(f, ccdExt("CCD", ccd));
    checkGeometry(f, width, height, "master bias");
    MasterBiasCcd m;
    m.ccd = ccd;
    m.image.width = width; // checked above: no image of zeros to throw away
    m.image.height = height;
    m.image.pixels = f.readImage<float>();
    m.frames = static_cast<int>(f.keyInt("NCOMBINE").value_or(0));
    for (int a = 1; f.hasKey("AMPSEC" + std::to_string(a)); ++a) {
        reduction::AmplifierNoise n;
        try {
            n.det = reduction::parseSection(f.requireString("AMPSEC" + std::to_string(a)));
        } catch (const Error& e) {
            throw Error(path + " " + f.hduLabel() + ": keyword AMPSEC" + std::to_string(a) + ": " + e.message());
        }
        n.readNoise = f.requireDouble("RDNOIS" + std::to_string(a));
        m.amplifiers.push_back(n);
    }
    return m;
}

MasterFlatCcd readMasterFlatCcd(const std::string& path, int ccd, int width, int height) {
    auto f = fits::File::open(path);
    moveToExtension(f, ccdExt("CCD", ccd));
    checkGeometry(f, width, height, "master flat");
    MasterFlatCcd m;
    m.ccd = ccd;
    m.filter = f.keyString("FILTER").value_or("");
    m.frames = static_cast<int>(f.keyInt("NCOMBINE").value_or(0));
    m.flat.level = f.keyDouble("FLATLEVL").value_or(0);
    m.flat.structure = f.keyDouble("FLATSTRU").value_or(0);
    m.flat.flat.width = width;
    m.flat.flat.height = height;
    m.flat.flat.pixels = f.readImage<float>();
    moveToExtension(f, ccdExt("BPM", ccd));
    checkGeometry(f, width, height, "bad-pixel mask");
    m.flat.bad.width = width;
    m.flat.bad.height = height;
    m.flat.bad.pixels = f.readImage<std::uint8_t>();
    for (std::uint8_t v : m.flat.bad.pixels)
        m.flat.badPixels += v != 0;
    return m;
}

std::string reducedCcdName(const std::string& rawFile, int ccd) {
    std::string stem = std::filesystem::path(rawFile).filename().string();
    if (stem.ends_with(".fits"))
        stem.resize(stem.size() - 5);
    else if (stem.ends_with(".fit"))
        stem.resize(stem.size() - 4);
    char t[16];
    std::snprintf(t, sizeof t, ".ccd%02d.fits", ccd);
    return stem + t;
}

void writeReducedCcd(const std::string& path, const ReducedCcdFile& c, const Provenance& p,
                     const std::vector<CarriedCard>& primary) {
    const reduction::Detrended& d = *c.data;
    auto f = fits::File::create(path, true);
    // Room in each header for what is written after its pixels and for what the mosaic's
    // calibration adds later (the fitted WCS, the zero point): a header that outgrows its
    // room moves the data behind it down the file, 72 MB a CCD.
    constexpr int kImageKeys = 180, kPlaneKeys = 72;
    f.appendImage<float>({d.image.width, d.image.height}, d.image.pixels, kImageKeys);
    writeCarried(f, primary);
    f.writeKey("EXTNAME", std::string("IMAGE"), "reduced image");
    f.writeKey("CCDNUM", static_cast<long long>(c.ccd), "CCD number");
    if (!c.filter.empty()) f.writeKey("FILTER", c.filter, "filter in front of this CCD");
    if (c.wavelength) f.writeKey("WAVELENG", *c.wavelength, "filter central wavelength (nm)");
    f.writeKey("BUNIT", std::string("electron"), "bias subtracted, flat-fielded");
    f.writeKey("GAIN", 1.0, "e-/pixel value: the image is in electrons");
    f.writeKey("RDNOISE", c.readNoise, "mean read noise of the amplifiers (e-)");
    f.writeKey("RDNOISMX", c.maxReadNoise, "largest read noise of the amplifiers (e-)");
    f.writeKey("SKYLEVEL", d.skyLevel, "median sky (e-)");
    f.writeKey("NSATUR", static_cast<long long>(d.saturated), "pixels saturated or next to one");
    f.writeKey("NCOSMIC", static_cast<long long>(d.cosmic), "pixels flagged as cosmic rays");
    f.writeKey("NBADPIX", static_cast<long long>(d.bad), "pixels bad in the master flat");
    if (c.wcs) f.writeCards(c.wcs->toHeader());
    writeProvenance(f, p);
    f.appendImage<float>({d.weight.width, d.weight.height}, d.weight.pixels, kPlaneKeys);
    f.writeKey("EXTNAME", std::string("WEIGHT"), "inverse variance of the sky noise");
    f.writeKey("BUNIT", std::string("electron-2"), "1 / variance");
    f.writeKey("CCDNUM", static_cast<long long>(c.ccd), "CCD number");
    if (c.wcs) f.writeCards(c.wcs->toHeader());
    f.appendImage<std::uint8_t>({d.mask.width, d.mask.height}, d.mask.pixels, kPlaneKeys);
    f.writeKey("EXTNAME", std::string("MASK"), "pixel flags (bit mask)");
    f.writeKey("CCDNUM", static_cast<long long>(c.ccd), "CCD number");
    f.writeKey("MASKBIT1", std::string("bad pixel (master flat)"), "value 1");
    f.writeKey("MASKBIT2", std::string("saturated or bleed trail"), "value 2");
    f.writeKey("MASKBIT3", std::string("cosmic ray"), "value 4");
    f.writeKey("MASKBIT4", std::string("no data"), "value 8");
    if (c.wcs) f.writeCards(c.wcs->toHeader());
    if (c.background) {
        const reduction::Background& b = *c.background;
        for (int k = 0; k < 2; ++k) {
            f.appendImage<float>({b.cellsX, b.cellsY}, k == 0 ? b.meshLevel : b.meshRms);
            f.writeKey("EXTNAME", std::string(k == 0 ? "BKG" : "BKGRMS"),
                       k == 0 ? "sky background mesh (e-)" : "sky noise mesh (e-)");
            f.writeKey("CCDNUM", static_cast<long long>(c.ccd), "CCD number");
            f.writeKey("MESHSIZE", static_cast<long long>(b.meshWidth), "pixels per mesh cell, each axis");
            f.writeKey("BUNIT", std::string("electron"), "per pixel");
            f.writeComment("Cell (i, j) covers pixels MESHSIZE*i+1 ... MESHSIZE*(i+1) of the image; the background map "
                           "is the bicubic spline through the cell centres.");
        }
    }
    f.close();
}

void updateReducedWcs(const std::string& path, const std::optional<wcs::Wcs>& fitted,
                      const std::vector<CarriedCard>& cards) {
    auto f = fits::File::open(path, true);
    // The keywords only: the first write left wcslib's COMMENT card, which would repeat.
    std::string header;
    if (fitted) {
        const std::string all = fitted->toHeader();
        for (std::size_t i = 0; i + 80 <= all.size(); i += 80)
            if (all.compare(i, 8, "COMMENT ") != 0 && all.compare(i, 8, "HISTORY ") != 0) header += all.substr(i, 80);
    }
    for (int h = 1; h <= f.hduCount(); ++h) {
        f.moveTo(h);
        const std::string ext = f.keyString("EXTNAME").value_or("");
        if (fitted && (ext == "IMAGE" || ext == "WEIGHT" || ext == "MASK")) {
            // Every key of a celestial WCS goes first, so that no part of the old one
            // (a PC matrix beside a new CD, say) is left to confuse a reader.
            for (const char* k : {"CTYPE1", "CTYPE2", "CRPIX1", "CRPIX2",  "CRVAL1",  "CRVAL2", "CD1_1",  "CD1_2",
                                  "CD2_1",  "CD2_2",  "PC1_1",  "PC1_2",   "PC2_1",   "PC2_2",  "CDELT1", "CDELT2",
                                  "CROTA2", "CUNIT1", "CUNIT2", "LONPOLE", "LATPOLE", "WCSAXES"})
                while (f.deleteKey(k)) {
                }
            f.writeCards(header);
        }
        if (ext == "IMAGE") writeCarried(f, cards);
        f.resealHeader(); // the pixels are as written, and so is their DATASUM
    }
    f.close();
}

} // namespace paudm::pipelines::nightly
