// The FITS viewer's pixel work (core/viewer), against independent answers: astropy's
// ZScaleInterval, numpy's percentiles and statistics, astropy.visualization's stretches and
// matplotlib's viridis, all computed by Debian's python3 on files that astropy wrote (every
// BITPIX, BZERO/BSCALE, BLANK, NaN, a tile-compressed image, a cube, a table, a primary
// without data); the rendering's geometry against its definition; the focal plane of a
// simulated raw mosaic against its CCDs read one by one.
#include "fits/fits.h"
#include "pipelines/paucam.h"
#include "raw_mosaic.h"
#include "viewer/display.h"
#include "viewer/image_source.h"
#include "viewer/overlay.h"
#include "wcs/wcs.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace paudm;
namespace vw = paudm::viewer;

namespace {

/// Runs a python3 script (Debian's, with numpy, astropy and matplotlib), returns its stdout.
QByteArray python(const QString& script, const QStringList& args = {}) {
    QProcess p;
    p.start("/usr/bin/python3", QStringList{"-c", script} + args);
    if (!p.waitForFinished(120000) || p.exitCode() != 0) {
        qWarning().noquote() << p.readAllStandardError();
        return {};
    }
    return p.readAllStandardOutput();
}

vw::Shape shape(vw::Shape::Kind kind, double x, double y, double a = 0, double b = 0, double angle = 0) {
    vw::Shape s;
    s.kind = kind, s.x = x, s.y = y, s.a = a, s.b = b, s.angle = angle;
    return s;
}

bool near(double a, double b, double rel, double abs = 0) {
    return std::abs(a - b) <= std::max(abs, rel * std::max(std::abs(a), std::abs(b)));
}

// Writes the test files with astropy and prints, per file, what numpy and astropy make of
// its physical pixels (BZERO/BSCALE applied, BLANK as NaN).
const char* kWriteFiles = R"PY(
import json, sys, warnings
import numpy as np
from astropy.io import fits
from astropy.visualization import ZScaleInterval
warnings.simplefilter('ignore')
out = sys.argv[1]
rng = np.random.default_rng(7)
def sky(shape):
    img = 1000 + 12 * rng.standard_normal(shape)
    for _ in range(40):   # stars: the tail zscale must reject
        y, x = rng.integers(5, shape[0] - 5), rng.integers(5, shape[1] - 5)
        yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
        img += rng.uniform(500, 30000) * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / 4.0)
    return img
expect = {}
def record(name, phys):
    v = phys[np.isfinite(phys)]
    lo, hi = ZScaleInterval().get_limits(phys)
    expect[name] = dict(min=float(v.min()), max=float(v.max()), mean=float(v.mean()), median=float(np.median(v)),
                        std=float(v.std()), blank=int(phys.size - v.size), zlo=float(lo), zhi=float(hi),
                        p995=[float(np.percentile(v, 0.25)), float(np.percentile(v, 99.75))],
                        p90=[float(np.percentile(v, 5)), float(np.percentile(v, 95))],
                        nx=int(phys.shape[-1]), ny=int(phys.shape[-2]))
base = sky((120, 160))
# float32 with NaN
f32 = base.astype(np.float32); f32[10, 10:20] = np.nan
fits.PrimaryHDU(f32).writeto(out + '/f32.fits', overwrite=True)
record('f32', f32.astype(np.float64))
# float64
fits.PrimaryHDU(base).writeto(out + '/f64.fits', overwrite=True)
record('f64', base)
# 8-bit: values 0..255 (unsigned in FITS)
u8 = np.clip((base - 950) / 2, 0, 255).astype(np.uint8)
fits.PrimaryHDU(u8).writeto(out + '/u8.fits', overwrite=True)
record('u8', u8.astype(np.float64))
# 16-bit signed with BSCALE, BZERO and BLANK
raw16 = np.clip(np.round((base - 1000) * 4), -32000, 32000).astype(np.int16)
raw16[50, 50:60] = -32768
h = fits.PrimaryHDU(raw16)
h.header['BSCALE'] = 0.25; h.header['BZERO'] = 1000.0; h.header['BLANK'] = -32768
fits.HDUList([h]).writeto(out + '/i16.fits', overwrite=True, output_verify='ignore')
phys16 = raw16.astype(np.float64) * 0.25 + 1000.0; phys16[raw16 == -32768] = np.nan
record('i16', phys16)
# unsigned 16-bit (BZERO 32768), as cameras write
u16 = np.clip(base * 20, 0, 65535).astype(np.uint16)
fits.PrimaryHDU(u16).writeto(out + '/u16.fits', overwrite=True)
record('u16', u16.astype(np.float64))
# 32- and 64-bit integers
i32 = (base * 1000).astype(np.int32)
fits.PrimaryHDU(i32).writeto(out + '/i32.fits', overwrite=True)
record('i32', i32.astype(np.float64))
i64 = (base * 100000).astype(np.int64)
fits.PrimaryHDU(i64).writeto(out + '/i64.fits', overwrite=True)
record('i64', i64.astype(np.float64))
# a MEF: a primary without data, an image extension, a table
col = fits.Column(name='flux', format='D', array=np.arange(12.0))
fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(f32, name='SCI'), fits.BinTableHDU.from_columns([col], name='CAT')]).writeto(out + '/mef.fits', overwrite=True)
# a tile-compressed image (Rice, lossless for integers)
fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(i32, compression_type='RICE_1', name='COMP')]).writeto(out + '/comp.fits', overwrite=True)
# a cube of three planes; plane 2 recorded
cube = np.stack([base, base * 2, base * 3]).astype(np.float32)
fits.PrimaryHDU(cube).writeto(out + '/cube.fits', overwrite=True)
record('cube2', cube[1].astype(np.float64))
print(json.dumps(expect))
)PY";

} // namespace

class TestViewer : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QJsonObject expect_;

    std::string file(const char* name) const { return dir_.filePath(name).toStdString(); }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        const QByteArray out = python(kWriteFiles, {dir_.path()});
        QVERIFY2(!out.isEmpty(), "python3 with astropy could not write the test files (packaging/install-deps.sh)");
        expect_ = QJsonDocument::fromJson(out).object();
        QVERIFY(expect_.contains("i16"));
    }

    // Statistics and the limits, for every pixel type, against numpy and astropy: our
    // reading applies BZERO/BSCALE, takes BLANK and NaN as blank, and computes the same
    // numbers from them.
    void statisticsMatchNumpyAndAstropy_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<QString>("key");
        QTest::addColumn<long>("plane");
        for (const char* name : {"f32", "f64", "u8", "i16", "u16", "i32", "i64"})
            QTest::newRow(name) << QString(name) + ".fits" << QString(name) << 1L;
        QTest::newRow("mef SCI by EXTNAME") << "mef.fits[SCI]" << "f32" << 1L;
        QTest::newRow("mef first image") << "mef.fits" << "f32" << 1L;
        QTest::newRow("tile compressed") << "comp.fits[2]" << "i32" << 1L;
        QTest::newRow("cube plane 2") << "cube.fits" << "cube2" << 2L;
    }
    void statisticsMatchNumpyAndAstropy() {
        QFETCH(QString, spec);
        QFETCH(QString, key);
        QFETCH(long, plane);
        const vw::Plane p = vw::readPlane(dir_.filePath(spec).toStdString(), plane);
        const QJsonObject e = expect_[key].toObject();
        QCOMPARE(p.nx, static_cast<long>(e["nx"].toInt()));
        QCOMPARE(p.ny, static_cast<long>(e["ny"].toInt()));
        const vw::Statistics s = vw::statistics(p.pixels.data(), p.pixels.size());
        QCOMPARE(static_cast<int>(s.blank), e["blank"].toInt());
        // float pixels: our single-precision values against numpy's doubles.
        const double rel = 2e-6;
        QVERIFY2(near(s.min, e["min"].toDouble(), rel), qPrintable(QString::number(s.min)));
        QVERIFY2(near(s.max, e["max"].toDouble(), rel), qPrintable(QString::number(s.max)));
        QVERIFY2(near(s.mean, e["mean"].toDouble(), rel), qPrintable(QString::number(s.mean, 'g', 12)));
        QVERIFY2(near(s.median, e["median"].toDouble(), rel), qPrintable(QString::number(s.median, 'g', 12)));
        QVERIFY2(near(s.std, e["std"].toDouble(), 1e-5), qPrintable(QString::number(s.std, 'g', 12)));
        // zscale as astropy's ZScaleInterval (same samples, same line fit and rejection).
        QVERIFY2(near(s.zscale.low, e["zlo"].toDouble(), 1e-5),
                 qPrintable(QString("%1 vs %2").arg(s.zscale.low, 0, 'g', 10).arg(e["zlo"].toDouble(), 0, 'g', 10)));
        QVERIFY2(near(s.zscale.high, e["zhi"].toDouble(), 1e-5),
                 qPrintable(QString("%1 vs %2").arg(s.zscale.high, 0, 'g', 10).arg(e["zhi"].toDouble(), 0, 'g', 10)));
        // The percentile limits the viewer offers, as numpy's linear percentiles.
        for (auto [percent, k] : {std::pair{99.5, "p995"}, std::pair{90.0, "p90"}}) {
            const vw::Limits l = vw::percentile(p.pixels.data(), p.pixels.size(), percent);
            const QJsonArray want = e[k].toArray();
            QVERIFY2(near(l.low, want[0].toDouble(), 1e-6), k);
            QVERIFY2(near(l.high, want[1].toDouble(), 1e-6), k);
        }
    }

    // What cannot be drawn is described, not an error: a table, a primary without data.
    void tablesAndEmptyPrimariesAreDescribed() {
        const vw::Plane table = vw::readPlane(file("mef.fits") + "[CAT]");
        QVERIFY(table.empty());
        QCOMPARE(table.hdu, 3);
        QVERIFY2(QString::fromStdString(table.note).contains("binary table (1 column, 12 rows): no image"), table.note.c_str());
        QVERIFY(QString::fromStdString(table.header).contains("TTYPE1  = 'flux"));
        const vw::Plane primary = vw::readPlane(file("mef.fits") + "[1]");
        QVERIFY(primary.empty());
        QVERIFY2(QString::fromStdString(primary.note).contains("the image is HDU 2"), primary.note.c_str());
        const auto hdus = vw::listHdus(file("comp.fits"));
        QCOMPARE(static_cast<int>(hdus.size()), 2);
        QCOMPARE(QString::fromStdString(hdus[1].type), QString("compressed image"));
        QCOMPARE(hdus[1].bitpix, 32);
        QCOMPARE(hdus[1].axes, (std::vector<long>{160, 120}));
        // A missing HDU or file is an error that names it.
        try {
            (void)vw::readPlane(file("mef.fits") + "[NOPE]");
            QFAIL("no error for a missing EXTNAME");
        } catch (const Error& e) {
            QVERIFY2(QString::fromStdString(e.message()).contains("no HDU with EXTNAME NOPE"), e.what());
        }
        try {
            (void)vw::readPlane(file("cube.fits"), 4);
            QFAIL("no error for a missing plane");
        } catch (const Error& e) {
            QVERIFY2(QString::fromStdString(e.message()).contains("no plane 4 (it has 3)"), e.what());
        }
    }

    // Stretches as astropy.visualization defines them, and viridis as matplotlib draws it.
    void stretchesAndColourMapsMatchAstropyAndMatplotlib() {
        const QByteArray out = python(R"PY(
import json, numpy as np, matplotlib
from astropy.visualization import LinearStretch, SqrtStretch, LogStretch, AsinhStretch
x = np.linspace(0, 1, 41)
res = {n: [float(v) for v in s(x)] for n, s in
       [('linear', LinearStretch()), ('sqrt', SqrtStretch()), ('log', LogStretch()), ('asinh', AsinhStretch())]}
cm = matplotlib.colormaps['viridis']
res['viridis'] = [[float(c) for c in cm(i)[:3]] for i in range(256)]  # its table: entry i is t = i / 255
print(json.dumps(res))
)PY");
        QVERIFY(!out.isEmpty());
        const QJsonObject want = QJsonDocument::fromJson(out).object();
        for (vw::Stretch s : {vw::Stretch::Linear, vw::Stretch::Sqrt, vw::Stretch::Log, vw::Stretch::Asinh}) {
            const QJsonArray w = want[QString::fromStdString(vw::stretchName(s))].toArray();
            for (int i = 0; i <= 40; ++i)
                QVERIFY2(near(vw::stretch(s, i / 40.0), w[i].toDouble(), 1e-12, 1e-12), vw::stretchName(s).c_str());
        }
        // Viridis from 52 of matplotlib's colours: every one of its 256 within 1 / 255 (rounding).
        const QJsonArray v = want["viridis"].toArray();
        double worst = 0;
        for (int i = 0; i < 256; ++i) {
            const std::uint32_t c = vw::colour(vw::Colormap::Viridis, i / 255.0);
            const double rgb[3] = {((c >> 16) & 255) / 255.0, ((c >> 8) & 255) / 255.0, (c & 255) / 255.0};
            for (int k = 0; k < 3; ++k) worst = std::max(worst, std::abs(rgb[k] - v[i].toArray()[k].toDouble()));
        }
        QVERIFY2(worst <= 1.001 / 255, qPrintable(QString::number(worst * 255)));
        QCOMPARE(vw::colour(vw::Colormap::Grey, 0), 0xff000000u);
        QCOMPARE(vw::colour(vw::Colormap::Grey, 1), 0xffffffffu);
        // heat, DS9's: black, red by a third, then yellow, white at the top.
        QCOMPARE(vw::colour(vw::Colormap::Heat, 0), 0xff000000u);
        QCOMPARE(vw::colour(vw::Colormap::Heat, 1), 0xffffffffu);
        QCOMPARE((vw::colour(vw::Colormap::Heat, 0.34) >> 16) & 255, 255u);
        QCOMPARE(vw::colour(vw::Colormap::Heat, 0.5) & 255, 0u);
        QVERIFY_THROWS_EXCEPTION(Error, vw::parseStretch("cube"));
    }

    // The colour table: the limits map to the ends of the colour map, in between through
    // the stretch; inverted runs the other way; blank pixels get their own colour.
    void colourTableMapsLimitsThroughTheStretch() {
        const vw::ColourTable t({100, 200}, vw::Stretch::Sqrt, vw::Colormap::Grey, false);
        QCOMPARE(t(50), 0xff000000u);
        QCOMPARE(t(100), 0xff000000u);
        QCOMPARE(t(200), 0xffffffffu);
        QCOMPARE(t(1e9f), 0xffffffffu);
        // (125 - 100) / 100 = 0.25, sqrt 0.5: grey 128 (within the table's 1/4096 steps).
        QVERIFY(std::abs(static_cast<int>(t(125) & 255) - 128) <= 1);
        QCOMPARE(t(NAN), vw::ColourTable::kNanColour);
        const vw::ColourTable inv({100, 200}, vw::Stretch::Linear, vw::Colormap::Grey, true);
        QCOMPARE(inv(100), 0xffffffffu);
        QCOMPARE(inv(200), 0xff000000u);
    }

    // Rendering: which image pixel each output pixel shows, y up, at several zooms.
    void renderPutsEachImagePixelWhereTheViewSays() {
        const long nx = 4, ny = 3;
        std::vector<float> img(static_cast<std::size_t>(nx * ny));
        for (long i = 0; i < nx * ny; ++i) img[static_cast<std::size_t>(i)] = static_cast<float>(i); // value = index
        // Limits 0 to 11 in grey: each of the 12 values gets its own colour.
        const vw::ColourTable t({0, 11}, vw::Stretch::Linear, vw::Colormap::Grey, false);
        for (int i = 1; i < 12; ++i) QVERIFY(t(static_cast<float>(i)) != t(static_cast<float>(i - 1)));
        // Zoom 2 on the image centre (2.5, 2): output 8 x 6 shows the image exactly.
        vw::View v{2.5, 2, 2};
        std::vector<std::uint32_t> out(8 * 6);
        vw::render(img.data(), nx, ny, t, v, 8, 6, out.data(), 0xff00ff00);
        for (int oy = 0; oy < 6; ++oy)
            for (int ox = 0; ox < 8; ++ox) {
                const long ix = ox / 2, iy = ny - 1 - oy / 2; // top output row = top image row
                QCOMPARE(out[static_cast<std::size_t>(oy * 8 + ox)], t(img[static_cast<std::size_t>(iy * nx + ix)]));
            }
        // Panned so that image point (1.25, 1.25) is at the centre of a 4 x 4 output at zoom
        // 1: output column ox shows image x = ox - 0.25 (pixel ox, none for ox = 0), output
        // row oy image y = 2.75 - oy (pixel 3 - oy, none for oy = 3).
        vw::View corner{1.25, 1.25, 1};
        std::vector<std::uint32_t> o2(16);
        vw::render(img.data(), nx, ny, t, corner, 4, 4, o2.data(), 0xff00ff00);
        for (int oy = 0; oy < 4; ++oy)
            for (int ox = 0; ox < 4; ++ox) {
                const std::uint32_t want =
                    ox == 0 || oy == 3 ? 0xff00ff00u : t(img[static_cast<std::size_t>((2 - oy) * nx + ox - 1)]);
                QCOMPARE(o2[static_cast<std::size_t>(oy * 4 + ox)], want);
            }
        // toImage and toOutput are each other's inverse, and fit() shows the whole image.
        double x, y, ox, oy;
        v.toImage(3.25, 1.5, 8, 6, x, y);
        v.toOutput(x, y, 8, 6, ox, oy);
        QVERIFY(near(ox, 3.25, 1e-12) && near(oy, 1.5, 1e-12));
        const vw::View f = vw::View::fit(4096, 2048, 800, 600);
        QCOMPARE(f.zoom, 800.0 / 4096);
        f.toImage(0, 300, 800, 600, x, y);
        QVERIFY(near(x, 0.5, 1e-12));
    }

    // The focal plane of one exposure's 18 reduced files (<stem>.ccdNN.fits), from any one
    // of them: each CCD's box holds that CCD's pixels; with the sky off, each box's median
    // is taken off it.
    void focalPlaneOfReducedFiles() {
        const QString folder = dir_.filePath("reduced");
        QDir().mkpath(folder);
        for (int ccd = 1; ccd <= 18; ++ccd) {
            std::vector<float> px(32 * 64);
            for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<float>(100 * ccd + (i % 3));
            fits::File f = fits::File::create(folder.toStdString() + "/exp.ccd" + (ccd < 10 ? "0" : "") +
                                              std::to_string(ccd) + ".fits");
            f.appendImage<float>({32, 64}, px);
            f.close();
        }
        const std::string one = folder.toStdString() + "/exp.ccd05.fits";
        QCOMPARE(static_cast<int>(vw::reducedSiblings(one).size()), 18);
        const vw::FocalPlane fp = vw::readFocalPlane(one, 4096, 2);
        QVERIFY(!fp.raw);
        QCOMPARE(fp.binning, 1);
        QCOMPARE(static_cast<int>(fp.ccds.size()), 18);
        for (const auto& c : fp.ccds) {
            QVERIFY(QString::fromStdString(c.source).endsWith(QString(".ccd%1.fits").arg(c.ccd, 2, 10, QChar('0'))));
            const float v = fp.pixels[static_cast<std::size_t>((static_cast<long>(c.y0) - 1) * fp.nx + static_cast<long>(c.x0) - 1)];
            QCOMPARE(v, static_cast<float>(100 * c.ccd)); // pixel (1, 1) of the CCD: i % 3 == 0
            QCOMPARE(c.sky, 100.0 * c.ccd + 1);           // the median of 0, 1, 2 repeated
        }
        const vw::FocalPlane off = vw::readFocalPlane(one, 4096, 2, {}, true);
        QVERIFY(off.skySubtracted);
        for (const auto& c : off.ccds)
            QCOMPARE(off.pixels[static_cast<std::size_t>((static_cast<long>(c.y0) - 1) * off.nx + static_cast<long>(c.x0) - 1)], -1.0f);
    }

    // The mask overlay: a pixel with a bit asked for takes its plane's colour blended by its
    // alpha; other pixels and bits not asked for keep the image's colour.
    void maskOverlayBlendsOnlyTheBitsAsked() {
        const long nx = 3, ny = 1;
        const std::uint8_t mask[3] = {0, 1, 4};
        std::vector<std::uint32_t> out(3, 0xff000000u); // black image
        const std::uint32_t colours[8] = {0x80ff0000u, 0, 0xff00ff00u, 0, 0, 0, 0, 0};
        const vw::View v{2, 1, 1};
        vw::renderMask(mask, nx, ny, 0x01, colours, v, 3, 1, out.data());
        QCOMPARE(out[0], 0xff000000u);
        QCOMPARE(out[1], 0xff800000u); // red at alpha 128 over black: 255 * 128 / 255
        QCOMPARE(out[2], 0xff000000u); // bit 4 (cosmic ray) not asked for
        vw::renderMask(mask, nx, ny, 0x05, colours, v, 3, 1, out.data());
        QCOMPARE(out[2], 0xff00ff00u);
    }

    // A rotated ellipse's outline satisfies its equation: in the frame turned by its angle,
    // (u / a)^2 + (v / b)^2 = 1 at every vertex; a box's corners lie at its half sizes.
    void ellipseOutlineFollowsItsEquation() {
        vw::Shape e;
        e.kind = vw::Shape::Kind::Ellipse;
        e.x = 100.5, e.y = 40.25, e.a = 12, e.b = 5, e.angle = 33;
        const auto pts = vw::outline(e, 90);
        QCOMPARE(static_cast<int>(pts.size()), 90);
        const double c = std::cos(33 * M_PI / 180), sn = std::sin(33 * M_PI / 180);
        double maxDistance = 0;
        for (const auto& [x, y] : pts) {
            const double dx = x - e.x, dy = y - e.y;
            const double u = dx * c + dy * sn, v = -dx * sn + dy * c;
            QVERIFY(near(u * u / 144 + v * v / 25, 1, 1e-12));
            maxDistance = std::max(maxDistance, std::hypot(dx, dy));
        }
        QVERIFY(near(maxDistance, 12, 1e-12)); // vertex 0 is the end of the major axis
        QVERIFY(near(pts[0].first, e.x + 12 * c, 1e-12) && near(pts[0].second, e.y + 12 * sn, 1e-12));
        const vw::Shape box = shape(vw::Shape::Kind::Box, 10, 10, 4, 2, 90);
        const auto corners = vw::outline(box);
        QCOMPARE(static_cast<int>(corners.size()), 4);
        QVERIFY(near(corners[0].first, 11, 1e-12) && near(corners[0].second, 8, 1e-12)); // (-2, -1) turned by 90
    }

    // DS9 region files: written in image and fk5 coordinates, read back by us and by
    // astropy's regions package (an independent reader of DS9's format), the same shapes.
    void ds9RegionsRoundTripAndAstropyReadsThem() {
        // A TAN WCS with 0.263"/px, rotated 20 degrees (north not up).
        const double s = 0.263 / 3600, r = 20 * M_PI / 180;
        const auto w = wcs::Wcs::tan({128, 256}, {150.1, 2.2}, -s * std::cos(r), s * std::sin(r), s * std::sin(r),
                                     s * std::cos(r));
        std::vector<vw::Shape> shapes;
        shapes.push_back(shape(vw::Shape::Kind::Circle, 50.5, 60.25, 8));
        shapes.push_back(shape(vw::Shape::Kind::Ellipse, 120, 300, 10, 4, 30));
        shapes.push_back(shape(vw::Shape::Kind::Box, 200, 100, 20, 8, -15));
        shapes.push_back(shape(vw::Shape::Kind::Annulus, 80, 400, 6, 12));
        shapes.push_back(shape(vw::Shape::Kind::Point, 33, 44));
        vw::Shape line = shape(vw::Shape::Kind::Line, 10, 20);
        line.x2 = 110, line.y2 = 70;
        shapes.push_back(line);
        shapes[0].text = "star 17", shapes[0].colour = "red", shapes[0].layer = "reference";
        for (vw::RegionSystem system : {vw::RegionSystem::Image, vw::RegionSystem::Fk5}) {
            const std::string text = vw::writeRegions(shapes, system, &w);
            const auto back = vw::readRegions(text, &w);
            QCOMPARE(back.size(), shapes.size());
            for (std::size_t i = 0; i < shapes.size(); ++i) {
                QCOMPARE(static_cast<int>(back[i].kind), static_cast<int>(shapes[i].kind));
                QVERIFY2(near(back[i].x, shapes[i].x, 0, 1e-4) && near(back[i].y, shapes[i].y, 0, 1e-4), text.c_str());
                QVERIFY2(near(back[i].a, shapes[i].a, 1e-5, 1e-4) && near(back[i].b, shapes[i].b, 1e-5, 1e-4), text.c_str());
                QVERIFY2(near(std::remainder(back[i].angle - shapes[i].angle, 360.0), 0, 0, 1e-3), text.c_str());
                QVERIFY(near(back[i].x2, shapes[i].x2, 0, 1e-4) && near(back[i].y2, shapes[i].y2, 0, 1e-4));
            }
            QCOMPARE(back[0].text, std::string("star 17"));
            QCOMPARE(back[0].colour, std::string("red"));
            QCOMPARE(back[0].layer, std::string("reference"));

            // astropy's regions reads the same file; in pixels (0-based there) through the
            // same WCS, its shapes are ours.
            const QString regFile = dir_.filePath(system == vw::RegionSystem::Fk5 ? "fk5.reg" : "image.reg");
            QFile f(regFile);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(text.c_str());
            f.close();
            fits::File hf = fits::File::create(dir_.filePath("wcs.fits").toStdString(), true);
            hf.appendImage<float>({256, 512}, std::vector<float>(256 * 512, 0.f));
            hf.writeCards(w.toHeader());
            hf.close();
            const QByteArray out = python(R"PY(
import json, sys, warnings
warnings.simplefilter('ignore')
from regions import Regions
from astropy.io import fits
from astropy.wcs import WCS
w = WCS(fits.getheader(sys.argv[2]))
res = []
for reg in Regions.read(sys.argv[1], format='ds9'):
    p = reg.to_pixel(w) if hasattr(reg, 'to_pixel') else reg
    name = type(p).__name__
    d = dict(kind=name)
    if hasattr(p, 'center'): d['x'], d['y'] = float(p.center.x) + 1, float(p.center.y) + 1
    if hasattr(p, 'start'): d['x'], d['y'], d['x2'], d['y2'] = float(p.start.x) + 1, float(p.start.y) + 1, float(p.end.x) + 1, float(p.end.y) + 1
    for k in ('radius', 'inner_radius', 'outer_radius', 'width', 'height'):
        if hasattr(p, k): d[k] = float(getattr(p, k))
    if hasattr(p, 'angle'): d['angle'] = float(p.angle.to('deg').value)
    res.append(d)
print(json.dumps(res))
)PY", {regFile, dir_.filePath("wcs.fits")});
            QVERIFY2(!out.isEmpty(), "astropy's regions could not read our region file (python3-regions)");
            const QJsonArray got = QJsonDocument::fromJson(out).array();
            QCOMPARE(got.size(), static_cast<int>(shapes.size()));
            const char* kinds[] = {"CirclePixelRegion", "EllipsePixelRegion", "RectanglePixelRegion",
                                   "CircleAnnulusPixelRegion", "PointPixelRegion", "LinePixelRegion"};
            for (int i = 0; i < got.size(); ++i) {
                const QJsonObject g = got[i].toObject();
                const vw::Shape& want = shapes[static_cast<std::size_t>(i)];
                QCOMPARE(g["kind"].toString(), QString(kinds[i]));
                QVERIFY2(near(g["x"].toDouble(), want.x, 0, 1e-3) && near(g["y"].toDouble(), want.y, 0, 1e-3),
                         qPrintable(QJsonDocument(g).toJson()));
                if (g.contains("radius")) QVERIFY(near(g["radius"].toDouble(), want.a, 1e-4));
                if (g.contains("inner_radius")) QVERIFY(near(g["inner_radius"].toDouble(), want.a, 1e-4));
                if (g.contains("outer_radius")) QVERIFY(near(g["outer_radius"].toDouble(), want.b, 1e-4));
                // regions' width and height are full axes: twice our ellipse's semi-axes.
                const double f2 = want.kind == vw::Shape::Kind::Ellipse ? 2 : 1;
                if (g.contains("width")) QVERIFY(near(g["width"].toDouble(), want.a * f2, 1e-4));
                if (g.contains("height")) QVERIFY(near(g["height"].toDouble(), want.b * f2, 1e-4));
                if (g.contains("angle"))
                    QVERIFY2(near(std::remainder(g["angle"].toDouble() - want.angle, 360.0), 0, 0, 0.01),
                             qPrintable(QString("%1 vs %2").arg(g["angle"].toDouble()).arg(want.angle)));
                if (g.contains("x2")) QVERIFY(near(g["x2"].toDouble(), want.x2, 0, 1e-3) && near(g["y2"].toDouble(), want.y2, 0, 1e-3));
            }
        }
        // A file as DS9 users write them: sexagesimal, sizes in arcminutes, several per line.
        const auto hand = vw::readRegions("# Region file format: DS9 version 4.1\nglobal color=cyan\n"
                                          "fk5;circle(10:00:24.000,+02:12:00.00,0.1') # text={A}\n"
                                          "image; point(5,6) # point=cross ; box 10 20 4 6 0\n",
                                          &w);
        QCOMPARE(static_cast<int>(hand.size()), 3);
        // FK5 (150.1, 2.2) is 0.1 px from the ICRS WCS's (150.1, 2.2) (the frames' 25 mas),
        // and written out as FK5 again, exactly it.
        const auto centre = w.skyToPixel({150.1, 2.2});
        const double offset = std::hypot(hand[0].x - centre.x, hand[0].y - centre.y);
        QVERIFY2(offset > 0.03 && offset < 0.15, qPrintable(QString::number(offset)));
        QVERIFY(QString::fromStdString(vw::writeRegions({hand[0]}, vw::RegionSystem::Fk5, &w))
                    .contains("circle(150.100000000,2.200000000,6.00000\")"));
        QVERIFY(near(hand[0].a, 6 / 0.263, 1e-6));
        QCOMPARE(hand[0].colour, std::string("cyan"));
        QCOMPARE(hand[0].text, std::string("A"));
        QCOMPARE(static_cast<int>(hand[2].kind), static_cast<int>(vw::Shape::Kind::Box));
        try {
            (void)vw::readRegions("image\ncircle(1,2,3)\npolygon(1,2,3,4,5,6)\n");
            QFAIL("no error for an unsupported shape");
        } catch (const Error& e) {
            QVERIFY2(QString::fromStdString(e.message()).contains("line 3: the shape 'polygon' is not supported"), e.what());
        }
        QCOMPARE(vw::sexagesimalRa(150.1), std::string("10:00:24.000"));
        QCOMPARE(vw::sexagesimalDec(-0.5), std::string("-00:30:00.00"));
        QCOMPARE(vw::sexagesimalRa(359.99999999), std::string("00:00:00.000"));
    }

    // A raw mosaic: one CCD assembled from its amplifiers, and the focal plane of all 18
    // whose every CCD box holds that CCD binned.
    void focalPlaneOfARawMosaic() {
        const std::string raw = test::writeSmallRawMosaic(dir_.path().toStdString());
        QVERIFY(vw::isRawMosaic(raw));
        QVERIFY(!vw::isRawMosaic(file("mef.fits")));

        const vw::Plane ccd7 = vw::readRawCcd(raw, 7);
        QCOMPARE(ccd7.nx, 256L);
        QCOMPARE(ccd7.ny, 512L);
        // Its WCS is the first amplifier's: the CCD's pixel (1, 1) is that amplifier's data pixel (1, 1).
        fits::File f = fits::File::open(raw);
        f.moveToNamed("CCD07A");
        const auto ampWcs = wcs::Wcs::fromFits(f);
        const auto ccdWcs = wcs::Wcs::fromHeader(ccd7.header);
        const auto a = ampWcs.pixelToSky({1, 1}), b = ccdWcs.pixelToSky({1, 1});
        QVERIFY(near(a.ra, b.ra, 0, 1e-9) && near(a.dec, b.dec, 0, 1e-9));

        const vw::FocalPlane fp = vw::readFocalPlane(raw, 1000, 2);
        QCOMPARE(static_cast<int>(fp.ccds.size()), 18);
        QVERIFY(std::max(fp.nx, fp.ny) <= 1000);
        // Small CCDs at their focal-plane places: 6 across and 3 up, no two boxes overlapping.
        for (const auto& c1 : fp.ccds)
            for (const auto& c2 : fp.ccds)
                if (c1.ccd != c2.ccd)
                    QVERIFY2(c1.x1 < c2.x0 || c2.x1 < c1.x0 || c1.y1 < c2.y0 || c2.y1 < c1.y0,
                             qPrintable(QString("CCDs %1 and %2 overlap").arg(c1.ccd).arg(c2.ccd)));
        // CCD 7's box holds CCD 7 binned by the focal plane's binning.
        const auto box = std::find_if(fp.ccds.begin(), fp.ccds.end(), [](const auto& c) { return c.ccd == 7; });
        QVERIFY(box != fp.ccds.end());
        QCOMPARE(fp.ccdAt((box->x0 + box->x1) / 2, (box->y0 + box->y1) / 2), 7);
        const int bin = fp.binning;
        for (long by : {0L, 10L, 50L})
            for (long bx : {0L, 7L, 20L}) {
                double sum = 0;
                for (long y = by * bin; y < (by + 1) * bin; ++y)
                    for (long x = bx * bin; x < (bx + 1) * bin; ++x) sum += ccd7.pixels[static_cast<std::size_t>(y * 256 + x)];
                const float got = fp.pixels[static_cast<std::size_t>((static_cast<long>(box->y0) - 1 + by) * fp.nx +
                                                                     static_cast<long>(box->x0) - 1 + bx)];
                QVERIFY2(near(got, sum / (bin * bin), 1e-5), qPrintable(QString("%1 vs %2").arg(got).arg(sum / (bin * bin))));
            }
        // Cancelling stops it with a message.
        QVERIFY_THROWS_EXCEPTION(Error, vw::readFocalPlane(raw, 1000, 1, [](int done, int) { return done < 3; }));
    }
};

QTEST_GUILESS_MAIN(TestViewer)
#include "test_viewer.moc"
