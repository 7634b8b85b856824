#pragma once
// Writing a file so that readers see either nothing or all of it: the content goes to a
// temporary name in the same folder, is fsynced, and is renamed into place.
#include "common/error.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace paudm {

/// A file written in pieces (an export of millions of rows) under a temporary name beside
/// `path`, renamed to `path` only by commit(). Destroyed without commit(), it removes the
/// temporary file: an interrupted or failed write never leaves a partial file under the
/// final name, nor a stray one beside it. Writes are buffered. Errors name the file.
class AtomicFile {
public:
    explicit AtomicFile(std::string path);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(std::string_view bytes);
    /// Flushes, fsyncs, renames into place and fsyncs the folder.
    void commit();
    std::int64_t bytesWritten() const { return written_; }
    const std::string& path() const { return path_; }
    /// The temporary file's name, for writers that need a path of their own (cfitsio).
    const std::string& temporaryPath() const { return tmp_; }

private:
    void flush();
    [[noreturn]] void fail(const char* doing);

    std::string path_, tmp_;
    int fd_ = -1;
    std::string buffer_;
    std::int64_t written_ = 0;
};

/// Writes `content` to `path` atomically (see above). Errors name the file.
void writeFileAtomically(const std::string& path, std::string_view content);
/// fsyncs a folder, so that renames into it survive a power cut.
void syncDirectory(const std::string& dir);
/// The folder part of a path ("." for a bare name).
std::string folderOf(const std::string& path);

} // namespace paudm
