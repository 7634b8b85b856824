#include "viewer/archivetree.h"

#include "archive/layout.h"
#include "background.h"
#include "db/connection.h"

#include <QFileInfo>
#include <QHeaderView>
#include <QMap>

#include <map>
#include <vector>

namespace paudm::ui {

namespace {

enum ArchiveRole { kKindRole = Qt::UserRole + 1, kPathRole, kCcdRole };
enum ArchiveKind { kNone, kFocalPlane, kFile, kRawCcd };

} // namespace

ArchiveTree::ArchiveTree(QWidget* parent) : QTreeWidget(parent) {
    setHeaderLabels({tr("Night / obs set / exposure"), tr("What")});
    header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    setToolTip(tr("Double-click an exposure for its raw focal plane, a CCD to open it"));
    connect(this, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* i, int) { activate(i); });
}

ArchiveTree::~ArchiveTree() = default;

void ArchiveTree::setDatabase(const std::string& conninfo) {
    db_ = std::make_unique<Background>(conninfo);
    reload();
}

namespace {

struct ArchiveRow {
    std::string night, obsSet, filename, kind, tray, release, folder;
    long long mosaicId = 0;
    std::vector<std::pair<int, std::string>> ccds; ///< reduced: CCD -> its file (absolute)
};

} // namespace

void ArchiveTree::reload() {
    if (!db_) return;
    const std::string root = archive::ArchiveLayout::resolve().root();
    db_->run<std::vector<ArchiveRow>>(
        this,
        [root](Work& work) {
            db::Connection& c = work.db();
            const db::Rows m = c.query(
                "SELECT o.night::text, o.obs_set, m.id, m.filename, m.archivepath, m.kind, coalesce(m.filtertray, ''), "
                "coalesce(p.release, '') FROM mosaic m JOIN obs_set o ON o.id = m.obs_set_id "
                "LEFT JOIN production p ON p.id = m.production_id "
                "ORDER BY o.night DESC, o.obs_set, m.filename, p.release NULLS FIRST LIMIT 20000");
            const db::Rows im = c.query("SELECT i.mosaic_id, i.ccd_num, i.filename FROM image i JOIN mosaic m ON "
                                        "m.id = i.mosaic_id WHERE m.production_id IS NOT NULL AND i.filename IS NOT NULL "
                                        "ORDER BY i.mosaic_id, i.ccd_num");
            std::map<long long, std::vector<std::pair<int, std::string>>> ccds;
            std::map<long long, std::string> folders;
            std::vector<ArchiveRow> rows;
            for (int i = 0; i < m.size(); ++i) {
                ArchiveRow r;
                r.night = m.text(i, 0), r.obsSet = m.text(i, 1), r.mosaicId = m.toInt(i, 2);
                r.filename = m.text(i, 3), r.folder = root + "/" + std::string(m.text(i, 4));
                r.kind = m.text(i, 5), r.tray = m.text(i, 6), r.release = m.text(i, 7);
                folders[r.mosaicId] = r.folder;
                rows.push_back(std::move(r));
            }
            for (int i = 0; i < im.size(); ++i) {
                const long long id = im.toInt(i, 0);
                ccds[id].emplace_back(static_cast<int>(im.toInt(i, 1)), folders[id] + "/" + std::string(im.text(i, 2)));
            }
            for (auto& r : rows) r.ccds = ccds[r.mosaicId];
            return rows;
        },
        [this](const Result<std::vector<ArchiveRow>>& r) {
            clear();
            if (!r) {
                auto* item = new QTreeWidgetItem(this, {tr("cannot read the archive from PAUdb"),
                                                            QString::fromStdString(r.error().what())});
                item->setForeground(1, QColor(0xb0, 0, 0x20));
                return;
            }
            QMap<QString, QTreeWidgetItem*> nights, sets, exposures;
            for (const ArchiveRow& row : *r) {
                const QString night = QString::fromStdString(row.night), set = QString::fromStdString(row.obsSet);
                QTreeWidgetItem*& n = nights[night];
                if (!n) n = new QTreeWidgetItem(this, {night, tr("night")});
                QTreeWidgetItem*& s = sets[set];
                if (!s) s = new QTreeWidgetItem(n, {set, tr("obs set")});
                const QString key = set + "/" + QString::fromStdString(row.filename);
                QTreeWidgetItem*& e = exposures[key];
                if (row.release.empty()) {
                    e = new QTreeWidgetItem(s, {QString::fromStdString(row.filename),
                                                QString::fromStdString(row.kind + (row.tray.empty() ? "" : ", " + row.tray))});
                    const QString rawPath = QString::fromStdString(row.folder + "/" + row.filename);
                    e->setData(0, kKindRole, kFocalPlane);
                    e->setData(0, kPathRole, rawPath);
                    e->setToolTip(0, tr("raw mosaic: double-click for its focal plane, or open a CCD below"));
                    auto* rawCcds = new QTreeWidgetItem(e, {tr("raw"), tr("18 CCDs, amplifiers assembled")});
                    for (int ccd = 1; ccd <= 18; ++ccd) {
                        auto* c = new QTreeWidgetItem(rawCcds, {tr("CCD %1").arg(ccd, 2, 10, QChar('0')), tr("raw")});
                        c->setData(0, kKindRole, kRawCcd);
                        c->setData(0, kPathRole, rawPath);
                        c->setData(0, kCcdRole, ccd);
                    }
                    continue;
                }
                if (!e) e = new QTreeWidgetItem(s, {QString::fromStdString(row.filename), QString::fromStdString(row.kind)});
                auto* rel = new QTreeWidgetItem(e, {QString::fromStdString(row.release), tr("reduced, %1 CCDs").arg(row.ccds.size())});
                if (!row.ccds.empty()) {
                    rel->setData(0, kKindRole, kFocalPlane);
                    rel->setData(0, kPathRole, QString::fromStdString(row.ccds.front().second));
                }
                for (const auto& [ccd, file] : row.ccds) {
                    auto* c = new QTreeWidgetItem(rel, {tr("CCD %1").arg(ccd, 2, 10, QChar('0')),
                                                        QFileInfo(QString::fromStdString(file)).fileName()});
                    c->setData(0, kKindRole, kFile);
                    c->setData(0, kPathRole, QString::fromStdString(file));
                }
            }
            if (topLevelItemCount()) topLevelItem(0)->setExpanded(true);
        });
}

void ArchiveTree::activate(QTreeWidgetItem* item) {
    const int kind = item->data(0, kKindRole).toInt();
    const QString path = item->data(0, kPathRole).toString();
    if (kind == kFocalPlane) emit focalPlaneWanted(path);
    else if (kind == kFile) emit fileWanted(path);
    else if (kind == kRawCcd) emit ccdWanted(path, item->data(0, kCcdRole).toInt());
}

} // namespace paudm::ui
