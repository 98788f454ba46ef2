#include "supervisor/kernel/seccomp_notify.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace tollgate::kernel {
namespace {

// The kernel's notification structs may be larger than the ones in these (older) headers; it
// writes only what it has, and the first fields are stable.
std::size_t NotificationSize() {
  static const std::size_t size = [] {
    seccomp_notif_sizes sizes{};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
      return sizeof(seccomp_notif);
    return std::max<std::size_t>(sizes.seccomp_notif, sizeof(seccomp_notif));
  }();
  return size;
}

std::size_t ResponseSize() {
  static const std::size_t size = [] {
    seccomp_notif_sizes sizes{};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
      return sizeof(seccomp_notif_resp);
    return std::max<std::size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp));
  }();
  return size;
}

Status Answer(int listener, std::uint64_t id, int error, std::uint32_t flags) {
  alignas(seccomp_notif_resp) char buffer[256] = {};
  if (ResponseSize() > sizeof buffer) return Status::Fail("seccomp answer", {}, EOVERFLOW);
  auto* response = reinterpret_cast<seccomp_notif_resp*>(buffer);
  response->id = id;
  response->error = error == 0 ? 0 : -error;
  response->val = 0;
  response->flags = flags;
  while (::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, response) != 0) {
    if (errno == EINTR) continue;
    // ENOENT: the process died (or was interrupted by a signal) while we looked; nothing waits.
    if (errno == ENOENT) return Status::Ok();
    return Status::Fail("seccomp answer", {}, errno);
  }
  return Status::Ok();
}

}  // namespace

std::size_t ReadProcessMemory(pid_t pid, std::uint64_t address, char* out, std::size_t size) {
  // One process_vm_readv per up to 16 pages: the remote side split at page boundaries, so an
  // unmapped page ends the read there instead of failing all of it.
  static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  constexpr int kMaxPieces = 16;
  std::size_t done = 0;
  while (done < size) {
    iovec remote[kMaxPieces];
    int pieces = 0;
    std::size_t planned = 0;
    while (pieces < kMaxPieces && done + planned < size) {
      std::uint64_t at = address + done + planned;
      std::size_t chunk = std::min<std::uint64_t>(size - done - planned, page - at % page);
      remote[pieces++] = {reinterpret_cast<void*>(at), chunk};
      planned += chunk;
    }
    iovec local{out + done, planned};
    ssize_t n = ::process_vm_readv(pid, &local, 1, remote, pieces, 0);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < planned) break;
  }
  return done;
}

Status ReceiveNotification(int listener, SeccompNotification* out) {
  alignas(seccomp_notif) char buffer[512];
  if (NotificationSize() > sizeof buffer) return Status::Fail("seccomp receive", {}, EOVERFLOW);
  std::memset(buffer, 0, sizeof buffer);  // the kernel refuses a buffer that is not zeroed
  while (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, buffer) != 0) {
    if (errno == EINTR) continue;
    return Status::Fail("seccomp receive", {}, errno);
  }
  const auto* notification = reinterpret_cast<const seccomp_notif*>(buffer);
  out->id = notification->id;
  out->pid = static_cast<pid_t>(notification->pid);
  out->nr = notification->data.nr;
  out->arch = notification->data.arch;
  for (int i = 0; i < 6; ++i) out->args[i] = notification->data.args[i];
  return Status::Ok();
}

bool NotificationValid(int listener, std::uint64_t id) {
  return ::ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

Status AnswerContinue(int listener, std::uint64_t id) {
  return Answer(listener, id, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

Status AnswerError(int listener, std::uint64_t id, int error) {
  return Answer(listener, id, error, 0);
}

std::string SyscallName(std::uint32_t arch, int nr) {
  char* name = seccomp_syscall_resolve_num_arch(arch, nr);
  if (name == nullptr) return "syscall_" + std::to_string(nr);
  std::string text = name;
  std::free(name);
  return text;
}

bool ReadProcessString(pid_t pid, std::uint64_t address, std::size_t max, std::string* out,
                       bool* cut) {
  out->clear();
  *cut = false;
  if (address == 0) return false;
  char buffer[4096];
  while (out->size() < max) {
    std::size_t want = std::min(sizeof buffer, max - out->size());
    std::size_t got = ReadProcessMemory(pid, address + out->size(), buffer, want);
    if (got == 0) return !out->empty();
    const char* end = static_cast<const char*>(std::memchr(buffer, '\0', got));
    if (end != nullptr) {
      out->append(buffer, static_cast<std::size_t>(end - buffer));
      return true;
    }
    out->append(buffer, got);
    if (got < want) return true;  // unreadable memory ends the string
  }
  *cut = true;
  return true;
}

bool ReadProcessStringArray(pid_t pid, std::uint64_t address, std::size_t max_items,
                            std::size_t max_bytes, std::vector<std::string>* out, bool* cut) {
  out->clear();
  *cut = false;
  if (address == 0) return true;  // execve(path, NULL, …): Linux treats it as an empty argv
  // The pointers in one read, then the strings: execve's argv strings usually lie side by side
  // (the caller's stack or heap), so one read of the span they start in serves most of them.
  std::vector<std::uint64_t> pointers(max_items + 1);
  std::size_t got = ReadProcessMemory(pid, address, reinterpret_cast<char*>(pointers.data()),
                                      pointers.size() * sizeof(std::uint64_t));
  std::size_t count = got / sizeof(std::uint64_t);
  std::size_t items = 0;
  while (items < count && pointers[items] != 0) ++items;
  if (items == count && count < pointers.size()) return items > 0;  // unreadable before the end
  if (items > max_items) {
    items = max_items;
    *cut = true;
  }
  std::uint64_t low = ~0ull;
  for (std::size_t i = 0; i < items; ++i) low = std::min(low, pointers[i]);
  std::string span(items > 0 ? max_bytes + 4096 : 0, '\0');
  std::size_t span_size = items > 0 ? ReadProcessMemory(pid, low, span.data(), span.size()) : 0;
  std::size_t total = 0;
  for (std::size_t i = 0; i < items; ++i) {
    if (total >= max_bytes) {
      *cut = true;
      return true;
    }
    std::string item;
    bool item_cut = false;
    std::uint64_t offset = pointers[i] - low;
    const char* end =
        offset < span_size
            ? static_cast<const char*>(std::memchr(span.data() + offset, '\0', span_size - offset))
            : nullptr;
    if (end != nullptr &&
        static_cast<std::size_t>(end - (span.data() + offset)) <= max_bytes - total) {
      const char* begin = span.data() + offset;
      item.assign(begin, static_cast<std::size_t>(end - begin));
    } else {
      ReadProcessString(pid, pointers[i], max_bytes - total, &item, &item_cut);
    }
    total += item.size();
    out->push_back(std::move(item));
    if (item_cut) {
      *cut = true;
      return true;
    }
  }
  return true;
}

bool ReadProcessFacts(pid_t pid, ProcessFacts* out) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", pid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[4096];
  ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
  ::close(fd);
  if (n <= 0) return false;
  buffer[n] = '\0';
  for (char* line = buffer; line && *line;) {
    char* next = std::strchr(line, '\n');
    if (next) *next++ = '\0';
    if (std::strncmp(line, "Name:\t", 6) == 0) {
      out->comm = line + 6;
    } else if (std::strncmp(line, "PPid:\t", 6) == 0) {
      out->host_ppid = static_cast<pid_t>(std::atoi(line + 6));
    } else if (std::strncmp(line, "NSpid:", 6) == 0) {
      // "NSpid:\t4242\t7": the last number is the pid in the innermost namespace.
      const char* last = std::strrchr(line, '\t');
      out->sandbox_pid = static_cast<pid_t>(std::atoi(last ? last + 1 : line + 6));
    }
    line = next;
  }
  return true;
}

bool ProcessPathExists(pid_t pid, const std::string& path) {
  if (path.empty()) return false;
  char base[64];
  std::snprintf(base, sizeof base, "/proc/%d/%s", pid, path[0] == '/' ? "root" : "cwd");
  int dir = ::open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  // RESOLVE_IN_ROOT: an absolute path and its symlinks resolve inside the process's root, as
  // they would for the process itself.
  struct open_how how {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = path[0] == '/' ? RESOLVE_IN_ROOT : 0;
  int fd = static_cast<int>(::syscall(SYS_openat2, dir, path.c_str(), &how, sizeof how));
  ::close(dir);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

std::string ReadProcessLink(pid_t pid, const char* link) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/%s", pid, link);
  char target[4096];
  ssize_t n = ::readlink(path, target, sizeof target);
  if (n <= 0) return {};
  return std::string(target, static_cast<std::size_t>(n));
}

}  // namespace tollgate::kernel
