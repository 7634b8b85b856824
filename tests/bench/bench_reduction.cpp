// The reduction against its peers, full size, alternating runs, medians:
//
//   bench_reduction combine [runs]       10 frames of 2048 x 4096, sigma-clipped mean: ours
//                                        vs ccdproc.combine, same files, same numbers
//   bench_reduction cosmics CCD [runs]   L.A.Cosmic on one reduced CCD (a pipeline product):
//                                        ours vs astroscrappy, same parameters, the masks compared
//   bench_reduction detrend DB [runs]    the single_epoch job of a full-size science mosaic
//                                        (DB: a database where one has run, see reduction_bench.sh)
//                                        vs the floor: its raw file read and its products
//                                        written by plain cfitsio
//   bench_reduction astrometry DB DIR [runs]
//                                        the astrometric solution of that mosaic from the
//                                        pipeline's detections and PAUdb's reference stars,
//                                        timed; inputs and solution written to DIR for SCAMP
//                                        (astrometry_bench.sh)
//
// The peers run as Debian's python3 with the scripts of tests/peers; their times are the
// ones the scripts measure around the work (reading included, interpreter start not).
#include "bench_util.h"
#include "common/pixel_memory.h"
#include "common/random.h"
#include "db/connection.h"
#include "fits/fits.h"
#include "jobs/runner.h"
#include "jobs/store.h"
#include "pipelines/nightly/measure.h"
#include "pipelines/paucam.h"
#include "pipelines/tasks.h"
#include "reduction/astrometry.h"
#include "wcs/wcs.h"
#include "reduction/combine.h"
#include "reduction/cosmics.h"

#include <QCoreApplication>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <string>
#include <vector>

using namespace paudm;
using bench::median;
using bench::seconds;
namespace fs = std::filesystem;

namespace {

/// Runs a peer script; returns the seconds it printed last.
double runPeer(const QString& script, const QStringList& args) {
    QProcess p;
    p.start("/usr/bin/python3", QStringList{QString(PAUDM_PEERS_DIR) + "/" + script} + args);
    if (!p.waitForFinished(-1) || p.exitCode() != 0)
        throw Error(script.toStdString() + " failed: " + p.readAllStandardError().toStdString());
    const QStringList lines = QString::fromLocal8Bit(p.readAllStandardOutput()).trimmed().split('\n');
    return lines.last().toDouble();
}

void writeFloat(const std::string& path, const reduction::FloatImage& img) {
    auto f = fits::File::create(path, true);
    f.appendImage<float>({img.width, img.height}, img.pixels);
    f.close();
}

int combineBench(int runs) {
    const int w = 2048, h = 4096, nf = 10;
    QTemporaryDir dir;
    QStringList files;
    Rng rng = Rng::stream({2026, 12});
    std::printf("writing %d frames of %d x %d...\n", nf, w, h);
    for (int k = 0; k < nf; ++k) {
        reduction::FloatImage img(w, h);
        for (float& x : img.pixels) x = static_cast<float>(rng.normal(2000, 10) + (rng.uniform() < 0.03 ? 500 : 0));
        files << dir.filePath(QString("frame%1.fits").arg(k));
        writeFloat(files.back().toStdString(), img);
    }
    std::vector<double> reading;
    auto ours = [&](int threads) {
        std::vector<reduction::FloatImage> frames;
        reading.push_back(seconds([&] {
            for (const QString& f : files) {
                auto in = fits::File::open(f.toStdString());
                reduction::FloatImage img(w, h);
                img.pixels = in.readImage<float>();
                frames.push_back(std::move(img));
            }
        }));
        std::vector<const float*> ptrs;
        for (const auto& f : frames) ptrs.push_back(f.pixels.data());
        reduction::CombineOptions o;
        o.threads = threads;
        return reduction::combine(ptrs, w, h, o);
    };
    std::vector<double> us, us2, them;
    reduction::Combined result;
    const QString theirs = dir.filePath("ccdproc.fits");
    for (int r = 0; r < runs; ++r) {
        auto mine = [&] { us.push_back(seconds([&] { result = ours(1); })); };
        auto peer = [&] { them.push_back(runPeer("ccdproc_combine.py", QStringList{theirs, "average"} + files)); };
        bench::alternate(r, mine, peer);
        us2.push_back(seconds([&] { ours(2); }));
        std::printf("run %d: ours %.2f s (of which reading %.2f s; 2 threads %.2f s), ccdproc %.2f s\n", r + 1, us.back(),
                    reading[reading.size() - 2], us2.back(), them.back());
    }
    const auto ref = fits::File::open(theirs.toStdString()).readImage<double>();
    double worst = 0;
    for (std::size_t i = 0; i < ref.size(); ++i)
        worst = std::max(worst, std::fabs(result.image.pixels[i] - ref[i]) / std::fabs(ref[i]));
    std::printf("combine, %d frames of %d x %d, clipped mean (3/3 sigma, mean and std, as ccdproc's defaults), reading "
                "included:\n  ours %.2f s (2 threads %.2f s)   ccdproc %.2f s   ccdproc/ours %.1fx   (medians of %d)\n"
                "  largest relative difference %.2e (float32 vs float64 arithmetic)\n",
                nf, w, h, median(us), median(us2), median(them), median(them) / median(us), runs, worst);
    return 0;
}

int cosmicsBench(const std::string& ccdFile, int runs) {
    auto f = fits::File::open(ccdFile);
    const auto info = f.imageInfo();
    reduction::FloatImage img(static_cast<int>(info.axes[0]), static_cast<int>(info.axes[1]));
    img.pixels = f.readImage<float>();
    const double rn = f.requireDouble("RDNOISE");
    f.moveTo(3);
    const auto flags = f.readImage<std::uint8_t>();
    // What the pipeline excludes from the search: bad, saturated and empty pixels.
    reduction::Mask bad(img.width, img.height);
    for (std::size_t i = 0; i < flags.size(); ++i)
        bad.pixels[i] = (flags[i] & (reduction::kBadPixel | reduction::kSaturated | reduction::kNoData)) ? 1 : 0;
    QTemporaryDir dir;
    const QString in = dir.filePath("in.fits"), badFile = dir.filePath("bad.fits"), out = dir.filePath("mask.fits");
    writeFloat(in.toStdString(), img);
    {
        auto b = fits::File::create(badFile.toStdString(), true);
        b.appendImage<std::uint8_t>({img.width, img.height}, bad.pixels);
        b.close();
    }
    reduction::LaCosmicOptions o;
    o.gain = 1;
    o.readNoise = rn;
    o.satLevel = 1e9;
    o.protectStars = false; // astroscrappy's mask
    std::vector<double> us, starTest, them;
    reduction::CosmicResult mine;
    const QStringList args{in, out, "1", QString::number(rn), "1e9", "4.5", "0.3", "5", "4", badFile};
    for (int r = 0; r < runs; ++r) {
        auto ours = [&] { us.push_back(seconds([&] { mine = reduction::detectCosmicRays(img, bad, o); })); };
        auto peer = [&] { them.push_back(runPeer("astroscrappy_mask.py", args)); };
        bench::alternate(r, ours, peer);
        reduction::LaCosmicOptions p = o;
        p.protectStars = true;
        starTest.push_back(seconds([&] { reduction::detectCosmicRays(img, bad, p); }));
        std::printf("run %d: ours %.2f s (with the star test %.2f s), astroscrappy %.2f s\n", r + 1, us.back(),
                    starTest.back(), them.back());
    }
    const auto theirs = fits::File::open(out.toStdString()).readImage<std::uint8_t>();
    long long differ = 0, flagged = 0, either = 0;
    for (std::size_t i = 0; i < theirs.size(); ++i) {
        const bool a = mine.mask.pixels[i] != 0, b = theirs[i] != 0;
        differ += a != b;
        flagged += b;
        either += a || b;
    }
    std::printf("L.A.Cosmic on %s (%d x %d, 4 passes, sigclip 4.5, sigfrac 0.3, objlim 5, one thread):\n"
                "  ours %.2f s (with the star test %.2f s)   astroscrappy %.2f s   astroscrappy/ours %.1fx   (medians of %d)\n"
                "  masks: astroscrappy %lld pixels, ours %lld, %lld differ (%.2f %% of the pixels either flags)\n",
                fs::path(ccdFile).filename().c_str(), img.width, img.height, median(us), median(starTest), median(them),
                median(them) / median(us), runs, flagged, mine.pixels, differ, 100.0 * differ / std::max(1LL, either));
    return 0;
}

/// The floor of a mosaic's detrending: every amplifier of the raw file read (as floats,
/// which is how the pipeline reads them), then per CCD an image, a weight and a mask of
/// the CCD's size written as the pipeline writes them (checksums, fsync, rename).
void detrendFloor(const std::string& raw, const std::string& outDir) {
    auto f = fits::File::open(raw);
    const int hdus = f.hduCount();
    std::vector<std::vector<float>> amps;
    long aw = 0, ah = 0;
    for (int h = 2; h <= hdus; ++h) {
        f.moveTo(h);
        const auto info = f.imageInfo();
        aw = info.axes[0];
        ah = info.axes[1];
        amps.push_back(f.readImage<float>());
    }
    const int ccds = static_cast<int>(amps.size() / 4);
    namespace pc = pipelines::paucam;
    const auto layout = pc::Layout::of(aw == pc::Layout::of(pc::Geometry::Full).rawWidth() ? pc::Geometry::Full
                                                                                            : pc::Geometry::Small);
    const long w = layout.ccdWidth, hgt = layout.ccdHeight;
    (void)ah;
    std::vector<float> image(static_cast<std::size_t>(w * hgt)), weight(image.size());
    std::vector<std::uint8_t> mask(image.size());
    for (int c = 0; c < ccds; ++c) {
        for (std::size_t i = 0; i < image.size(); ++i) {
            image[i] = amps[static_cast<std::size_t>(c * 4)][i % amps[0].size()];
            weight[i] = 1 / (image[i] + 1);
            mask[i] = 0;
        }
        char name[64];
        std::snprintf(name, sizeof name, "/floor.ccd%02d.fits", c + 1);
        auto out = fits::File::create(outDir + name, true);
        out.appendImage<float>({w, hgt}, image);
        out.appendImage<float>({w, hgt}, weight);
        out.writeKey("EXTNAME", std::string("WEIGHT"));
        out.appendImage<std::uint8_t>({w, hgt}, mask);
        out.writeKey("EXTNAME", std::string("MASK"));
        out.close();
    }
}

/// The single_epoch job the benchmarks rerun: an ordinary science mosaic of the night.
struct ScienceJob {
    QJsonObject config, input;
    std::string description, raw;
};
ScienceJob scienceJob(db::Connection& c) {
    const auto first = c.exec("SELECT j.config::text, j.input::text, j.description FROM job j "
                              "LEFT JOIN quality_control q ON q.job_id = j.id AND q.check_name = 'masked_fraction' "
                              "WHERE j.name = 'single_epoch' AND j.status = 'DONE' ORDER BY q.value NULLS LAST, j.id LIMIT 1");
    if (first.size() == 0) throw Error("no single_epoch job has run in this database (see reduction_bench.sh)");
    ScienceJob j;
    j.config = QJsonDocument::fromJson(QByteArray(first.text(0, 0).data())).object();
    j.input = QJsonDocument::fromJson(QByteArray(first.text(0, 1).data())).object();
    j.description = first.text(0, 2);
    j.raw = j.config["archive"].toString().toStdString() + "/raw/" + j.config["obs_set"].toString().toStdString() + "/" +
            j.input["file"].toString().toStdString();
    return j;
}

int detrendBench(const std::string& conninfo, int runs) {
    db::Connection c = db::Connection::open(conninfo);
    // The science mosaic with the fewest masked pixels: a night's ordinary exposure (not one
    // that a bright moon saturated).
    const ScienceJob job = scienceJob(c);
    const QJsonObject& config = job.config;
    const QJsonObject& input = job.input;
    const std::string& raw = job.raw;
    QTemporaryDir dir;
    std::vector<double> wall, cpu, floor;
    std::vector<std::string> resources;
    for (int r = 0; r < runs; ++r) {
        auto ours = [&] {
            jobs::NewJob j;
            j.name = "single_epoch";
            j.config = config;
            j.input = input;
            j.description = job.description + " (benchmark)";
            const std::int64_t id = jobs::JobStore(c).create(j, true);
            jobs::RunnerOptions o;
            o.conninfo = conninfo;
            o.threads = 1;
            o.untilIdle = true;
            o.taskExecutable = PAUDM_EXE;
            auto stats = jobs::Runner(o).run();
            if (!stats) throw stats.error();
            const auto done = c.query("SELECT status, extract(epoch FROM ts_ended - ts_started), "
                                      "(SELECT value FROM tag WHERE job_id = $1 AND name = 'resources') FROM job WHERE id = $1",
                                      id);
            if (done.text(0, 0) != "DONE") throw Error("the benchmark's single_epoch job " + std::to_string(id) + " did not finish");
            wall.push_back(std::stod(std::string(done.text(0, 1))));
            resources.emplace_back(done.text(0, 2));
        };
        auto bare = [&] { floor.push_back(seconds([&] { detrendFloor(raw, dir.path().toStdString()); })); };
        bench::alternate(r, ours, bare);
        std::printf("run %d: single_epoch %.2f s (%s), floor %.2f s\n", r + 1, wall.back(), resources.back().c_str(),
                    floor.back());
    }
    std::printf("detrending %s (one core):\n  single_epoch job %.2f s   cfitsio floor %.2f s   ratio %.2fx   (medians of %d)\n",
                fs::path(raw).filename().c_str(), median(wall), median(floor), median(wall) / median(floor), runs);
    return 0;
}

/// The mosaic's astrometry as single_epoch does it (the same detections: not saturated,
/// truncated or with a masked core; centroid errors from the PSF and the signal to noise),
/// from the header WCS of each CCD (its first amplifier's, whose pixels are the CCD's),
/// timed alone. DIR receives what SCAMP needs for the same work: ccdNN.csv (x, y, flux,
/// flux_err, flags, sigma), ccdNN.wcs (the header WCS), ccdNN.size (width height), refs.csv (ra, dec, mag at the
/// epoch) and our solution, ours_ccdNN.wcs.
int astrometryBench(const std::string& conninfo, const std::string& dir, int runs) {
    namespace pc = pipelines::paucam;
    db::Connection c = db::Connection::open(conninfo);
    const ScienceJob job = scienceJob(c);
    fs::create_directories(dir);
    auto raw = fits::File::open(job.raw);
    raw.moveTo(1);
    const double mjd = raw.requireDouble("MJD-OBS");
    std::vector<reduction::AstroCcd> ccds;
    std::vector<wcs::SkyBox> boxes;
    for (int ccd = 1; ccd <= pc::kCcds; ++ccd) {
        raw.moveTo(1 + (ccd - 1) * 4 + 1);
        const auto header = wcs::Wcs::fromFits(raw);
        const auto rows = c.query("SELECT d.x, d.y, d.flux_auto, d.flux_err_auto, d.flags, i.psf_fwhm, i.naxis1, i.naxis2 FROM detection d "
                                  "JOIN image i ON i.id = d.image_id JOIN mosaic m ON m.id = i.mosaic_id "
                                  "WHERE m.kind = 'red_science' AND m.filename = $1 AND i.ccd_num = $2",
                                  job.input["file"].toString().toStdString(), ccd);
        if (rows.size() == 0) continue;
        const int width = static_cast<int>(rows.toInt(0, 6)), height = static_cast<int>(rows.toInt(0, 7));
        reduction::AstroCcd a{ccd, width, height, header, {}};
        char name[64];
        std::snprintf(name, sizeof name, "%s/ccd%02d", dir.c_str(), ccd);
        std::ofstream csv(std::string(name) + ".csv");
        csv << "x,y,flux,flux_err,flags,sigma\n";
        for (int i = 0; i < rows.size(); ++i) {
            const double snr = rows.toDouble(i, 3) > 0 ? rows.toDouble(i, 2) / rows.toDouble(i, 3) : 0;
            const double fwhm = rows.isNull(i, 5) ? 0 : rows.toDouble(i, 5) / pc::kPixelScale;
            a.sources.push_back(pipelines::nightly::astrometrySource(rows.toDouble(i, 0), rows.toDouble(i, 1), snr,
                                                                     static_cast<int>(rows.toInt(i, 4)), fwhm));
            csv << std::setprecision(10) << rows.toDouble(i, 0) << ',' << rows.toDouble(i, 1) << ',' << rows.toDouble(i, 2)
                << ',' << rows.toDouble(i, 3) << ',' << rows.toInt(i, 4) << ',' << a.sources.back().sigma << '\n';
        }
        std::ofstream(std::string(name) + ".wcs") << header.toHeader();
        std::ofstream(std::string(name) + ".size") << width << ' ' << height << '\n';
        if (const auto box = header.footprint(width, height)) boxes.push_back(*box);
        ccds.push_back(std::move(a));
    }
    reduction::AstrometryOptions o;
    const auto reference = pipelines::nightly::loadReference(c, boxes, o.searchRadius + 30, pipelines::nightly::julianYear(mjd));
    {
        std::ofstream refs(dir + "/refs.csv");
        refs << "ra,dec,mag\n" << std::setprecision(12);
        for (const auto& r : reference.stars) refs << r.ra << ',' << r.dec << ',' << r.mag << '\n';
    }
    std::vector<double> t;
    reduction::AstroResult result;
    for (int r = 0; r < runs; ++r) t.push_back(seconds([&] { result = reduction::solveAstrometry(ccds, reference.stars, o); }));
    if (!result.ok()) throw Error("the astrometry did not solve: " + result.message);
    for (std::size_t k = 0; k < ccds.size(); ++k) {
        char name[64];
        std::snprintf(name, sizeof name, "%s/ours_ccd%02d.wcs", dir.c_str(), ccds[k].ccd);
        std::ofstream(name) << result.fitted[k]->toHeader();
    }
    std::printf("ours: %s; %zu reference stars; %.3f s (median of %d, one core)\n", result.message.c_str(),
                reference.stars.size(), median(t), runs);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    pipelines::installAllTasks(); // the detrend bench runs single_epoch, as paudm does
    reuseFreedPixelMemory(); // as the task processes that run these steps in the pipeline do
    const std::string mode = argc > 1 ? argv[1] : "";
    try {
        if (mode == "combine") return combineBench(argc > 2 ? std::atoi(argv[2]) : 5);
        if (mode == "cosmics" && argc > 2) return cosmicsBench(argv[2], argc > 3 ? std::atoi(argv[3]) : 5);
        if (mode == "detrend" && argc > 2) return detrendBench(argv[2], argc > 3 ? std::atoi(argv[3]) : 5);
        if (mode == "astrometry" && argc > 3) return astrometryBench(argv[2], argv[3], argc > 4 ? std::atoi(argv[4]) : 5);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_reduction: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: bench_reduction combine [runs] | cosmics CCD.fits [runs] | detrend CONNINFO [runs] | "
                         "astrometry CONNINFO DIR [runs]\n");
    return 2;
}
