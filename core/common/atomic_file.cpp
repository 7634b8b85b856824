#include "common/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace paudm {

namespace {
constexpr std::size_t kBufferBytes = 1 << 20;
} // namespace

std::string folderOf(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), tmp_(folderOf(path_) + "/.tmp-XXXXXX") {
    fd_ = ::mkstemp(tmp_.data());
    if (fd_ < 0)
        throw Error(path_ + ": cannot create a temporary file beside it: " + std::strerror(errno), "errno");
    buffer_.reserve(kBufferBytes);
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(tmp_.c_str());
    }
}

void AtomicFile::fail(const char* doing) {
    const int err = errno;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(tmp_.c_str());
    throw Error(path_ + ": " + doing + ": " + std::strerror(err), "errno");
}

void AtomicFile::flush() {
    const char* p = buffer_.data();
    std::size_t left = buffer_.size();
    while (left > 0) {
        const ssize_t n = ::write(fd_, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write failed");
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    buffer_.clear();
}

void AtomicFile::write(std::string_view bytes) {
    if (fd_ < 0) throw Error(path_ + ": write after the file was finished");
    written_ += static_cast<std::int64_t>(bytes.size());
    if (buffer_.size() + bytes.size() > kBufferBytes) {
        flush();
        if (bytes.size() > kBufferBytes) {
            buffer_.assign(bytes);
            flush();
            return;
        }
    }
    buffer_.append(bytes);
}

void AtomicFile::commit() {
    if (fd_ < 0) throw Error(path_ + ": commit after the file was finished");
    flush();
    if (::fchmod(fd_, 0644) != 0) fail("chmod failed");
    if (::fsync(fd_) != 0) fail("fsync failed");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp_.c_str());
        throw Error(path_ + ": close failed: " + std::strerror(err), "errno");
    }
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp_.c_str());
        throw Error(path_ + ": cannot rename into place: " + std::strerror(err), "errno");
    }
    syncDirectory(folderOf(path_));
}

void writeFileAtomically(const std::string& path, std::string_view content) {
    AtomicFile f(path);
    f.write(content);
    f.commit();
}

void syncDirectory(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw Error(dir + ": cannot open folder: " + std::strerror(errno), "errno");
    ::fsync(fd);
    ::close(fd);
}

} // namespace paudm
