// Adler32 and the obs-set YAML: the checksums the transfer verifies against.
#include "archive/checksum.h"
#include "archive/obs_set.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace paudm;
using namespace paudm::archive;

namespace {
/// Adler32 straight from its definition (RFC 1950, section 8.2), one byte at a time.
std::uint32_t bruteAdler32(const std::string& bytes) {
    std::uint32_t a = 1, b = 0;
    for (unsigned char c : bytes) {
        a = (a + c) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}
} // namespace

class TestArchive : public QObject {
    Q_OBJECT
private slots:
    void adler32MatchesTheDefinition() {
        // The value published for "Wikipedia" (the example of the Adler-32 article).
        QCOMPARE(adler32("Wikipedia", 9), 0x11E60398u);
        std::string big(3'000'000, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
        QTemporaryDir dir;
        const std::string path = dir.filePath("big.bin").toStdString();
        std::ofstream(path, std::ios::binary).write(big.data(), static_cast<std::streamsize>(big.size()));
        QCOMPARE(adler32File(path), bruteAdler32(big));
        QCOMPARE(adler32File(path), adler32(big.data(), big.size()));
    }

    void checksumsKeepTheirLeadingZeros() {
        QCOMPARE(formatAdler32(0x00e1f2a3u), std::string("00e1f2a3"));
        QCOMPARE(formatAdler32(0), std::string("00000000"));
        QCOMPARE(parseAdler32("00e1f2a3"), 0x00e1f2a3u);
        QCOMPARE(parseAdler32("E1F2A3"), 0x00e1f2a3u); // written without its zeros
        QVERIFY_THROWS_EXCEPTION(Error, parseAdler32("0x1234"));
        QVERIFY_THROWS_EXCEPTION(Error, parseAdler32("123456789"));
    }

    void manifestRoundTripsThroughYaml() {
        ObsSetManifest m;
        m.obsSet = "20261124_001";
        m.night = "2026-11-24";
        m.date = "2026-11-25T06:00:00Z";
        m.operatorName = "op";
        m.project = "PAUS";
        m.notes = "clouds: after 3h";
        // "00e12345" reads as the float 0 (0e12345) and "00001234" as the integer 1234 to a
        // YAML reader that is not told they are strings: the leading-zero trap.
        m.files = {{"a.fits", "bias", 123, 0x00e12345u}, {"b.fits", "science", 456, 0x00001234u}};
        const std::string yaml = m.toYaml();
        QVERIFY2(yaml.find("'00e12345'") != std::string::npos, yaml.c_str());
        const ObsSetManifest back = ObsSetManifest::fromYaml(yaml, "test.yaml");
        QCOMPARE(back.obsSet, m.obsSet);
        QCOMPARE(back.notes, m.notes);
        QCOMPARE(back.files.size(), std::size_t(2));
        QCOMPARE(back.files[0].adler32, 0x00e12345u);
        QCOMPARE(back.files[1].adler32, 0x00001234u);
        QCOMPARE(back.files[1].size, std::int64_t(456));
        // Unquoted in a file written by another tool: still the hexadecimal text.
        const auto other = ObsSetManifest::fromYaml("obs_set: 20261124_002\nnight: 2026-11-24\nfiles:\n"
                                                    "  - {name: x.fits, kind: flat, size: 10, adler32: 00e12345}\n",
                                                    "other.yaml");
        QCOMPARE(other.files[0].adler32, 0x00e12345u);
    }

    void badManifestsAreRefusedWithTheLineAndField() {
        auto message = [](const std::string& text) {
            try {
                ObsSetManifest::fromYaml(text, "set.yaml");
            } catch (const Error& e) {
                return std::string(e.what());
            }
            return std::string("accepted");
        };
        const std::string head = "obs_set: 20261124_001\nnight: 2026-11-24\nfiles:\n";
        std::string m = message(head + "  - {name: a.fits, kind: bias, size: 1}\n");
        QVERIFY2(m.find("set.yaml") != std::string::npos && m.find("line 4") != std::string::npos &&
                     m.find("adler32") != std::string::npos, m.c_str());
        m = message(head + "  - {name: a.fits, kind: dark, size: 1, adler32: '00000001'}\n");
        QVERIFY2(m.find("unknown kind 'dark'") != std::string::npos, m.c_str());
        m = message(head + "  - {name: ../a.fits, kind: bias, size: 1, adler32: '00000001'}\n");
        QVERIFY2(m.find("plain name") != std::string::npos, m.c_str());
        m = message(head + "  - {name: a.fits, kind: bias, size: 1, adler32: '1'}\n  - {name: a.fits, kind: bias, "
                           "size: 1, adler32: '1'}\n");
        QVERIFY2(m.find("listed twice") != std::string::npos, m.c_str());
        m = message("obs_set: 20261124_001\nnight: [2026\nfiles: x\n");
        QVERIFY2(m.find("not valid YAML") != std::string::npos && m.find("line") != std::string::npos, m.c_str());
        m = message("obs_set: tonight\nnight: 2026-11-24\nfiles: []\n");
        QVERIFY2(m.find("YYYYMMDD_NNN") != std::string::npos, m.c_str());
    }

    void obsSetNames() {
        QCOMPARE(obsSetName("2026-11-24", 3), std::string("20261124_003"));
        std::string night;
        int counter = 0;
        QVERIFY(parseObsSetName("20261124_012", &night, &counter));
        QCOMPARE(night, std::string("2026-11-24"));
        QCOMPARE(counter, 12);
        QVERIFY(!parseObsSetName("20261124-012"));
        QVERIFY(!parseObsSetName("20261124_000"));
    }
};

QTEST_APPLESS_MAIN(TestArchive)
#include "test_archive.moc"
