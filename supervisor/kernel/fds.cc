#include "supervisor/kernel/fds.h"

#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <utility>

namespace tollgate::kernel {

namespace {

int CloseRange(unsigned first, unsigned last) {
  if (first > last) return 0;
  return static_cast<int>(::syscall(SYS_close_range, first, last, 0));
}

}  // namespace

Status CloseFdsExcept(const int* keep, std::size_t keep_count) {
  // A fixed array keeps this usable between fork and exec without allocating.
  std::array<int, kMaxKeptFds> sorted{};
  std::size_t count = 0;
  for (std::size_t i = 0; i < keep_count; ++i) {
    if (keep[i] < 3) continue;
    if (count == sorted.size()) return Status::Fail("close fds", {}, E2BIG, "too many fds to keep");
    sorted[count++] = keep[i];
  }
  // Insertion sort: a handful of entries (std::sort trips g++ 12's -Warray-bounds here).
  for (std::size_t i = 1; i < count; ++i) {
    for (std::size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; --j)
      std::swap(sorted[j - 1], sorted[j]);
  }
  unsigned next = 3;
  for (std::size_t i = 0; i < count; ++i) {
    unsigned fd = static_cast<unsigned>(sorted[i]);
    if (fd < next) continue;  // listed twice
    if (fd > next && CloseRange(next, fd - 1) != 0) return Status::Fail("close_range", {}, errno);
    next = fd + 1;
  }
  if (CloseRange(next, ~0U) != 0) return Status::Fail("close_range", {}, errno);
  return Status::Ok();
}

Status CloseFdsExcept(std::initializer_list<int> keep) {
  return CloseFdsExcept(keep.begin(), keep.size());
}

int WriteAll(int fd, const void* data, unsigned long size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += n;
    size -= static_cast<unsigned long>(n);
  }
  return 0;
}

}  // namespace tollgate::kernel
