#include "common/version.h"

#include "git_revision.h"

#include <QtGlobal>

#include <cstdio>
#include <fitsio.h>
#include <libpq-fe.h>
#include <wcslib/wcs.h>

namespace paudm {

std::string versionLine(const std::string& program) {
    return program + " " + PAUDM_VERSION + " (git " + PAUDM_GIT_REVISION + ")";
}

std::string libraryVersions() {
    float fitsVersion = 0;
    fits_get_version(&fitsVersion);
    char fits[32];
    // 4.02 is 4.2.0 (cfitsio gives major.minor as a float; the micro release is a macro).
    std::snprintf(fits, sizeof fits, "%d.%d.%d", static_cast<int>(fitsVersion),
                  static_cast<int>((fitsVersion - static_cast<int>(fitsVersion)) * 100 + 0.5), CFITSIO_MICRO);
    int wcs[3] = {0, 0, 0};
    const char* wcsText = wcslib_version(wcs);
    const int pq = PQlibVersion();
    char libpq[32];
    std::snprintf(libpq, sizeof libpq, "%d.%d", pq / 10000, pq % 100);
    return std::string("cfitsio ") + fits + ", wcslib " + (wcsText ? wcsText : "?") + ", libpq " + libpq + ", Qt " +
           qVersion();
}

std::string versionReport(const std::string& program) {
    return versionLine(program) + "\n" + libraryVersions();
}

} // namespace paudm
