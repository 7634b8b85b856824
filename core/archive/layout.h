#pragma once
// The archive, laid out as the PAU archive at PIC (the paper's Figure 2):
//   <root>/raw/<obs_set>/               raw mosaics and the obs-set YAML, as transferred
//   <root>/red/<release>/<obs_set>/     reduced products of a release
//   <root>/qc/                          quality-control plots
//   <root>/quarantine/<obs_set>/        files that arrived and did not verify
// The root is --archive, else $PAUDM_ARCHIVE, else $PAUDM_HOME/archive. Everything that
// reads the archive goes through this, so a local copy of the real archive works as well.
#include <string>

namespace paudm::archive {

class ArchiveLayout {
public:
    explicit ArchiveLayout(std::string root);
    /// --archive value (may be empty) > $PAUDM_ARCHIVE > $PAUDM_HOME/archive.
    static ArchiveLayout resolve(const std::string& cliArchive = {});

    const std::string& root() const { return root_; }
    /// raw/<obs_set>, relative to the root: what PAUdb records (mosaic.archivepath), so
    /// that a copy of the archive under another root still matches.
    static std::string rawPath(const std::string& obsSet);
    std::string rawDir(const std::string& obsSet) const;
    std::string reducedDir(const std::string& release, const std::string& obsSet) const;
    std::string qcDir() const;
    std::string quarantineDir(const std::string& obsSet) const;

private:
    std::string root_;
};

} // namespace paudm::archive
