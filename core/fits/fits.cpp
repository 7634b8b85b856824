#include "fits/fits.h"

#include "fits/data_checksum.h"

#include <fitsio.h>

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <type_traits>

namespace paudm::fits {

namespace {

fitsfile* ff(void* p) {
    return static_cast<fitsfile*>(p);
}

template <class T> constexpr int dataType() {
    if constexpr (std::is_same_v<T, std::uint8_t>)
        return TBYTE;
    else if constexpr (std::is_same_v<T, std::int16_t>)
        return TSHORT;
    else if constexpr (std::is_same_v<T, std::uint16_t>)
        return TUSHORT;
    else if constexpr (std::is_same_v<T, std::int32_t>)
        return TINT;
    else if constexpr (std::is_same_v<T, std::uint32_t>)
        return TUINT;
    else if constexpr (std::is_same_v<T, std::int64_t>)
        return TLONGLONG;
    else if constexpr (std::is_same_v<T, float>)
        return TFLOAT;
    else if constexpr (std::is_same_v<T, double>)
        return TDOUBLE;
    else
        static_assert(sizeof(T) == 0, "unsupported FITS pixel type");
}

template <class T> constexpr int imageType() {
    if constexpr (std::is_same_v<T, std::uint8_t>)
        return BYTE_IMG;
    else if constexpr (std::is_same_v<T, std::int16_t>)
        return SHORT_IMG;
    else if constexpr (std::is_same_v<T, std::uint16_t>)
        return USHORT_IMG;
    else if constexpr (std::is_same_v<T, std::int32_t>)
        return LONG_IMG;
    else if constexpr (std::is_same_v<T, std::uint32_t>)
        return ULONG_IMG;
    else if constexpr (std::is_same_v<T, std::int64_t>)
        return LONGLONG_IMG;
    else if constexpr (std::is_same_v<T, float>)
        return FLOAT_IMG;
    else if constexpr (std::is_same_v<T, double>)
        return DOUBLE_IMG;
}

std::string cfitsioMessage(int status) {
    char text[FLEN_STATUS] = {};
    fits_get_errstatus(status, text);
    std::string out = text;
    char line[FLEN_ERRMSG];
    std::string stack;
    while (fits_read_errmsg(line)) {
        if (!stack.empty()) stack += "; ";
        stack += line;
    }
    if (!stack.empty() && stack != out) out += " (" + stack + ")";
    return out;
}

} // namespace

long ImageInfo::pixels() const {
    long n = axes.empty() ? 0 : 1;
    for (long a : axes)
        n *= a;
    return n;
}

void File::fail(int status, const std::string& doing, const std::string& keyword) const {
    std::string where = path_.empty() ? std::string("(no file)") : path_;
    if (fptr_) where += " " + hduLabel();
    std::string msg = where + ": " + doing;
    if (!keyword.empty()) msg += " keyword " + keyword;
    msg += ": " + cfitsioMessage(status);
    throw Error(msg, "cfitsio:" + std::to_string(status));
}

File File::open(const std::string& path, bool writable) {
    File f;
    f.path_ = path;
    int status = 0;
    fitsfile* p = nullptr;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw Error(path + ": cannot open FITS file: no such file", "ENOENT");
    // Disk file syntax: brackets and other characters in the name are taken literally.
    fits_open_diskfile(&p, path.c_str(), writable ? READWRITE : READONLY, &status);
    f.fptr_ = p; // owned from here on
    if (status) {
        if (p) {
            int ignore = 0;
            fits_close_file(p, &ignore);
            f.fptr_ = nullptr;
        }
        f.fail(status, "cannot open FITS file");
    }
    return f;
}

File File::create(const std::string& path, bool overwrite) {
    std::error_code ec;
    if (!overwrite && std::filesystem::exists(path, ec))
        throw Error(path + ": cannot create FITS file: it exists already", "EEXIST");
    File f;
    f.path_ = path;
    f.tmpPath_ = path + ".part-" + std::to_string(::getpid());
    std::filesystem::remove(f.tmpPath_, ec);
    int status = 0;
    fitsfile* p = nullptr;
    fits_create_diskfile(&p, f.tmpPath_.c_str(), &status);
    f.fptr_ = p;
    if (status) {
        f.fptr_ = nullptr;
        f.fail(status, "cannot create FITS file (as " + f.tmpPath_ + ")");
    }
    return f;
}

File::File(File&& o) noexcept
    : fptr_(std::exchange(o.fptr_, nullptr)), path_(std::move(o.path_)), tmpPath_(std::move(o.tmpPath_)),
      dataSums_(std::move(o.dataSums_)) {}

File& File::operator=(File&& o) noexcept {
    if (this != &o) {
        finish(false);
        fptr_ = std::exchange(o.fptr_, nullptr);
        path_ = std::move(o.path_);
        tmpPath_ = std::move(o.tmpPath_);
        dataSums_ = std::move(o.dataSums_);
    }
    return *this;
}

File::~File() {
    finish(false);
}

void File::finish(bool keep) {
    if (!fptr_) return;
    int status = 0;
    fits_close_file(ff(fptr_), &status);
    fptr_ = nullptr;
    if (!tmpPath_.empty() && !keep) {
        std::error_code ec;
        std::filesystem::remove(tmpPath_, ec);
        tmpPath_.clear();
    }
}

void File::close() {
    if (!fptr_) return;
    if (tmpPath_.empty()) {
        int status = 0;
        fits_close_file(ff(fptr_), &status);
        fptr_ = nullptr;
        if (status) {
            fptr_ = nullptr;
            fail(status, "closing");
        }
        return;
    }
    try {
        const int n = hduCount();
        for (int h = 1; h <= n; ++h) {
            moveTo(h);
            writeChecksum();
        }
    } catch (...) {
        finish(false);
        throw;
    }
    int status = 0;
    fits_close_file(ff(fptr_), &status);
    fptr_ = nullptr;
    const std::string tmp = std::exchange(tmpPath_, std::string());
    std::error_code ec;
    if (status) {
        std::filesystem::remove(tmp, ec);
        fail(status, "closing");
    }
    // Durable before it becomes visible under its final name.
    const int fd = ::open(tmp.c_str(), O_RDONLY);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced || ::rename(tmp.c_str(), path_.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::filesystem::remove(tmp, ec);
        throw Error(path_ + ": cannot finish writing: " + why, "EIO");
    }
}

int File::hduCount() const {
    int n = 0, status = 0;
    fits_get_num_hdus(ff(fptr_), &n, &status);
    check(status, "counting HDUs");
    return n;
}

void File::requireComplete() {
    const int n = hduCount();
    int status = 0, type = 0;
    int current = 0;
    fits_get_hdu_num(ff(fptr_), &current);
    fits_movabs_hdu(ff(fptr_), n, &type, &status);
    LONGLONG headStart = 0, dataStart = 0, dataEnd = 0;
    fits_get_hduaddrll(ff(fptr_), &headStart, &dataStart, &dataEnd, &status);
    check(status, "locating the last HDU");
    std::error_code ec;
    const auto size = std::filesystem::file_size(path_, ec);
    if (!ec && static_cast<LONGLONG>(size) < dataEnd)
        throw Error(path_ + ": truncated: " + std::to_string(size) + " bytes, but HDU " + std::to_string(n) +
                    " (the last whose header is there) ends at byte " + std::to_string(dataEnd));
    moveTo(1);
    if (const auto next = keyInt("NEXTEND"); next && *next != n - 1)
        throw Error(path_ + ": truncated: the primary header's NEXTEND says " + std::to_string(*next) +
                    " extensions, the file holds " + std::to_string(n - 1));
    moveTo(current > 0 ? current : 1);
}

void File::moveTo(int hdu) {
    int status = 0, type = 0;
    fits_movabs_hdu(ff(fptr_), hdu, &type, &status);
    check(status, "moving to HDU " + std::to_string(hdu));
}

int File::currentHdu() const {
    int n = 0;
    fits_get_hdu_num(ff(fptr_), &n);
    return n;
}

HduType File::hduType() const {
    int status = 0, type = 0;
    fits_get_hdu_type(ff(fptr_), &type, &status);
    check(status, "reading HDU type");
    return type == IMAGE_HDU ? HduType::Image : type == ASCII_TBL ? HduType::AsciiTable : HduType::BinaryTable;
}

std::pair<std::string, std::string> splitHduSpec(const std::string& spec) {
    if (spec.ends_with("]")) {
        const auto open = spec.rfind('[');
        if (open != std::string::npos && open > 0)
            return {spec.substr(0, open), spec.substr(open + 1, spec.size() - open - 2)};
    }
    return {spec, ""};
}

void File::moveToNamed(const std::string& hdu) {
    char* end = nullptr;
    const long n = std::strtol(hdu.c_str(), &end, 10);
    if (!hdu.empty() && end && *end == 0) {
        if (n < 1 || n > hduCount())
            throw Error(path_ + ": no HDU " + hdu + " (HDUs are numbered 1 = primary to " + std::to_string(hduCount()) +
                        ")");
        moveTo(static_cast<int>(n));
        return;
    }
    auto lower = [](std::string t) {
        for (char& c : t)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return t;
    };
    int caseless = 0;
    for (int h = 1; h <= hduCount(); ++h) {
        moveTo(h);
        const std::string name = keyString("EXTNAME").value_or("");
        if (name == hdu) return;
        if (!caseless && lower(name) == lower(hdu)) caseless = h;
    }
    if (caseless) {
        moveTo(caseless);
        return;
    }
    throw Error(path_ + ": no HDU with EXTNAME " + hdu + " among its " + std::to_string(hduCount()) + " HDUs");
}

bool File::isCompressedImage() const {
    int status = 0;
    const int compressed = fits_is_compressed_image(ff(fptr_), &status);
    check(status, "checking for tile compression");
    return compressed != 0;
}

std::string File::hduLabel() const {
    int n = 0;
    fits_get_hdu_num(ff(fptr_), &n);
    std::string label = "HDU " + std::to_string(n);
    char value[FLEN_VALUE] = {};
    int status = 0;
    fits_write_errmark();
    fits_read_key(ff(fptr_), TSTRING, "EXTNAME", value, nullptr, &status);
    fits_clear_errmark();
    if (!status && value[0]) label += std::string(" (EXTNAME=") + value + ")";
    return label;
}

std::int64_t File::dataEnd() const {
    LONGLONG headStart = 0, dataStart = 0, end = 0;
    int status = 0;
    fits_get_hduaddrll(ff(fptr_), &headStart, &dataStart, &end, &status);
    check(status, "locating the data");
    return end;
}

// ---------------------------------------------------------------- header

bool File::hasKey(const std::string& keyword) const {
    char card[FLEN_CARD];
    int status = 0;
    fits_write_errmark();
    fits_read_card(ff(fptr_), keyword.c_str(), card, &status);
    fits_clear_errmark();
    if (status == KEY_NO_EXIST) return false;
    check(status, "looking for", keyword);
    return true;
}

std::optional<std::string> File::keyString(const std::string& keyword) const {
    if (!hasKey(keyword)) return std::nullopt;
    char* longstr = nullptr;
    int status = 0;
    fits_read_key_longstr(ff(fptr_), keyword.c_str(), &longstr, nullptr, &status);
    std::string out = longstr ? longstr : "";
    if (longstr) fits_free_memory(longstr, &status);
    check(status, "reading string", keyword);
    return out;
}

std::optional<double> File::keyDouble(const std::string& keyword) const {
    if (!hasKey(keyword)) return std::nullopt;
    double v = 0;
    int status = 0;
    fits_read_key(ff(fptr_), TDOUBLE, keyword.c_str(), &v, nullptr, &status);
    check(status, "reading number", keyword);
    return v;
}

std::optional<long long> File::keyInt(const std::string& keyword) const {
    if (!hasKey(keyword)) return std::nullopt;
    LONGLONG v = 0;
    int status = 0;
    fits_read_key(ff(fptr_), TLONGLONG, keyword.c_str(), &v, nullptr, &status);
    check(status, "reading integer", keyword);
    return v;
}

std::optional<bool> File::keyBool(const std::string& keyword) const {
    if (!hasKey(keyword)) return std::nullopt;
    int v = 0, status = 0;
    fits_read_key(ff(fptr_), TLOGICAL, keyword.c_str(), &v, nullptr, &status);
    check(status, "reading logical", keyword);
    return v != 0;
}

std::string File::requireString(const std::string& keyword) const {
    if (auto v = keyString(keyword)) return *v;
    fail(KEY_NO_EXIST, "missing required", keyword);
}
double File::requireDouble(const std::string& keyword) const {
    if (auto v = keyDouble(keyword)) return *v;
    fail(KEY_NO_EXIST, "missing required", keyword);
}
long long File::requireInt(const std::string& keyword) const {
    if (auto v = keyInt(keyword)) return *v;
    fail(KEY_NO_EXIST, "missing required", keyword);
}

std::vector<Card> File::cards() const {
    int nkeys = 0, status = 0;
    fits_get_hdrspace(ff(fptr_), &nkeys, nullptr, &status);
    check(status, "reading header size");
    std::vector<Card> out;
    out.reserve(static_cast<size_t>(nkeys));
    for (int i = 1; i <= nkeys; ++i) {
        char key[FLEN_KEYWORD] = {}, value[FLEN_VALUE] = {}, comment[FLEN_COMMENT] = {};
        fits_read_keyn(ff(fptr_), i, key, value, comment, &status);
        check(status, "reading header card " + std::to_string(i));
        out.push_back({key, value, comment});
    }
    return out;
}

std::string File::headerText(int* ncards) const {
    char* header = nullptr;
    int n = 0, status = 0;
    // For a tile-compressed image: the header of the image it holds, not of its table.
    fits_convert_hdr2str(ff(fptr_), 1, nullptr, 0, &header, &n, &status);
    std::string out = header ? header : "";
    if (header) {
        int s2 = 0;
        fits_free_memory(header, &s2);
    }
    check(status, "reading the header");
    if (ncards) *ncards = n;
    return out;
}

bool File::deleteKey(const std::string& keyword) {
    int status = 0;
    fits_delete_key(ff(fptr_), keyword.c_str(), &status);
    if (status == KEY_NO_EXIST) {
        fits_clear_errmsg();
        return false;
    }
    check(status, "deleting a keyword", keyword);
    return true;
}

void File::writeKey(const std::string& keyword, const KeyValue& value, const std::string& comment) {
    int status = 0;
    const char* c = comment.empty() ? nullptr : comment.c_str();
    std::visit(
        [&](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, std::string>) {
                if (v.size() > 68)
                    fits_update_key_longstr(ff(fptr_), keyword.c_str(), v.c_str(), c, &status);
                else
                    fits_update_key(ff(fptr_), TSTRING, keyword.c_str(), const_cast<char*>(v.c_str()), c, &status);
            } else if constexpr (std::is_same_v<V, double>) {
                if (!std::isfinite(v)) {
                    status = BAD_F2C; // FITS has no NaN or infinity in headers
                    return;
                }
                fits_update_key_dbl(ff(fptr_), keyword.c_str(), v, -15, c, &status);
            } else if constexpr (std::is_same_v<V, long long>) {
                fits_update_key_lng(ff(fptr_), keyword.c_str(), v, c, &status);
            } else {
                fits_update_key_log(ff(fptr_), keyword.c_str(), v ? 1 : 0, c, &status);
            }
        },
        value);
    check(status, "writing", keyword);
}

void File::writeCards(const std::string& cards) {
    for (size_t i = 0; i + 80 <= cards.size(); i += 80) {
        std::string card = cards.substr(i, 80);
        std::string key = card.substr(0, 8);
        key.erase(key.find_last_not_of(' ') + 1);
        if (key.empty() || key == "END") continue;
        int status = 0;
        if (key == "COMMENT" || key == "HISTORY")
            fits_write_record(ff(fptr_), card.c_str(), &status);
        else
            fits_update_card(ff(fptr_), key.c_str(), card.c_str(), &status);
        check(status, "writing card", key);
    }
}

void File::writeComment(const std::string& text) {
    int status = 0;
    fits_write_comment(ff(fptr_), text.c_str(), &status);
    check(status, "writing COMMENT");
}

void File::writeHistory(const std::string& text) {
    int status = 0;
    fits_write_history(ff(fptr_), text.c_str(), &status);
    check(status, "writing HISTORY");
}

// ---------------------------------------------------------------- images

ImageInfo File::imageInfo() const {
    ImageInfo info;
    int status = 0, naxis = 0;
    fits_get_img_type(ff(fptr_), &info.bitpix, &status);
    fits_get_img_equivtype(ff(fptr_), &info.equivalentBitpix, &status);
    fits_get_img_dim(ff(fptr_), &naxis, &status);
    check(status, "reading image geometry");
    info.axes.resize(static_cast<size_t>(naxis));
    if (naxis > 0) fits_get_img_size(ff(fptr_), naxis, info.axes.data(), &status);
    check(status, "reading image size");
    return info;
}

void File::appendEmptyImage() {
    int status = 0;
    fits_create_img(ff(fptr_), SHORT_IMG, 0, nullptr, &status);
    check(status, "creating an empty image HDU");
}

template <class T> void File::appendImage(const std::vector<long>& axes, const std::vector<T>& pixels, int moreKeys) {
    long n = 1;
    for (long a : axes)
        n *= a;
    if (static_cast<long>(pixels.size()) != n)
        throw Error(path_ + ": image of " + std::to_string(pixels.size()) + " pixels does not match its axes (" +
                    std::to_string(n) + ")");
    int status = 0;
    std::vector<long> ax = axes;
    fits_create_img(ff(fptr_), imageType<T>(), static_cast<int>(ax.size()), ax.data(), &status);
    check(status, "creating an image HDU");
    if (moreKeys > 0) fits_set_hdrsize(ff(fptr_), moreKeys, &status);
    check(status, "reserving header space");
    std::vector<long> first(ax.size(), 1);
    fits_write_pix(ff(fptr_), dataType<T>(), first.data(), n, const_cast<T*>(pixels.data()), &status);
    check(status, "writing pixels");
    dataSums_[currentHdu()] = dataChecksum(pixels);
}

template <class T> std::vector<T> File::readImage() const {
    const ImageInfo info = imageInfo();
    if (info.axes.empty()) return {};
    std::vector<T> out(static_cast<size_t>(info.pixels()));
    std::vector<long> first(info.axes.size(), 1);
    int status = 0, anynul = 0;
    if constexpr (std::is_floating_point_v<T>) {
        // Integer pixels equal to BLANK become NaN. Floating-point ones need no check: a NaN
        // stored is a NaN read (and the check costs a pass over the pixels).
        T nul = std::numeric_limits<T>::quiet_NaN();
        fits_read_pix(ff(fptr_), dataType<T>(), first.data(), info.pixels(), info.bitpix < 0 ? nullptr : &nul,
                      out.data(), &anynul, &status);
    } else {
        fits_read_pix(ff(fptr_), dataType<T>(), first.data(), info.pixels(), nullptr, out.data(), &anynul, &status);
    }
    check(status, "reading pixels");
    return out;
}

template <class T> std::vector<T> File::readPlane(long plane) const {
    const ImageInfo info = imageInfo();
    if (info.axes.empty()) throw Error(path_ + " " + hduLabel() + ": no pixels (NAXIS = 0)");
    const long planes = info.axes.size() > 2 ? info.axes[2] : 1;
    if (plane < 1 || plane > planes)
        throw Error(path_ + " " + hduLabel() + ": no plane " + std::to_string(plane) + " (it has " +
                    std::to_string(planes) + ")");
    std::vector<long> fpix(info.axes.size(), 1), lpix(info.axes.size(), 1), inc(info.axes.size(), 1);
    lpix[0] = info.axes[0];
    if (info.axes.size() > 1) lpix[1] = info.axes[1];
    if (info.axes.size() > 2) fpix[2] = lpix[2] = plane;
    const long ny = info.axes.size() > 1 ? info.axes[1] : 1;
    std::vector<T> out(static_cast<size_t>(info.axes[0] * ny));
    int status = 0, anynul = 0;
    if constexpr (std::is_floating_point_v<T>) {
        T nul = std::numeric_limits<T>::quiet_NaN();
        fits_read_subset(ff(fptr_), dataType<T>(), fpix.data(), lpix.data(), inc.data(),
                         info.bitpix < 0 ? nullptr : &nul, out.data(), &anynul, &status);
    } else {
        fits_read_subset(ff(fptr_), dataType<T>(), fpix.data(), lpix.data(), inc.data(), nullptr, out.data(), &anynul,
                         &status);
    }
    check(status, "reading plane " + std::to_string(plane));
    return out;
}

template <class T> std::vector<T> File::readSection(long x0, long y0, long x1, long y1) const {
    if (x1 < x0 || y1 < y0) throw Error(path_ + ": empty image section requested");
    long fpix[2] = {x0, y0}, lpix[2] = {x1, y1}, inc[2] = {1, 1};
    std::vector<T> out(static_cast<size_t>((x1 - x0 + 1) * (y1 - y0 + 1)));
    int status = 0, anynul = 0;
    if constexpr (std::is_floating_point_v<T>) {
        T nul = std::numeric_limits<T>::quiet_NaN();
        fits_read_subset(ff(fptr_), dataType<T>(), fpix, lpix, inc, &nul, out.data(), &anynul, &status);
    } else {
        fits_read_subset(ff(fptr_), dataType<T>(), fpix, lpix, inc, nullptr, out.data(), &anynul, &status);
    }
    check(status, "reading pixels [" + std::to_string(x0) + ":" + std::to_string(x1) + "," + std::to_string(y0) + ":" +
                      std::to_string(y1) + "]");
    return out;
}

// ---------------------------------------------------------------- tables

void File::appendTable(const std::string& extname, const std::vector<Column>& columns, long rows) {
    std::vector<char*> names, forms, units;
    for (const Column& c : columns) {
        names.push_back(const_cast<char*>(c.name.c_str()));
        forms.push_back(const_cast<char*>(c.format.c_str()));
        units.push_back(const_cast<char*>(c.unit.c_str()));
    }
    int status = 0;
    fits_create_tbl(ff(fptr_), BINARY_TBL, rows, static_cast<int>(columns.size()), names.data(), forms.data(),
                    units.data(), extname.c_str(), &status);
    check(status, "creating binary table " + extname);
}

long File::tableRows() const {
    long n = 0;
    int status = 0;
    fits_get_num_rows(ff(fptr_), &n, &status);
    check(status, "counting table rows");
    return n;
}

int File::columnNumber(const std::string& name) const {
    int col = 0, status = 0;
    fits_get_colnum(ff(fptr_), CASEINSEN, const_cast<char*>(name.c_str()), &col, &status);
    if (status) fail(status, "finding column '" + name + "'");
    return col;
}

template <class T> void File::writeColumn(const std::string& name, const std::vector<T>& values, long firstRow) {
    int status = 0;
    fits_write_col(ff(fptr_), dataType<T>(), columnNumber(name), firstRow, 1, static_cast<LONGLONG>(values.size()),
                   const_cast<T*>(values.data()), &status);
    check(status, "writing column '" + name + "'");
}

template <class T> std::vector<T> File::readColumn(const std::string& name) const {
    const long n = tableRows();
    std::vector<T> out(static_cast<size_t>(n));
    int status = 0, anynul = 0;
    fits_read_col(ff(fptr_), dataType<T>(), columnNumber(name), 1, 1, n, nullptr, out.data(), &anynul, &status);
    check(status, "reading column '" + name + "'");
    return out;
}

void File::writeStringColumn(const std::string& name, const std::vector<std::string>& values, long firstRow) {
    std::vector<char*> ptrs;
    for (const auto& s : values)
        ptrs.push_back(const_cast<char*>(s.c_str()));
    int status = 0;
    fits_write_col(ff(fptr_), TSTRING, columnNumber(name), firstRow, 1, static_cast<LONGLONG>(values.size()),
                   ptrs.data(), &status);
    check(status, "writing column '" + name + "'");
}

void File::writeLogicalColumn(const std::string& name, const std::vector<signed char>& values, long firstRow) {
    std::vector<char> v(values.begin(), values.end());
    char undefined = -1;
    int status = 0;
    fits_write_colnull(ff(fptr_), TLOGICAL, columnNumber(name), firstRow, 1, static_cast<LONGLONG>(v.size()), v.data(),
                       &undefined, &status);
    check(status, "writing column '" + name + "'");
}

std::vector<std::string> File::readStringColumn(const std::string& name) const {
    const int col = columnNumber(name);
    int status = 0, typecode = 0;
    long repeat = 0, width = 0;
    fits_get_eqcoltype(ff(fptr_), col, &typecode, &repeat, &width, &status);
    check(status, "reading type of column '" + name + "'");
    const long n = tableRows();
    std::vector<std::vector<char>> buffers(static_cast<size_t>(n), std::vector<char>(static_cast<size_t>(repeat) + 1));
    std::vector<char*> ptrs;
    for (auto& b : buffers)
        ptrs.push_back(b.data());
    int anynul = 0;
    char nul[] = "";
    fits_read_col(ff(fptr_), TSTRING, col, 1, 1, n, nul, ptrs.data(), &anynul, &status);
    check(status, "reading column '" + name + "'");
    std::vector<std::string> out;
    out.reserve(ptrs.size());
    for (char* p : ptrs)
        out.emplace_back(p);
    return out;
}

// ---------------------------------------------------------------- checksums

void File::writeChecksum() {
    int status = 0;
    fitsfile* f = ff(fptr_);
    const auto known = dataSums_.find(currentHdu());
    if (known == dataSums_.end()) {
        // Not written here (a table, or a file opened for update): cfitsio reads the data.
        fits_write_chksum(f, &status);
        check(status, "writing CHECKSUM/DATASUM");
        resealHeader();
        return;
    }
    sealHeader(known->second);
}

void File::resealHeader() {
    int status = 0;
    char value[FLEN_VALUE] = {}, comment[FLEN_COMMENT] = {};
    fits_read_key_str(ff(fptr_), "DATASUM", value, comment, &status);
    if (status == KEY_NO_EXIST) {
        fits_clear_errmsg();
        dataSums_.erase(currentHdu());
        writeChecksum();
        return;
    }
    check(status, "reading DATASUM");
    sealHeader(static_cast<unsigned long>(std::strtoull(value, nullptr, 10)));
}

void File::sealHeader(unsigned long dataSum) {
    // cfitsio dates the comments of CHECKSUM and DATASUM; ours are fixed, so that the same
    // content always gives the same bytes (a simulation with a given seed is reproducible
    // to the byte). The header's sum is taken from its cards, as they will be stored:
    // cfitsio's own (fits_get_chksum) would read the data unit again.
    fitsfile* f = ff(fptr_);
    int status = 0;
    char datasum[32];
    std::snprintf(datasum, sizeof datasum, "%lu", dataSum);
    fits_update_key_str(f, "CHECKSUM", const_cast<char*>("0000000000000000"), "HDU checksum", &status);
    fits_update_key_str(f, "DATASUM", datasum, "data unit checksum", &status);
    fits_set_hdustruc(f, &status); // END and the blank fill in place, the data's start known
    LONGLONG headStart = 0, dataStart = 0, dataEnd = 0;
    fits_get_hduaddrll(f, &headStart, &dataStart, &dataEnd, &status);
    int keys = 0;
    fits_get_hdrspace(f, &keys, nullptr, &status);
    check(status, "writing CHECKSUM/DATASUM");
    std::string header;
    header.reserve(static_cast<std::size_t>(dataStart - headStart));
    char card[FLEN_CARD];
    for (int k = 1; k <= keys; ++k) {
        fits_read_record(f, k, card, &status);
        std::string c(card);
        c.resize(80, ' ');
        header += c;
    }
    check(status, "reading the header for its checksum");
    header += "END";
    header.resize(static_cast<std::size_t>(dataStart - headStart), ' ');
    char sealed[17];
    fits_encode_chksum(headerChecksum(header, dataSum), TRUE, sealed);
    fits_modify_key_str(f, "CHECKSUM", sealed, "&", &status);
    check(status, "writing CHECKSUM/DATASUM");
}

bool File::verifyChecksum() const {
    int dataok = 0, hduok = 0, status = 0;
    fits_verify_chksum(ff(fptr_), &dataok, &hduok, &status);
    check(status, "verifying CHECKSUM/DATASUM");
    return dataok == 1 && hduok == 1;
}

#define PAUDM_FITS_PIXEL_TYPES(X)                                                                                      \
    X(std::uint8_t) X(std::int16_t) X(std::uint16_t) X(std::int32_t) X(std::uint32_t) X(std::int64_t) X(float) X(double)
#define PAUDM_INSTANTIATE(T)                                                                                           \
    template void File::appendImage<T>(const std::vector<long>&, const std::vector<T>&, int);                          \
    template std::vector<T> File::readImage<T>() const;                                                                \
    template std::vector<T> File::readSection<T>(long, long, long, long) const;                                        \
    template std::vector<T> File::readPlane<T>(long) const;                                                            \
    template void File::writeColumn<T>(const std::string&, const std::vector<T>&, long);                               \
    template std::vector<T> File::readColumn<T>(const std::string&) const;
PAUDM_FITS_PIXEL_TYPES(PAUDM_INSTANTIATE)
#undef PAUDM_INSTANTIATE
#undef PAUDM_FITS_PIXEL_TYPES

} // namespace paudm::fits
