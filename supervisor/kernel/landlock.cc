#include "supervisor/kernel/landlock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "supervisor/kernel/landlock_abi.h"

namespace tollgate::kernel {

namespace {

constexpr std::uint64_t kWriteRightsAbi1 =
    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
    LANDLOCK_ACCESS_FS_MAKE_SYM;

// Rights that make sense on a regular file; the kernel rejects directory rights on a file rule.
constexpr std::uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                      LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                      LANDLOCK_ACCESS_FS_IOCTL_DEV;

}  // namespace

int LandlockAbiVersion() {
  int abi = landlock_abi::CreateRuleset(nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : abi;
}

std::uint64_t LandlockHandledFsRights(int abi) {
  if (abi <= 0) return 0;
  std::uint64_t rights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
                         LANDLOCK_ACCESS_FS_READ_DIR | kWriteRightsAbi1;
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return rights;
}

std::uint64_t LandlockFsRights(std::uint32_t access, int abi) {
  std::uint64_t rights = 0;
  if (access & policy::kLandlockRead)
    rights |= LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  if (access & policy::kLandlockWrite) {
    rights |= kWriteRightsAbi1 | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE;
  }
  if (access & policy::kLandlockListDirectories) rights |= LANDLOCK_ACCESS_FS_READ_DIR;
  if (access & policy::kLandlockExecute) rights |= LANDLOCK_ACCESS_FS_EXECUTE;
  if (access & policy::kLandlockDevice) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return rights & LandlockHandledFsRights(abi);
}

Status ApplyLandlock(const policy::LandlockPlan& plan, int abi, int* applied_abi) {
  *applied_abi = 0;
  if (plan.mode == policy::LandlockMode::kOff) return Status::Ok();
  if (abi <= 0) {
    if (plan.mode == policy::LandlockMode::kRequire) {
      return Status::Fail("landlock_create_ruleset", {}, EOPNOTSUPP,
                          "the profile requires Landlock and this kernel does not offer it");
    }
    return Status::Ok();
  }

  landlock_abi::RulesetAttr attr;
  attr.handled_access_fs = LandlockHandledFsRights(abi);
  if (plan.deny_tcp && abi >= 4) {
    attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
  }
  if (abi >= 6) {
    if (plan.scope_abstract_unix) attr.scoped |= LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
    if (plan.scope_signals) attr.scoped |= LANDLOCK_SCOPE_SIGNAL;
  }
  int ruleset = landlock_abi::CreateRuleset(&attr, landlock_abi::RulesetAttrSize(abi), 0);
  if (ruleset < 0) return Status::Fail("landlock_create_ruleset", {}, errno);

  Status status = Status::Ok();
  for (const auto& rule : plan.rules) {
    std::uint64_t rights = LandlockFsRights(rule.access, abi);
    if (rights == 0) continue;
    int fd = ::open(rule.path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;  // not in this sandbox's view
      status = Status::Fail("open landlock rule path", rule.path, errno);
      break;
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) rights &= kFileRights;
    landlock_abi::PathBeneathAttr beneath{rights, fd};
    int rc = landlock_abi::AddRule(ruleset, landlock_abi::kRulePathBeneath, &beneath, 0);
    int err = errno;
    ::close(fd);
    if (rc != 0) {
      status = Status::Fail("landlock_add_rule", rule.path, err);
      break;
    }
  }
  if (status.ok && landlock_abi::RestrictSelf(ruleset, 0) != 0) {
    status = Status::Fail("landlock_restrict_self", {}, errno);
  }
  ::close(ruleset);
  if (status.ok) *applied_abi = abi;
  return status;
}

Status NestLandlockDomain(int abi) {
  if (abi <= 0) return Status::Ok();
  landlock_abi::RulesetAttr attr;
  attr.handled_access_fs = LANDLOCK_ACCESS_FS_MAKE_BLOCK;
  int ruleset = landlock_abi::CreateRuleset(&attr, landlock_abi::RulesetAttrSize(1), 0);
  if (ruleset < 0) return Status::Fail("landlock_create_ruleset (nested domain)", {}, errno);
  Status status = Status::Ok();
  if (landlock_abi::RestrictSelf(ruleset, 0) != 0)
    status = Status::Fail("landlock_restrict_self (nested domain)", {}, errno);
  ::close(ruleset);
  return status;
}

}  // namespace tollgate::kernel
