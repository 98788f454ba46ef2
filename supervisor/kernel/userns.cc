#include "supervisor/kernel/userns.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "supervisor/kernel/caps.h"
#include "supervisor/kernel/fds.h"

namespace tollgate::kernel {

namespace {

Status WriteProcFile(int proc_dir, const char* name, const char* content, const char* step) {
  int fd = ::openat(proc_dir, name, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::Fail(step, name, errno);
  // One write: the kernel accepts a map only when it arrives in a single write(2).
  ssize_t n = ::write(fd, content, std::strlen(content));
  int err = errno;
  ::close(fd);
  if (n < 0) return Status::Fail(step, name, err);
  return Status::Ok();
}

}  // namespace

Status WriteIdMaps(pid_t child, uid_t uid, gid_t gid, bool allow_setgroups) {
  char dir[64];
  std::snprintf(dir, sizeof dir, "/proc/%d", static_cast<int>(child));
  int proc_dir = ::open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (proc_dir < 0) return Status::Fail("open /proc/<child>", dir, errno);
  char map[64];
  Status status =
      WriteProcFile(proc_dir, "setgroups", allow_setgroups ? "allow" : "deny", "write setgroups");
  if (status.ok) {
    std::snprintf(map, sizeof map, "%u %u 1\n", uid, uid);
    status = WriteProcFile(proc_dir, "uid_map", map, "write uid_map");
  }
  if (status.ok) {
    std::snprintf(map, sizeof map, "%u %u 1\n", gid, gid);
    status = WriteProcFile(proc_dir, "gid_map", map, "write gid_map");
  }
  ::close(proc_dir);
  if (!status.ok) status.path = std::string(dir) + "/" + status.path;
  return status;
}

Status BecomeMappedIds(uid_t uid, gid_t gid, bool drop_groups) {
  // The inside uid 0 is never mapped, so the kernel's "all uids left 0" rule that clears
  // capabilities does not fire on setresuid; KEEPCAPS covers kernels that decide otherwise, and
  // the effective set is re-raised below if it was cleared anyway.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
    return Status::Fail("prctl(PR_SET_KEEPCAPS)", {}, errno);
  if (drop_groups && ::setgroups(0, nullptr) != 0) return Status::Fail("setgroups(0)", {}, errno);
  if (::setresgid(gid, gid, gid) != 0) return Status::Fail("setresgid", {}, errno);
  if (::setresuid(uid, uid, uid) != 0) return Status::Fail("setresuid", {}, errno);
  if (!HasEffectiveSysAdmin()) TOLLGATE_RETURN_IF_ERROR(RaiseEffectiveToPermitted());
  if (!HasEffectiveSysAdmin()) {
    return Status::Fail("keep capabilities in the user namespace", {}, EPERM,
                        "CAP_SYS_ADMIN lost after switching to the mapped ids");
  }
  return Status::Ok();
}

}  // namespace tollgate::kernel
