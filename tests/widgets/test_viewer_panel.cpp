// The FITS viewer panel with real files (cfitsio, a simulated raw mosaic) and the real
// embedded server: reading off the GUI thread, the pixel and sky readout against wcslib's
// direct answer, the scale modes against core's numbers, zoom about the cursor, the focal
// plane and its double click, errors shown in the panel, cutouts with their WCS moved,
// DS9 regions in and out, the detections and reference stars from PAUdb, the archive tab.
#include "raw_mosaic.h"
#include "testserver.h"

#include "background.h"
#include "db/connection.h"
#include "db/migrations.h"
#include "fits/fits.h"
#include "viewer/display.h"
#include "viewer/histogramview.h"
#include "viewer/imagecanvas.h"
#include "viewer/overlay.h"
#include "operations/jobdetailview.h"
#include "viewer/viewerpanel.h"
#include "wcs/wcs.h"

#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include <cmath>

using namespace paudm;

namespace {

constexpr long kNx = 300, kNy = 200;

wcs::Wcs testWcs() {
    const double s = 0.263 / 3600;
    return wcs::Wcs::tan({150, 100}, {150.1, 2.2}, -s, 0, 0, s);
}

/// A float image with a gradient (value = x + 1000 y, exactly representable), a blank
/// row segment and a WCS; optionally a MASK extension.
std::vector<float> writeImage(const std::string& path, bool withMask = false) {
    std::vector<float> px(static_cast<std::size_t>(kNx * kNy));
    for (long y = 0; y < kNy; ++y)
        for (long x = 0; x < kNx; ++x) px[static_cast<std::size_t>(y * kNx + x)] = static_cast<float>((x + 1) + 1000 * (y + 1));
    for (long x = 10; x < 20; ++x) px[static_cast<std::size_t>(50 * kNx + x)] = NAN;
    fits::File f = fits::File::create(path, true);
    f.appendImage<float>({kNx, kNy}, px);
    f.writeCards(testWcs().toHeader());
    f.writeKey("BUNIT", std::string("electron"));
    if (withMask) {
        std::vector<std::uint8_t> mask(px.size(), 0);
        mask[5 * kNx + 5] = 1;
        f.appendImage<std::uint8_t>({kNx, kNy}, mask);
        f.writeKey("EXTNAME", std::string("MASK"));
    }
    f.close();
    return px;
}

bool waitLoaded(ui::ViewerPanel& panel, int ms = 20000);

/// A shown panel with `file` open (empty: nothing open).
std::unique_ptr<ui::ViewerPanel> shownPanel(const std::string& file = {}) {
    auto panel = std::make_unique<ui::ViewerPanel>();
    panel->resize(900, 600);
    panel->show();
    if (!file.empty()) {
        panel->open(QString::fromStdString(file));
        if (!waitLoaded(*panel)) qWarning("%s did not load: %s", file.c_str(), qPrintable(panel->problem()));
    }
    return panel;
}

bool waitLoaded(ui::ViewerPanel& panel, int ms) {
    QElapsedTimer t;
    t.start();
    while ((panel.isBusy() || !panel.hasLoaded()) && t.elapsed() < ms) QTest::qWait(10);
    return panel.hasLoaded() && !panel.isBusy();
}

} // namespace

class TestViewerPanel : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string image_, raw_, reader_, admin_, reduced_;
    std::vector<float> pixels_;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        image_ = dir_.filePath("image.fits").toStdString();
        pixels_ = writeImage(image_);
        raw_ = test::writeSmallRawMosaic(dir_.path().toStdString());
        QVERIFY(!raw_.empty());
        // PAUdb with one reduced CCD, its detections, and reference stars in and out of it.
        admin_ = test::TestServer::instance().freshDatabase("t_viewer_panel");
        reader_ = test::TestServer::instance().readerConninfo("t_viewer_panel");
        db::Connection a = db::Connection::open(admin_);
        db::migrate(a);
        const QString root = dir_.filePath("archive");
        qputenv("PAUDM_ARCHIVE", root.toLocal8Bit());
        QDir().mkpath(root + "/red/R1/20261120_001");
        reduced_ = (root + "/red/R1/20261120_001/paucam.1.ccd07.fits").toStdString();
        writeImage(reduced_, true);
        a.execScript(
            "INSERT INTO obs_set (obs_set, night) VALUES ('20261120_001', '2026-11-20');"
            "INSERT INTO production (pipeline, release, software_version) VALUES ('nightly', 'R1', 'test');"
            "INSERT INTO mosaic (obs_set_id, production_id, filename, archivepath, kind) SELECT o.id, p.id, "
            "'paucam.1.fits', 'red/R1/20261120_001', 'science' FROM obs_set o, production p;"
            "INSERT INTO image (mosaic_id, image_num, ccd_num, filename) SELECT id, 7, 7, 'paucam.1.ccd07.fits' FROM mosaic;"
            "INSERT INTO detection (image_id, x, y, flags, flux_auto) SELECT i.id, v.x, v.y, v.f, 100 FROM image i, "
            "(VALUES (20.0, 30.0, 0), (150.5, 99.25, 2), (280.0, 190.0, 0)) v(x, y, f);",
            "viewer test rows");
        // Reference stars: one at the WCS centre, one far outside the image.
        a.exec("INSERT INTO ref_star (catalogue, source_id, ra, dec) VALUES ('test', 1, 150.1, 2.2), ('test', 2, 151.5, 2.2)");
    }

    // open() returns at once; the pixels arrive later; the readout under the cursor is the
    // pixel's value and wcslib's sky position of that point.
    void opensOffTheGuiThreadAndReadsOut() {
        ui::ViewerPanel panel;
        panel.resize(900, 600);
        panel.show();
        QElapsedTimer t;
        t.start();
        panel.open(QString::fromStdString(image_));
        QVERIFY2(t.elapsed() < 100, qPrintable(QString::number(t.elapsed())));
        QVERIFY(waitLoaded(panel));
        QVERIFY2(panel.problem().isEmpty(), qPrintable(panel.problem()));
        ui::ImageCanvas* c = panel.canvas();
        QCOMPARE(c->image()->nx, kNx);
        // Zoom 4 at image point (101, 51): the screen centre shows pixel (101, 51).
        c->setView({101.3, 51.2, 4});
        const QPoint centre(c->width() / 2, c->height() / 2);
        QTest::mouseMove(c, centre);
        // The readout's own x and y (the point under the cursor), its value and its sky.
        const QString text = panel.readout()->text();
        const auto m = QRegularExpression(R"(^x\s+([\d.]+)\s+y\s+([\d.]+))").match(text);
        QVERIFY2(m.hasMatch(), qPrintable(text));
        const double x = m.captured(1).toDouble(), y = m.captured(2).toDouble();
        QVERIFY(std::abs(x - 101.3) < 0.5 / 4 + 0.06 && std::abs(y - 51.2) < 0.5 / 4 + 0.06);
        const long ix = std::lround(x), iy = std::lround(y);
        QVERIFY2(text.contains(QString("value %1 electron").arg(ix + 1000 * iy)), qPrintable(text));
        // wcslib's direct answer at the point shown (to the readout's 0.1 px: 0.03").
        const wcs::Sky sky = testWcs().pixelToSky({x, y});
        const auto radec = QRegularExpression(R"(\(([\d.]+), ([\d.-]+)\))").match(text);
        QVERIFY2(radec.hasMatch(), qPrintable(text));
        QVERIFY2(std::abs(radec.captured(1).toDouble() - sky.ra) < 0.06 * 0.263 / 3600 + 1e-6 &&
                     std::abs(radec.captured(2).toDouble() - sky.dec) < 0.06 * 0.263 / 3600 + 1e-6,
                 qPrintable(text));
        QVERIFY2(text.contains(QString::fromStdString(viewer::sexagesimalDec(sky.dec)).left(9)), qPrintable(text));
        // A blank pixel says so.
        c->setView({15, 51, 8});
        QTest::mouseMove(c, QPoint(centre.x() + 1, centre.y()));
        QTest::mouseMove(c, centre);
        QVERIFY2(panel.readout()->text().contains("value blank"), qPrintable(panel.readout()->text()));
        // The header is shown and searchable.
        QVERIFY(panel.headerView()->toPlainText().contains("CTYPE1  = 'RA---TAN'"));
    }

    // The scale modes give core's numbers; typed or dragged limits make the mode "user".
    void scaleModesAndDraggedLimits() {
        auto shown = shownPanel(image_);
        ui::ViewerPanel& panel = *shown;
        QVERIFY(panel.hasLoaded() && panel.problem().isEmpty());
        const viewer::Limits z = viewer::zscale(pixels_.data(), pixels_.size());
        QCOMPARE(panel.limits().low, z.low);
        QCOMPARE(panel.limits().high, z.high);
        panel.setScale("minmax");
        QCOMPARE(panel.limits().low, 1001.0);
        QCOMPARE(panel.limits().high, static_cast<double>(kNx + 1000 * kNy));
        panel.setScale("99.5");
        const viewer::Limits p = viewer::percentile(pixels_.data(), pixels_.size(), 99.5);
        QCOMPARE(panel.limits().low, p.low);
        QCOMPARE(panel.limits().high, p.high);
        auto* histogram = panel.findChild<ui::HistogramView*>();
        QVERIFY(histogram);
        QSignalSpy dragged(histogram, &ui::HistogramView::limitsDragged);
        const int y = histogram->height() / 2;
        const double before = panel.limits().high;
        QTest::mousePress(histogram, Qt::LeftButton, {}, QPoint(histogram->width() - 8, y));
        QTest::mouseMove(histogram, QPoint(histogram->width() / 2, y));
        QTest::mouseRelease(histogram, Qt::LeftButton, {}, QPoint(histogram->width() / 2, y));
        QVERIFY(!dragged.isEmpty());
        QVERIFY2(panel.limits().high < before, qPrintable(QString::number(panel.limits().high)));
        panel.setLimits(2000, 3000);
        QCOMPARE(panel.limits().low, 2000.0);
    }

    // The wheel zooms about the cursor: the image point under it stays under it.
    void wheelZoomsAboutTheCursor() {
        auto shown = shownPanel(image_);
        ui::ViewerPanel& panel = *shown;
        QVERIFY(panel.hasLoaded() && panel.problem().isEmpty());
        ui::ImageCanvas* c = panel.canvas();
        const QPointF at(c->width() * 0.3, c->height() * 0.6);
        double x0, y0, x1, y1;
        c->view().toImage(at.x(), at.y(), c->width(), c->height(), x0, y0);
        const double zoom = c->view().zoom;
        QWheelEvent wheel(at, c->mapToGlobal(at), {}, {0, 240}, Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(c, &wheel);
        QVERIFY(std::abs(c->view().zoom - zoom * 1.5625) < 1e-12);
        c->view().toImage(at.x(), at.y(), c->width(), c->height(), x1, y1);
        QVERIFY(std::abs(x1 - x0) < 1e-9 && std::abs(y1 - y0) < 1e-9);
        c->zoomTo(1000);
        QCOMPARE(c->view().zoom, ui::ImageCanvas::kMaxZoom);
        QTest::keyClick(c, Qt::Key_F);
        QCOMPARE(c->view().zoom, viewer::View::fit(kNx, kNy, c->width(), c->height()).zoom);
    }

    // A raw mosaic opens as CCD 1 assembled; the focal plane shows 18 CCDs and a double
    // click on one opens it.
    void focalPlaneAndItsDoubleClick() {
        ui::ViewerPanel panel;
        panel.resize(900, 600);
        panel.show();
        panel.open(QString::fromStdString(raw_));
        QVERIFY(waitLoaded(panel));
        QVERIFY2(QString::fromStdString(panel.plane().label).startsWith("CCD 1 (amplifiers assembled"),
                 panel.plane().label.c_str());
        panel.openFocalPlane(QString::fromStdString(raw_));
        QVERIFY(waitLoaded(panel));
        QVERIFY(panel.focalPlane());
        QCOMPARE(static_cast<int>(panel.focalPlane()->ccds.size()), 18);
        const auto& box = *std::find_if(panel.focalPlane()->ccds.begin(), panel.focalPlane()->ccds.end(),
                                        [](const auto& c) { return c.ccd == 7; });
        ui::ImageCanvas* c = panel.canvas();
        double ox, oy;
        c->view().toOutput((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2, c->width(), c->height(), ox, oy);
        QTest::mouseDClick(c, Qt::LeftButton, {}, QPoint(static_cast<int>(ox), static_cast<int>(oy)));
        QVERIFY(waitLoaded(panel));
        QVERIFY2(QString::fromStdString(panel.plane().label).startsWith("CCD 7 "), panel.plane().label.c_str());
        QVERIFY(!panel.focalPlane());
    }

    // Bad input is a message in the panel: no crash, no frozen window.
    void errorsAreMessagesInThePanel() {
        ui::ViewerPanel panel;
        panel.show();
        panel.open(dir_.filePath("missing.fits"));
        QVERIFY(waitLoaded(panel));
        QVERIFY2(panel.problem().contains("missing.fits"), qPrintable(panel.problem()));
        QFile junk(dir_.filePath("junk.fits"));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write(QByteArray(5000, 'x'));
        junk.close();
        panel.open(junk.fileName());
        QVERIFY(waitLoaded(panel));
        QVERIFY2(panel.problem().contains("junk.fits"), qPrintable(panel.problem()));
        // A raw mosaic's primary HDU has no pixels: said so, with its header shown.
        panel.open(QString::fromStdString(raw_) + "[1]");
        QVERIFY(waitLoaded(panel));
        QVERIFY2(panel.problem().contains("has no pixels"), qPrintable(panel.problem()));
        QVERIFY(panel.headerView()->toPlainText().contains("NEXTEND"));
        // and the next good file clears the message.
        panel.open(QString::fromStdString(image_));
        QVERIFY(waitLoaded(panel));
        QVERIFY(panel.problem().isEmpty());
    }

    // A cutout of the visible part: its pixels and its WCS (pixel 1, 1 of the cutout is the
    // same sky as the image's first visible pixel).
    void cutoutKeepsPixelsAndWcs() {
        auto shown = shownPanel(image_);
        ui::ViewerPanel& panel = *shown;
        QVERIFY(panel.hasLoaded() && panel.problem().isEmpty());
        ui::ImageCanvas* c = panel.canvas();
        c->setView({120, 80, 8});
        long x0, y0, x1, y1;
        c->visibleBox(x0, y0, x1, y1);
        QVERIFY(x0 > 1 && y0 > 1 && x1 < kNx && y1 < kNy);
        const QString out = dir_.filePath("cutout.fits");
        panel.saveCutout(out);
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(out), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(panel.readout()->text().contains("cutout"), 10000);
        fits::File f = fits::File::open(out.toStdString());
        const auto info = f.imageInfo();
        QCOMPARE(info.axes, (std::vector<long>{x1 - x0 + 1, y1 - y0 + 1}));
        const auto cut = f.readImage<float>();
        QCOMPARE(cut[0], pixels_[static_cast<std::size_t>((y0 - 1) * kNx + x0 - 1)]);
        const wcs::Sky a = wcs::Wcs::fromFits(f).pixelToSky({1, 1}), b = testWcs().pixelToSky({double(x0), double(y0)});
        QVERIFY(std::abs(a.ra - b.ra) < 1e-10 && std::abs(a.dec - b.dec) < 1e-10);
    }

    // DS9 regions: imported into their layer; the overlays exported in fk5 read back the same.
    void regionsInAndOut() {
        auto shown = shownPanel(image_);
        ui::ViewerPanel& panel = *shown;
        QVERIFY(panel.hasLoaded() && panel.problem().isEmpty());
        const QString in = dir_.filePath("in.reg");
        QFile f(in);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("# Region file format: DS9 version 4.1\nimage\ncircle(50,60,5)\nellipse(100,80,8,3,30) # color=red\n");
        f.close();
        panel.importRegions(in);
        QTRY_COMPARE_WITH_TIMEOUT(panel.canvas()->overlay("regions").size(), std::size_t(2), 10000);
        const QString out = dir_.filePath("out.reg");
        panel.exportRegions(out, viewer::RegionSystem::Fk5);
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(out), 10000);
        QFile back(out);
        QVERIFY(back.open(QIODevice::ReadOnly));
        const wcs::Wcs w = testWcs();
        const auto shapes = viewer::readRegions(back.readAll().toStdString(), &w);
        QCOMPARE(static_cast<int>(shapes.size()), 2);
        QVERIFY(std::abs(shapes[1].x - 100) < 1e-4 && std::abs(shapes[1].angle - 30) < 1e-3);
        QCOMPARE(shapes[1].colour, std::string("red"));
    }

    // The detections of the image and the reference stars within it, from PAUdb; the
    // archive tab lists the exposure and opens its CCD.
    void overlaysAndArchiveFromPaudb() {
        ui::ViewerPanel panel;
        panel.resize(900, 600);
        panel.show();
        panel.setDatabase(reader_);
        QSignalSpy overlays(&panel, &ui::ViewerPanel::overlaysLoaded);
        panel.open(QString::fromStdString(reduced_));
        QVERIFY(waitLoaded(panel));
        QTRY_VERIFY_WITH_TIMEOUT(!overlays.isEmpty(), 10000);
        QVERIFY2(panel.problem().isEmpty(), qPrintable(panel.problem()));
        const auto& det = panel.canvas()->overlay("detections");
        QCOMPARE(static_cast<int>(det.size()), 3);
        QVERIFY(std::any_of(det.begin(), det.end(), [](const auto& s) { return s.x == 150.5 && s.y == 99.25; }));
        const auto& ref = panel.canvas()->overlay("reference");
        QCOMPARE(static_cast<int>(ref.size()), 1); // the other star is outside the footprint
        QVERIFY(std::abs(ref[0].x - 150) < 1e-6 && std::abs(ref[0].y - 100) < 1e-6);
        QVERIFY(!panel.canvas()->image()->mask.empty()); // its MASK extension, for the mask overlay

        QTreeWidget* tree = panel.archiveTree();
        QTRY_VERIFY_WITH_TIMEOUT(tree->topLevelItemCount() == 1, 10000);
        QCOMPARE(tree->topLevelItem(0)->text(0), QString("2026-11-20"));
        QTreeWidgetItem* ccd = tree->topLevelItem(0)->child(0)->child(0)->child(0)->child(0);
        QVERIFY(ccd);
        QCOMPARE(ccd->text(0), QString("CCD 07"));
        panel.open(QString::fromStdString(image_));
        QVERIFY(waitLoaded(panel));
        emit tree->itemActivated(ccd, 0);
        QVERIFY(waitLoaded(panel));
        QCOMPARE(QFileInfo(QString::fromStdString(panel.plane().path)).fileName(), QString("paucam.1.ccd07.fits"));
    }

    // A job's products (the FITS files of its input and output) listed in Operations' detail,
    // archive paths made absolute, a double click asking the viewer for one.
    void jobProductsOpenInTheViewer() {
        ui::JobView view;
        view.detail.input = QJsonObject{{"file", "raw/20261120_001/paucam.1.fits"}, {"mosaic_id", 3}};
        view.detail.output = QJsonObject{
            {"file", "raw/20261120_001/paucam.1.fits"},
            {"master_bias", "red/R1/20261120_001/master_bias.fits"},
            {"ccds", QJsonArray{QJsonObject{{"ccd", 7}, {"file", "red/R1/20261120_001/paucam.1.ccd07.fits"}},
                                QJsonObject{{"ccd", 8}, {"file", "red/R1/20261120_001/paucam.1.ccd08.fits"}}}}};
        ui::JobDetailView detail;
        detail.setJob(view);
        auto* list = detail.findChild<QListWidget*>();
        QVERIFY(list);
        QCOMPARE(list->count(), 4); // the raw file once, the bias, two CCDs
        QSignalSpy wanted(&detail, &ui::JobDetailView::fileWanted);
        emit list->itemActivated(list->findItems("red/R1/20261120_001/paucam.1.ccd07.fits", Qt::MatchExactly).first());
        QCOMPARE(wanted.size(), 1);
        QCOMPARE(wanted.first().first().toString(), dir_.filePath("archive") + "/red/R1/20261120_001/paucam.1.ccd07.fits");
    }

    // Closing the panel while a focal plane is being read never waits for it.
    void closingWhileReadingDoesNotWait() {
        auto* panel = new ui::ViewerPanel;
        panel->show();
        panel->openFocalPlane(QString::fromStdString(raw_));
        QVERIFY(panel->isBusy());
        QElapsedTimer t;
        t.start();
        delete panel;
        QVERIFY2(t.elapsed() < 100, qPrintable(QString::number(t.elapsed())));
        QVERIFY(ui::Background::drain(20000));
    }
};

QTEST_MAIN(TestViewerPanel)
#include "test_viewer_panel.moc"
