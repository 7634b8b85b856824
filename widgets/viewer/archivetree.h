#pragma once
// The viewer's Archive tab: the exposures PAUdb knows, as night -> obs set -> exposure ->
// its raw CCDs, or a release's reduced CCDs; read off the GUI thread on the read-only role.
// A double click asks for what to open: an exposure's focal plane, a raw CCD, a file.
#include <QTreeWidget>

#include <memory>
#include <string>

namespace paudm::ui {

class Background;

class ArchiveTree : public QTreeWidget {
    Q_OBJECT
public:
    explicit ArchiveTree(QWidget* parent = nullptr);
    ~ArchiveTree() override;
    /// PAUdb (the read-only role is enough); reads the tree again.
    void setDatabase(const std::string& conninfo);
    void reload();

signals:
    void focalPlaneWanted(const QString& path);
    void ccdWanted(const QString& path, int ccd);
    void fileWanted(const QString& path);

private:
    void activate(QTreeWidgetItem* item);
    std::unique_ptr<Background> db_;
};

} // namespace paudm::ui
