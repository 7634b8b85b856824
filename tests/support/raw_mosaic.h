#pragma once
// One small-geometry raw PAUCam mosaic (a science exposure of 72 amplifiers), written by
// the simulator into `folder` for the tests that read raw files without a night around
// them. Returns its path.
#include "pipelines/paucam.h"
#include "pipelines/pixelsim/simulator.h"

#include <string>

namespace paudm::test {

inline std::string writeSmallRawMosaic(const std::string& folder, const std::string& name = "raw.fits") {
    namespace ps = pipelines::pixelsim;
    ps::NightOptions o;
    o.buffer = folder + "/buffer";
    o.night = "2026-11-20";
    o.geometry = pipelines::paucam::Geometry::Small;
    o.bias = 0, o.flatsPerTray = 0, o.science = 1, o.trays = {"FT_NB455_NB525"};
    const ps::NightPlan plan = ps::planNight(o, 1);
    for (const auto& e : plan.exposures)
        if (e.kind == "science") {
            const std::string path = folder + "/" + name;
            (void)ps::writeExposure(o, plan, e, ps::skyForNight(o), path);
            return path;
        }
    throw Error("the simulator planned no science exposure");
}

} // namespace paudm::test
