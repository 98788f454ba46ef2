// The seccomp observer: serves the sandbox's user-notification listener from the supervisor's
// event loop. Every execve/execveat becomes an `exec` record and goes on; every recorded denial
// becomes a `syscall.denied` record and is answered with the profile's errno. The record is
// written before the answer (no record, no action): when the audit log fails, the call is
// refused with EPERM and the caller ends the run.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "policy/plans.h"
#include "supervisor/audit/writer.h"
#include "supervisor/kernel/seccomp_notify.h"

namespace tollgate {

class SeccompObserver {
 public:
  // `plan` is the observed plan (policy::ObserveSeccompPlan) the filter was compiled from.
  // With `files` (audit level "files"), file accesses are recorded too, each with the verdict
  // the sandbox plan gives it (policy::DecideFileAccess).
  SeccompObserver(audit::AuditWriter* audit, const policy::SeccompPlan* plan,
                  const policy::SandboxPlan* files = nullptr)
      : audit_(audit), plan_(plan), files_(files) {}

  // Handles one notification waiting on `listener`. False when its record could not be written:
  // the run must stop.
  bool OnListenerReadable(int listener);

  std::uint64_t execs() const { return execs_; }
  std::uint64_t denials() const { return denials_; }
  std::uint64_t file_accesses() const { return file_accesses_; }
  std::uint64_t connects() const { return connects_; }

 private:
  const std::string& NameOf(std::uint32_t arch, int nr);
  // A file.access record for a notified file call, then let it run. False: not recorded.
  bool OnFileCall(int listener, const kernel::SeccompNotification& n, const std::string& name);
  // Network mode host: a net.connect record for an IPv4/IPv6 connect() (or a TCP Fast Open
  // send: sendto, sendmsg, sendmmsg with MSG_FASTOPEN), then let it run.
  bool OnConnect(int listener, const kernel::SeccompNotification& n, const std::string& name);

  audit::AuditWriter* audit_;
  const policy::SeccompPlan* plan_;
  const policy::SandboxPlan* files_;
  std::map<std::pair<std::uint32_t, int>, std::string> names_;
  std::uint64_t execs_ = 0;
  std::uint64_t denials_ = 0;
  std::uint64_t file_accesses_ = 0;
  std::uint64_t connects_ = 0;
};

}  // namespace tollgate
