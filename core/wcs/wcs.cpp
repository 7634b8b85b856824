#include "wcs/wcs.h"

#include <algorithm>
#include <cmath>

#include "fits/fits.h"

#include <wcslib/wcs.h>
#include <wcslib/wcsfix.h>
#include <wcslib/wcshdr.h>
#include <wcslib/wcsmath.h>

#include <cstdlib>
#include <cstring>

namespace paudm::wcs {

namespace {

[[noreturn]] void fail(int status, const std::string& doing, const std::string& context, const wcsprm* w = nullptr) {
    std::string msg = context.empty() ? doing : context + ": " + doing;
    if (w && w->err && w->err->msg[0]) msg += std::string(": ") + w->err->msg;
    else if (status > 0 && status < 14) msg += std::string(": ") + wcs_errmsg[status];
    throw Error(msg, "wcslib:" + std::to_string(status));
}

} // namespace

/// Owns one wcsprm allocated by wcslib (wcsini or a copy via wcssub), released with
/// wcsfree + free, never with delete.
struct Wcs::Impl {
    wcsprm* w = nullptr;
    std::string context;
    ~Impl() {
        if (w) {
            wcsfree(w);
            std::free(w);
        }
    }
    static std::unique_ptr<Impl> copyOf(const wcsprm* src, const std::string& context) {
        auto d = std::make_unique<Impl>();
        d->context = context;
        d->w = static_cast<wcsprm*>(std::calloc(1, sizeof(wcsprm)));
        d->w->flag = -1;
        if (const int st = wcssub(1, src, nullptr, nullptr, d->w)) fail(st, "copying WCS", context);
        if (const int st = wcsset(d->w)) fail(st, "setting up WCS", context, d->w);
        return d;
    }
};

Wcs Wcs::fromHeader(const std::string& cards, const std::string& context) {
    const int nkeyrec = static_cast<int>(cards.size() / 80);
    int nreject = 0, nwcs = 0;
    wcsprm* all = nullptr;
    std::string buffer = cards; // wcspih wants a mutable buffer
    const int st = wcspih(buffer.data(), nkeyrec, WCSHDR_all, 0, &nreject, &nwcs, &all);
    // Owned before anything can fail: released by wcsvfree, which pairs with wcspih.
    struct Guard {
        int n;
        wcsprm* p;
        ~Guard() {
            if (p) wcsvfree(&n, &p);
        }
    } guard{nwcs, all};
    if (st) fail(st, "parsing the WCS header", context);
    if (nwcs == 0 || !all) throw Error((context.empty() ? "" : context + ": ") + "no WCS in the header", "wcslib:no-wcs");
    // Translate non-standard but common forms (e.g. obsolete date keywords, CDi_j with no PCi_j).
    int stat[NWCSFIX];
    wcsfix(7, nullptr, &all[0], stat);
    Wcs out;
    out.d_ = Impl::copyOf(&all[0], context);
    if (out.d_->w->lng < 0 || out.d_->w->lat < 0)
        throw Error((context.empty() ? "" : context + ": ") + "the WCS has no celestial axes", "wcslib:no-celestial");
    return out;
}

Wcs Wcs::fromFits(const fits::File& file) {
    int n = 0;
    const std::string cards = file.headerText(&n);
    return fromHeader(cards, file.path() + " " + file.hduLabel());
}

Wcs Wcs::tan(Pixel crpix, Sky crval, double cd11, double cd12, double cd21, double cd22) {
    char card[81];
    std::string header;
    auto add = [&](const char* fmt, auto... v) {
        std::snprintf(card, sizeof card, fmt, v...);
        header += card;
        header.append(80 - std::strlen(card), ' ');
    };
    add("CTYPE1  = 'RA---TAN'");
    add("CTYPE2  = 'DEC--TAN'");
    add("CRPIX1  = %.17g", crpix.x);
    add("CRPIX2  = %.17g", crpix.y);
    add("CRVAL1  = %.17g", crval.ra);
    add("CRVAL2  = %.17g", crval.dec);
    add("CD1_1   = %.17g", cd11);
    add("CD1_2   = %.17g", cd12);
    add("CD2_1   = %.17g", cd21);
    add("CD2_2   = %.17g", cd22);
    add("RADESYS = 'ICRS'");
    return fromHeader(header, "TAN WCS");
}

Wcs::Wcs(const Wcs& other) : d_(other.d_ ? Impl::copyOf(other.d_->w, other.d_->context) : nullptr) {}
Wcs& Wcs::operator=(const Wcs& other) {
    if (this != &other) d_ = other.d_ ? Impl::copyOf(other.d_->w, other.d_->context) : nullptr;
    return *this;
}
Wcs::Wcs(Wcs&&) noexcept = default;
Wcs& Wcs::operator=(Wcs&&) noexcept = default;
Wcs::~Wcs() = default;

std::vector<Sky> Wcs::pixelToSky(const std::vector<Pixel>& p) const {
    const int n = static_cast<int>(p.size());
    if (n == 0) return {}; // wcslib refuses zero coordinates as an inconsistent call
    const int naxis = d_->w->naxis;
    std::vector<double> pix(static_cast<size_t>(n * naxis), 1.0), img(pix.size()), world(pix.size());
    std::vector<double> phi(p.size()), theta(p.size());
    std::vector<int> stat(p.size());
    for (int i = 0; i < n; ++i) {
        pix[static_cast<size_t>(i * naxis)] = p[static_cast<size_t>(i)].x;
        pix[static_cast<size_t>(i * naxis + 1)] = p[static_cast<size_t>(i)].y;
    }
    const int st = wcsp2s(d_->w, n, naxis, pix.data(), img.data(), phi.data(), theta.data(), world.data(), stat.data());
    if (st) fail(st, "pixel to sky", d_->context, d_->w);
    std::vector<Sky> out(p.size());
    for (int i = 0; i < n; ++i)
        out[static_cast<size_t>(i)] = {world[static_cast<size_t>(i * naxis + d_->w->lng)],
                                       world[static_cast<size_t>(i * naxis + d_->w->lat)]};
    return out;
}

std::vector<Pixel> Wcs::skyToPixel(const std::vector<Sky>& s) const {
    const int n = static_cast<int>(s.size());
    if (n == 0) return {};
    const int naxis = d_->w->naxis;
    std::vector<double> world(static_cast<size_t>(n * naxis), 0.0), img(world.size()), pix(world.size());
    std::vector<double> phi(s.size()), theta(s.size());
    std::vector<int> stat(s.size());
    for (int i = 0; i < n; ++i) {
        world[static_cast<size_t>(i * naxis + d_->w->lng)] = s[static_cast<size_t>(i)].ra;
        world[static_cast<size_t>(i * naxis + d_->w->lat)] = s[static_cast<size_t>(i)].dec;
    }
    const int st = wcss2p(d_->w, n, naxis, world.data(), phi.data(), theta.data(), img.data(), pix.data(), stat.data());
    if (st) fail(st, "sky to pixel", d_->context, d_->w);
    std::vector<Pixel> out(s.size());
    for (int i = 0; i < n; ++i)
        out[static_cast<size_t>(i)] = {pix[static_cast<size_t>(i * naxis)], pix[static_cast<size_t>(i * naxis + 1)]};
    return out;
}

Sky Wcs::pixelToSky(Pixel p) const { return pixelToSky(std::vector<Pixel>{p}).front(); }
Pixel Wcs::skyToPixel(Sky s) const { return skyToPixel(std::vector<Sky>{s}).front(); }

Wcs Wcs::shifted(double dx, double dy) const {
    Wcs out(*this);
    out.d_->w->crpix[0] += dx;
    out.d_->w->crpix[1] += dy;
    out.d_->w->flag = 0; // wcsset again
    if (const int st = wcsset(out.d_->w)) fail(st, "shifting the WCS", d_->context, out.d_->w);
    return out;
}

std::string Wcs::toHeader() const {
    int nkeyrec = 0;
    char* header = nullptr;
    const int st = wcshdo(WCSHDO_safe, d_->w, &nkeyrec, &header);
    std::unique_ptr<char, void (*)(void*)> own(header, std::free);
    if (st) fail(st, "writing the WCS header", d_->context, d_->w);
    return std::string(header, static_cast<size_t>(nkeyrec) * 80);
}

std::optional<SkyBox> Wcs::footprint(long n1, long n2) const {
    std::vector<Pixel> px;
    for (double fx : {0.0, 0.5, 1.0})
        for (double fy : {0.0, 0.5, 1.0})
            if (fx != 0.5 || fy != 0.5) px.push_back({0.5 + fx * n1, 0.5 + fy * n2});
    const auto sky = pixelToSky(px);
    std::vector<double> ra;
    SkyBox b{0, 0, 90, -90};
    for (const auto& s : sky) {
        if (!std::isfinite(s.ra) || !std::isfinite(s.dec)) return std::nullopt; // outside the projection
        ra.push_back(std::fmod(std::fmod(s.ra, 360) + 360, 360));
        b.decMin = std::min(b.decMin, s.dec);
        b.decMax = std::max(b.decMax, s.dec);
    }
    auto [lo, hi] = std::minmax_element(ra.begin(), ra.end());
    b.raMin = *lo;
    b.raMax = *hi;
    if (b.raMax - b.raMin > 180) { // crosses RA = 0: measure on the other side of the circle
        for (double& r : ra)
            if (r < 180) r += 360;
        auto [lo2, hi2] = std::minmax_element(ra.begin(), ra.end());
        b.raMin = std::fmod(*lo2, 360);
        b.raMax = std::fmod(*hi2, 360);
    }
    return b;
}

std::string Wcs::frame() const {
    std::string f = d_->w->radesys;
    while (!f.empty() && f.back() == ' ') f.pop_back();
    if (!f.empty()) return f;
    // FITS WCS paper II: without RADESYS, FK5 for an EQUINOX from 1984 on, FK4 before, and
    // ICRS without an equinox (wcslib keeps "no EQUINOX" as its undefined value).
    const double eq = d_->w->equinox;
    if (undefined(eq)) return "ICRS";
    return eq >= 1984 ? "FK5" : "FK4";
}

std::string Wcs::projection() const {
    std::string code = d_->w->cel.prj.code;
    return code;
}

} // namespace paudm::wcs
