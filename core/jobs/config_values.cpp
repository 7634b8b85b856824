#include "jobs/config_values.h"

#include <QString>

#include <cmath>
#include <stdexcept>

namespace paudm::jobs {

std::string configText(const QJsonObject& c, const char* key, const std::string& fallback) {
    const QJsonValue v = c.value(key);
    if (v.isUndefined() || v.isNull()) return fallback;
    if (v.isString()) return v.toString().toStdString();
    if (v.isDouble()) return QString::number(v.toDouble(), 'g', 17).toStdString();
    throw Error(std::string("configuration '") + key + "' must be a text");
}

double configReal(const QJsonObject& c, const char* key, double fallback) {
    const QJsonValue v = c.value(key);
    if (v.isUndefined() || v.isNull()) return fallback;
    bool ok = v.isDouble();
    double d = v.toDouble();
    if (v.isString()) d = v.toString().toDouble(&ok);
    if (!ok || !std::isfinite(d))
        throw Error(std::string("configuration '") + key + "' must be a number, not '" + configText(c, key) + "'");
    return d;
}

int configCount(const QJsonObject& c, const char* key, int fallback, int lo, int hi) {
    const double d = configReal(c, key, fallback);
    if (d != std::floor(d) || d < lo || d > hi)
        throw Error(std::string("configuration '") + key + "' must be a whole number from " + std::to_string(lo) +
                    " to " + std::to_string(hi) + ", not " + QString::number(d).toStdString());
    return static_cast<int>(d);
}

std::uint64_t configUnsigned(const QJsonObject& c, const char* key) {
    const std::string s = configText(c, key);
    try {
        std::size_t used = 0;
        const unsigned long long v = std::stoull(s, &used);
        if (used != s.size() || s.empty() || s[0] == '-') throw std::invalid_argument(s);
        return v;
    } catch (const std::exception&) {
        throw Error(std::string("configuration '") + key + "' must be a non-negative whole number, not '" + s + "'");
    }
}

bool configBool(const QJsonObject& c, const char* key, bool fallback) {
    const QJsonValue v = c.value(key);
    if (v.isUndefined() || v.isNull()) return fallback;
    if (v.isBool()) return v.toBool();
    const QString s = v.isString() ? v.toString().trimmed().toLower() : QString();
    if (s == "true" || s == "yes" || s == "1") return true;
    if (s == "false" || s == "no" || s == "0") return false;
    throw Error(std::string("configuration '") + key + "' must be true or false");
}

} // namespace paudm::jobs
