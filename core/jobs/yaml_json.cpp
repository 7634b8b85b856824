#include "jobs/yaml_json.h"

#include <QJsonArray>

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

namespace paudm::jobs {

namespace {

QJsonValue toJson(const YAML::Node& n) {
    switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return QJsonValue();
    case YAML::NodeType::Sequence: {
        QJsonArray a;
        for (const auto& item : n) a.append(toJson(item));
        return a;
    }
    case YAML::NodeType::Map: {
        QJsonObject o;
        for (const auto& kv : n) o[QString::fromStdString(kv.first.as<std::string>())] = toJson(kv.second);
        return o;
    }
    case YAML::NodeType::Scalar: break;
    }
    const std::string s = n.Scalar();
    if (n.Tag() == "!") return QString::fromStdString(s); // quoted: always a string
    long long i = 0;
    double d = 0;
    bool b = false;
    if (YAML::convert<long long>::decode(n, i)) return static_cast<qint64>(i);
    if (YAML::convert<double>::decode(n, d) && std::isfinite(d)) return d;
    if (YAML::convert<bool>::decode(n, b)) return b;
    return QString::fromStdString(s);
}

} // namespace

QJsonObject yamlTextToJson(const std::string& text, const std::string& what) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw Error(what + ": line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1) +
                    ": " + e.msg);
    }
    if (root.IsNull()) return {};
    if (!root.IsMap()) throw Error(what + ": expected a mapping (key: value lines) at the top");
    return toJson(root).toObject();
}

QJsonObject yamlFileToJson(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(path + ": cannot read the file");
    std::stringstream text;
    text << in.rdbuf();
    return yamlTextToJson(text.str(), path);
}

QJsonValue yamlScalarToJson(const std::string& text) {
    try {
        return toJson(YAML::Load(text));
    } catch (const YAML::Exception&) {
        return QString::fromStdString(text);
    }
}

void applySetting(QJsonObject& config, const std::string& assignment) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw Error("--set wants key=value (got '" + assignment + "')");
    const QStringList path = QString::fromStdString(assignment.substr(0, eq)).split('.');
    const QJsonValue value = yamlScalarToJson(assignment.substr(eq + 1));
    // Rebuild the nested objects along the path (QJsonObject values are copies).
    std::function<void(QJsonObject&, int)> set = [&](QJsonObject& o, int i) {
        if (i == path.size() - 1) {
            o[path[i]] = value;
            return;
        }
        QJsonObject inner = o[path[i]].toObject();
        set(inner, i + 1);
        o[path[i]] = inner;
    };
    set(config, 0);
}

} // namespace paudm::jobs
