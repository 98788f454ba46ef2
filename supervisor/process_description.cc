#include "supervisor/process_description.h"

#include "supervisor/kernel/seccomp_notify.h"

namespace tollgate {

std::optional<audit::ProcessInfo> DescribeProcess(pid_t host_pid, audit::Json* details) {
  kernel::ProcessFacts facts;
  if (!kernel::ReadProcessFacts(host_pid, &facts)) return std::nullopt;
  audit::ProcessInfo info;
  info.pid = facts.sandbox_pid;
  if (facts.sandbox_pid != 1) {
    kernel::ProcessFacts parent;
    if (kernel::ReadProcessFacts(facts.host_ppid, &parent)) info.ppid = parent.sandbox_pid;
  }
  info.comm = facts.comm;
  info.exe = kernel::ReadProcessLink(host_pid, "exe");
  (*details)["host_pid"] = host_pid;
  return info;
}

}  // namespace tollgate
