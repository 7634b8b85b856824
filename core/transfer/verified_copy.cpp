#include "transfer/verified_copy.h"

#include "archive/checksum.h"
#include "common/atomic_file.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace paudm::transfer {

namespace {

namespace fs = std::filesystem;

std::string folderOf(const std::string& path) { return fs::path(path).parent_path().string(); }
std::string nameOf(const std::string& path) { return fs::path(path).filename().string(); }

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

std::int64_t sizeOf(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}

std::string sys(const std::string& path, const char* doing, int err) {
    return path + ": " + doing + ": " + std::strerror(err);
}

/// True (and `out` filled) when `destination` holds the expected bytes already; an error
/// when it holds others (something changed the archive: it is left alone).
bool alreadyThere(const std::string& destination, std::int64_t expectedSize, std::uint32_t expectedAdler32,
                  CopyOutcome& out) {
    if (sizeOf(destination) < 0) return false;
    const std::uint32_t sum = archive::adler32File(destination);
    if (sizeOf(destination) == expectedSize && sum == expectedAdler32) {
        out.status = CopyOutcome::Status::AlreadyThere;
        out.bytes = expectedSize;
        out.adler32 = sum;
        return true;
    }
    throw Error(destination + ": already in the archive but does not match the obs-set YAML (size " +
                    std::to_string(sizeOf(destination)) + ", Adler32 " + archive::formatAdler32(sum) + "; expected " +
                    std::to_string(expectedSize) + ", " + archive::formatAdler32(expectedAdler32) + "); left as it is",
                "archive-mismatch");
}

/// A complete, fsynced file at `tmp` whose size and Adler32 are in `out`: renamed to
/// `destination` when they are what the YAML says, else moved to the quarantine folder.
void placeOrQuarantine(const std::string& tmp, const std::string& sourceName, const std::string& destination,
                       std::int64_t expectedSize, std::uint32_t expectedAdler32, const std::string& quarantineDir,
                       CopyOutcome& out) {
    const std::int64_t total = out.bytes;
    const std::uint32_t sum = out.adler32;
    std::error_code ec;
    if (total != expectedSize || sum != expectedAdler32) {
        out.status = CopyOutcome::Status::Quarantined;
        out.problem = sourceName + ": " +
                      (total != expectedSize ? "size " + std::to_string(total) + " instead of " + std::to_string(expectedSize)
                                             : std::string()) +
                      (total != expectedSize && sum != expectedAdler32 ? ", " : "") +
                      (sum != expectedAdler32 ? "Adler32 " + archive::formatAdler32(sum) + " instead of " +
                                                    archive::formatAdler32(expectedAdler32)
                                              : std::string()) +
                      " (from the obs-set YAML)";
        fs::create_directories(quarantineDir, ec);
        const std::string q = quarantineDir + "/" + nameOf(destination);
        if (ec || ::rename(tmp.c_str(), q.c_str()) != 0) {
            ::unlink(tmp.c_str());
            out.path.clear();
        } else {
            out.path = q;
        }
    } else {
        if (::rename(tmp.c_str(), destination.c_str()) != 0) {
            const int err = errno;
            ::unlink(tmp.c_str());
            throw Error(sys(destination, "cannot rename into place", err), "errno");
        }
        syncDirectory(folderOf(destination));
        out.status = CopyOutcome::Status::Copied;
    }
}

} // namespace

CopyOutcome copyVerified(const std::string& source, const std::string& destination, std::int64_t expectedSize,
                         std::uint32_t expectedAdler32, const std::string& quarantineDir,
                         const std::function<bool()>& cancelled) {
    const auto start = std::chrono::steady_clock::now();
    CopyOutcome out;
    out.path = destination;
    if (alreadyThere(destination, expectedSize, expectedAdler32, out)) return out;
    std::error_code ec;
    fs::create_directories(folderOf(destination), ec);
    if (ec) throw Error(folderOf(destination) + ": cannot create the archive folder: " + ec.message(), "errno");

    Fd in;
    in.fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    if (in.fd < 0) throw Error(sys(source, "cannot open in the buffer", errno), "errno");
    ::posix_fadvise(in.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    std::string tmp = folderOf(destination) + "/." + nameOf(destination) + ".partial-XXXXXX";
    Fd outFd;
    outFd.fd = ::mkstemp(tmp.data());
    if (outFd.fd < 0) throw Error(sys(destination, "cannot create a temporary file beside it", errno), "errno");
    auto abandon = [&](const std::string& message, const char* code) -> Error {
        ::close(outFd.fd);
        outFd.fd = -1;
        ::unlink(tmp.c_str());
        return Error(message, code);
    };

    // Reserve the space first: a full disk shows up before any byte is written.
    if (expectedSize > 0 && ::fallocate(outFd.fd, FALLOC_FL_KEEP_SIZE, 0, expectedSize) != 0 && errno == ENOSPC)
        throw abandon(sys(destination, ("no room for " + std::to_string(expectedSize) + " bytes").c_str(), ENOSPC),
                      "ENOSPC");
    constexpr std::size_t kBlock = 4 << 20;
    std::unique_ptr<unsigned char[]> buffer(new unsigned char[kBlock]);
    std::uint32_t sum = 1;
    std::int64_t total = 0;
    for (;;) {
        // Streaming writes: start the writeback of each block as soon as it is written
        // and wait for the one before, so that the final fsync has little left to do
        // and the disk works while the next block is read and summed.
        if (total >= static_cast<std::int64_t>(2 * kBlock)) {
            const off64_t older = total - 2 * static_cast<off64_t>(kBlock);
            ::sync_file_range(outFd.fd, older, kBlock,
                              SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
            ::posix_fadvise(outFd.fd, older, kBlock, POSIX_FADV_DONTNEED);
        }
        if (cancelled && cancelled()) throw abandon(destination + ": transfer cancelled", "cancelled");
        const ssize_t n = ::read(in.fd, buffer.get(), kBlock);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw abandon(sys(source, "read failed", errno), "errno");
        }
        if (n == 0) break;
        sum = archive::adler32(buffer.get(), static_cast<std::size_t>(n), sum);
        total += n;
        for (ssize_t done = 0; done < n;) {
            const ssize_t w = ::write(outFd.fd, buffer.get() + done, static_cast<std::size_t>(n - done));
            if (w < 0) {
                if (errno == EINTR) continue;
                throw abandon(sys(destination, "write failed", errno), errno == ENOSPC ? "ENOSPC" : "errno");
            }
            done += w;
        }
        ::sync_file_range(outFd.fd, total - n, n, SYNC_FILE_RANGE_WRITE);
    }
    if (::fchmod(outFd.fd, 0644) != 0 || ::fsync(outFd.fd) != 0)
        throw abandon(sys(destination, "fsync failed", errno), errno == ENOSPC ? "ENOSPC" : "errno");
    if (::close(outFd.fd) != 0) {
        outFd.fd = -1;
        const int err = errno;
        ::unlink(tmp.c_str());
        throw Error(sys(destination, "close failed", err), "errno");
    }
    outFd.fd = -1;
    out.bytes = total;
    out.adler32 = sum;
    placeOrQuarantine(tmp, nameOf(source), destination, expectedSize, expectedAdler32, quarantineDir, out);
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
}

CopyOutcome placeFetched(const std::string& staged, const std::string& destination, std::int64_t expectedSize,
                         std::uint32_t expectedAdler32, const std::string& quarantineDir) {
    const auto start = std::chrono::steady_clock::now();
    CopyOutcome out;
    out.path = destination;
    if (alreadyThere(destination, expectedSize, expectedAdler32, out)) {
        ::unlink(staged.c_str());
        return out;
    }
    out.bytes = sizeOf(staged);
    if (out.bytes < 0) throw Error(staged + ": the transport did not deliver it", "ENOENT");
    out.adler32 = archive::adler32File(staged);
    Fd fd;
    fd.fd = ::open(staged.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd.fd < 0 || ::fsync(fd.fd) != 0) throw Error(sys(staged, "fsync failed", errno), "errno");
    placeOrQuarantine(staged, nameOf(destination), destination, expectedSize, expectedAdler32, quarantineDir, out);
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
}

int removeStalePartials(const std::string& folder) {
    int removed = 0;
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.starts_with(".") && name.find(".partial-") != std::string::npos && fs::remove(it->path(), ec)) ++removed;
    }
    return removed;
}

} // namespace paudm::transfer
