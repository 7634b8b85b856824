// Registering raw mosaics in PAUdb: the transfer task hands each obs set to a register job,
// whose sub-jobs read the headers; checked against the simulator's truth, against an
// independent footprint computation and against bad and foreign files.
#include "jobtest.h"

#include "archive/checksum.h"
#include "archive/obs_set.h"
#include "fits/fits.h"
#include "pipelines/pixelsim/simulator.h"
#include "pipelines/register/register.h"
#include "transfer/transfer.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace paudm;
namespace fs = std::filesystem;

namespace {

constexpr double kPixelScaleDeg = 0.263 / 3600;

pipelines::pixelsim::NightOptions smallNight(const QTemporaryDir& dir, const std::string& night) {
    pipelines::pixelsim::NightOptions o;
    o.buffer = dir.filePath("buffer").toStdString();
    o.truth = dir.filePath("truth").toStdString();
    o.night = night;
    o.geometry = pipelines::paucam::Geometry::Small;
    o.bias = 2;
    o.flatsPerTray = 1;
    o.trays = {"FT_NB455_NB525"};
    o.science = 3;
    return o;
}

/// Submits a `transfer` job of the buffer into the archive and runs runners until idle.
std::int64_t transferAndRegister(const std::string& conninfo, const std::string& buffer, const std::string& archive) {
    db::Connection c = db::Connection::open(conninfo);
    jobs::JobStore store(c);
    jobs::NewJob j;
    j.name = "transfer";
    j.config = {{"buffer", QString::fromStdString(buffer)}, {"archive", QString::fromStdString(archive)}, {"streams", 2}};
    const std::int64_t id = store.create(j, true);
    test::runUntilIdle(conninfo, 2);
    return id;
}

std::int64_t registerJobOf(db::Connection& c, const std::string& obsSet) {
    return c.query("SELECT id FROM job WHERE name = 'register' AND config ->> 'obs_set' = $1 ORDER BY id DESC LIMIT 1",
                   obsSet)
        .toInt(0, 0);
}

std::string errorOf(db::Connection& c, std::int64_t id) {
    const auto r = c.query("SELECT error FROM job_attempt WHERE job_id = $1 AND error IS NOT NULL ORDER BY id DESC LIMIT 1", id);
    return r.size() ? std::string(r.text(0, 0)) : test::tagOf(c, id, "traceback");
}

QJsonObject readJson(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) throw Error(path + ": cannot read");
    return QJsonDocument::fromJson(f.readAll()).object();
}

/// A minimal mosaic written by hand: a primary header and `extensions` 8x4 images.
void writeMosaic(const std::string& path, bool withObstype, bool withCcdnum, long long ccdnum = 1, int extensions = 2) {
    auto f = fits::File::create(path, true);
    f.appendEmptyImage();
    if (withObstype) f.writeKey("OBSTYPE", std::string("science"));
    f.writeKey("DATE-OBS", std::string("2026-01-10T22:00:00.000"));
    f.writeKey("NEXTEND", static_cast<long long>(extensions));
    for (int e = 1; e <= extensions; ++e) {
        f.appendImage<std::uint16_t>({8, 4}, std::vector<std::uint16_t>(32, 1000));
        if (withCcdnum) f.writeKey("CCDNUM", ccdnum);
        f.writeKey("IMAGEID", static_cast<long long>(e));
    }
    f.close();
}

std::string messageOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

} // namespace

class TestRegister : public QObject {
    Q_OBJECT
private slots:
    void simulatedNightIsTransferredAndRegisteredThroughTheEngine() {
        QTemporaryDir dir;
        const std::string conninfo = test::freshJobDatabase("register_night");
        const auto o = smallNight(dir, "2026-01-10");
        const auto night = pipelines::pixelsim::simulateNight(o);
        const std::string archive = dir.filePath("archive").toStdString();
        const std::int64_t transferId = transferAndRegister(conninfo, o.buffer, archive);
        db::Connection c = db::Connection::open(conninfo);
        QCOMPARE(test::statusOf(c, transferId), std::string("DONE"));
        const std::int64_t reg = registerJobOf(c, night.obsSet);
        QVERIFY2(reg > 0, "the transfer job created no register job");
        QCOMPARE(test::statusOf(c, reg), std::string("DONE"));
        // One register_mosaic sub-job per file of the YAML.
        QCOMPARE(c.query("SELECT count(*) FROM job WHERE super_id = $1 AND name = 'register_mosaic' AND status = 'DONE'", reg)
                     .toInt(0, 0),
                 std::int64_t(night.contents.files.size()));

        const auto set = c.query("SELECT id, night::text, registered IS NOT NULL, rjd_start, rjd_stop, archive_path, operator "
                                 "FROM obs_set WHERE obs_set = $1", night.obsSet);
        QCOMPARE(set.size(), 1);
        QCOMPARE(std::string(set.text(0, 1)), o.night);
        QVERIFY(set.toBool(0, 2));
        QCOMPARE(std::string(set.text(0, 5)), "raw/" + night.obsSet);
        const std::int64_t setId = set.toInt(0, 0);

        // Every mosaic row against the simulator's truth for its file.
        double rjdMin = 1e99, rjdMax = -1e99;
        for (const auto& file : night.contents.files) {
            const QJsonObject t = readJson(night.truthFolder + "/" + file.name + ".json");
            const auto m = c.query(
                "SELECT id, kind, exp_num, filtertray, exp_time, rjd_obs, ra, dec, airmass, nextend, instrument, "
                "date_obs::text, archivepath, equinox, guide_enabled FROM mosaic WHERE obs_set_id = $1 AND filename = $2 "
                "AND production_id IS NULL",
                setId, file.name);
            QVERIFY2(m.size() == 1, file.name.c_str());
            QCOMPARE(std::string(m.text(0, 1)), file.kind);
            QCOMPARE(m.toInt(0, 2), static_cast<std::int64_t>(t["expnum"].toDouble()));
            QCOMPARE(std::string(m.text(0, 3)), t["filter_tray"].toString().toStdString());
            QVERIFY(std::fabs(m.toDouble(0, 4) - t["exptime"].toDouble()) < 1e-3);
            // rjd = JD - 2400000 = MJD + 0.5, to the 1e-7 day the truth carries.
            QVERIFY2(std::fabs(m.toDouble(0, 5) - (t["mjd"].toDouble() + 0.5)) < 2e-7, file.name.c_str());
            rjdMin = std::min(rjdMin, m.toDouble(0, 5));
            rjdMax = std::max(rjdMax, m.toDouble(0, 5));
            QVERIFY(std::fabs(m.toDouble(0, 6) - t["nominal_ra"].toDouble()) < 1e-7);
            QCOMPARE(m.toInt(0, 9), std::int64_t(72));
            QCOMPARE(std::string(m.text(0, 10)), std::string("PAUCam"));
            QCOMPARE(std::string(m.text(0, 11)), t["date_obs"].toString().left(10).toStdString());
            QCOMPARE(std::string(m.text(0, 12)), "raw/" + night.obsSet);
            QCOMPARE(m.toDouble(0, 13), 2000.0);
            QCOMPARE(m.toBool(0, 14), file.kind == "science");

            const auto img = c.query("SELECT count(*), count(DISTINCT image_num), min(ccd_num), max(ccd_num), "
                                     "count(*) FILTER (WHERE amp_num BETWEEN 1 AND 4), min(naxis1), max(naxis2), "
                                     "count(*) FILTER (WHERE waveband = 'narrow' AND wavelength > 400), "
                                     "count(*) FILTER (WHERE gain > 0 AND rdnoise > 0) FROM image WHERE mosaic_id = $1",
                                     m.toInt(0, 0));
            QCOMPARE(img.toInt(0, 0), std::int64_t(72));
            QCOMPARE(img.toInt(0, 1), std::int64_t(72));
            QCOMPARE(img.toInt(0, 2), std::int64_t(1));
            QCOMPARE(img.toInt(0, 3), std::int64_t(18));
            QCOMPARE(img.toInt(0, 4), std::int64_t(72));
            QCOMPARE(img.toInt(0, 5), std::int64_t(128 + 16)); // small amplifier: 128 columns + 16 overscan
            QCOMPARE(img.toInt(0, 6), std::int64_t(256));
            QCOMPARE(img.toInt(0, 7), std::int64_t(32)); // narrow bands on the central 8 CCDs, broad ones around
            QCOMPARE(img.toInt(0, 8), std::int64_t(72));
        }
        QVERIFY(std::fabs(set.toDouble(0, 3) - rjdMin) < 1e-9);
        QVERIFY(std::fabs(set.toDouble(0, 4) - rjdMax) < 1e-9);

        // Footprints: the header WCS is a TAN of 0.263"/px without rotation, so an
        // amplifier spans naxis1 x scale / cos(dec) in RA and naxis2 x scale in Dec.
        const auto fp = c.query("SELECT i.ra_min, i.ra_max, i.dec_min, i.dec_max, i.naxis1, i.naxis2 FROM image i "
                                "JOIN mosaic m ON m.id = i.mosaic_id WHERE m.obs_set_id = $1 AND m.kind = 'science'",
                                setId);
        QVERIFY(fp.size() == 3 * 72);
        double worst = 0;
        for (int i = 0; i < fp.size(); ++i) {
            const double decMid = (fp.toDouble(i, 2) + fp.toDouble(i, 3)) / 2;
            const double wantRa = fp.toDouble(i, 4) * kPixelScaleDeg / std::cos(decMid * M_PI / 180);
            const double wantDec = fp.toDouble(i, 5) * kPixelScaleDeg;
            worst = std::max({worst, std::fabs((fp.toDouble(i, 1) - fp.toDouble(i, 0)) / wantRa - 1),
                              std::fabs((fp.toDouble(i, 3) - fp.toDouble(i, 2)) / wantDec - 1)});
        }
        QVERIFY2(worst < 2e-3, qPrintable(QString("worst footprint size error %1").arg(worst)));

        // Registering again changes nothing and says so; the night reduced completely, it is
        // not reduced again either.
        const auto before = c.exec("SELECT xmin::text FROM obs_set UNION ALL SELECT xmin::text FROM mosaic "
                                   "UNION ALL SELECT count(*)::text FROM image UNION ALL SELECT count(*)::text FROM job "
                                   "WHERE name = 'nightly'");
        jobs::JobStore store(c);
        jobs::NewJob again;
        again.name = "register";
        again.config = {{"obs_set", QString::fromStdString(night.obsSet)}, {"archive", QString::fromStdString(archive)}};
        const std::int64_t againId = store.create(again, true);
        test::runUntilIdle(conninfo, 2);
        QCOMPARE(test::statusOf(c, againId), std::string("DONE"));
        const auto detail = store.show(againId);
        QVERIFY(detail->output["already_registered"].toBool());
        QCOMPARE(detail->row.subjobs, std::int64_t(0));
        const auto after = c.exec("SELECT xmin::text FROM obs_set UNION ALL SELECT xmin::text FROM mosaic "
                                  "UNION ALL SELECT count(*)::text FROM image UNION ALL SELECT count(*)::text FROM job "
                                  "WHERE name = 'nightly'");
        QCOMPARE(after.size(), before.size());
        for (int i = 0; i < after.size(); ++i) QCOMPARE(after.text(i, 0), before.text(i, 0));
    }

    void flippedByteIsQuarantinedTheRestRegisteredAndTheRegisterJobNamesIt() {
        QTemporaryDir dir;
        const std::string conninfo = test::freshJobDatabase("register_flipped");
        const auto o = smallNight(dir, "2026-01-11");
        const auto night = pipelines::pixelsim::simulateNight(o);
        const std::string victim = night.contents.files[2].name;
        {
            std::fstream f(night.folder + "/" + victim, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(200'000);
            f.put('\x7f');
        }
        const std::string archive = dir.filePath("archive").toStdString();
        const std::int64_t transferId = transferAndRegister(conninfo, o.buffer, archive);
        db::Connection c = db::Connection::open(conninfo);
        QCOMPARE(test::statusOf(c, transferId), std::string("DONE"));
        // The transfer's QC says a file was quarantined.
        const auto qc = c.query("SELECT value, qc_pass FROM quality_control WHERE job_id = $1 AND check_name = 'files_quarantined'",
                                transferId);
        QCOMPARE(qc.toDouble(0, 0), 1.0);
        QVERIFY(!qc.toBool(0, 1));
        const std::int64_t reg = registerJobOf(c, night.obsSet);
        QCOMPARE(test::statusOf(c, reg), std::string("FAILED"));
        const std::string error = errorOf(c, reg);
        QVERIFY2(error.find(victim + ": listed in the YAML, not registered") != std::string::npos, error.c_str());
        QVERIFY2(error.find("quarantine") != std::string::npos, error.c_str());
        // The other files are registered; the obs set is not marked registered.
        QCOMPARE(c.query("SELECT count(*) FROM mosaic m JOIN obs_set s ON s.id = m.obs_set_id WHERE s.obs_set = $1",
                         night.obsSet)
                     .toInt(0, 0),
                 std::int64_t(night.contents.files.size() - 1));
        QVERIFY(c.query("SELECT registered IS NULL FROM obs_set WHERE obs_set = $1", night.obsSet).toBool(0, 0));

        // Once the observatory re-sends the file, a new morning run completes the obs set.
        fs::copy_file(night.folder + "/" + victim, dir.filePath("keep").toStdString());
        pipelines::pixelsim::NightOptions again = o;
        again.buffer = dir.filePath("fresh").toStdString();
        again.truth.clear();
        const auto fresh = pipelines::pixelsim::simulateNight(again);
        QCOMPARE(fresh.obsSet, night.obsSet);
        fs::copy_file(fresh.folder + "/" + victim, night.folder + "/" + victim, fs::copy_options::overwrite_existing);
        transferAndRegister(conninfo, o.buffer, archive);
        QCOMPARE(test::statusOf(c, registerJobOf(c, night.obsSet)), std::string("DONE"));
        QVERIFY(c.query("SELECT registered IS NOT NULL FROM obs_set WHERE obs_set = $1", night.obsSet).toBool(0, 0));
    }

    void yamlListingAMissingFileIsNamed() {
        QTemporaryDir dir;
        const std::string conninfo = test::freshJobDatabase("register_missing");
        const auto o = smallNight(dir, "2026-01-12");
        const auto night = pipelines::pixelsim::simulateNight(o);
        const std::string gone = night.contents.files[0].name;
        QVERIFY(fs::remove(night.folder + "/" + gone));
        const std::string archive = dir.filePath("archive").toStdString();
        transferAndRegister(conninfo, o.buffer, archive);
        db::Connection c = db::Connection::open(conninfo);
        const auto f = c.query("SELECT status, error FROM transfer_file WHERE obs_set = $1 AND filename = $2", night.obsSet, gone);
        QCOMPARE(std::string(f.text(0, 0)), std::string("FAILED"));
        QVERIFY2(std::string(f.text(0, 1)).find(gone) != std::string::npos, std::string(f.text(0, 1)).c_str());
        const std::int64_t reg = registerJobOf(c, night.obsSet);
        QCOMPARE(test::statusOf(c, reg), std::string("FAILED"));
        const std::string error = errorOf(c, reg);
        QVERIFY2(error.find(gone + ": listed in the YAML, not registered") != std::string::npos, error.c_str());
        QVERIFY2(error.find(gone + ": not in the archive") != std::string::npos, error.c_str());
    }

    void malformedYamlIsNamedAndNothingIsRegistered() {
        QTemporaryDir dir;
        const std::string conninfo = test::freshJobDatabase("register_bad_yaml");
        const auto o = smallNight(dir, "2026-01-13");
        const auto night = pipelines::pixelsim::simulateNight(o);
        {
            std::ofstream y(night.manifest, std::ios::app);
            y << "files: [this is: not: yaml\n";
        }
        const std::string archive = dir.filePath("archive").toStdString();
        const std::int64_t transferId = transferAndRegister(conninfo, o.buffer, archive);
        db::Connection c = db::Connection::open(conninfo);
        const auto t = c.query("SELECT status, error FROM transfer_obs_set WHERE obs_set = $1", night.obsSet);
        QCOMPARE(std::string(t.text(0, 0)), std::string("FAILED"));
        QVERIFY2(std::string(t.text(0, 1)).find(night.manifest) != std::string::npos, std::string(t.text(0, 1)).c_str());
        // No register job for an obs set whose YAML never arrived, nothing in PAUdb.
        QCOMPARE(c.query("SELECT count(*) FROM job WHERE name = 'register'").toInt(0, 0), std::int64_t(0));
        QCOMPARE(c.exec("SELECT count(*) FROM obs_set").toInt(0, 0), std::int64_t(0));
        const auto qc = c.query("SELECT value FROM quality_control WHERE job_id = $1 AND check_name = 'obs_sets_unreadable'",
                                transferId);
        QCOMPARE(qc.toDouble(0, 0), 1.0);
    }

    void badFilesAreRefusedNamingFileHduAndKeyword() {
        QTemporaryDir dir;
        const std::string base = dir.filePath("x").toStdString();

        writeMosaic(base + "1.fits", false, true);
        std::string e = messageOf([&] { pipelines::reg::readMosaic(base + "1.fits"); });
        QVERIFY2(e.find(base + "1.fits HDU 1: keyword OBSTYPE") != std::string::npos, e.c_str());

        writeMosaic(base + "2.fits", true, false);
        e = messageOf([&] { pipelines::reg::readMosaic(base + "2.fits"); });
        QVERIFY2(e.find(base + "2.fits HDU 2: keyword CCDNUM is missing") != std::string::npos, e.c_str());

        // Cut short: the last extension's data is promised by its header but not there.
        writeMosaic(base + "3.fits", true, true);
        fs::resize_file(base + "3.fits", fs::file_size(base + "3.fits") - 2880);
        e = messageOf([&] { pipelines::reg::readMosaic(base + "3.fits"); });
        QVERIFY2(e.find(base + "3.fits") != std::string::npos && e.find("cut short") != std::string::npos, e.c_str());
        // Cut inside a header: cfitsio cannot even reach the HDU.
        writeMosaic(base + "4.fits", true, true);
        fs::resize_file(base + "4.fits", 2880 + 2880 + 1000);
        e = messageOf([&] { pipelines::reg::readMosaic(base + "4.fits"); });
        QVERIFY2(e.find(base + "4.fits") != std::string::npos, e.c_str());

        // A value that fits the header but not PAUdb (ccd_num is a smallint): the mosaic row
        // inserted first is rolled back with the failed image rows.
        writeMosaic(base + "5.fits", true, true, 70000);
        const auto m = pipelines::reg::readMosaic(base + "5.fits");
        QCOMPARE(m.images.size(), std::size_t(2));
        const std::string conninfo = test::freshJobDatabase("register_rollback");
        db::Connection c = db::Connection::open(conninfo);
        archive::ObsSetManifest manifest;
        manifest.obsSet = "20260110_001";
        manifest.night = "2026-01-10";
        const int setId = pipelines::reg::ensureObsSet(c, manifest);
        e = messageOf([&] { pipelines::reg::insertMosaic(c, setId, "raw/20260110_001", m); });
        QVERIFY2(!e.empty(), "a CCD number beyond smallint was accepted");
        QCOMPARE(c.exec("SELECT count(*) FROM mosaic").toInt(0, 0), std::int64_t(0));
        QCOMPARE(c.exec("SELECT count(*) FROM image").toInt(0, 0), std::int64_t(0));
        QCOMPARE(pipelines::reg::ensureObsSet(c, manifest), setId); // once
    }

    void foreignFitsFilesAreReadOrRefusedByName() {
        // Debian's python3-astropy ships FITS files from many instruments and of many
        // shapes (tables, random groups, compressed images, deliberately broken ones).
        const QString data = "/usr/lib/python3/dist-packages/astropy/io/fits/tests/data";
        QVERIFY2(QDir(data).exists(), "python3-astropy is not installed (packaging/install-deps.sh installs it)");
        int read = 0, refused = 0;
        QDirIterator it(data, {"*.fits"}, QDir::Files);
        while (it.hasNext()) {
            const std::string path = it.next().toStdString();
            const std::string e = messageOf([&] { pipelines::reg::readMosaic(path); });
            if (e.empty()) {
                ++read;
                continue;
            }
            ++refused;
            qInfo("refused: %s", e.c_str());
            QVERIFY2(e.find(path) != std::string::npos, e.c_str());
        }
        qInfo("%d foreign files read, %d refused with their name", read, refused);
        QVERIFY(read + refused >= 25);

        // Most stop at the missing OBSTYPE. To take each one's extensions (tables, random
        // groups, compressed images, odd WCS) through the rest of the reader, give copies
        // the two primary keywords a PAUCam mosaic must have.
        QTemporaryDir dir;
        int deeper = 0, deeperRead = 0;
        QDirIterator again(data, {"*.fits"}, QDir::Files);
        while (again.hasNext()) {
            const QString source = again.next();
            const std::string path = dir.filePath(QFileInfo(source).fileName()).toStdString();
            fs::copy_file(source.toStdString(), path, fs::copy_options::overwrite_existing);
            fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
            const std::string opened = messageOf([&] {
                auto f = fits::File::open(path, true);
                f.writeKey("OBSTYPE", std::string("science"));
                f.writeKey("DATE-OBS", std::string("2026-01-10T22:00:00"));
                f.close();
            });
            if (!opened.empty()) continue; // cfitsio refuses to write it: covered above
            ++deeper;
            const std::string e = messageOf([&] { pipelines::reg::readMosaic(path); });
            if (e.empty()) {
                ++deeperRead;
                continue;
            }
            qInfo("refused: %s", e.c_str());
            QVERIFY2(e.find(path) != std::string::npos, e.c_str());
        }
        qInfo("with OBSTYPE and DATE-OBS added: %d of %d read", deeperRead, deeper);
        QVERIFY(deeper >= 20);
    }
};

QTEST_GUILESS_MAIN(TestRegister)
#include "test_register.moc"
