// core/fits over cfitsio: image round trips of every pixel type, a 72-extension MEF with
// checksums that fitsverify accepts, tables, and clear errors on bad files.
#include "fits/fits.h"

#include <QtTest>

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

using paudm::Error;
using paudm::fits::File;

namespace {

template <class T> std::vector<T> ramp(long n) {
    // Spans the type's range, both ends included, so that BZERO/BSCALE mistakes show.
    std::vector<T> v(static_cast<size_t>(n));
    const long double lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
    for (long i = 0; i < n; ++i) {
        if constexpr (std::is_integral_v<T>)
            v[static_cast<size_t>(i)] = static_cast<T>(lo + (hi - lo) * i / (n - 1));
        else
            v[static_cast<size_t>(i)] = static_cast<T>(std::sin(i * 0.37) * std::pow(10.0, (i % 60) - 30));
    }
    return v;
}

} // namespace

class TestFits : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString path(const QString& name) const { return dir_.filePath(name); }

    template <class T> void roundTrip(int expectBitpix, int expectEquiv) {
        const std::string file = path(QString("img%1.fits").arg(expectEquiv)).toStdString();
        const auto pixels = ramp<T>(64 * 48);
        {
            File f = File::create(file);
            f.appendImage<T>({64, 48}, pixels);
            f.writeKey("EXPTIME", 45.0, "exposure time (s)");
            f.close();
        }
        File f = File::open(file);
        const auto info = f.imageInfo();
        QCOMPARE(info.bitpix, expectBitpix);
        QCOMPARE(info.equivalentBitpix, expectEquiv);
        QCOMPARE(info.axes, (std::vector<long>{64, 48}));
        QVERIFY(f.verifyChecksum());
        QCOMPARE(f.readImage<T>(), pixels); // bit-exact
        QCOMPARE(*f.keyDouble("EXPTIME"), 45.0);
        // A section reads the same pixels as the full image: row 10, columns 5..9.
        const auto sec = f.readSection<T>(5, 10, 9, 10);
        for (int i = 0; i < 5; ++i)
            QCOMPARE(sec[static_cast<size_t>(i)], pixels[static_cast<size_t>(9 * 64 + 4 + i)]);
    }

private slots:
    void int16RoundTrip() { roundTrip<std::int16_t>(16, 16); }
    // Unsigned 16-bit is stored as BITPIX 16 with BZERO 32768, as raw PAUCam mosaics are.
    void uint16RoundTrip() {
        roundTrip<std::uint16_t>(16, 20);
        File f = File::open(path("img20.fits").toStdString());
        QCOMPARE(*f.keyDouble("BZERO"), 32768.0);
        QCOMPARE(*f.keyInt("BITPIX"), 16LL);
    }
    void int32RoundTrip() { roundTrip<std::int32_t>(32, 32); }
    void float32RoundTrip() { roundTrip<float>(-32, -32); }
    void float64RoundTrip() { roundTrip<double>(-64, -64); }

    // DATASUM is taken from the pixels in memory: for every pixel type, sizes that leave a
    // partial last word, and a header that outgrows the room kept for it (the data unit
    // moves), cfitsio reading the file back agrees. A header changed later is resealed
    // without reading the data, and still verifies.
    void checksumsFromMemoryAsCfitsioReadsThem() {
        const std::string file = path("sums.fits").toStdString();
        {
            File f = File::create(file);
            f.appendEmptyImage();
            f.appendImage<std::uint8_t>({7, 5}, ramp<std::uint8_t>(35));
            f.appendImage<std::int16_t>({7, 5}, ramp<std::int16_t>(35));
            f.appendImage<std::uint16_t>({7, 5}, ramp<std::uint16_t>(35));
            f.appendImage<std::int32_t>({7, 5}, ramp<std::int32_t>(35));
            f.appendImage<std::uint32_t>({7, 5}, ramp<std::uint32_t>(35));
            f.appendImage<std::int64_t>({7, 5}, ramp<std::int64_t>(35));
            auto floats = ramp<float>(35);
            floats[3] = std::numeric_limits<float>::quiet_NaN();
            f.appendImage<float>({7, 5}, floats);
            f.appendImage<double>({7, 5}, ramp<double>(35), 0);
            for (int k = 0; k < 100; ++k)
                f.writeKey("KEY" + std::to_string(k), static_cast<long long>(k));
            f.close();
        }
        {
            File f = File::open(file);
            QCOMPARE(f.hduCount(), 9);
            for (int h = 1; h <= 9; ++h) {
                f.moveTo(h);
                QVERIFY2(f.verifyChecksum(), qPrintable(QString("HDU %1").arg(h)));
            }
            QCOMPARE(*f.keyInt("KEY99"), 99LL);
        }
        {
            File f = File::open(file, true);
            f.moveTo(8);
            f.writeKey("LATER", std::string("after the fact"));
            f.resealHeader();
            f.close();
        }
        File f = File::open(file);
        f.moveTo(8);
        QVERIFY(f.verifyChecksum());
        QCOMPARE(*f.keyString("LATER"), std::string("after the fact"));
    }

    void scaledIntegersReadAsPhysical() {
        // BSCALE/BZERO applied on read: stored 0..9 with BSCALE 0.5, BZERO 100 -> 100..104.5.
        const std::string file = path("scaled.fits").toStdString();
        {
            File f = File::create(file);
            f.appendImage<std::int16_t>({10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
            f.writeKey("BSCALE", 0.5);
            f.writeKey("BZERO", 100.0);
            f.close();
        }
        File f = File::open(file);
        const auto v = f.readImage<double>();
        for (int i = 0; i < 10; ++i)
            QCOMPARE(v[static_cast<size_t>(i)], 100.0 + 0.5 * i);
    }

    void mosaicOf72Extensions() {
        const std::string file = path("mosaic.fits").toStdString();
        std::mt19937 rng(7);
        std::uniform_int_distribution<int> adu(1000, 60000);
        std::vector<std::vector<std::uint16_t>> amps;
        {
            File f = File::create(file);
            f.appendEmptyImage();
            f.writeKey("INSTRUME", std::string("PAUCam"));
            f.writeKey("NEXTEND", 72LL);
            for (int ccd = 1; ccd <= 18; ++ccd)
                for (int amp = 1; amp <= 4; ++amp) {
                    std::vector<std::uint16_t> px(40 * 30);
                    for (auto& p : px)
                        p = static_cast<std::uint16_t>(adu(rng));
                    f.appendImage<std::uint16_t>({40, 30}, px);
                    f.writeKey("EXTNAME", QString("CCD%1_%2").arg(ccd, 2, 10, QChar('0')).arg(amp).toStdString());
                    f.writeKey("CCDNUM", static_cast<long long>(ccd));
                    f.writeKey("AMPNUM", static_cast<long long>(amp));
                    f.writeKey("DATASEC", std::string("[1:32,1:30]"));
                    f.writeKey("BIASSEC", std::string("[33:40,1:30]"));
                    amps.push_back(std::move(px));
                }
            f.close();
        }
        File f = File::open(file);
        QCOMPARE(f.hduCount(), 73);
        for (int h = 1; h <= 73; ++h) {
            f.moveTo(h);
            QVERIFY2(f.verifyChecksum(), qPrintable(QString("HDU %1").arg(h)));
        }
        f.moveTo(1 + 4 * 6 + 3); // CCD 7, amplifier 3
        QCOMPARE(*f.keyString("EXTNAME"), std::string("CCD07_3"));
        QCOMPARE(*f.keyInt("CCDNUM"), 7LL);
        QCOMPARE(f.readImage<std::uint16_t>(), amps[static_cast<size_t>(4 * 6 + 2)]);
        QCOMPARE(f.hduLabel(), std::string("HDU 28 (EXTNAME=CCD07_3)"));

        const QString fitsverify = QStandardPaths::findExecutable("fitsverify");
        if (fitsverify.isEmpty()) QSKIP("fitsverify is not installed (packaging/install-deps.sh installs it)");
        QProcess p;
        p.start(fitsverify, {"-q", QString::fromStdString(file)});
        QVERIFY(p.waitForFinished(60000));
        const QString out = p.readAll();
        QVERIFY2(out.contains("verification OK"), qPrintable(out));
        QCOMPARE(p.exitCode(), 0);
    }

    void binaryTableRoundTrip() {
        const std::string file = path("table.fits").toStdString();
        const std::vector<double> ra = {150.1, 150.2, 150.3};
        const std::vector<std::int32_t> flags = {0, 4, 2147483647};
        const std::vector<std::string> names = {"NB455", "NB845", "r"};
        {
            File f = File::create(file);
            f.appendEmptyImage();
            f.appendTable("DETECTIONS", {{"RA", "1D", "deg"}, {"FLAGS", "1J", ""}, {"BAND", "8A", ""}});
            f.writeColumn("RA", ra);
            f.writeColumn("FLAGS", flags);
            f.writeStringColumn("BAND", names);
            f.close();
        }
        File f = File::open(file);
        f.moveTo(2);
        QVERIFY(f.hduType() == paudm::fits::HduType::BinaryTable);
        QCOMPARE(f.tableRows(), 3L);
        QCOMPARE(f.readColumn<double>("ra"), ra);
        QCOMPARE(f.readColumn<std::int32_t>("FLAGS"), flags);
        QCOMPARE(f.readStringColumn("BAND"), names);
        QVERIFY(f.verifyChecksum());
    }

    void unfinishedFileNeverAppears() {
        const std::string file = path("unfinished.fits").toStdString();
        {
            File f = File::create(file);
            f.appendImage<float>({4, 4}, std::vector<float>(16, 1.0f));
            QVERIFY(!std::filesystem::exists(file)); // written under a temporary name
        }                                            // destroyed without close(): abandoned
        QVERIFY(!std::filesystem::exists(file));
        const auto left = QDir(dir_.path()).entryList({"unfinished.fits*"});
        QVERIFY2(left.isEmpty(), qPrintable(left.join(",")));
    }

    void createRefusesToOverwrite() {
        const std::string file = path("exists.fits").toStdString();
        { std::ofstream(file) << "x"; }
        QVERIFY_THROWS_EXCEPTION(Error, File::create(file));
    }

    void missingKeywordNamesFileHduKeyword() {
        const std::string file = path("mef-missing.fits").toStdString();
        {
            File f = File::create(file);
            f.appendEmptyImage();
            f.appendImage<std::int16_t>({2, 2}, {1, 2, 3, 4});
            f.writeKey("EXTNAME", std::string("CCD03_1"));
            f.close();
        }
        File f = File::open(file);
        f.moveTo(2);
        try {
            f.requireDouble("GAIN");
            QFAIL("no error");
        } catch (const Error& e) {
            const QString msg = e.what();
            QVERIFY2(msg.contains("mef-missing.fits"), qPrintable(msg));
            QVERIFY2(msg.contains("HDU 2 (EXTNAME=CCD03_1)"), qPrintable(msg));
            QVERIFY2(msg.contains("GAIN"), qPrintable(msg));
        }
        QVERIFY(!f.keyDouble("GAIN").has_value());
    }

    void corruptFilesGiveClearErrors_data() {
        QTest::addColumn<QString>("kind");
        QTest::newRow("truncated") << "truncated";
        QTest::newRow("not fits") << "garbage";
        QTest::newRow("empty") << "empty";
        QTest::newRow("missing") << "missing";
    }
    void corruptFilesGiveClearErrors() {
        QFETCH(QString, kind);
        const std::string good = path("good.fits").toStdString();
        if (!std::filesystem::exists(good)) {
            File f = File::create(good);
            f.appendImage<float>({100, 100}, std::vector<float>(10000, 3.0f));
            f.close();
        }
        const std::string bad = path("bad-" + kind + ".fits").toStdString();
        if (kind == "truncated") {
            std::filesystem::copy_file(good, bad, std::filesystem::copy_options::overwrite_existing);
            std::filesystem::resize_file(bad, 2880 + 1000); // header and part of the data
        } else if (kind == "garbage") {
            std::ofstream(bad) << std::string(5000, 'z');
        } else if (kind == "empty") {
            std::ofstream{bad};
        }
        try {
            File f = File::open(bad);
            (void)f.readImage<float>();
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains(QString::fromStdString(bad)), e.what()); // names the file
            QVERIFY(!e.code().empty());
        }
    }
};

QTEST_GUILESS_MAIN(TestFits)
#include "test_fits.moc"
