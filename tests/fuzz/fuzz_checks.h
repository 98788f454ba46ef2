// What the proxy parsers' fuzz targets share: stopping on a broken invariant with a message
// libFuzzer keeps next to the input, and the printable-error check.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace tollgate::fuzz {

// `target` names the fuzz target in the message.
[[noreturn]] inline void Fail(const char* target, const char* what) {
  std::fprintf(stderr, "%s: %s\n", target, what);
  std::abort();
}

// Error messages are one line of printable ASCII.
inline bool IsPrintableLine(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace tollgate::fuzz
