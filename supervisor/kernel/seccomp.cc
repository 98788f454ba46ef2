#include "supervisor/kernel/seccomp.h"

#include "supervisor/kernel/fd_passing.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>

namespace tollgate::kernel {
namespace {

constexpr std::uint64_t kLow32Mask = 0xffffffffu;
// The kernel caps an errno returned by a filter at MAX_ERRNO.
constexpr int kMaxErrno = 4095;

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string Describe(const policy::SeccompRule& rule) {
  std::string text = rule.syscall;
  if (!rule.group.empty()) text += " (" + rule.group + ")";
  return text;
}

// Sets *out to the libseccomp action. `foreign` is for the bad-architecture action, which must
// stop the call: kLog would let it run.
Status ToLibseccompAction(const policy::SeccompAction& action, bool foreign,
                          const std::string& what, std::uint32_t* out) {
  switch (action.kind) {
    case policy::SeccompActionKind::kErrno:
      // errno 0 would make a call that never ran look successful.
      if (action.errno_value <= 0 || action.errno_value > kMaxErrno) {
        return Status::Fail("seccomp action", {}, EINVAL,
                            what + ": errno " + std::to_string(action.errno_value) +
                                " is outside 1.." + std::to_string(kMaxErrno));
      }
      *out = SCMP_ACT_ERRNO(static_cast<std::uint16_t>(action.errno_value));
      return Status::Ok();
    case policy::SeccompActionKind::kKillProcess:
      *out = SCMP_ACT_KILL_PROCESS;
      return Status::Ok();
    case policy::SeccompActionKind::kLog:
      if (foreign) {
        return Status::Fail("seccomp action", {}, EINVAL,
                            what + ": 'log' lets the call run; foreign ABIs must be stopped");
      }
      *out = SCMP_ACT_LOG;
      return Status::Ok();
    case policy::SeccompActionKind::kNotify:
      // For a foreign ABI too: the supervisor only ever answers those with an errno.
      *out = SCMP_ACT_NOTIFY;
      return Status::Ok();
  }
  return Status::Fail("seccomp action", {}, EINVAL, what + ": unknown action");
}

// See the header for why low32 maps as it does.
Status ToLibseccompCondition(const policy::ArgCondition& condition, const std::string& what,
                             scmp_arg_cmp* out) {
  if (condition.index > 5) {
    return Status::Fail("seccomp rule", {}, EINVAL,
                        what + ": argument " + std::to_string(condition.index) + " does not exist");
  }
  if (condition.low32 && (condition.value > kLow32Mask || condition.mask > kLow32Mask)) {
    return Status::Fail("seccomp rule", {}, EINVAL,
                        what + ": a low-32-bit comparison with a value or mask above 32 bits");
  }
  scmp_arg_cmp cmp{};
  cmp.arg = condition.index;
  cmp.datum_a = condition.value;
  switch (condition.op) {
    case policy::ArgCompare::kEq:
      cmp.op = SCMP_CMP_EQ;
      if (condition.low32) {
        cmp.op = SCMP_CMP_MASKED_EQ;
        cmp.datum_a = kLow32Mask;
        cmp.datum_b = condition.value;
      }
      break;
    case policy::ArgCompare::kMaskedEq:
      cmp.op = SCMP_CMP_MASKED_EQ;
      cmp.datum_a = condition.mask;
      cmp.datum_b = condition.value;
      break;
    case policy::ArgCompare::kNe:
      cmp.op = SCMP_CMP_NE;
      break;
    case policy::ArgCompare::kGt:
      cmp.op = SCMP_CMP_GT;
      break;
    case policy::ArgCompare::kGe:
      cmp.op = SCMP_CMP_GE;
      break;
    case policy::ArgCompare::kLt:
    case policy::ArgCompare::kLe:
      cmp.op = condition.op == policy::ArgCompare::kLt ? SCMP_CMP_LT : SCMP_CMP_LE;
      if (condition.low32) {
        return Status::Fail("seccomp rule", {}, EINVAL,
                            what +
                                ": a 'less than' on the low 32 bits cannot be expressed "
                                "without letting junk in the high bits slip through");
      }
      break;
  }
  *out = cmp;
  return Status::Ok();
}

Status ExportProgram(void* ctx, std::vector<sock_filter>* program) {
  Fd memfd(memfd_create("tollgate-seccomp-bpf", MFD_CLOEXEC));
  if (memfd.get() < 0) return Status::Fail("memfd_create", {}, errno);
  if (int rc = seccomp_export_bpf(ctx, memfd.get()); rc < 0) {
    return Status::Fail("seccomp_export_bpf", {}, -rc);
  }
  struct stat info {};
  if (fstat(memfd.get(), &info) != 0) return Status::Fail("fstat seccomp program", {}, errno);
  const auto size = static_cast<std::size_t>(info.st_size);
  if (size == 0 || size % sizeof(sock_filter) != 0) {
    return Status::Fail("seccomp_export_bpf", {}, 0,
                        "exported " + std::to_string(size) + " bytes, not whole instructions");
  }
  if (size / sizeof(sock_filter) > BPF_MAXINSNS) {
    return Status::Fail("seccomp_export_bpf", {}, E2BIG,
                        std::to_string(size / sizeof(sock_filter)) +
                            " instructions, the kernel "
                            "takes at most " +
                            std::to_string(BPF_MAXINSNS));
  }
  program->assign(size / sizeof(sock_filter), sock_filter{});
  auto* bytes = reinterpret_cast<char*>(program->data());
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = pread(memfd.get(), bytes + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Fail("read seccomp program", {}, n < 0 ? errno : EIO);
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status CompileSeccompFilter(const policy::SeccompPlan& plan, std::vector<sock_filter>* program,
                            std::vector<std::string>* skipped) {
  program->clear();
  std::set<std::string> skipped_names;

  std::uint32_t badarch_action = 0;
  TOLLGATE_RETURN_IF_ERROR(ToLibseccompAction(plan.foreign_abi_action, /*foreign=*/true,
                                              "foreign ABI", &badarch_action));

  Context ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return Status::Fail("seccomp_init", {}, ENOMEM);
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, badarch_action); rc < 0) {
    return Status::Fail("seccomp_attr_set", {}, -rc, "bad-architecture action");
  }
  // A binary search over syscall numbers instead of a linear scan: every syscall the agent makes
  // pays for the filter, and the deny list has dozens of entries.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0) {
    return Status::Fail("seccomp_attr_set", {}, -rc, "optimize");
  }

  for (const policy::SeccompRule& rule : plan.rules) {
    const std::string what = Describe(rule);
    int nr = seccomp_syscall_resolve_name(rule.syscall.c_str());
    if (nr < 0) {  // unknown to libseccomp, or a pseudo number: not a syscall of this arch
      skipped_names.insert(rule.syscall);
      continue;
    }
    std::uint32_t action = 0;
    TOLLGATE_RETURN_IF_ERROR(ToLibseccompAction(rule.action, /*foreign=*/false, what, &action));
    std::vector<scmp_arg_cmp> conditions(rule.conditions.size());
    for (std::size_t i = 0; i < rule.conditions.size(); ++i) {
      TOLLGATE_RETURN_IF_ERROR(ToLibseccompCondition(rule.conditions[i], what, &conditions[i]));
    }
    int rc = seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned>(conditions.size()),
                                    conditions.data());
    if (rc < 0) return Status::Fail("seccomp_rule_add", {}, -rc, what + ": " + rule.why);
  }

  TOLLGATE_RETURN_IF_ERROR(ExportProgram(ctx.get(), program));
  if (skipped != nullptr) skipped->assign(skipped_names.begin(), skipped_names.end());
  return Status::Ok();
}

Status InstallSeccompFilter(const std::vector<sock_filter>& program, int listener_socket) {
  // Step names stay within std::string's inline buffer (15 characters): no allocation even here.
  if (program.empty() || program.size() > BPF_MAXINSNS) {
    return Status::Fail("seccomp filter", {}, EINVAL);
  }
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(program.size());
  fprog.filter = const_cast<sock_filter*>(program.data());
  // TSYNC: should a thread exist (it should not after fork), it gets the filter too, or the call
  // fails instead of leaving it unfiltered. With a listener the kernel wants TSYNC_ESRCH as well
  // (a failed sync then reports ESRCH instead of a thread id, which would look like an fd).
  unsigned flags = SECCOMP_FILTER_FLAG_TSYNC;
  if (listener_socket >= 0)
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (rc < 0) return Status::Fail("seccomp filter", {}, errno);
  if (listener_socket < 0) {
    if (rc > 0) return Status::Fail("seccomp tsync", {}, EBUSY);
    return Status::Ok();
  }
  // The listener goes to the supervisor, the only process that may hold it.
  int listener = static_cast<int>(rc);
  Status sent = SendFd(listener_socket, listener);
  ::close(listener);
  return sent;
}

}  // namespace tollgate::kernel
