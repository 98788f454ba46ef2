#include "supervisor/kernel/status.h"

#include <string.h>

namespace tollgate::kernel {

std::string Status::ToString() const {
  if (ok) return "ok";
  std::string text = step;
  if (!path.empty()) text += " " + path;
  if (error != 0) {
    // strerrordesc_np: no locale, no shared buffer, and null for an unknown number.
    const char* description = strerrordesc_np(error);
    text += ": ";
    text += description != nullptr ? description : "errno " + std::to_string(error);
  }
  if (!detail.empty()) text += " (" + detail + ")";
  return text;
}

}  // namespace tollgate::kernel
