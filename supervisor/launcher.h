// Launching a command inside a sandbox built from a SandboxPlan.
//
// Order (bubblewrap/nsjail tradition): the supervisor clones a child into new user, mount, pid,
// ipc, uts, cgroup (and, for network none, net) namespaces and writes its uid/gid maps; the child,
// pid 1 of the sandbox, builds a fresh root from the mount plan, pivots into it, and forks the
// command, which closes stray fds, applies rlimits, no_new_privs, drops capabilities, applies
// Landlock and finally seccomp, then execs. Pid 1 reaps, forwards signals and reports the
// command's status to the supervisor, which enforces the wall clock and returns a RunResult.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "policy/plans.h"
#include "supervisor/audit/writer.h"
#include "supervisor/run_result.h"

namespace tollgate {

struct LaunchOptions {
  std::vector<std::string> argv;  // the command; argv[0] is looked up in the sandbox's PATH
  policy::SandboxPlan plan;
  // The host uid/gid the sandbox runs as. For an ordinary user: themselves. For root: an
  // unprivileged uid (never 0), see ChooseSandboxIds().
  uid_t host_uid = 0;
  gid_t host_gid = 0;
  // Forward these signals received by the supervisor to the command.
  bool forward_signals = true;
  // Return as soon as the sandbox's init has reported the command's end (everything in the
  // sandbox is dead by then), leaving the kernel's teardown of the namespaces (unmounting the
  // view, the network namespace) to finish after the caller has moved on. The init stays a child
  // of this process until then: a program that lives on should reap it. Not with a cgroup.
  bool skip_teardown_wait = false;
  // The audit log: when set (and audit_observe), every exec and every recorded seccomp denial in
  // the sandbox is written to it before it takes effect (seccomp_observer.h), and a failed
  // write stops the run (RunStatus::kAuditFailed). Its batch-sync thread is paused while the
  // sandbox is cloned. Not owned.
  audit::AuditWriter* audit = nullptr;
  // With `audit`: whether the observer runs at all (audit level "run": no, only the caller's
  // own records), and whether it records file accesses too (level "files").
  bool audit_observe = true;
  bool audit_files = false;
};

// The uid/gid a sandbox launched by the current user runs as on the host. An ordinary user
// keeps their own; root gets `requested` if given, else the owner of the workspace if that is
// not root, else SUDO_UID/SUDO_GID, else nobody (65534).
struct SandboxIds {
  uid_t uid;
  gid_t gid;
  std::string why;
};
SandboxIds ChooseSandboxIds(const std::string& workspace, long requested_uid);

// Runs the command to completion. Never throws for sandbox failures: they are in the result.
RunResult Launch(const LaunchOptions& options);

}  // namespace tollgate
