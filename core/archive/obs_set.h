#pragma once
// The observation set: a folder of exposures taken in one uninterrupted session, named by
// the night's date and a counter that restarts each night ("20261124_001"), with a YAML
// file written by the camera side that lists every file with its kind, size and Adler32.
//
//   obs_set: 20261124_001
//   instrument: PAUCam
//   night: 2026-11-24          # the evening the night began
//   date: 2026-11-25T06:41:12Z # when the set was closed
//   operator: ...
//   project: PAUS
//   notes: ...
//   files:
//     - {name: paucam.0012345.fits, kind: bias, size: 5324160, adler32: '0a1b2c3d'}
#include "common/error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paudm::archive {

struct ObsSetFile {
    std::string name; ///< file name inside the obs set folder
    std::string kind; ///< bias, flat, science, focus, test
    std::int64_t size = 0;
    std::uint32_t adler32 = 0;
};

struct ObsSetManifest {
    std::string obsSet;
    std::string instrument = "PAUCam";
    std::string night; ///< YYYY-MM-DD
    std::string date;  ///< ISO 8601 UTC
    std::string operatorName;
    std::string project;
    std::string notes;
    std::vector<ObsSetFile> files;

    /// The YAML text (checksums quoted, so that no YAML reader turns them into numbers).
    std::string toYaml() const;
    /// Parses a manifest; `what` (usually the file name) starts every error, which names
    /// the line and the field that is wrong.
    static ObsSetManifest fromYaml(const std::string& text, const std::string& what);
    static ObsSetManifest readFile(const std::string& path);
    /// Writes atomically (temporary name, fsync, rename).
    void writeFile(const std::string& path) const;
};

/// The YAML file of the obs set in `folder` (there must be exactly one *.yaml).
std::string manifestPathIn(const std::string& folder);
/// "20261124_001" from a night and a counter.
std::string obsSetName(const std::string& night, int counter);
/// True for a well-formed obs set name; the night (YYYY-MM-DD) and counter when so.
bool parseObsSetName(const std::string& name, std::string* night = nullptr, int* counter = nullptr);

} // namespace paudm::archive
