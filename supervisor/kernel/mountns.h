// The sandbox's mount view, built from a MountPlan the bubblewrap way: a tmpfs base, pivot_root
// into it with the host root kept at /oldroot, build /newroot op by op (every host source read
// through /oldroot), detach /oldroot, pivot into /newroot.
//
// Destinations are resolved inside the new root with openat2(RESOLVE_IN_ROOT |
// RESOLVE_NO_SYMLINKS): a symlink at or above a mount destination is refused, never followed
// (CVE-2021-30465). Host sources are resolved inside the host root, following symlinks the host
// chose (/bin -> usr/bin), except below a bind's `beneath` (the workspace, which the agent wrote):
// there no symlink is followed (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS); an optional bind is
// skipped (SkipReason::kSymlinkInWorkspace), a required one fails the launch. Binds use the new
// mount API (open_tree clone, mount_setattr AT_RECURSIVE, move_mount onto the destination fd), so
// there is no mountinfo parsing and no tree walk.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "policy/plans.h"
#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

// The mount point created for a kProtect target that did not exist, bound read-only onto
// itself: an empty directory in a host tree (git and most tools ignore one, so it shows up in
// no `git status` and no `git add -A`), an empty file on the sandbox's own tmpfs. When it lies
// in a host bind, the supervisor removes it after the run if it is still empty and has this
// device and inode.
struct ProtectPlaceholder {
  std::string sandbox_path;
  dev_t device = 0;
  ino_t inode = 0;
};

// Why an op was skipped.
enum class SkipReason {
  kNotThere,            // the source or target is absent (or not what the op needs)
  kSymlinkInWorkspace,  // a kBind source with `beneath`: a symlink on the way below the workspace
  kOnOwnTmpfs,  // a kProtect target that, its host bind skipped, lies on the sandbox's tmpfs
};

// One line for the report: "a symbolic link inside the workspace, not followed", …
const char* SkipReasonText(SkipReason reason);

// What applying the plan left out, for the launcher to report.
struct MountOutcome {
  std::vector<std::size_t> skipped_ops;  // indices of ops skipped (optional source missing, …)
  std::vector<SkipReason> skip_reasons;  // one per skipped_ops entry, in the same order
  std::vector<ProtectPlaceholder> placeholders;
  // One per kShim op, in plan order: the real tool under the shim, opened (O_RDONLY, O_CLOEXEC)
  // before the shim covered it; -1 for an op that was skipped. Owned by the caller.
  std::vector<int> shim_real_fds;
};

// The tmpfs base the view is built from, with the host root at /oldroot and an empty tmpfs at
// /newroot (O_PATH fds of both). It needs nothing of the plan, so an init cloned before its plan
// exists enters it while it waits.
struct MountBase {
  int newroot = -1;
  int oldroot = -1;
};

// Both run in the sandbox init, inside fresh user and mount namespaces, with CAP_SYS_ADMIN there.
Status EnterMountBase(MountBase* base);
// Applies the plan in the base and pivots into the new root, taking over (and closing) the base's
// fds. On return (ok) the process's root and cwd are the new root and the host root is detached.
// On failure the namespace is left half-built; the caller exits.
Status BuildMountNamespace(const policy::MountPlan& plan, const MountBase& base,
                           MountOutcome* outcome);

// Supervisor side: the host path a sandbox path lives at, through the plan's kBind ops (the
// bind with the longest target prefix); empty when the path is not under a host bind.
std::string HostPathForSandboxPath(const policy::MountPlan& plan, const std::string& sandbox_path);

// Supervisor side, after the run: removes a placeholder if it is still an empty directory or
// file with the recorded device and inode, resolving without following symlinks. Returns true when
// removed.
bool RemoveProtectPlaceholder(const std::string& host_path, dev_t device, ino_t inode);

}  // namespace tollgate::kernel
