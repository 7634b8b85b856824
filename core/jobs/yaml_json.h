#pragma once
// YAML from users (configuration files, --set values) into the JSON the job tables keep.
#include "common/error.h"

#include <QJsonObject>
#include <QJsonValue>

#include <string>

namespace paudm::jobs {

/// A YAML mapping file as a JSON object; errors name the file, line and column.
QJsonObject yamlFileToJson(const std::string& path);
/// A YAML document given as text (mapping at the top).
QJsonObject yamlTextToJson(const std::string& text, const std::string& what = "YAML");
/// One value as YAML reads it: "20000" -> 20000, "true" -> true, "[1, 2]" -> array, "abc" -> "abc".
QJsonValue yamlScalarToJson(const std::string& text);
/// Applies "a.b.c=value" to `config`, creating nested objects as needed.
void applySetting(QJsonObject& config, const std::string& assignment);

} // namespace paudm::jobs
