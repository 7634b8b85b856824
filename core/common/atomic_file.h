#pragma once
// Writing a small file so that readers see either nothing or all of it: the content goes
// to a temporary name in the same folder, is fsynced, and is renamed into place.
#include "common/error.h"

#include <string>
#include <string_view>

namespace paudm {

/// Writes `content` to `path` atomically (see above). Errors name the file.
void writeFileAtomically(const std::string& path, std::string_view content);
/// fsyncs a folder, so that renames into it survive a power cut.
void syncDirectory(const std::string& dir);

} // namespace paudm
