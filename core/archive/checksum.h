#pragma once
// Adler32, the checksum the PAUCam data acquisition writes into each obs set's YAML file.
//
// Written as exactly 8 lower-case hexadecimal digits, zero-padded: "00e1f2a3". The padding
// matters: read as a number (or as YAML reads an unquoted "00e1f2a3", a float) a leading
// zero is lost or the value changes, and files that are fine fail to verify.
#include "common/error.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace paudm::archive {

/// Adler32 as zlib computes it; `previous` continues a running checksum (start: 1).
std::uint32_t adler32(const void* data, std::size_t size, std::uint32_t previous = 1);
/// The Adler32 of a whole file, read in large blocks. Errors name the file.
std::uint32_t adler32File(const std::string& path);
/// "00e1f2a3".
std::string formatAdler32(std::uint32_t value);
/// Parses a checksum as written in a YAML file: 1 to 8 hexadecimal digits, either case
/// (shorter ones are the value without its leading zeros). Errors say what was found.
std::uint32_t parseAdler32(std::string_view text);

} // namespace paudm::archive
