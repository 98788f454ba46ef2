#include "policy/idna.h"

#include <dlfcn.h>

namespace tollgate::policy::idna {
namespace {

struct Loaded {
  Library library{};
  bool ok = false;
  std::string why;
};

Loaded Load() {
  Loaded loaded;
  // The soname the headers this was built with belong to.
  void* handle = ::dlopen("libidn2.so.0", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = ::dlerror();
    loaded.why = std::string("libidn2 could not be loaded: ") + (error ? error : "dlopen failed");
    return loaded;
  }
  Library& l = loaded.library;
  l.lookup_u8 = reinterpret_cast<decltype(l.lookup_u8)>(::dlsym(handle, "idn2_lookup_u8"));
  l.to_unicode_8z8z =
      reinterpret_cast<decltype(l.to_unicode_8z8z)>(::dlsym(handle, "idn2_to_unicode_8z8z"));
  l.strerror = reinterpret_cast<decltype(l.strerror)>(::dlsym(handle, "idn2_strerror"));
  if (l.lookup_u8 == nullptr || l.to_unicode_8z8z == nullptr || l.strerror == nullptr) {
    loaded.why = "libidn2.so.0 lacks idn2_lookup_u8, idn2_to_unicode_8z8z or idn2_strerror";
    return loaded;
  }
  loaded.ok = true;
  return loaded;
}

}  // namespace

const Library* Get(std::string* why) {
  static const Loaded loaded = Load();
  if (!loaded.ok) {
    if (why != nullptr) *why = loaded.why;
    return nullptr;
  }
  return &loaded.library;
}

}  // namespace tollgate::policy::idna
