// The result of one kernel-facing step: ok, or which step failed, on which path, with which errno.
// Kernel-layer functions return this and never print or exit; the caller turns it into a message.
#pragma once

#include <string>

namespace tollgate::kernel {

struct Status {
  bool ok = true;
  std::string step;    // "bind mount", "write uid_map", "landlock_restrict_self", …
  std::string path;    // the path involved, or empty
  int error = 0;       // errno, or 0
  std::string detail;  // anything else worth saying, or empty

  static Status Ok() { return {}; }
  static Status Fail(std::string step, std::string path, int error, std::string detail = {}) {
    return Status{false, std::move(step), std::move(path), error, std::move(detail)};
  }
  explicit operator bool() const { return ok; }
  std::string ToString() const;  // "bind mount /usr -> /usr: Permission denied (detail)"
};

// Returns early from the enclosing function when a step fails.
#define TOLLGATE_RETURN_IF_ERROR(expr)           \
  do {                                           \
    ::tollgate::kernel::Status status_ = (expr); \
    if (!status_.ok) return status_;             \
  } while (0)

}  // namespace tollgate::kernel
