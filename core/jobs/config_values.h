#pragma once
// Reading a job's configuration (JSON, often written by hand in YAML) with errors that
// name the key and say what was expected. Numbers given as text ("12") are accepted.
#include "common/error.h"

#include <QJsonObject>

#include <cstdint>
#include <string>

namespace paudm::jobs {

/// The text at `key`; `fallback` when absent or null. A number is given back as text.
std::string configText(const QJsonObject& c, const char* key, const std::string& fallback = {});
/// The number at `key` (finite); `fallback` when absent or null.
double configReal(const QJsonObject& c, const char* key, double fallback);
/// A whole number from `lo` to `hi`; `fallback` when absent or null.
int configCount(const QJsonObject& c, const char* key, int fallback, int lo, int hi);
/// A non-negative 64-bit whole number (seeds), given as a number or as text.
std::uint64_t configUnsigned(const QJsonObject& c, const char* key);
/// A boolean; `fallback` when absent or null. Accepts true/false and "yes"/"no" text.
bool configBool(const QJsonObject& c, const char* key, bool fallback);

} // namespace paudm::jobs
