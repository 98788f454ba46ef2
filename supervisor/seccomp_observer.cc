#include "supervisor/seccomp_observer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <seccomp.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "policy/file_decision.h"
#include "policy/seccomp_plan.h"
#include "supervisor/kernel/launch_trace.h"
#include "supervisor/kernel/seccomp_notify.h"
#include "supervisor/process_description.h"

namespace tollgate {
namespace {

constexpr std::size_t kMaxPathBytes = 4096;
constexpr std::size_t kMaxArgvItems = audit::kMaxArrayItems;
constexpr std::size_t kMaxArgvBytes = 32 * 1024;  // keeps an exec record well under 64 KiB

std::string Hex(std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

constexpr int kX32SyscallBit = 0x40000000;

std::string ArchName(std::uint32_t arch) {
  switch (arch) {
    case SCMP_ARCH_X86:
      return "i386";
    case SCMP_ARCH_X32:
      return "x32";
    case SCMP_ARCH_X86_64:
      return "x86_64";
    case SCMP_ARCH_AARCH64:
      return "aarch64";
    case SCMP_ARCH_ARM:
      return "arm";
  }
  return Hex(arch);
}

}  // namespace

const std::string& SeccompObserver::NameOf(std::uint32_t arch, int nr) {
  auto key = std::make_pair(arch, nr);
  auto it = names_.find(key);
  if (it == names_.end()) it = names_.emplace(key, kernel::SyscallName(arch, nr)).first;
  return it->second;
}

bool SeccompObserver::OnListenerReadable(int listener) {
  kernel::SeccompNotification n;
  if (!kernel::ReceiveNotification(listener, &n).ok) return true;  // gone before we looked
  // A call through another ABI (i386's int 0x80, x32's numbers) is matched by no rule: the
  // filter stops every one of them.
  const bool foreign = n.arch != seccomp_arch_native() || (n.nr & kX32SyscallBit) != 0;
  const std::uint32_t arch = (n.nr & kX32SyscallBit) != 0 ? SCMP_ARCH_X32 : n.arch;
  const std::string& name = NameOf(arch, n.nr);
  const policy::SeccompRule* rule =
      foreign ? nullptr : policy::MatchSeccompRule(*plan_, name, n.args);
  const bool exec = rule != nullptr && rule->action.kind == policy::SeccompActionKind::kNotify &&
                    rule->action.errno_value == 0;

  if (exec && (name == "connect" || name == "sendto" || name == "sendmsg" || name == "sendmmsg"))
    return OnConnect(listener, n, name);
  if (exec && name != "execve" && name != "execveat") return OnFileCall(listener, n, name);

  audit::Event event;
  if (exec) {
    kernel::LaunchTrace("observer: exec notified");
    // execve(path, argv, envp) / execveat(dirfd, path, argv, envp, flags)
    const bool at = name == "execveat";
    std::string path;
    std::vector<std::string> argv;
    bool path_cut = false, argv_cut = false;
    kernel::ReadProcessString(n.pid, n.args[at ? 1 : 0], kMaxPathBytes, &path, &path_cut);
    kernel::ReadProcessStringArray(n.pid, n.args[at ? 2 : 1], kMaxArgvItems, kMaxArgvBytes, &argv,
                                   &argv_cut);
    std::string cwd = kernel::ReadProcessLink(n.pid, "cwd");
    // A shell's PATH search tries execve on candidates that do not exist: each attempt is
    // recorded (an absent path can appear between a check and the call), marked by whether the
    // file was there as the sandbox sees it.
    const bool found = !at && kernel::ProcessPathExists(n.pid, path);
    event.process = DescribeProcess(n.pid, &event.details);
    // Everything above belongs to this call only if the process still waits in it.
    if (!kernel::NotificationValid(listener, n.id)) return true;
    event.kind = std::string(audit::kKindExec);
    event.verdict = audit::Verdict::kAllow;
    event.rule = "observe exec";
    event.details["syscall"] = name;
    event.details["path"] = event.strings.String(path, "details.path");
    event.details["argv"] = event.strings.StringArray(argv, "details.argv");
    if (argv_cut) event.details["argv_cut"] = true;
    event.details["cwd"] = event.strings.String(cwd, "details.cwd");
    if (!at) event.details["found"] = found;
    if (at) {
      event.details["dirfd"] = static_cast<int>(n.args[0]);
      event.details["flags"] = Hex(n.args[4]);
    }
    if (!audit_->Append(event)) {
      kernel::AnswerError(listener, n.id, EPERM);
      return false;
    }
    ++execs_;
    kernel::AnswerContinue(listener, n.id);
    kernel::LaunchTrace("observer: exec recorded");
    return true;
  }

  const int error = foreign           ? plan_->foreign_abi_action.errno_value
                    : rule != nullptr ? rule->action.errno_value
                                      : EPERM;
  event.process = DescribeProcess(n.pid, &event.details);
  if (!kernel::NotificationValid(listener, n.id)) return true;
  event.kind = std::string(audit::kKindSyscallDenied);
  event.verdict = audit::Verdict::kDeny;
  event.rule = foreign               ? "syscalls: foreign ABI"
               : rule == nullptr     ? "syscalls"
               : rule->group.empty() ? "syscalls: " + rule->syscall
                                     : "syscalls: " + rule->group;
  event.reason = foreign ? "a call through another ABI (i386 int 0x80, x32) gets round a filter "
                           "written for the native one; every such call is refused"
                 : rule != nullptr ? rule->why
                                   : "no rule of the plan matches this notification";
  event.details["syscall"] = name;
  event.details["nr"] = n.nr;
  if (foreign) event.details["arch"] = ArchName(arch);
  audit::Json args = audit::Json::array();
  for (std::uint64_t arg : n.args) args.push_back(Hex(arg));
  event.details["args"] = args;
  event.details["errno"] = error;
  event.details["error"] = strerrorname_np(error) ? strerrorname_np(error) : "";
  if (!audit_->Append(event)) {
    kernel::AnswerError(listener, n.id, EPERM);
    return false;
  }
  ++denials_;
  kernel::AnswerError(listener, n.id, error);
  return true;
}

namespace {

constexpr int kAtFdcwd = -100;
constexpr std::uint64_t kOpenAccessMode = 03;
constexpr std::uint64_t kOpenCreate = 0100;
constexpr std::uint64_t kOpenTruncate = 01000;
constexpr std::uint64_t kOpenPath = 010000000;

// Where a file call keeps its names: the dirfd argument (-1: none, AT_FDCWD implied), the path
// argument, and what it does there. A rename or link has a second name.
struct FileCallShape {
  std::string_view name;
  int dirfd, path;
  policy::FileAccess access;
  int flags = -1;               // the open flags argument, when the access depends on it
  int dirfd2 = -2, path2 = -1;  // the second name (-2: no second name)
  policy::FileAccess access2 = policy::FileAccess::kCreate;
};

constexpr FileCallShape kFileCalls[] = {
    {"chmod", -1, 0, policy::FileAccess::kWrite},
    {"chown", -1, 0, policy::FileAccess::kWrite},
    {"creat", -1, 0, policy::FileAccess::kCreate},
    {"fchmodat", 0, 1, policy::FileAccess::kWrite},
    {"fchownat", 0, 1, policy::FileAccess::kWrite},
    {"lchown", -1, 0, policy::FileAccess::kWrite},
    {"link", -1, 0, policy::FileAccess::kRead, -1, -1, 1},
    {"linkat", 0, 1, policy::FileAccess::kRead, -1, 2, 3},
    {"mkdir", -1, 0, policy::FileAccess::kCreate},
    {"mkdirat", 0, 1, policy::FileAccess::kCreate},
    {"mknod", -1, 0, policy::FileAccess::kCreate},
    {"mknodat", 0, 1, policy::FileAccess::kCreate},
    {"open", -1, 0, policy::FileAccess::kRead, 1},
    {"openat", 0, 1, policy::FileAccess::kRead, 2},
    {"openat2", 0, 1, policy::FileAccess::kRead, 2},  // flags: first field of struct open_how
    {"rename", -1, 0, policy::FileAccess::kRemove, -1, -1, 1},
    {"renameat", 0, 1, policy::FileAccess::kRemove, -1, 2, 3},
    {"renameat2", 0, 1, policy::FileAccess::kRemove, -1, 2, 3},
    {"rmdir", -1, 0, policy::FileAccess::kRemove},
    {"symlink", -2, 1, policy::FileAccess::kCreate},
    {"symlinkat", 1, 2, policy::FileAccess::kCreate},
    {"truncate", -1, 0, policy::FileAccess::kWrite},
    {"unlink", -1, 0, policy::FileAccess::kRemove},
    {"unlinkat", 0, 1, policy::FileAccess::kRemove},
};

const FileCallShape* ShapeOf(std::string_view name) {
  for (const FileCallShape& shape : kFileCalls) {
    if (shape.name == name) return &shape;
  }
  return nullptr;
}

// The path as the sandbox sees it: absolute, or relative to the working directory or to the
// directory `dirfd` names (whose link /proc shows as the process sees it).
std::string SandboxPath(pid_t pid, std::uint64_t dirfd_arg, bool has_dirfd,
                        const std::string& path) {
  if (!path.empty() && path[0] == '/') return policy::NormalizePath(path);
  int dirfd = has_dirfd ? static_cast<int>(dirfd_arg) : kAtFdcwd;
  std::string base = dirfd == kAtFdcwd
                         ? kernel::ReadProcessLink(pid, "cwd")
                         : kernel::ReadProcessLink(pid, ("fd/" + std::to_string(dirfd)).c_str());
  if (base.empty() || base[0] != '/') return path;  // not a directory we can name: as given
  return policy::NormalizePath(path.empty() ? base : base + "/" + path);
}

policy::FileAccess OpenAccess(std::uint64_t flags) {
  if (flags & kOpenPath) return policy::FileAccess::kRead;
  if (flags & kOpenCreate) return policy::FileAccess::kCreate;
  if ((flags & kOpenAccessMode) != 0 || (flags & kOpenTruncate)) return policy::FileAccess::kWrite;
  return policy::FileAccess::kRead;
}

}  // namespace

bool SeccompObserver::OnFileCall(int listener, const kernel::SeccompNotification& n,
                                 const std::string& name) {
  const FileCallShape* shape = ShapeOf(name);
  if (shape == nullptr || files_ == nullptr) {  // not ours to record: let it run as planned
    kernel::AnswerContinue(listener, n.id);
    return true;
  }
  auto read_path = [&](int index, std::string* out) {
    bool cut = false;
    kernel::ReadProcessString(n.pid, n.args[index], kMaxPathBytes, out, &cut);
  };
  std::string raw;
  read_path(shape->path, &raw);
  policy::FileAccess access = shape->access;
  std::uint64_t flags = 0;
  if (shape->flags >= 0) {
    flags = n.args[shape->flags];
    if (name == "openat2") {  // struct open_how starts with the 64-bit flags
      flags = 0;
      kernel::ReadProcessMemory(n.pid, n.args[2], reinterpret_cast<char*>(&flags), sizeof flags);
    }
    access = OpenAccess(flags);
  }
  const std::string path =
      SandboxPath(n.pid, shape->dirfd >= 0 ? n.args[shape->dirfd] : 0, shape->dirfd >= 0, raw);
  policy::FileDecision decision = policy::DecideFileAccess(*files_, path, access);

  audit::Event event;
  std::string second;
  if (shape->path2 >= 0) {
    std::string raw2;
    read_path(shape->path2, &raw2);
    second = SandboxPath(n.pid, shape->dirfd2 >= 0 ? n.args[shape->dirfd2] : 0, shape->dirfd2 >= 0,
                         raw2);
    policy::FileDecision to = policy::DecideFileAccess(*files_, second, shape->access2);
    if (decision.allowed && !to.allowed) decision = to;
  }
  event.process = DescribeProcess(n.pid, &event.details);
  if (!kernel::NotificationValid(listener, n.id)) return true;
  event.kind = std::string(audit::kKindFileAccess);
  event.verdict = decision.allowed ? audit::Verdict::kAllow : audit::Verdict::kDeny;
  event.rule = decision.rule;
  event.reason = decision.reason;
  event.details["op"] = name;
  event.details["path"] = event.strings.String(path, "details.path");
  event.details["access"] = policy::FileAccessName(access);
  if (shape->path2 >= 0) event.details["to"] = event.strings.String(second, "details.to");
  if (shape->flags >= 0) event.details["flags"] = Hex(flags);
  if (!audit_->Append(event)) {
    kernel::AnswerError(listener, n.id, EPERM);
    return false;
  }
  ++file_accesses_;
  // An observation: the kernel (mount view, Landlock) gives the answer that counts.
  kernel::AnswerContinue(listener, n.id);
  return true;
}

bool SeccompObserver::OnConnect(int listener, const kernel::SeccompNotification& n,
                                const std::string& name) {
  // Where the address is: connect(fd, addr, len), sendto(fd, buf, n, flags, addr, len);
  // sendmsg(fd, msg, flags) and sendmmsg(fd, msgvec, n, flags) in the (first) msghdr's msg_name.
  // Observation only: the process could change it after this read, and host mode filters
  // nothing anyway.
  std::uint64_t address_at = n.args[1], length = n.args[2];
  if (name == "sendto") {
    address_at = n.args[4];
    length = n.args[5];
  } else if (name == "sendmsg" || name == "sendmmsg") {
    struct msghdr header {};
    kernel::ReadProcessMemory(n.pid, n.args[1], reinterpret_cast<char*>(&header), sizeof header);
    address_at = reinterpret_cast<std::uint64_t>(header.msg_name);
    length = header.msg_namelen;
  }
  struct sockaddr_storage address {};
  std::size_t size = std::min<std::uint64_t>(length, sizeof address);
  std::size_t got =
      address_at == 0
          ? 0
          : kernel::ReadProcessMemory(n.pid, address_at, reinterpret_cast<char*>(&address), size);
  const int family = got >= sizeof(sa_family_t) ? address.ss_family : AF_UNSPEC;
  std::string ip;
  int port = 0;
  char text[INET6_ADDRSTRLEN] = {};
  if (family == AF_INET && got >= sizeof(struct sockaddr_in)) {
    const auto* v4 = reinterpret_cast<const struct sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    port = ntohs(v4->sin_port);
  } else if (family == AF_INET6 && got >= offsetof(struct sockaddr_in6, sin6_scope_id)) {
    // 24 bytes (RFC 2133's sockaddr_in6, without the scope id) are enough for the kernel.
    const auto* v6 = reinterpret_cast<const struct sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    port = ntohs(v6->sin6_port);
  } else {
    // Unix sockets (the view decides which exist) and AF_UNSPEC (a UDP disconnect): not a
    // network connection.
    kernel::AnswerContinue(listener, n.id);
    return true;
  }
  ip = text;
  audit::Event event;
  event.process = DescribeProcess(n.pid, &event.details);
  if (!kernel::NotificationValid(listener, n.id)) return true;
  event.kind = std::string(audit::kKindNetConnect);
  event.verdict = audit::Verdict::kAllow;
  event.rule = "network host";
  event.reason = "network mode host: connections are recorded, not filtered";
  event.details["protocol"] = name == "connect" ? "connect" : "fastopen";
  event.details["syscall"] = name;
  event.details["ip"] = ip;
  event.details["port"] = port;
  event.details["family"] = family == AF_INET ? "ipv4" : "ipv6";
  event.details["fd"] = static_cast<int>(n.args[0]);
  if (!audit_->Append(event)) {
    kernel::AnswerError(listener, n.id, EPERM);
    return false;
  }
  ++connects_;
  kernel::AnswerContinue(listener, n.id);
  return true;
}

}  // namespace tollgate
