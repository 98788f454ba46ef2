// libidn2, loaded the first time a name needs it: a host name with non-ASCII bytes or an
// "xn--" label. Almost no profile or proxied request has one, and loading libidn2 and
// libunistring at start cost every tollgate process ~0.2 ms (docs/BENCHMARKS.md).
#pragma once

#include <cstdint>
#include <string>

namespace tollgate::policy::idna {

struct Library {
  int (*lookup_u8)(const std::uint8_t* source, std::uint8_t** lookupname, int flags);
  int (*to_unicode_8z8z)(const char* input, char** output, int flags);
  const char* (*strerror)(int rc);
};

// The library, loaded once; nullptr when it cannot be loaded, and then `why` says why (a name
// that needs it is refused with that reason: nothing is let through unchecked).
const Library* Get(std::string* why);

}  // namespace tollgate::policy::idna
