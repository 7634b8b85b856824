#pragma once
// What the Nightly report's widgets share: colours, the text of a verdict, axis titles.
#include "quality/report.h"

#include <QColor>
#include <QObject>
#include <QString>
#include <QStringList>

namespace paudm::ui::report {

inline const QColor kBad(0xc6, 0x28, 0x28), kGood(0x2e, 0x7d, 0x32);

inline QString text(const std::string& s) {
    return QString::fromStdString(s);
}

/// Band b's colour in every plot (the html report's too).
inline QColor bandColour(std::size_t b) {
    const auto& c = quality::bandColours();
    return QColor(text(c[b % c.size()]));
}

/// A verdict's reasons, joined.
inline QString reasons(const quality::Verdict& v) {
    QStringList r;
    for (const auto& f : v.failures) r << text(f.reason);
    return r.join("; ");
}

/// "Seeing (PSF FWHM) (arcsec)"; a column quantity by its key; "time" as the time axis.
inline QString axisTitle(const std::string& key) {
    if (key == "time") return QObject::tr("Time (UTC)");
    const quality::Quantity* q = quality::findQuantity(key);
    if (!q) return text(key);
    return text(q->label) + (q->unit.empty() ? QString() : " (" + text(q->unit) + ")");
}

} // namespace paudm::ui::report
