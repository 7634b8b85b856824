#pragma once
// What the nightly pipeline's tasks share (nightly.cpp: the obs set's job; masters.cpp:
// master_bias and master_flats; single_epoch.cpp): their options from the configuration,
// the PAUdb rows they read and write, and the raw frames. Internal to the pipeline.
#include "archive/layout.h"
#include "fits/fits.h"
#include "jobs/task.h"
#include "pipelines/nightly/measure.h"
#include "pipelines/nightly/products.h"
#include "pipelines/nightly/raw_frames.h"
#include "reduction/calibration.h"
#include "reduction/combine.h"
#include "reduction/overscan.h"
#include "wcs/wcs.h"

#include <QJsonObject>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace paudm::db {
class Connection;
}

namespace paudm::pipelines::nightly {

using jobs::PermanentError;
using jobs::TaskContext;

constexpr double kPixelAreaCm2 = 15e-4 * 15e-4; // PAUCam's 15 um pixels

// ---------------------------------------------------------------- configuration

struct Options {
    std::string obsSet, release;
    archive::ArchiveLayout archive{""};
    int threads = 1;
    reduction::OverscanOptions overscan;
    reduction::CombineOptions biasCombine;
    reduction::FlatOptions flat;
    reduction::DetrendOptions detrend;
    bool measure = true;
    MeasureOptions measurement;
};

Options optionsOf(const TaskContext& ctx);

/// The sub-jobs' configuration: the nightly job's own (options, QC ranges, release).
QJsonObject subConfig(const TaskContext& ctx);

Provenance provenanceOf(const Options& o, int productionId);

std::string reducedPath(const Options& o);

// ---------------------------------------------------------------- PAUdb

struct ObsSetRow {
    int id = 0;
    std::string night;
};

ObsSetRow obsSetOf(db::Connection& c, const std::string& obsSet);

struct MasterRef {
    std::string path; ///< absolute
    std::string file; ///< relative to the archive root
    std::string obsSet;
    std::int64_t mosaicId = 0;
    bool earlier = false; ///< from an earlier night
};

/// The master of `kind` (and tray) for an obs set: its own, else the newest of an earlier
/// night in the same production (release).
std::optional<MasterRef> findMaster(db::Connection& c, const Options& o, int productionId, const ObsSetRow& set,
                                    const std::string& kind, const std::string& tray);

struct InputFrame {
    std::int64_t mosaicId = 0;
    std::string file;
};

std::vector<InputFrame> inputFrames(const TaskContext& ctx);

/// Inserts a product's mosaic row (and removes its own earlier one), returning its id.
std::int64_t insertProductMosaic(db::Connection& c, int productionId, int obsSetId, const std::string& archivePath,
                                 const std::string& filename, const std::string& kind, std::int64_t firstRaw,
                                 const std::optional<std::string>& tray, int merged, const std::string& status,
                                 int nextend);

struct ImageRow {
    int imageNum = 0, ccd = 0;
    std::optional<std::string> filter, filename;
    double rdnoise = 0, maxReadnoise = 0;
    int naxis1 = 0, naxis2 = 0;
    std::optional<double> saturateRatio, cosmicRatio;
    std::optional<wcs::SkyBox> box;
};

void insertImages(db::Connection& c, std::int64_t mosaicId, std::int64_t rawMosaicId,
                  const std::vector<ImageRow>& rows);

void notifyProducts(db::Connection& c, const std::string& obsSet);

// ---------------------------------------------------------------- reading raw frames

struct OpenRaw {
    fits::File file;
    RawLayout layout;
};

OpenRaw openRaw(const std::string& path);

std::string rawPathOf(const Options& o, const std::string& file);

/// The CCDs of a raw mosaic in a fixed order.
std::vector<int> ccdsOf(const RawLayout& l);

/// Runs work(index) for each of n items on `threads` threads, the first error thrown at
/// the end; stops early when the job is aborted.
void forEach(const TaskContext& ctx, int n, int threads, const std::function<void(int)>& work);

// ---------------------------------------------------------------- the tasks' bodies

void masterBiasRun(TaskContext& ctx);
void masterFlatsRun(TaskContext& ctx);
void singleEpochRun(TaskContext& ctx);

} // namespace paudm::pipelines::nightly
