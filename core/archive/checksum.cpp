#include "archive/checksum.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <unistd.h>

namespace paudm::archive {

std::uint32_t adler32(const void* data, std::size_t size, std::uint32_t previous) {
    return static_cast<std::uint32_t>(::adler32_z(previous, static_cast<const Bytef*>(data), size));
}

std::uint32_t adler32File(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path + ": cannot open for checksumming: " + std::strerror(errno), "errno");
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    constexpr std::size_t kBlock = 4 << 20;
    std::unique_ptr<unsigned char[]> buffer(new unsigned char[kBlock]);
    std::uint32_t sum = 1;
    for (;;) {
        const ssize_t n = ::read(fd, buffer.get(), kBlock);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            ::close(fd);
            throw Error(path + ": read failed while checksumming: " + std::strerror(err), "errno");
        }
        if (n == 0) break;
        sum = adler32(buffer.get(), static_cast<std::size_t>(n), sum);
    }
    ::close(fd);
    return sum;
}

std::string formatAdler32(std::uint32_t value) {
    char text[9];
    std::snprintf(text, sizeof text, "%08x", value);
    return text;
}

std::uint32_t parseAdler32(std::string_view text) {
    if (text.empty() || text.size() > 8)
        throw Error("Adler32 checksum '" + std::string(text) + "' is not 1 to 8 hexadecimal digits");
    std::uint32_t v = 0;
    for (char c : text) {
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else throw Error("Adler32 checksum '" + std::string(text) + "' is not hexadecimal");
        v = (v << 4) | static_cast<std::uint32_t>(d);
    }
    return v;
}

} // namespace paudm::archive
