#pragma once
// PAUdm's configuration files, for the settings a user would otherwise repeat on every
// command: the database, the data folder, the observatory buffer, the archive, the release
// and the runner's threads. In increasing order of precedence:
//   /etc/paudm/paudm.conf  <  ~/.config/paudm/paudm.conf ($XDG_CONFIG_HOME)  <  environment  <  options
// Each file is INI-style "key = value" lines ('#' starts a comment); every key stands for an
// environment variable, and a file only fills a variable that the environment has not set,
// so that every command and the console resolve them in one way (the option, else the
// variable). $PAUDM_CONFIG names one more file, read last (above the user's).
#include <string>
#include <vector>

namespace paudm {

struct ConfigKey {
    const char* key;      ///< in the file
    const char* variable; ///< the environment variable it fills
    const char* meaning;
};

/// The keys a configuration file may hold.
const std::vector<ConfigKey>& configKeys();

/// The files read, in order of increasing precedence (those that exist or not).
std::vector<std::string> configFiles();

/// Reads the files and fills the variables the environment leaves unset. Returns the
/// problems found (an unknown key, a line that is not key = value), each naming file and
/// line, for the caller to print; none of them stops the program.
std::vector<std::string> applyConfiguration();

} // namespace paudm
