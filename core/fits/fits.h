#pragma once
// cfitsio behind RAII. One File per thread: a fitsfile handle must never be shared.
//
// Every cfitsio status becomes a paudm::Error in one place, with the file, the HDU (number
// and EXTNAME), the keyword or column when there is one, and cfitsio's own message.
// HDU numbers are 1-based as in FITS: 1 is the primary HDU.
#include "common/error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace paudm::fits {

enum class HduType { Image, AsciiTable, BinaryTable };

struct Card {
    std::string keyword;
    std::string value; ///< as written (strings keep their quotes)
    std::string comment;
};

/// A keyword value to write.
using KeyValue = std::variant<std::string, double, long long, bool>;

struct ImageInfo {
    int bitpix = 0;           ///< as stored (16, 32, -32, ...)
    int equivalentBitpix = 0; ///< after BZERO/BSCALE (e.g. 20 = USHORT_IMG for BZERO 32768)
    std::vector<long> axes;   ///< NAXISn
    long pixels() const;
};

struct Column {
    std::string name;
    std::string format; ///< TFORM, e.g. "1D", "1J", "20A"
    std::string unit;
};

/// "file.fits[3]" or "file.fits[CCD07A]" -> {"file.fits", "3" or "CCD07A"}; without a
/// bracketed suffix, {spec, ""}.
std::pair<std::string, std::string> splitHduSpec(const std::string& spec);

class File {
public:
    /// Opens an existing file (the path may carry cfitsio's extended syntax only if
    /// `extended` is true; plain paths are taken literally).
    static File open(const std::string& path, bool writable = false);
    /// Creates a new file. It is written under a temporary name in the same folder and
    /// renamed to `path` only by close(), after CHECKSUM/DATASUM of every HDU: an
    /// interrupted write never leaves a partial file under the final name.
    static File create(const std::string& path, bool overwrite = false);

    File() = default;
    File(File&&) noexcept;
    File& operator=(File&&) noexcept;
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    /// Closes a file opened for reading; a created file that was not close()d is removed.
    ~File();
    /// Finishes the file: for a created file, writes checksums, closes and renames into place.
    void close();

    const std::string& path() const { return path_; }
    int hduCount() const;
    /// Throws, naming the file, when it is shorter than its headers say: the data of its
    /// last HDU runs past the end, or the primary's NEXTEND counts more extensions than
    /// there are (a copy cut short, a disk that filled up).
    void requireComplete();
    void moveTo(int hdu);
    int currentHdu() const;
    HduType hduType() const;
    /// "HDU 3 (EXTNAME=CCD01A)", for messages.
    std::string hduLabel() const;
    /// Moves to the HDU a user named: a number (1 = primary) or an EXTNAME (exactly, else
    /// ignoring case). Throws, naming the file and what it has, when there is none.
    void moveToNamed(const std::string& hdu);
    /// True for a tile-compressed image (cfitsio shows it as an image HDU and decompresses
    /// it on reading).
    bool isCompressedImage() const;
    /// Byte offset where the current HDU's data (padded to 2880) ends, as its header says.
    /// For the last HDU, a value beyond the file size means the file was cut short.
    std::int64_t dataEnd() const;

    // ---- header of the current HDU
    bool hasKey(const std::string& keyword) const;
    std::optional<std::string> keyString(const std::string& keyword) const;
    std::optional<double> keyDouble(const std::string& keyword) const;
    std::optional<long long> keyInt(const std::string& keyword) const;
    std::optional<bool> keyBool(const std::string& keyword) const;
    /// The same, but a missing keyword is an error that names file, HDU and keyword.
    std::string requireString(const std::string& keyword) const;
    double requireDouble(const std::string& keyword) const;
    long long requireInt(const std::string& keyword) const;
    std::vector<Card> cards() const;
    /// The whole header as 80-character cards, for wcslib.
    std::string headerText(int* ncards = nullptr) const;
    void writeKey(const std::string& keyword, const KeyValue& value, const std::string& comment = {});
    /// Writes header cards given as 80-character records (e.g. Wcs::toHeader()),
    /// replacing keywords that exist already.
    void writeCards(const std::string& cards);
    void writeComment(const std::string& text);
    void writeHistory(const std::string& text);
    /// Removes a keyword from the current HDU; false if it was not there.
    bool deleteKey(const std::string& keyword);

    // ---- images
    ImageInfo imageInfo() const;
    /// Appends an image HDU of the pixel type of T (uint16_t is stored as BITPIX 16 with
    /// BZERO 32768, as FITS requires) and writes its pixels, row-major, x fastest. The
    /// header keeps room for `moreKeys` keywords written after the pixels (the default, a
    /// block of 36): beyond its room, each new 2880-byte block of header moves the whole
    /// data unit down the file. The pixels' checksum is taken here, from memory.
    template <class T> void appendImage(const std::vector<long>& axes, const std::vector<T>& pixels, int moreKeys = 36);
    /// Appends an image HDU with no data (a primary header for a MEF).
    void appendEmptyImage();
    /// Reads the whole image of the current HDU as T, with BZERO/BSCALE applied; NaN for
    /// BLANK pixels when T is floating point.
    template <class T> std::vector<T> readImage() const;
    /// Reads a rectangle [x0, x1] x [y0, y1] (1-based, inclusive).
    template <class T> std::vector<T> readSection(long x0, long y0, long x1, long y1) const;
    /// Reads plane `plane` (1-based) of a cube: the NAXIS1 x NAXIS2 image at that index of
    /// the third axis (the first along any higher one). Plane 1 of a 2-D image is the image.
    template <class T> std::vector<T> readPlane(long plane) const;

    // ---- binary tables
    void appendTable(const std::string& extname, const std::vector<Column>& columns, long rows = 0);
    long tableRows() const;
    int columnNumber(const std::string& name) const;
    template <class T> void writeColumn(const std::string& name, const std::vector<T>& values, long firstRow = 1);
    template <class T> std::vector<T> readColumn(const std::string& name) const;
    void writeStringColumn(const std::string& name, const std::vector<std::string>& values, long firstRow = 1);
    std::vector<std::string> readStringColumn(const std::string& name) const;
    /// A logical (TFORM L) column: 1 true, 0 false, -1 undefined (FITS's null logical).
    void writeLogicalColumn(const std::string& name, const std::vector<signed char>& values, long firstRow = 1);

    // ---- integrity
    /// DATASUM and CHECKSUM of the current HDU (with fixed comments, so that the same
    /// content gives the same bytes). The data's sum comes from memory for an image this
    /// File wrote with appendImage, else from reading the data unit back.
    void writeChecksum();
    /// CHECKSUM again after header changes, the data untouched: DATASUM is trusted (as
    /// cfitsio's fits_update_chksum does) and the data not read. Without a DATASUM, the
    /// same as writeChecksum().
    void resealHeader();
    /// True when DATASUM and CHECKSUM of the current HDU are present and correct.
    bool verifyChecksum() const;

private:
    [[noreturn]] void fail(int status, const std::string& doing, const std::string& keyword = {}) const;
    void check(int status, const std::string& doing, const std::string& keyword = {}) const {
        if (status) fail(status, doing, keyword);
    }
    void finish(bool keep);

    void sealHeader(unsigned long dataSum);

    void* fptr_ = nullptr;                  ///< fitsfile*, kept opaque so no public header needs fitsio.h
    std::string path_;                      ///< final path
    std::string tmpPath_;                   ///< for a created file, where it is being written
    std::map<int, unsigned long> dataSums_; ///< HDU -> checksum of the data appendImage wrote
};

} // namespace paudm::fits
