// Launching a command inside a sandbox built from a SandboxPlan.
//
// Order (bubblewrap/nsjail tradition): the supervisor clones a child into new user, mount, pid,
// ipc, uts, cgroup namespaces and writes its uid/gid maps; a helper makes the network namespace
// (network none, see netns.h); the child, pid 1 of the sandbox, receives what it needs of the
// plan (sandbox_setup.h), builds a fresh root from the mount plan, pivots into it, and starts the
// command, which closes stray fds, applies rlimits, no_new_privs, drops capabilities, applies
// Landlock and finally seccomp, then execs. Pid 1 reaps, forwards signals and reports the
// command's status to the supervisor, which enforces the wall clock and returns a RunResult.
//
// The clone does not need the plan, so `tollgate run` clones the init (EarlySandbox) before it
// loads and compiles the profile: namespaces, id maps and the network helper are made while the
// profile is compiled, and the init waits for its plan with nothing of the sandbox applied yet.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policy/plans.h"
#include "supervisor/audit/writer.h"
#include "supervisor/kernel/limits.h"
#include "supervisor/run_result.h"
#include "supervisor/tool_paths.h"

namespace tollgate {

// The command of a prepared sandbox (`tollgate serve`, docs/SERVE.md), known only once the
// sandbox is built.
struct DeferredCommand {
  std::vector<std::string> argv;
  // The command's stdin, stdout and stderr (they become the init's too). Not owned.
  int stdio[3] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
  // Watched for the whole run: each byte read is a signal number to forward to the command;
  // end of file means whoever waits for the run is gone, and the sandbox is killed. -1: none.
  // Not owned.
  int control_fd = -1;
};

struct LaunchOptions {
  std::vector<std::string> argv;  // the command; argv[0] is looked up in the sandbox's PATH
  // Set instead of argv: the sandbox is built completely (view, network; the command process
  // started, confined by rlimits, Landlock and seccomp, the tool spawner running) and then this
  // is called, while the command process waits to exec. It returns the command
  // to start, or nullopt to abandon the sandbox unused (it is killed, and the result is a setup
  // error that the caller, knowing it abandoned the sandbox, ignores). The
  // wall clock and the result's wall time start when it returns.
  std::function<std::optional<DeferredCommand>()> await_command;
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
  // The result of kernel::ProbeCgroupV2() when the caller already has it; probed when needed if
  // not.
  std::optional<kernel::CgroupV2Probe> cgroup_probe;
  // The audit log: when set (and audit_observe), every exec and every recorded seccomp denial in
  // the sandbox is written to it before it takes effect (seccomp_observer.h), and a failed
  // write stops the run (RunStatus::kAuditFailed). Its batch-sync thread is paused while the
  // sandbox is cloned. Not owned.
  audit::AuditWriter* audit = nullptr;
  // With `audit`: whether the observer runs at all (audit level "run": no, only the caller's
  // own records), and whether it records file accesses too (level "files").
  bool audit_observe = true;
  bool audit_files = false;
  // Tool mediation: the paths AddToolShims() covered in plan.mounts (tool_paths.h), in kShim op
  // order. Empty: no tool is mediated. Needs `audit`.
  std::vector<MediatedPath> tool_paths;
  // `ask` rules answer deny (--ci, or no one to approve); otherwise calls wait for
  // `tollgate approvals` on the run's socket, named by run_id, up to approval_timeout.
  bool ask_is_deny = true;
  std::string run_id;
  std::chrono::seconds approval_timeout{120};
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

// A sandbox init cloned before its plan exists, waiting for it: new namespaces, id maps written,
// capabilities in its user namespace, not dumpable, and nothing else. Launch() hands it its plan.
// Destroyed unused, it is killed and reaped (and so is its network helper), and signals that
// arrived meanwhile are delivered to the supervisor as if the sandbox had never been started.
class EarlySandbox {
 public:
  struct Impl;
  explicit EarlySandbox(std::unique_ptr<Impl> impl);
  ~EarlySandbox();
  EarlySandbox(const EarlySandbox&) = delete;
  EarlySandbox& operator=(const EarlySandbox&) = delete;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Clones the init for a later Launch() with the same ids, forward_signals and, for
// `seccomp_listener`, an audit log with the observer on (audit && audit_observe). Never into a
// cgroup: call it only when kernel::ProbeCgroupV2() found none to use, so that no plan can need
// one (Launch() falls back to a fresh clone if one does, or if the settings differ). Call it
// while the process has no other thread (the audit log's batch sync): the child is a fork-like
// copy. A clone that failed is reported by Launch().
std::unique_ptr<EarlySandbox> StartEarlySandbox(uid_t host_uid, gid_t host_gid,
                                                bool forward_signals, bool seccomp_listener);

// Runs the command to completion, in `early` when given, else in a sandbox cloned now. Never
// throws for sandbox failures: they are in the result.
RunResult Launch(const LaunchOptions& options, std::unique_ptr<EarlySandbox> early = nullptr);

}  // namespace tollgate
