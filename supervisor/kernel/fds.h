// File descriptor hygiene for the sandbox side: nothing the supervisor holds may leak into the
// sandbox (CVE-2024-21626 style escapes through an inherited directory fd).
#pragma once

#include <cstddef>
#include <initializer_list>

#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

// Closes every fd >= 3 except those listed (negative entries are ignored). Uses close_range, so
// the cost does not depend on RLIMIT_NOFILE. Allocation-free.
Status CloseFdsExcept(std::initializer_list<int> keep);
inline constexpr std::size_t kMaxKeptFds = 160;
Status CloseFdsExcept(const int* keep, std::size_t count);  // at most kMaxKeptFds of them >= 3

// Writes the whole buffer, retrying on EINTR and short writes. Returns 0 or an errno.
int WriteAll(int fd, const void* data, unsigned long size);

}  // namespace tollgate::kernel
