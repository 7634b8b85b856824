#include "archive/obs_set.h"

#include "archive/checksum.h"
#include "common/atomic_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace paudm::archive {

namespace {

const char* kKinds[] = {"bias", "flat", "science", "focus", "test"};

std::string at(const YAML::Node& n) {
    const auto m = n.Mark();
    return m.line >= 0 ? "line " + std::to_string(m.line + 1) : std::string("?");
}

std::string scalar(const YAML::Node& map, const char* key, const std::string& what, bool required) {
    const YAML::Node n = map[key];
    if (!n || n.IsNull()) {
        if (required) throw Error(what + ": " + at(map) + ": missing field '" + key + "'");
        return {};
    }
    if (!n.IsScalar()) throw Error(what + ": " + at(n) + ": field '" + key + "' must be a single value");
    return n.Scalar();
}

} // namespace

std::string ObsSetManifest::toYaml() const {
    YAML::Emitter out;
    out << YAML::Comment("PAUCam observation set");
    out << YAML::BeginMap;
    out << YAML::Key << "obs_set" << YAML::Value << obsSet;
    out << YAML::Key << "instrument" << YAML::Value << instrument;
    out << YAML::Key << "night" << YAML::Value << night;
    out << YAML::Key << "date" << YAML::Value << date;
    out << YAML::Key << "operator" << YAML::Value << operatorName;
    out << YAML::Key << "project" << YAML::Value << project;
    out << YAML::Key << "notes" << YAML::Value << notes;
    out << YAML::Key << "files" << YAML::Value << YAML::BeginSeq;
    for (const auto& f : files) {
        out << YAML::Flow << YAML::BeginMap;
        out << YAML::Key << "name" << YAML::Value << f.name;
        out << YAML::Key << "kind" << YAML::Value << f.kind;
        out << YAML::Key << "size" << YAML::Value << static_cast<long long>(f.size);
        out << YAML::Key << "adler32" << YAML::Value << YAML::SingleQuoted << formatAdler32(f.adler32);
        out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

ObsSetManifest ObsSetManifest::fromYaml(const std::string& text, const std::string& what) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw Error(what + ": not valid YAML: line " + std::to_string(e.mark.line + 1) + ", column " +
                    std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    if (!root.IsMap()) throw Error(what + ": expected a mapping with obs_set, night, files, ... at the top");
    ObsSetManifest m;
    m.obsSet = scalar(root, "obs_set", what, true);
    if (!parseObsSetName(m.obsSet))
        throw Error(what + ": " + at(root["obs_set"]) + ": obs_set '" + m.obsSet +
                    "' is not of the form YYYYMMDD_NNN");
    m.instrument = scalar(root, "instrument", what, false);
    m.night = scalar(root, "night", what, true);
    m.date = scalar(root, "date", what, false);
    m.operatorName = scalar(root, "operator", what, false);
    m.project = scalar(root, "project", what, false);
    m.notes = scalar(root, "notes", what, false);
    const YAML::Node files = root["files"];
    if (!files || !files.IsSequence()) throw Error(what + ": " + at(root) + ": missing list 'files'");
    std::set<std::string> seen;
    for (const auto& n : files) {
        if (!n.IsMap()) throw Error(what + ": " + at(n) + ": each entry of 'files' must be a mapping");
        ObsSetFile f;
        f.name = scalar(n, "name", what, true);
        if (f.name.empty() || f.name.find('/') != std::string::npos || f.name.starts_with("."))
            throw Error(what + ": " + at(n) + ": file name '" + f.name + "' must be a plain name inside the obs set");
        if (!seen.insert(f.name).second) throw Error(what + ": " + at(n) + ": file '" + f.name + "' is listed twice");
        f.kind = scalar(n, "kind", what, true);
        if (std::find(std::begin(kKinds), std::end(kKinds), f.kind) == std::end(kKinds))
            throw Error(what + ": " + at(n) + ": file '" + f.name + "' has unknown kind '" + f.kind +
                        "' (bias, flat, science, focus or test)");
        const std::string size = scalar(n, "size", what, true);
        try {
            std::size_t used = 0;
            f.size = std::stoll(size, &used);
            if (used != size.size() || f.size < 0) throw std::invalid_argument(size);
        } catch (const std::exception&) {
            throw Error(what + ": " + at(n) + ": file '" + f.name + "' has size '" + size + "', not a byte count");
        }
        // The raw scalar text, never a number: "00e1f2a3" must not become 0.0.
        const std::string sum = scalar(n, "adler32", what, true);
        try {
            f.adler32 = parseAdler32(sum);
        } catch (const Error& e) {
            throw Error(what + ": " + at(n) + ": file '" + f.name + "': " + e.what());
        }
        m.files.push_back(std::move(f));
    }
    return m;
}

ObsSetManifest ObsSetManifest::readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot read the obs set YAML file");
    std::ostringstream text;
    text << in.rdbuf();
    return fromYaml(text.str(), path);
}

void ObsSetManifest::writeFile(const std::string& path) const { writeFileAtomically(path, toYaml()); }

std::string manifestPathIn(const std::string& folder) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<std::string> found;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        const auto p = it->path();
        if (p.extension() == ".yaml" && !p.filename().string().starts_with(".")) found.push_back(p.string());
    }
    if (ec) throw Error(folder + ": cannot list the obs set folder: " + ec.message());
    if (found.empty()) throw Error(folder + ": no obs set YAML file (*.yaml) in the folder");
    if (found.size() > 1) throw Error(folder + ": more than one YAML file; expected one obs set manifest");
    return found.front();
}

std::string obsSetName(const std::string& night, int counter) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4s%.2s%.2s_%03d", night.c_str(), night.c_str() + 5, night.c_str() + 8,
                  counter);
    return text;
}

bool parseObsSetName(const std::string& name, std::string* night, int* counter) {
    if (name.size() != 12 || name[8] != '_') return false;
    for (int i = 0; i < 12; ++i)
        if (i != 8 && (name[i] < '0' || name[i] > '9')) return false;
    const int c = std::stoi(name.substr(9));
    if (c < 1) return false;
    if (night) *night = name.substr(0, 4) + "-" + name.substr(4, 2) + "-" + name.substr(6, 2);
    if (counter) *counter = c;
    return true;
}

} // namespace paudm::archive
