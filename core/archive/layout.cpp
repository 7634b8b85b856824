#include "archive/layout.h"

#include "db/embedded_server.h"

#include <QDir>

namespace paudm::archive {

ArchiveLayout::ArchiveLayout(std::string root) : root_(QDir::cleanPath(QString::fromStdString(root)).toStdString()) {}

ArchiveLayout ArchiveLayout::resolve(const std::string& cliArchive) {
    if (!cliArchive.empty()) return ArchiveLayout(cliArchive);
    const QByteArray env = qgetenv("PAUDM_ARCHIVE");
    if (!env.isEmpty()) return ArchiveLayout(QString::fromLocal8Bit(env).toStdString());
    return ArchiveLayout((db::EmbeddedServer::defaultHome() + "/archive").toStdString());
}

std::string ArchiveLayout::rawPath(const std::string& obsSet) { return "raw/" + obsSet; }
std::string ArchiveLayout::rawDir(const std::string& obsSet) const { return root_ + "/" + rawPath(obsSet); }
std::string ArchiveLayout::reducedDir(const std::string& release, const std::string& obsSet) const {
    return root_ + "/red/" + release + "/" + obsSet;
}
std::string ArchiveLayout::qcDir() const { return root_ + "/qc"; }
std::string ArchiveLayout::quarantineDir(const std::string& obsSet) const { return root_ + "/quarantine/" + obsSet; }

} // namespace paudm::archive
