// A file from the buffer into the archive: verified or quarantined, never half there.
#include "archive/checksum.h"
#include "archive/layout.h"
#include "transfer/verified_copy.h"

#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <unistd.h>

using namespace paudm;
using namespace paudm::transfer;
using Status = CopyOutcome::Status;

namespace {

std::string makeFile(const QTemporaryDir& dir, const char* name, std::size_t size, unsigned seed = 1) {
    std::string bytes(size, '\0');
    std::uint32_t x = seed;
    for (auto& b : bytes) {
        x = x * 1664525u + 1013904223u;
        b = static_cast<char>(x >> 24);
    }
    const std::string path = dir.filePath(name).toStdString();
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
}

std::string contents(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

QStringList entries(const QString& folder) {
    return QDir(folder).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot);
}

} // namespace

class TestVerifiedCopy : public QObject {
    Q_OBJECT
private slots:
    void goodFileIsCopiedAndVerified() {
        QTemporaryDir dir;
        const std::string src = makeFile(dir, "a.fits", 9'000'000);
        const auto sum = archive::adler32File(src);
        const std::string dst = dir.filePath("archive/raw/20261124_001/a.fits").toStdString();
        const auto r = copyVerified(src, dst, 9'000'000, sum, dir.filePath("q").toStdString());
        QCOMPARE(r.status, Status::Copied);
        QCOMPARE(r.bytes, std::int64_t(9'000'000));
        QCOMPARE(r.adler32, sum);
        QVERIFY(contents(dst) == contents(src));
        QCOMPARE(entries(dir.filePath("archive/raw/20261124_001")), QStringList{"a.fits"}); // no temporary left
        // Again: the verified file is kept, nothing copied.
        QCOMPARE(copyVerified(src, dst, 9'000'000, sum, dir.filePath("q").toStdString()).status, Status::AlreadyThere);
    }

    void flippedByteGoesToQuarantine() {
        QTemporaryDir dir;
        const std::string src = makeFile(dir, "b.fits", 100'000);
        const auto sum = archive::adler32File(src);
        {
            std::fstream f(src, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(54'321);
            char c;
            f.seekg(54'321);
            f.get(c);
            f.seekp(54'321);
            f.put(static_cast<char>(c ^ 0x10));
        }
        const std::string dst = dir.filePath("raw/b.fits").toStdString();
        const std::string q = dir.filePath("quarantine").toStdString();
        const auto r = copyVerified(src, dst, 100'000, sum, q);
        QCOMPARE(r.status, Status::Quarantined);
        QVERIFY2(r.problem.find("b.fits") != std::string::npos &&
                     r.problem.find(archive::formatAdler32(sum)) != std::string::npos,
                 r.problem.c_str());
        QVERIFY(!QFile::exists(QString::fromStdString(dst)));
        QVERIFY(entries(dir.filePath("raw")).isEmpty());
        QCOMPARE(entries(QString::fromStdString(q)), QStringList{"b.fits"});
    }

    void wrongSizeIsNamed() {
        QTemporaryDir dir;
        const std::string src = makeFile(dir, "c.fits", 1000);
        const auto r = copyVerified(src, dir.filePath("raw/c.fits").toStdString(), 1001, archive::adler32File(src),
                                    dir.filePath("q").toStdString());
        QCOMPARE(r.status, Status::Quarantined);
        QVERIFY2(r.problem.find("size 1000 instead of 1001") != std::string::npos, r.problem.c_str());
    }

    void archiveFileThatDoesNotMatchIsLeftAlone() {
        QTemporaryDir dir;
        const std::string src = makeFile(dir, "d.fits", 1000);
        const std::string dst = dir.filePath("raw/d.fits").toStdString();
        QDir().mkpath(dir.filePath("raw"));
        makeFile(dir, "raw/d.fits", 1000, 2);
        const std::string before = contents(dst);
        try {
            copyVerified(src, dst, 1000, archive::adler32File(src), dir.filePath("q").toStdString());
            QFAIL("a mismatching archive file was accepted");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("does not match") != std::string::npos, e.what());
        }
        QVERIFY(contents(dst) == before);
    }

    void missingSourceIsAnErrorNamingIt() {
        QTemporaryDir dir;
        try {
            copyVerified(dir.filePath("nope.fits").toStdString(), dir.filePath("raw/nope.fits").toStdString(), 1, 1,
                         dir.filePath("q").toStdString());
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("nope.fits") != std::string::npos, e.what());
        }
        QVERIFY(entries(dir.filePath("raw")).isEmpty());
    }

    void fullDiskLeavesNothingBehind() {
        if (::geteuid() != 0) QSKIP("needs root to mount a small tmpfs");
        QTemporaryDir dir;
        const QString mnt = dir.filePath("small");
        QDir().mkpath(mnt);
        if (QProcess::execute("mount", {"-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt}) != 0)
            QSKIP("cannot mount a tmpfs here (a container without CAP_SYS_ADMIN)");
        const std::string src = makeFile(dir, "big.fits", 3'000'000);
        const std::string dst = (mnt + "/raw/big.fits").toStdString();
        QString message;
        try {
            copyVerified(src, dst, 3'000'000, archive::adler32File(src), (mnt + "/q").toStdString());
        } catch (const Error& e) {
            message = e.what();
            QCOMPARE(e.code(), std::string("ENOSPC"));
        }
        const QStringList left = entries(mnt + "/raw");
        QProcess::execute("umount", {mnt});
        QVERIFY2(message.contains("big.fits") && message.contains("No space left"), qPrintable(message));
        QVERIFY2(left.isEmpty(), qPrintable(left.join(", ")));
    }

    void stalePartialsAreCleaned() {
        QTemporaryDir dir;
        makeFile(dir, ".e.fits.partial-abc123", 10);
        makeFile(dir, "e.fits", 10);
        QCOMPARE(removeStalePartials(dir.path().toStdString()), 1);
        QCOMPARE(entries(dir.path()), QStringList{"e.fits"});
    }

    void archiveRootResolution() {
        qputenv("PAUDM_ARCHIVE", "/srv/pau/archive/");
        QCOMPARE(archive::ArchiveLayout::resolve().rawDir("20261124_001"), std::string("/srv/pau/archive/raw/20261124_001"));
        QCOMPARE(archive::ArchiveLayout::resolve("/copy").reducedDir("DR1", "20261124_001"),
                 std::string("/copy/red/DR1/20261124_001"));
        qunsetenv("PAUDM_ARCHIVE");
        qputenv("PAUDM_HOME", "/home/x/paudm");
        QCOMPARE(archive::ArchiveLayout::resolve().root(), std::string("/home/x/paudm/archive"));
    }
};

QTEST_GUILESS_MAIN(TestVerifiedCopy)
#include "test_verified_copy.moc"
