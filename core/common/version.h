#pragma once
// What --version prints and the console's About dialog shows: the program's version, the
// git revision it was built from, and the versions of the libraries it runs with (those
// loaded now, which may be newer than those it was built against).
#include <string>

namespace paudm {

/// "paudm 0.1.0 (git 1faae43a2b)".
std::string versionLine(const std::string& program);
/// "cfitsio 4.2.0, wcslib 7.12, libpq 15.18, Qt 6.4.2".
std::string libraryVersions();
/// Both, on two lines.
std::string versionReport(const std::string& program);

} // namespace paudm
